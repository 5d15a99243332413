/**
 * Reads a train block's `augment:` field, a list of transforms such as
 * `[invert(p: 0.5), flip(p: 0.5), shift(pixels: 2), crop(padding: 4), noise(stddev: 0.1)]`, and
 * checks it against the model's inputs: transforms that move pixels need images [H, W, C] and
 * offsets smaller than the image. The transforms' semantics are in src/ir/train/augment.ts.
 */
import type { Expr, TrainField } from '../parser/ast.js';
import { type Diagnostic, type Span, error } from '../util/diagnostics.js';
import { didYouMean } from '../util/suggest.js';
import { shapeToString } from '../ir/graph.js';
import { type ArgSchema, type ArgsOf, type BoundArgs, argsOf, bindArgs } from '../lower/args.js';
import type { ModelIR } from '../lower/lower.js';
import { ownEntry } from '../util/own.js';

/** What every transform has: a seed that salts its random streams, and where it was written. */
interface AugmentationCommon {
  readonly seed: number;
  /** The transform in the train block; its IR nodes carry it, so plans and errors point there. */
  readonly span?: Span;
}

/** One bound transform of `augment:` with its arguments. */
export type Augmentation = AugmentationCommon &
  (
    | { readonly kind: 'invert' | 'flip'; readonly p: number }
    | { readonly kind: 'shift'; readonly pixels: number }
    | { readonly kind: 'crop'; readonly padding: number }
    | { readonly kind: 'noise'; readonly stddev: number }
  );

/** Transforms that move pixels, and so need an image input [H, W, C]. */
export const SPATIAL_AUGMENTATIONS: ReadonlySet<Augmentation['kind']> = new Set(['flip', 'shift', 'crop']);

const SEED = { name: 'seed', type: 'int', min: 0, default: 0 } as const;
const PROBABILITY = { name: 'p', type: 'float', min: 0, max: 1, default: 0.5 } as const;

/** One transform: its arguments, and the bound transform built from them. */
interface TransformEntry {
  readonly schema: readonly ArgSchema[];
  readonly bind: (values: BoundArgs['values'], span: Span) => Augmentation;
}

/** A transform whose `make` reads its arguments typed by its schema (the seed among them). */
function transform<const S extends readonly ArgSchema[]>(
  schema: S,
  make: (args: ArgsOf<S>, span: Span) => Augmentation,
): TransformEntry {
  return { schema, bind: (values, span) => make(argsOf(schema, values), span) };
}

/** Each transform, keyed by its name in `augment:`. */
const TRANSFORMS: Readonly<Record<Augmentation['kind'], TransformEntry>> = {
  invert: transform([PROBABILITY, SEED], ({ p, seed }, span) => ({ kind: 'invert', p, seed, span })),
  flip: transform([PROBABILITY, SEED], ({ p, seed }, span) => ({ kind: 'flip', p, seed, span })),
  shift: transform([{ name: 'pixels', type: 'int', min: 1 }, SEED], ({ pixels, seed }, span) => ({
    kind: 'shift',
    pixels,
    seed,
    span,
  })),
  crop: transform([{ name: 'padding', type: 'int', min: 1 }, SEED], ({ padding, seed }, span) => ({
    kind: 'crop',
    padding,
    seed,
    span,
  })),
  noise: transform([{ name: 'stddev', type: 'float', min: 0 }, SEED], ({ stddev, seed }, span) => ({
    kind: 'noise',
    stddev,
    seed,
    span,
  })),
};

const NAMES = Object.keys(TRANSFORMS) as Augmentation['kind'][];

function bindOne(e: Expr, diags: Diagnostic[]): Augmentation | undefined {
  const head = e.kind === 'name' ? e : e.kind === 'call' && e.callee.kind === 'name' ? e.callee : undefined;
  if (!head) {
    diags.push(error('E0601', e.span, 'an augmentation is a transform such as `flip(p: 0.5)`'));
    return undefined;
  }
  const entry = ownEntry<TransformEntry>(TRANSFORMS, head.name);
  if (!entry) {
    diags.push(
      error('E0601', head.span, `unknown augmentation \`${head.name}\`${didYouMean(head.name, NAMES)}`, [
        { message: `expected one of: ${NAMES.join(', ')}` },
      ]),
    );
    return undefined;
  }
  const bound = bindArgs(head.name, e.kind === 'call' ? e.args : [], entry.schema, e.span, diags);
  return bound ? entry.bind(bound.values, e.span) : undefined;
}

/** The `augment:` list (one transform may be written without brackets); undefined when one is wrong. */
export function bindAugment(field: TrainField | undefined, diags: Diagnostic[]): Augmentation[] | undefined {
  if (field === undefined) return [];
  const items = field.value.kind === 'list' ? field.value.items : [field.value];
  const before = diags.length;
  const out = items.map((e) => bindOne(e, diags));
  return diags.length === before ? (out as Augmentation[]) : undefined;
}

/**
 * Errors for transforms that do not fit an input of `model`: pixel moves need [H, W, C] images
 * larger than the move.
 */
export function checkAugmentAgainstModel(
  model: ModelIR,
  augment: readonly Augmentation[],
  diags: Diagnostic[],
): void {
  for (const a of augment) {
    const span = a.span!;
    if (!SPATIAL_AUGMENTATIONS.has(a.kind)) continue;
    for (const input of model.inputs) {
      const sample = input.shape.slice(1);
      const [h, w] = sample;
      if (sample.length !== 3 || typeof h !== 'number' || typeof w !== 'number') {
        diags.push(
          error(
            'E0602',
            span,
            `${a.kind} needs an image input [H, W, C], but input \`${input.name}\` is ${shapeToString(sample)}`,
            [
              {
                message:
                  'flip, shift and crop move pixels of [H, W, C] images; invert and noise take any input',
              },
            ],
          ),
        );
        continue;
      }
      const move = a.kind === 'shift' ? a.pixels : a.kind === 'crop' ? a.padding : 0;
      if (move >= Math.min(h, w))
        diags.push(
          error(
            'E0603',
            span,
            `${a.kind} by up to ${move} pixels does not fit input \`${input.name}\` of ${h}×${w} pixels`,
            [
              {
                message: `an image can move by at most ${Math.min(h, w) - 1}, one less than its smaller side`,
              },
            ],
          ),
        );
    }
  }
}
