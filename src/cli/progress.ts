/**
 * Training progress for people and for programs: a bar redrawn in place on a terminal, a few
 * plain lines when the output is a file or pipe, and one JSON object per epoch with --json.
 */
import type { EpochLog } from '../runtime/index.js';

export type ProgressMode = 'bar' | 'lines' | 'json';

export interface ProgressReporter {
  epoch(log: EpochLog): void;
  done(final: Record<string, number | boolean | string>): void;
}

function formatMetrics(log: Readonly<Record<string, number | boolean | string>>): string {
  return Object.entries(log)
    .filter(([k, v]) => k !== 'epoch' && typeof v === 'number')
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : (v as number).toFixed(4)}`)
    .join('  ');
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

export function makeProgress(
  mode: ProgressMode,
  epochs: number,
  write: (s: string) => void = (s) => process.stdout.write(s),
): ProgressReporter {
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  switch (mode) {
    case 'json':
      return {
        epoch: (log) => write(JSON.stringify(log) + '\n'),
        done: (final) => write(JSON.stringify({ final: true, ...final }) + '\n'),
      };
    case 'lines': {
      // About twenty lines however many epochs there are, plus the last one.
      const every = Math.max(1, Math.round(epochs / 20));
      return {
        epoch: (log) => {
          if (log.epoch % every === 0 || log.epoch === epochs)
            write(`epoch ${log.epoch}/${epochs}  ${formatMetrics(log)}\n`);
        },
        done: (final) => write(`done in ${formatSeconds(elapsed())}: ${formatMetrics(final)}\n`),
      };
    }
    case 'bar': {
      const width = 24;
      let last = 0;
      return {
        epoch: (log) => {
          const now = performance.now();
          if (now - last < 100 && log.epoch !== epochs) return;
          last = now;
          const done = Math.round((width * log.epoch) / epochs);
          const eta = (elapsed() / log.epoch) * (epochs - log.epoch);
          const bar = '█'.repeat(done) + '░'.repeat(width - done);
          write(
            `\r\x1b[2Kepoch ${log.epoch}/${epochs} ${bar} ETA ${formatSeconds(eta)}  ${formatMetrics(log)}`,
          );
        },
        done: (final) => write(`\n\x1b[2Kdone in ${formatSeconds(elapsed())}: ${formatMetrics(final)}\n`),
      };
    }
  }
}
