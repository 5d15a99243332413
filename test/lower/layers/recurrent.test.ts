/**
 * The recurrent layers and Embedding, lowered and run by the interpreter: an LSTM and a GRU
 * against their equations written out by hand here, SimpleRNN's return_sequences, and the
 * embedding lookup.
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../../src/compile.js';
import { interpret } from '../../../src/ir/interpret.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { randomArray, seededRandom } from '../../ir/random.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Runs a one-layer model on x with the given weights; returns the output values. */
function run(layer: string, inShape: number[], x: number[], weights: Record<string, number[]>) {
  const text = `sequential M(x: [${inShape.join(', ')}]) {\n  ${layer}\n}\n`;
  const { models, diagnostics } = check(text);
  expect(diagnostics).toEqual([]);
  const model = models.get('M')!;
  const inputs = new Map<string, Tensor>([['x', { shape: [1, ...inShape], data: Float64Array.from(x) }]]);
  for (const p of model.params)
    inputs.set(p.name, { shape: p.shape as number[], data: Float64Array.from(weights[p.name]!) });
  const values = interpret(model.graph, inputs);
  return { out: Array.from(values[model.outputs[0]!.node]!.data), model };
}

/** Row-major [rows, cols] · vector helpers for the hand-written equations. */
const matVec = (v: number[], m: number[], cols: number) =>
  Array.from({ length: cols }, (_, j) => v.reduce((acc, vi, i) => acc + vi * m[i * cols + j]!, 0));
const add = (a: number[], b: number[]) => a.map((v, i) => v + b[i]!);

describe('recurrent layers against hand-derived equations', () => {
  const rand = seededRandom(5);
  const [T, F, U] = [3, 2, 2];
  const x = Array.from(randomArray(rand, T * F));

  it('LSTM: i, f, g, o gates (Keras order), forget bias +1, last state', () => {
    const W = Array.from(randomArray(rand, F * 4 * U));
    const R = Array.from(randomArray(rand, U * 4 * U));
    const bias = Array.from(randomArray(rand, 4 * U));
    const { out } = run('LSTM(2)', [T, F], x, {
      'lstm_1/kernel': W,
      'lstm_1/recurrent_kernel': R,
      'lstm_1/bias': bias,
    });
    let h = [0, 0];
    let c = [0, 0];
    for (let t = 0; t < T; t++) {
      const z = add(add(matVec(x.slice(t * F, t * F + F), W, 4 * U), matVec(h, R, 4 * U)), bias);
      const gate = (k: number) => z.slice(k * U, k * U + U);
      const i = gate(0).map(sigmoid);
      const f = gate(1).map((v) => sigmoid(v + 1));
      const g = gate(2).map(Math.tanh);
      const o = gate(3).map(sigmoid);
      c = c.map((cv, j) => f[j]! * cv + i[j]! * g[j]!);
      h = o.map((ov, j) => ov * Math.tanh(c[j]!));
    }
    out.forEach((v, j) => expect(v).toBeCloseTo(h[j]!, 12));
  });

  it('GRU (reset_after): z, r, h̃ and h = z·h + (1 − z)·h̃, every step returned', () => {
    const W = Array.from(randomArray(rand, F * 3 * U));
    const R = Array.from(randomArray(rand, U * 3 * U));
    const bias = Array.from(randomArray(rand, 3 * U));
    const { out } = run('GRU(2, return_sequences: true)', [T, F], x, {
      'gru_1/kernel': W,
      'gru_1/recurrent_kernel': R,
      'gru_1/bias': bias,
    });
    let h = [0, 0];
    const want: number[] = [];
    for (let t = 0; t < T; t++) {
      const xw = add(matVec(x.slice(t * F, t * F + F), W, 3 * U), bias);
      const hu = matVec(h, R, 3 * U);
      const part = (v: number[], k: number) => v.slice(k * U, k * U + U);
      const z = add(part(xw, 0), part(hu, 0)).map(sigmoid);
      const r = add(part(xw, 1), part(hu, 1)).map(sigmoid);
      const hh = part(xw, 2).map((v, j) => Math.tanh(v + r[j]! * part(hu, 2)[j]!));
      h = h.map((hv, j) => z[j]! * hv + (1 - z[j]!) * hh[j]!);
      want.push(...h);
    }
    expect(out.length).toBe(T * U);
    out.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 12));
  });

  it('SimpleRNN with return_sequences gives [T, units] per sample', () => {
    const W = Array.from(randomArray(rand, F * U));
    const R = Array.from(randomArray(rand, U * U));
    const { out, model } = run('SimpleRNN(2, return_sequences: true, use_bias: false)', [T, F], x, {
      'simple_rnn_1/kernel': W,
      'simple_rnn_1/recurrent_kernel': R,
    });
    expect(model.outputs[0]!.shape).toEqual(['B', T, U]);
    let h = [0, 0];
    const want: number[] = [];
    for (let t = 0; t < T; t++) {
      h = add(matVec(x.slice(t * F, t * F + F), W, U), matVec(h, R, U)).map(Math.tanh);
      want.push(...h);
    }
    out.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 12));
  });

  it('Embedding picks table rows by index', () => {
    const table = [0, 1, 10, 11, 20, 21];
    const { out, model } = run('Embedding(3, 2)', [4], [2, 0, 1, 2], { 'embedding_1/embeddings': table });
    expect(model.outputs[0]!.shape).toEqual(['B', 4, 2]);
    expect(out).toEqual([20, 21, 0, 1, 10, 11, 20, 21]);
  });
});
