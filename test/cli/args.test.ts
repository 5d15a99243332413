/**
 * nnxc's argument handling, the same for every command: `--help`, `--version`, unknown flags
 * (with a suggestion) and extra arguments refused with exit code 2, and negative numbers given
 * to the range check rather than taken for flags.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nnxc } from './run-in-process.js';

const COMMANDS = ['check', 'compile', 'train', 'evaluate', 'predict', 'summary', 'graph', 'fmt', 'devices'];

describe('nnxc arguments', () => {
  it('prints each command its own usage for COMMAND --help and help COMMAND', async () => {
    for (const command of COMMANDS) {
      const r = await nnxc([command, '--help']);
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toMatch(new RegExp(`^usage:\\n  nnxc ${command} `));
      expect(r.stderr).toBe('');
      expect((await nnxc(['help', command])).stdout).toBe(r.stdout);
    }
  });

  it('prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const r = await nnxc(['--version']);
    expect(r).toEqual({ code: 0, stdout: `nnx ${version}\n`, stderr: '' });
  });

  it('refuses an unknown flag on every command, suggesting the one meant', async () => {
    for (const command of COMMANDS) {
      const r = await nnxc([command, 'examples/xor.nnx', '--bogus-flag']);
      expect(r.code, command).toBe(2);
      expect(r.stderr, command).toMatch(new RegExp(`^nnxc: ${command}: unknown option '--bogus-flag'\\n`));
      expect(r.stderr).toContain(`usage:\n  nnxc ${command} `);
    }
    const r = await nnxc(['train', 'examples/xor.nnx', '--epoch', '3']);
    expect(r.stderr).toMatch(/^nnxc: train: unknown option '--epoch'; did you mean '--epochs'\?\n/);
    expect((await nnxc(['trian'])).stderr).toMatch(/^nnxc: unknown command 'trian'; did you mean 'train'\?/);
    expect((await nnxc(['constructor'])).stderr).toMatch(/^nnxc: unknown command 'constructor'\n/);
  });

  it('refuses extra arguments on every command that takes one FILE (or none)', async () => {
    for (const command of COMMANDS.filter((c) => c !== 'fmt')) {
      const args = command === 'devices' ? [command, 'extra'] : [command, 'examples/xor.nnx', 'extra'];
      const r = await nnxc(args);
      expect(r.code, command).toBe(2);
      expect(r.stderr, command).toMatch(new RegExp(`^nnxc: ${command}: unexpected argument 'extra'\\n`));
    }
  });

  it('gives a negative number to the range check', async () => {
    const seed = await nnxc(['train', 'examples/xor.nnx', '--seed', '-1']);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toMatch(/^nnxc: --seed must be an integer ≥ 0, got '-1'\n\nusage:\n  nnxc train /);
    const epochs = await nnxc(['train', 'examples/xor.nnx', '--epochs', '-3']);
    expect(epochs.stderr).toMatch(/^nnxc: --epochs must be an integer ≥ 1, got '-3'\n/);
    const lr = await nnxc(['train', 'examples/xor.nnx', '--lr', '-.5']);
    expect(lr.stderr).toMatch(/^nnxc: --lr must be a positive number, got '-.5'\n/);
  });
});
