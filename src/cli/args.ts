/**
 * Every command's flags parsed one way: node's own `parseArgs` (strict: an unknown flag is an
 * error) over a table of the command's options, with what it leaves rough done here — `--help`,
 * "did you mean" for a mistyped flag, a limit on positional arguments, and negative numbers
 * (`--seed -1`) taken as values so the range check can answer instead of "ambiguous".
 * A command adds a flag by adding a row to its `options` table.
 */
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { closest } from '../util/suggest.js';
import { UsageError } from './io.js';

/** What a command accepts: its flags, how many positional arguments, and its help text. */
export interface CommandArgs<O extends ParseArgsOptionsConfig> {
  /** `train`: for messages (`nnxc train: …`). */
  readonly command: string;
  /** The usage lines `nnxc COMMAND --help` prints. */
  readonly usage: string;
  readonly options: O;
  /** The most positional arguments (FILE…); 1 when omitted, Infinity for a list. */
  readonly maxPositionals?: number;
}

/** `nnxc COMMAND --help`: not an error; run() prints the usage to stdout and exits 0. */
export class HelpRequest extends Error {
  constructor(readonly usage: string) {
    super('help');
  }
}

const NUMBER = /^-(\d|\.\d|Infinity|NaN)/;

/** `--seed -1` → `--seed=-1` for the string options, so the value reaches the range check. */
function joinNegativeValues(args: readonly string[], options: ParseArgsOptionsConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : shortName(arg, options);
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && NUMBER.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

function shortName(arg: string, options: ParseArgsOptionsConfig): string | undefined {
  if (!/^-[A-Za-z]$/.test(arg)) return undefined;
  return Object.entries(options).find(([, o]) => o.short === arg.slice(1))?.[0];
}

/** The flag a parse error names (`Unknown option '--epoch'`), with a suggestion from the table. */
function unknownFlagMessage(message: string, options: ParseArgsOptionsConfig): string | undefined {
  const match = /Unknown option '(-{1,2})([^']+)'/.exec(message);
  if (!match) return undefined;
  const flag = `${match[1]}${match[2]}`;
  const names = Object.keys(options);
  const suggestion = closest(match[2]!, names);
  return `unknown option '${flag}'${suggestion ? `; did you mean '--${suggestion}'?` : ''}`;
}

/** Parses `args` against the command's table; throws UsageError or HelpRequest. */
export function parseCommandArgs<O extends ParseArgsOptionsConfig>(
  args: readonly string[],
  spec: CommandArgs<O>,
) {
  const dashDash = args.indexOf('--');
  const flags = dashDash < 0 ? args : args.slice(0, dashDash);
  if (flags.includes('--help') || flags.includes('-h')) throw new HelpRequest(spec.usage);
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(args, spec.options),
      options: spec.options,
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    const message = (e as Error).message;
    const unknown = unknownFlagMessage(message, spec.options);
    throw new UsageError(
      `${spec.command}: ${unknown ?? message.replace(/\. To specify.*$/s, '')}`,
      spec.usage,
    );
  }
  const max = spec.maxPositionals ?? 1;
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals.slice(max).map((p) => `'${p}'`);
    throw new UsageError(
      `${spec.command}: unexpected argument${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`,
      spec.usage,
    );
  }
  return parsed;
}
