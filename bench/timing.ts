/** Timing helpers: many steps submitted back to back, one wait at the end, median of repeats. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * ms per step: runs `warmup` steps, then `repeats` times `steps` steps followed by one `sync`,
 * and returns the median of the per-step averages.
 */
export async function timeSteps(
  step: () => void | Promise<void>,
  sync: () => Promise<void>,
  opts: { steps: number; repeats: number; warmup: number },
): Promise<number> {
  for (let i = 0; i < opts.warmup; i++) await step();
  await sync();
  const samples: number[] = [];
  for (let r = 0; r < opts.repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) await step();
    await sync();
    samples.push((performance.now() - t0) / opts.steps);
  }
  return median(samples);
}
