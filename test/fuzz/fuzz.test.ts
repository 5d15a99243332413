/**
 * The seeded fuzzer: mutants of every example and grammar-shaped programs through check →
 * compile → codegen. No exception may escape, every diagnostic lies inside its file, and every
 * generated WGSL module passes Dawn's validation. `npm run fuzz -- --count N [--seed S]` runs
 * more; a failure prints its seed and program, and `fuzzProgram(seed)` rebuilds it.
 */
import { describe, expect, it } from 'vitest';
import { fuzzProgram } from './programs.js';
import { runPipeline } from './pipeline.js';
import { WgslValidator } from './wgsl-validate.js';
import { KNOWN_FAILURES } from './known.js';

const COUNT = Number(process.env.NNX_FUZZ_COUNT ?? 2000);
const FIRST_SEED = Number(process.env.NNX_FUZZ_SEED ?? 1);
/** With NNX_FUZZ_SUMMARY set, run every seed and print the failures grouped by their first line. */
const SUMMARY = process.env.NNX_FUZZ_SUMMARY !== undefined;

function signature(failure: string): string {
  const line = failure.split('\n')[0]!.replace(/^seed \d+: /, '');
  return line.replace(/\d+/g, 'N').slice(0, 160);
}

describe('fuzz', () => {
  it(`${COUNT} seeded programs through check, compile and codegen`, { timeout: 0 }, async () => {
    const validator = new WgslValidator();
    const failures: string[] = [];
    const known = new Map<string, number>();
    let compiled = 0;
    const isKnown = (problem: string, text: string) => {
      const knownCase = KNOWN_FAILURES.find((k) => k.matches(problem, text));
      if (knownCase) known.set(knownCase.name, (known.get(knownCase.name) ?? 0) + 1);
      return knownCase !== undefined;
    };
    const started = Date.now();
    for (let seed = FIRST_SEED; seed < FIRST_SEED + COUNT; seed++) {
      const text = fuzzProgram(seed);
      const outcome = await runPipeline(text);
      if (outcome.compiled) compiled++;
      for (const code of outcome.wgsl) validator.add(code, `seed ${seed}\n--- program ---\n${text}`);
      for (const problem of outcome.problems) {
        if (!isKnown(problem, text)) failures.push(`seed ${seed}: ${problem}\n--- program ---\n${text}\n---`);
      }
      if (validator.queued >= 64) failures.push(...(await validator.flush()).filter((p) => !isKnown(p, '')));
      if (failures.length >= 5 && !SUMMARY) break;
    }
    failures.push(...(await validator.flush()).filter((p) => !isKnown(p, '')));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz: ${COUNT} programs from seed ${FIRST_SEED}, ${compiled} compiled, ${validator.validated} distinct WGSL modules validated, ${failures.length} failures, known: ${JSON.stringify(Object.fromEntries(known))}, ${seconds} s`,
    );
    if (SUMMARY) {
      const groups = new Map<string, number>();
      for (const f of failures) groups.set(signature(f), (groups.get(signature(f)) ?? 0) + 1);
      console.log([...groups].map(([k, n]) => `${n}\t${k}`).join('\n'));
    }
    expect(failures.slice(0, 5).join('\n\n')).toBe('');
    // The generator is worth running only if a fair share of its programs get all the way through.
    if (COUNT >= 500) expect(compiled).toBeGreaterThan(COUNT / 20);
  });
});
