/**
 * MultiHeadAttention, the position layers and 1-D pooling, lowered and run by the interpreter:
 * attention against its equations written out by hand here, gradients of whole layers against
 * central finite differences (f64), causality, and the layers' shape errors rendered exactly.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../../src/lower/lower.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { grad } from '../../../src/ir/grad.js';
import { inputsOf, sizeOf } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/ir/interpret.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { randomArray, seededRandom } from '../../ir/random.js';
import { errorsOf, lower } from './lowered.js';

/** Random values for every input of the model (data inputs with a batch of `batch`). */
function randomInputs(model: ModelIR, batch: number, rand: () => number): Map<string, Tensor> {
  const inputs = new Map<string, Tensor>();
  for (const n of inputsOf(model.graph)) {
    const shape = n.shape.map((d) => (typeof d === 'number' ? d : batch));
    inputs.set(n.params.name, { shape, data: randomArray(rand, sizeOf(shape)) });
  }
  return inputs;
}

function outputOf(model: ModelIR, inputs: ReadonlyMap<string, Tensor>): Float64Array {
  return interpret(model.graph, inputs)[model.outputs[0]!.node]!.data as Float64Array;
}

/** y = x·W + b for one row x of `[features]` and W of `[features, units]`. */
const affine = (x: number[], w: Float64Array, bias: Float64Array) =>
  Array.from(bias, (bj, j) => x.reduce((acc, xi, i) => acc + xi * w[i * bias.length + j]!, bj));

describe('MultiHeadAttention', () => {
  it('is softmax(Q·Kᵀ/√d + mask)·V per head, the heads joined and projected (by hand)', () => {
    const [T, F, H, D] = [4, 3, 2, 2];
    for (const causal of [false, true]) {
      const model = lower(
        `sequential M(x: [${T}, ${F}]) {\n  MultiHeadAttention(${H}, ${D}, causal: ${causal})\n}\n`,
      );
      const inputs = randomInputs(model, 1, seededRandom(causal ? 2 : 1));
      const got = outputOf(model, inputs);
      const p = (name: string) => inputs.get(`multi_head_attention_1/${name}`)!.data as Float64Array;
      const x = Array.from({ length: T }, (_, t) =>
        Array.from(inputs.get('x')!.data.slice(t * F, t * F + F)),
      );
      const q = x.map((r) => affine(r, p('query/kernel'), p('query/bias')));
      const k = x.map((r) => affine(r, p('key/kernel'), p('key/bias')));
      const v = x.map((r) => affine(r, p('value/kernel'), p('value/bias')));
      const joined = x.map(() => new Array<number>(H * D).fill(0));
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < T; i++) {
          const head = (row: number[]) => row.slice(h * D, h * D + D);
          const scores = k.map((kj, j) =>
            causal && j > i
              ? -Infinity
              : head(q[i]!).reduce((acc, qd, d) => acc + qd * head(kj)[d]!, 0) / Math.sqrt(D),
          );
          const top = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - top));
          const total = e.reduce((a, b) => a + b, 0);
          for (let j = 0; j < T; j++)
            for (let d = 0; d < D; d++) joined[i]![h * D + d]! += (e[j]! / total) * v[j]![h * D + d]!;
        }
      }
      const want = joined.flatMap((r) => affine(r, p('attention_output/kernel'), p('attention_output/bias')));
      expect(got.length).toBe(T * F);
      want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 12));
    }
  });

  it('a causal one: the output at step t does not depend on later steps', () => {
    const [T, F] = [5, 4];
    const source = (causal: boolean) =>
      `sequential M(x: [${T}, ${F}]) {\n  MultiHeadAttention(2, 3, causal: ${causal})\n}\n`;
    for (const causal of [true, false]) {
      const model = lower(source(causal));
      const inputs = randomInputs(model, 2, seededRandom(3));
      const before = outputOf(model, inputs);
      const x = inputs.get('x')!;
      const changed = Float64Array.from(x.data);
      const t = 2; // change every step after t, in both samples
      for (let s = 0; s < 2; s++) for (let i = (t + 1) * F; i < T * F; i++) changed[s * T * F + i]! += 1;
      const after = outputOf(model, new Map(inputs).set('x', { shape: x.shape, data: changed }));
      let moved = 0;
      for (let s = 0; s < 2; s++)
        for (let i = 0; i < (t + 1) * F; i++)
          moved += Math.abs(after[s * T * F + i]! - before[s * T * F + i]!);
      if (causal) expect(moved).toBe(0);
      else expect(moved).toBeGreaterThan(1e-3); // the check above can fail
    }
  });

  it('attends from a query sequence to a value sequence of another length', () => {
    const model = lower(
      'model M(q: [3, 4], v: [6, 5]) -> (y: [3, 4]) {\n  y = MultiHeadAttention(2, 3, value_dim: 2)(q, v)\n}\n',
    );
    const shapes = model.params.map((p) => `${p.name}: [${p.shape.join(', ')}]`);
    expect(shapes).toEqual([
      'multi_head_attention_1/query/kernel: [4, 6]',
      'multi_head_attention_1/query/bias: [6]',
      'multi_head_attention_1/key/kernel: [5, 6]',
      'multi_head_attention_1/key/bias: [6]',
      'multi_head_attention_1/value/kernel: [5, 4]',
      'multi_head_attention_1/value/bias: [4]',
      'multi_head_attention_1/attention_output/kernel: [4, 4]',
      'multi_head_attention_1/attention_output/bias: [4]',
    ]);
  });
});

/** loss = Σ c ⊙ output; every parameter's and the float input's gradient against central differences. */
function checkGradients(text: string, seed: number, skipInputs: readonly string[] = []) {
  const model = lower(text);
  const rand = seededRandom(seed);
  const inputs = randomInputs(model, 2, rand);
  const b = new GraphBuilder(model.graph);
  const y = model.outputs[0]!.node;
  const shape = b.shapeOf(y).map((d) => (typeof d === 'number' ? d : 2));
  const c = b.input('c', 'data', b.shapeOf(y));
  inputs.set('c', { shape, data: randomArray(rand, sizeOf(shape)) });
  const loss = b.sum(
    b.mul(y, c),
    shape.map((_, i) => i),
  );
  const wrt = inputsOf(model.graph).filter((n) => !skipInputs.includes(n.params.name));
  const forward = b.build();
  const { graph, grads } = grad(
    forward,
    loss,
    wrt.map((n) => n.id),
  );
  const values = interpret(graph, inputs);
  const lossAt = (ins: Map<string, Tensor>) => interpret(forward, ins)[loss]!.data[0]!;
  const h = 1e-6;
  let checked = 0;
  for (const n of wrt) {
    const analytic = values[grads.get(n.id)!]!.data;
    const base = inputs.get(n.params.name)!;
    for (let k = 0; k < base.data.length; k++) {
      const nudged = (d: number) => {
        const data = Float64Array.from(base.data);
        data[k]! += d;
        return lossAt(new Map(inputs).set(n.params.name, { shape: base.shape, data }));
      };
      const numeric = (nudged(h) - nudged(-h)) / (2 * h);
      expect(Math.abs(analytic[k]! - numeric)).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(50);
}

describe('gradients of the layers against central finite differences (f64)', () => {
  it('self-attention, causal, on [4, 3]', () =>
    checkGradients('sequential M(x: [4, 3]) {\n  MultiHeadAttention(2, 2, causal: true)\n}\n', 1));
  it('cross-attention with a separate key, no biases', () =>
    checkGradients(
      'model M(q: [2, 3], v: [3, 2], k: [3, 4]) -> (y: [2, 3]) {\n  y = MultiHeadAttention(2, 2, use_bias: false)(q, v, k)\n}\n',
      2,
    ));
  it('Dense on [T, F], a learned PositionEmbedding, 1-D pooling', () =>
    checkGradients(
      'model M(x: [3, 4]) -> (y: [5]) {\n  h = Dense(5)(x + PositionEmbedding(sequence_length: 4)(x))\n  y = GlobalAveragePooling1D()(h) + GlobalMaxPooling1D()(h * 2)\n}\n',
      3,
    ));
  it('a transformer block: attention, residuals, LayerNormalization, feed-forward, sine positions', () =>
    checkGradients(
      `block Block(width: int)(x) {
  h = LayerNormalization()(x + MultiHeadAttention(2, 2)(x))
  return LayerNormalization()(h + Dense(width)(Dense(3, activation: relu)(h)))
}
model M(x: [3, 4]) -> (y: [3, 4]) {
  y = Block(4)(x + SinePositionEncoding()(x))
}
`,
      4,
    ));
});

describe('position layers and pooling', () => {
  it('SinePositionEncoding is sin(t/10000^(2i/F)) on even columns and cos on odd ones', () => {
    const [T, F] = [5, 6];
    const model = lower(`sequential M(x: [${T}, ${F}]) {\n  SinePositionEncoding()\n}\n`);
    const out = outputOf(model, new Map([['x', { shape: [1, T, F], data: new Float64Array(T * F) }]]));
    for (let t = 0; t < T; t++)
      for (let c = 0; c < F; c++) {
        const angle = t / 10000 ** ((2 * Math.floor(c / 2)) / F);
        expect(out[t * F + c]).toBeCloseTo(c % 2 === 0 ? Math.sin(angle) : Math.cos(angle), 12);
      }
  });

  it('PositionEmbedding adds nothing of the input: it is the table rows of the first T steps', () => {
    const model = lower('sequential M(x: [2, 3]) {\n  PositionEmbedding(sequence_length: 4)\n}\n');
    expect(model.params.map((p) => p.shape)).toEqual([[4, 3]]);
    const table = Float64Array.from({ length: 12 }, (_, i) => i);
    const x = { shape: [2, 2, 3], data: randomArray(seededRandom(1), 12) };
    const out = outputOf(
      model,
      new Map([
        ['x', x],
        ['position_embedding_1/embeddings', { shape: [4, 3], data: table }],
      ]),
    );
    expect(Array.from(out)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
  });
});

describe('Dense on sequences', () => {
  it('applies one kernel to the last axis of every step, as Keras', () => {
    const model = lower('sequential M(x: [3, 2]) {\n  Dense(4)\n}\n');
    const inputs = randomInputs(model, 2, seededRandom(9));
    const out = outputOf(model, inputs);
    const w = inputs.get('dense_1/kernel')!.data as Float64Array;
    const bias = inputs.get('dense_1/bias')!.data as Float64Array;
    const x = inputs.get('x')!.data;
    for (let row = 0; row < 6; row++) {
      const want = affine(Array.from(x.slice(row * 2, row * 2 + 2)), w, bias);
      want.forEach((v, j) => expect(out[row * 4 + j]).toBeCloseTo(v, 12));
    }
  });
});

describe('shape errors', () => {
  it('attention on a flat input', () => {
    expect(errorsOf('sequential M(x: [8]) {\n  MultiHeadAttention(2, 4)\n}\n'))
      .toBe(`m.nnx:2:3: error: MultiHeadAttention takes sequences of shape [steps, features] per sample, got [8] [E0201]
  |
2 |   MultiHeadAttention(2, 4)
  |   ^^^^^^^^^^^^^^^^^^^^^^^^`);
  });

  it('a key with another number of steps than the value', () => {
    expect(
      errorsOf(
        'model M(q: [3, 4], v: [5, 4], k: [6, 4]) -> (y: [3, 4]) {\n  y = MultiHeadAttention(2, 2)(q, v, k)\n}\n',
      ),
    )
      .toBe(`m.nnx:2:7: error: MultiHeadAttention needs a key with as many steps as the value: the value is [5, 4] and the key [6, 4] [E0201]
  |
2 |   y = MultiHeadAttention(2, 2)(q, v, k)
  |       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`);
  });

  it('a causal attention between sequences of different lengths', () => {
    expect(
      errorsOf(
        'model M(q: [3, 4], v: [5, 4]) -> (y: [3, 4]) {\n  y = MultiHeadAttention(1, 2, causal: true)(q, v)\n}\n',
      ),
    ).toContain(
      'm.nnx:2:7: error: a causal MultiHeadAttention needs as many query steps as key steps: the query is [3, 4] and the key [5, 4] [E0201]',
    );
  });

  it('a value that is not a sequence, and too many tensors', () => {
    const text = 'model M(q: [3, 4], v: [5]) -> (y: [3, 4]) {\n  y = MultiHeadAttention(1, 2)(q, v)\n}\n';
    expect(errorsOf(text)).toContain(
      'm.nnx:2:7: error: MultiHeadAttention takes sequences of shape [steps, features] per sample, got [5] (its value) [E0201]',
    );
    expect(
      errorsOf('model M(q: [3, 4]) -> (y: [3, 4]) {\n  y = MultiHeadAttention(1, 2)(q, q, q, q)\n}\n'),
    ).toContain('error: `multi_head_attention_1` takes 1 to 3 tensors, but 4 are given [E0107]');
  });

  it('a PositionEmbedding shorter than the sequence', () => {
    expect(errorsOf('sequential M(x: [6, 2]) {\n  PositionEmbedding(sequence_length: 4)\n}\n')).toContain(
      'm.nnx:2:3: error: PositionEmbedding has 4 positions (sequence_length) but the input has 6 steps [E0201]',
    );
  });
});
