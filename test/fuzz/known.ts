/**
 * Failure classes the fuzzer found and that are not fixed yet (issue #18). Each is counted and
 * printed on every run rather than failed, so that a NEW class fails the test at once; remove an
 * entry when its fix lands and the count drops to zero.
 */
export interface KnownFailure {
  readonly name: string;
  readonly matches: (problem: string, program: string) => boolean;
}

const firstLine = (problem: string) => problem.split('\n')[0]!;
const byMessage = (name: string, pattern: RegExp): KnownFailure => ({
  name,
  matches: (problem) => pattern.test(firstLine(problem)),
});

export const KNOWN_FAILURES: readonly KnownFailure[] = [
  // A body that lowers to nothing (`repeat 0`, a bare activation as a layer) reaches the step builder.
  byMessage(
    'empty or bare-activation body',
    /reading 'graph'\)|reading '\d+'\)|no node %\[object Undefined\]/,
  ),
  // A Dense on an un-flattened map (or a per-timestep output) feeding a loss: the keras engineer's per-timestep losses, and a check-time diagnostic.
  byMessage('loss on an output of rank >= 2', /do not broadcast: dimension|grad needs a scalar loss/),
  // Non-finite constants (lr: 1e999, beta_1: 0 → log(0)) reach WGSL.
  byMessage('non-finite constant in codegen', /the constant -?Infinity cannot be written in WGSL/),
  // Dimensions >= 2^32 or 0 produce WGSL Dawn rejects.
  byMessage(
    'dimension out of u32 range or zero',
    /invalid WGSL \(.*(cannot be represented as 'u32'|operator - \(u32\)|division by zero)/,
  ),
];
