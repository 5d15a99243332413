/**
 * Training progress for people and for programs: on a terminal a bar redrawn in place (epoch,
 * step/steps, ETA, loss, metrics, samples/s) cut to the terminal's width, with each finished
 * epoch's line left in the scrollback as Keras does; plain lines when the output is a file or
 * pipe; one JSON object per epoch with --json. Colour only where the caller says the output is a
 * terminal that wants it ({@link wantsColour}). Written with node's own stdout.columns and ANSI
 * codes: the few lines a progress library would save are not worth a dependency here.
 */
import type { BatchLog, EpochLog } from '../runtime/index.js';

export type ProgressMode = 'bar' | 'lines' | 'json';

/** How the bar may draw: the terminal's width (80 when unknown) and whether to use colour. */
export interface ProgressDisplay {
  readonly columns?: number;
  readonly colour?: boolean;
}

/** Colour on a terminal unless NO_COLOR is set to anything but the empty string (no-color.org). */
export function wantsColour(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTTY && !env['NO_COLOR'];
}

/** An epoch's log, with what the command adds to it (a GAN's image: in the JSON line only). */
export type EpochReport = EpochLog | { readonly epoch: number; readonly [name: string]: number | string };

/** Receives fit's reports and prints them. */
export interface ProgressReporter {
  /** A running report inside an epoch (fit's onProgress). */
  batch(log: BatchLog): void;
  epoch(log: EpochReport): void;
  done(final: Record<string, number | boolean | string>): void;
}

/** Where a run starts and how long it is, for the ETA. */
export interface ProgressPlan {
  /** Last epoch of the run. */
  readonly epochs: number;
  /** The first epoch this run trains (after a resumed checkpoint's). */
  readonly firstEpoch?: number;
  /** Training steps per epoch. */
  readonly stepsPerEpoch?: number;
  /** The fold of a cross-validation run (`nnxc train --folds`): its lines say which, and its summary is not the final one. */
  readonly fold?: { readonly index: number; readonly of: number };
}

const EPOCH_COUNTER = new Set(['epoch']);
const BATCH_COUNTERS = new Set(['epoch', 'epochs', 'step', 'steps', 'samples']);

/** `loss 0.1234  accuracy 0.9812`: every numeric entry but the counters in `skip`. */
export function formatMetrics(
  log: Readonly<Record<string, number | boolean | string>>,
  skip: ReadonlySet<string> = EPOCH_COUNTER,
): string {
  return Object.entries(log)
    .filter(([k, v]) => !skip.has(k) && typeof v === 'number')
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : (v as number).toFixed(4)}`)
    .join('  ');
}

/** `9.8s`, `42s`, `3m07s`, `1h02m`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Counts the steps and samples of the run so far, for the ETA and samples/s. */
class RunClock {
  private readonly start = performance.now();
  private samplesBefore = 0;
  private samplesInEpoch = 0;

  constructor(private readonly plan: ProgressPlan) {}

  elapsed(): number {
    return (performance.now() - this.start) / 1000;
  }

  batch(log: BatchLog): void {
    this.samplesInEpoch = log.samples;
  }

  epochDone(): void {
    this.samplesBefore += this.samplesInEpoch;
    this.samplesInEpoch = 0;
  }

  samplesPerSecond(): number {
    return (this.samplesBefore + this.samplesInEpoch) / Math.max(this.elapsed(), 1e-9);
  }

  /** Seconds left: the time per step so far times the steps to go. */
  eta(epoch: number, step: number, steps: number): number {
    const first = this.plan.firstEpoch ?? 1;
    const done = (epoch - first) * steps + step;
    const total = (this.plan.epochs - first + 1) * steps;
    return done > 0 ? (this.elapsed() / done) * (total - done) : Number.NaN;
  }
}

function formatRate(samplesPerSecond: number): string {
  return `${Math.round(samplesPerSecond).toLocaleString('en-US')} samples/s`;
}

/** A reporter for `mode` writing to `write`. */
export function makeProgress(
  mode: ProgressMode,
  planOrEpochs: ProgressPlan | number,
  write: (s: string) => void = (s) => process.stdout.write(s),
  display: ProgressDisplay = {},
): ProgressReporter {
  const plan: ProgressPlan = typeof planOrEpochs === 'number' ? { epochs: planOrEpochs } : planOrEpochs;
  const { epochs, fold } = plan;
  const clock = new RunClock(plan);
  const foldField = fold && { fold: fold.index };
  switch (mode) {
    case 'json':
      return {
        batch: () => undefined,
        epoch: (log) => write(JSON.stringify({ ...foldField, ...log }) + '\n'),
        done: (final) => write(JSON.stringify({ ...(foldField ?? { final: true }), ...final }) + '\n'),
      };
    case 'lines':
      return linesReporter(epochs, clock, linePrefix(fold), write);
    case 'bar':
      return barReporter(epochs, clock, linePrefix(fold), write, display);
  }
}

/** `fold 2/5  ` before every line of a fold's run; nothing otherwise. */
function linePrefix(fold: ProgressPlan['fold']): string {
  return fold ? `fold ${fold.index}/${fold.of}  ` : '';
}

/** About twenty epoch lines however many epochs there are, and a step line every 10 s of a long epoch. */
function linesReporter(
  epochs: number,
  clock: RunClock,
  prefix: string,
  write: (s: string) => void,
): ProgressReporter {
  const every = Math.max(1, Math.round(epochs / 20));
  let lastLine = clock.elapsed();
  return {
    batch: (log) => {
      clock.batch(log);
      if (clock.elapsed() - lastLine < 10 || log.step === log.steps) return;
      lastLine = clock.elapsed();
      write(
        `${prefix}epoch ${log.epoch}/${epochs}  step ${log.step}/${log.steps}  ${formatMetrics(log, BATCH_COUNTERS)}  ` +
          `${formatRate(clock.samplesPerSecond())}  ETA ${formatSeconds(clock.eta(log.epoch, log.step, log.steps))}\n`,
      );
    },
    epoch: (log) => {
      clock.epochDone();
      if (log.epoch % every === 0 || log.epoch === epochs) {
        lastLine = clock.elapsed();
        write(`${prefix}epoch ${log.epoch}/${epochs}  ${formatMetrics(log)}\n`);
      }
    },
    done: (final) => write(`${prefix}done in ${formatSeconds(clock.elapsed())}: ${formatMetrics(final)}\n`),
  };
}

const ANSI = { green: '\x1b[32m', dim: '\x1b[2m', bold: '\x1b[1m', reset: '\x1b[0m' } as const;

/** `text` cut to `width` columns with `…` (the texts here are one column a character). */
function fitWidth(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, Math.max(0, width - 1)) + '…';
}

/**
 * One line redrawn in place while an epoch runs, never wider than the terminal (a wrapped line
 * cannot be redrawn and scrolls); each finished epoch's line, validation metrics included, is
 * written above it and stays in the scrollback.
 */
function barReporter(
  epochs: number,
  clock: RunClock,
  prefix: string,
  write: (s: string) => void,
  display: ProgressDisplay,
): ProgressReporter {
  const columns = Math.max(20, (display.columns ?? 80) - 1);
  const paint = (code: string, text: string) => (display.colour ? `${code}${text}${ANSI.reset}` : text);
  let last = 0;
  let epochStart = performance.now();
  const draw = (epoch: number, fraction: number, text: string) => {
    const head = `${prefix}epoch ${epoch}/${epochs} `;
    // The bar takes what the text leaves, between 10 and 30 columns; then the text is cut.
    const width = Math.min(30, Math.max(10, columns - head.length - text.length - 1));
    const filled = Math.round(width * Math.min(1, fraction));
    const tail = fitWidth(text, columns - head.length - width - 1);
    write(`\r\x1b[2K${head}${paint(ANSI.green, '█'.repeat(filled))}${'░'.repeat(width - filled)} ${tail}`);
  };
  return {
    batch: (log) => {
      clock.batch(log);
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      const eta = clock.eta(log.epoch, log.step, log.steps);
      draw(
        log.epoch,
        log.step / log.steps,
        `${log.step}/${log.steps}  ETA ${formatSeconds(eta)}  ${formatMetrics(log, BATCH_COUNTERS)}  ${formatRate(clock.samplesPerSecond())}`,
      );
    },
    epoch: (log) => {
      clock.epochDone();
      const now = performance.now();
      const seconds = formatSeconds((now - epochStart) / 1000);
      epochStart = now;
      last = now;
      write(
        `\r\x1b[2K${prefix}${paint(ANSI.bold, `epoch ${log.epoch}/${epochs}`)}  ${formatMetrics(log)}  ` +
          `${paint(ANSI.dim, `${seconds}  ${formatRate(clock.samplesPerSecond())}`)}\n`,
      );
    },
    done: (final) =>
      write(
        `\r\x1b[2K${prefix}${paint(ANSI.bold, `done in ${formatSeconds(clock.elapsed())}`)}: ${formatMetrics(final)}\n`,
      ),
  };
}
