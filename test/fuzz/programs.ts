/**
 * Seeded programs for the fuzzer: mutants of every example and grammar-shaped programs built
 * from the layer vocabulary with awkward sizes and names. A program is a pure function of its
 * seed, so a failure reproduces from the seed it prints.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** mulberry32: a small seeded generator. */
export function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}
export type Random = ReturnType<typeof generator>;

export const EXAMPLES: readonly string[] = readdirSync(new URL('../../examples', import.meta.url))
  .filter((f) => f.endsWith('.nnx'))
  .sort()
  .map((f) => readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8'));

/** Names that have broken registries and generated modules before. */
export const HAZARDOUS_NAMES = [
  'constructor',
  '__proto__',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'class',
  'default',
  'spec',
  'NnxModel',
  'target',
  'output',
  'mask',
];

const SIZES = ['1', '2', '3', '4', '7', '8', '16', '0', '65536', '4294967296', '2.5', '-1'];
const CONSTANTS = ['0', '1', '0.5', '1e-3', '1e999', '-1', '1e-45', '0.0'];

const TOKENS = [
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '=',
  '->',
  '+',
  '-',
  '*',
  '/',
  '\n',
  ' ',
  '#',
  '"',
  'let',
  'repeat',
  'return',
  'block',
  'model',
  'sequential',
  'train',
  'gan',
  'x',
  'relu',
  'Dense',
  'Flatten()',
  'axis',
  ...SIZES,
  ...CONSTANTS,
  ...HAZARDOUS_NAMES,
];

function mutate(text: string, rng: Random): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(7)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1 + rng.int(12));
    case 1:
      return text.slice(0, at) + rng.pick(TOKENS) + text.slice(at);
    case 2: {
      const lines = text.split('\n');
      lines.splice(rng.int(lines.length), 0, lines[rng.int(lines.length)]!);
      return lines.join('\n');
    }
    case 3: {
      // One number, anywhere, becomes an awkward one.
      const numbers = [...text.matchAll(/\b\d+(\.\d+)?(e-?\d+)?\b/g)];
      if (!numbers.length) return text;
      const m = rng.pick(numbers);
      return text.slice(0, m.index) + rng.pick([...SIZES, ...CONSTANTS]) + text.slice(m.index + m[0].length);
    }
    case 4: {
      const names = [...new Set(text.match(/[A-Za-z_]\w*/g) ?? [])];
      if (!names.length) return text;
      const from = rng.pick(names);
      return text.replaceAll(new RegExp(`\\b${from}\\b`, 'g'), rng.pick([...names, ...HAZARDOUS_NAMES]));
    }
    case 5: {
      const lines = text.split('\n');
      lines.splice(rng.int(lines.length), 1);
      return lines.join('\n');
    }
    default:
      return text.slice(0, at) + text.slice(rng.int(text.length + 1));
  }
}

const ACTIVATIONS = ['relu', 'sigmoid', 'tanh', 'softmax', 'log_softmax', 'linear', 'gelu'];

/** One layer line for a sequential body over a rank-1 or image input. */
function layer(rng: Random, image: boolean): string {
  const size = () => (rng.next() < 0.85 ? String(1 + rng.int(8)) : rng.pick(SIZES));
  const act = () => (rng.next() < 0.5 ? `, activation: ${rng.pick(ACTIVATIONS)}` : '');
  const choices = image
    ? [
        () => `Conv2D(${size()}, ${1 + rng.int(3)}${act()})`,
        () => `MaxPool2D(${1 + rng.int(2)})`,
        () => `AvgPool2D(${1 + rng.int(2)})`,
        () => 'Flatten()',
        () => 'BatchNormalization()',
        () => `Dense(${size()}${act()})`,
      ]
    : [
        () => `Dense(${size()}${act()})`,
        () => `Dropout(${rng.pick(['0.5', '0', '0.9'])})`,
        () => rng.pick(ACTIVATIONS),
        () => 'LayerNormalization()',
        () => `repeat ${rng.pick(['0', '1', '2'])} { Dense(${size()}${act()}) }`,
      ];
  return rng.pick(choices)();
}

const LOSSES = [
  'mse',
  'binary_crossentropy',
  'categorical_crossentropy',
  'sparse_categorical_crossentropy',
  'nll',
  'mae',
];
const OPTIMIZERS = [
  () => 'SGD(lr: 0.1)',
  () => 'Adam(lr: 1e-3)',
  () => 'Adam(lr: 1e-3, beta_1: 0)',
  () => 'RMSProp(lr: 0.01)',
  () => 'Adagrad(lr: 0.1)',
  () => 'AdamW(lr: 1e-3)',
];

/** A sequential model and its train block, shaped like the grammar, with awkward choices mixed in. */
export function grammarProgram(rng: Random): string {
  const image = rng.next() < 0.35;
  const name = rng.next() < 0.1 ? rng.pick(HAZARDOUS_NAMES) : 'M';
  const input = rng.next() < 0.1 ? rng.pick(HAZARDOUS_NAMES) : 'x';
  const shape = image
    ? `[${4 + rng.int(5)}, ${4 + rng.int(5)}, ${1 + rng.int(2)}]`
    : `[${rng.next() < 0.9 ? 1 + rng.int(6) : rng.pick(SIZES)}]`;
  const body = Array.from({ length: 1 + rng.int(4) }, () => `  ${layer(rng, image)}`);
  const units = rng.pick(['1', '2', '3']);
  body.push(`  Dense(${units}${rng.next() < 0.5 ? `, activation: ${rng.pick(ACTIVATIONS)}` : ''})`);
  const data = image ? 'mnist' : rng.pick(['xor', 'iris']);
  const lr = rng.next() < 0.1 ? rng.pick(CONSTANTS) : undefined;
  const optimizer = lr ? `SGD(lr: ${lr})` : rng.pick(OPTIMIZERS)();
  return [
    `sequential ${name}(${input}: ${shape}) {`,
    ...body,
    '}',
    '',
    `train ${name} {`,
    `  data: ${data}`,
    `  loss: ${rng.pick(LOSSES)}`,
    `  optimizer: ${optimizer}`,
    `  batch: ${rng.pick(['4', '8', '1'])}`,
    '  epochs: 1',
    '}',
    '',
  ].join('\n');
}

/** The program for one seed: half mutants of an example, half grammar-shaped (sometimes mutated). */
export function fuzzProgram(seed: number): string {
  const rng = generator(seed);
  let text = rng.next() < 0.5 ? rng.pick(EXAMPLES) : grammarProgram(rng);
  const mutations = rng.int(4);
  for (let i = 0; i < mutations; i++) text = mutate(text, rng);
  return text;
}
