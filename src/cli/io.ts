/**
 * What every nnxc command shares: where output goes, the two kinds of failure (a user error exits
 * 1 with one line, a usage error 2 with the usage text), reading the source file, printing its
 * diagnostics, option parsing and atomic file writes.
 */
import { access, constants, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Diagnostic, SourceFile } from '../util/diagnostics.js';
import { hasErrors, renderDiagnostics } from '../util/diagnostics.js';

/** Where a command writes: stdout, stderr, whether stdout is a terminal, its width, and colour. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  /** The terminal's width in columns, when stdout is one. */
  readonly columns?: number;
  /** Whether to colour what goes to stdout (a terminal, and no NO_COLOR). */
  readonly colour?: boolean;
}

/** A user-facing failure: printed as `nnxc: error: message`, exit code 1. */
export class UserError extends Error {}

/** Bad command-line usage: printed with the command's usage text (or nnxc's), exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** A command: arguments after its name in, exit code out. */
export type Command = (args: string[], io: Io) => Promise<number>;

/** Reads the .nnx file a command names. */
export async function readSource(path: string | undefined): Promise<SourceFile> {
  if (!path) throw new UsageError('missing FILE');
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (e) {
    throw new UserError(
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
}

/** Prints diagnostics; returns true when there were errors. */
export function report(
  file: SourceFile,
  result: { diagnostics: readonly Diagnostic[]; sources?: ReadonlyMap<string, SourceFile> },
  io: Io,
): boolean {
  if (result.diagnostics.length) io.err(renderDiagnostics(file, result.diagnostics, result.sources) + '\n');
  return hasErrors(result.diagnostics);
}

/** An integer option ≥ `min`, or undefined when not given. */
export function intOption(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

/** A positive number option, or undefined when not given. */
export function floatOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got '${v}'`);
  return n;
}

/** Writes to a temporary file, then renames: a crash never leaves a half-written file. */
export async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new UserError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

/** Whether process `pid` is running (signal 0 tests without sending anything). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Before a long run writes `path` (a `--save`, `--checkpoint` or `-o` target, named by `flag`):
 * removes the temporaries of {@link writeAtomically} that a killed run left beside it
 * (`path.tmp-PID` of a process no longer running), and fails now, not after the last epoch,
 * when `path` cannot be written: its folder is missing or read-only, or it is a folder.
 */
export async function prepareOutput(path: string, flag: string): Promise<void> {
  const dir = dirname(path);
  const fail = (why: string): never => {
    throw new UserError(`cannot write ${flag} ${path}: ${why}`);
  };
  try {
    await access(dir, constants.W_OK);
  } catch (e) {
    fail(
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? `the folder ${dir} does not exist`
        : `the folder ${dir} is not writable`,
    );
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) fail('it is a folder');
  if (existing) await access(path, constants.W_OK).catch(() => fail('the file is read-only'));
  const prefix = `${basename(path)}.tmp-`;
  for (const name of await readdir(dir)) {
    const pid = name.startsWith(prefix) ? name.slice(prefix.length) : '';
    if (/^\d+$/.test(pid) && Number(pid) !== process.pid && !isRunning(Number(pid)))
      await rm(join(dir, name), { force: true });
  }
}

/** `512 B`, `3.4 KiB`, `1.2 MiB`: the codegen's plan printer formats sizes the same way. */
export { formatBytes } from '../codegen/describe.js';
