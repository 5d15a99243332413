/**
 * `nnxc fmt FILE... [--check]`: rewrites each file in the canonical layout (the same formatter
 * as the Prettier plugin). With `--check` nothing is written: the files that would change are
 * listed and the exit code is 1. A file with syntax errors is reported and left untouched.
 */
import { formatNnx } from '../format/index.js';
import { type Io, UsageError, readSource, report, writeAtomically } from './io.js';
import { parseCommandArgs } from './args.js';

/** The usage line of `nnxc fmt`. */
export const FMT_USAGE = `  nnxc fmt FILE... [--check]           format in place; --check lists files that would change`;

/** Runs `nnxc fmt`. */
export async function fmtCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: 'fmt',
    usage: FMT_USAGE,
    maxPositionals: Infinity,
    options: { check: { type: 'boolean' } },
  });
  if (positionals.length === 0) throw new UsageError('missing FILE');
  let failed = false;
  for (const path of positionals) {
    const file = await readSource(path);
    const result = formatNnx(file.text);
    if ('diagnostics' in result) {
      report(file, result, io);
      failed = true;
      continue;
    }
    if (result.text === file.text) continue;
    if (values.check) {
      io.out(`${file.path}: not formatted\n`);
      failed = true;
    } else {
      await writeAtomically(file.path, result.text);
      io.out(`formatted ${file.path}\n`);
    }
  }
  return failed ? 1 : 0;
}
