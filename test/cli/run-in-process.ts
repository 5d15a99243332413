/**
 * Runs nnxc in this process with captured output: the same `run` the binary calls, without a
 * build or a new process per command (each would start its own WebGPU device).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';

/** What one nnxc run printed and returned. */
export interface NnxcResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `nnxc args…`; `isTTY` picks the progress display, `terminal` its width and colour. */
export async function nnxc(
  args: string[],
  isTTY = false,
  terminal: { readonly columns?: number; readonly colour?: boolean } = {},
): Promise<NnxcResult> {
  let stdout = '';
  let stderr = '';
  const io = { out: (s: string) => (stdout += s), err: (s: string) => (stderr += s), isTTY, ...terminal };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

/** A fresh temporary folder. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nnxc-'));
}

/** Writes `files` (name → text or bytes) into a fresh folder; returns its path. */
export function writeFiles(files: Readonly<Record<string, string | Uint8Array>>): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** The JSON objects of `--json` output, one per line. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Two separable classes of 2-D points as CSV text with a string label column. */
export function pointsCsv(count: number): string {
  const rows = ['x,y,side'];
  for (let i = 0; i < count; i++) {
    const x = Math.sin(i * 1.7) * 3;
    const y = Math.cos(i * 2.3) * 3;
    rows.push(`${x.toFixed(3)},${y.toFixed(3)},${x + y > 0 ? 'right' : 'left'}`);
  }
  return rows.join('\n') + '\n';
}
