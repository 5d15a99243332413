/** Node's file system, for the runtime's Node-only calls (checkpoints, `initFrom`). */

/**
 * `node:fs/promises`, imported when first needed: a non-literal specifier keeps browser bundlers
 * from pulling it into the runtime.
 */
export async function importNodeFs(): Promise<typeof import('node:fs/promises')> {
  const nodeFs = 'node:fs/promises';
  return (await import(/* @vite-ignore */ nodeFs)) as typeof import('node:fs/promises');
}
