/** `import "file.nnx"`: blocks and models from other files, missing files and cycles. */
import { describe, expect, it } from 'vitest';
import { check } from '../src/compile.js';
import { normalizePath } from '../src/imports.js';
import { renderDiagnostics } from '../src/util/diagnostics.js';

/** A file system in a map: `readFile` for `check`. */
function files(entries: Record<string, string>) {
  return (path: string) => entries[path];
}

function rendered(path: string, fs: Record<string, string>): string {
  const checked = check(fs[path]!, { path, readFile: files(fs) });
  return renderDiagnostics({ path, text: fs[path]! }, checked.diagnostics, checked.sources);
}

describe('imports', () => {
  it('uses blocks and models from an imported file, relative to the importer', () => {
    const fs = {
      'app/main.nnx': 'import "lib/layers.nnx"\nsequential M(x: [4]) {\n  Twice(3)\n  Enc()\n}\n',
      'app/lib/layers.nnx':
        'import "../shared.nnx"\nblock Twice(n: int) {\n  Dense(n)\n  Dense(n)\n}\nsequential Enc(x: [3]) {\n  Base()\n}\n',
      'app/shared.nnx': 'block Base(x) {\n  return Dense(2)(x)\n}\n',
    };
    const checked = check(fs['app/main.nnx'], { path: 'app/main.nnx', readFile: files(fs) });
    expect(checked.diagnostics).toEqual([]);
    expect(checked.models.get('M')!.params.map((p) => p.name)).toContain('enc_1/base_1/dense_1/kernel');
  });

  it('trains a model defined in an imported file', () => {
    const fs = {
      'main.nnx': 'import "lib.nnx"\ntrain Net { data: xor, loss: mse }\n',
      'lib.nnx': 'sequential Net(x: [2]) {\n  Dense(1)\n}\n',
    };
    const checked = check(fs['main.nnx'], { path: 'main.nnx', readFile: files(fs) });
    expect(checked.diagnostics).toEqual([]);
    expect(checked.trains.map((t) => t.model)).toEqual(['Net']);
  });

  it('does not see what an imported file imports', () => {
    const fs = {
      'main.nnx': 'import "a.nnx"\nsequential M(x: [4]) {\n  Base()\n}\n',
      'a.nnx': 'import "b.nnx"\n',
      'b.nnx': 'block Base(x) {\n  return x\n}\n',
    };
    expect(rendered('main.nnx', fs)).toContain('unknown layer `Base`');
  });

  it('reports a missing file at the import', () => {
    expect(rendered('main.nnx', { 'main.nnx': 'import "nope.nnx"\n' }))
      .toBe(`main.nnx:1:8: error: cannot import "nope.nnx": no such file (looked for nope.nnx) [E0401]
  |
1 | import "nope.nnx"
  |        ^^^^^^^^^^`);
  });

  it('an import cycle is an error that shows the cycle, in the file that closes it', () => {
    const fs = {
      'main.nnx': 'import "a.nnx"\n',
      'a.nnx': '# a\nimport "b.nnx"\n',
      'b.nnx': 'import "a.nnx"\n',
    };
    expect(rendered('main.nnx', fs)).toBe(`b.nnx:1:8: error: import cycle: a.nnx → b.nnx → a.nnx [E0402]
  |
1 | import "a.nnx"
  |        ^^^^^^^
  = note: a file cannot import itself, directly or through others; move the shared blocks to a file both import`);
  });

  it('errors inside an imported block point into its file and at the instance', () => {
    const fs = {
      'main.nnx': 'import "lib.nnx"\nsequential M(x: [2]) {\n  Bad()\n}\n',
      'lib.nnx': 'block Bad(x) {\n  return x + Dense(3)(x)\n}\n',
    };
    expect(rendered('main.nnx', fs)).toContain(`lib.nnx:2:12: error: cannot apply \`+\``);
    expect(rendered('main.nnx', fs)).toContain(`main.nnx:3:3: note: in this instance of Bad`);
  });

  it('normalizes paths', () => {
    expect(normalizePath('a/./b/../c.nnx')).toBe('a/c.nnx');
    expect(normalizePath('../x/../y.nnx')).toBe('../y.nnx');
    expect(normalizePath('/r/../s.nnx')).toBe('/s.nnx');
  });
});
