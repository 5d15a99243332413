/**
 * A small WebAssembly binary encoder: LEB128 numbers, the sections a kernel module needs
 * (types, imports, functions, exports, code) and a function-body builder with the instructions
 * nnx's kernels use, SIMD128 among them. Opcodes are from the WebAssembly core specification
 * (and its SIMD proposal, now part of it).
 */
import { F32X4_ADD, F32X4_MUL } from './opcodes.js';

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function f32Bytes(v: number): number[] {
  return [...new Uint8Array(new Float32Array([v]).buffer)];
}

function f64Bytes(v: number): number[] {
  return [...new Uint8Array(new Float64Array([v]).buffer)];
}

function utf8(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

function vector(items: readonly number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** Block types: no result. */
const EMPTY = 0x40;

/**
 * The body of one function being written: its locals and its instruction bytes. Methods append
 * one instruction each and return `this`, so short sequences read as one line.
 */
export class FunctionBody {
  readonly code: number[] = [];
  /** Where each {@link madd} starts in `code`: the runtime may rewrite it as a relaxed FMA. */
  readonly maddSites: number[] = [];
  private readonly localTypes: ValType[] = [];

  constructor(readonly params: readonly ValType[]) {}

  /** A fresh local of `type`; its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  i32(v: number): this {
    return this.op(0x41, ...sleb(v));
  }
  f32(v: number): this {
    return this.op(0x43, ...f32Bytes(v));
  }
  f64(v: number): this {
    return this.op(0x44, ...f64Bytes(v));
  }
  get(i: number): this {
    return this.op(0x20, ...uleb(i));
  }
  set(i: number): this {
    return this.op(0x21, ...uleb(i));
  }
  tee(i: number): this {
    return this.op(0x22, ...uleb(i));
  }
  call(f: number): this {
    return this.op(0x10, ...uleb(f));
  }
  drop(): this {
    return this.op(0x1a);
  }
  select(): this {
    return this.op(0x1b);
  }

  /** f32.load at the address on the stack plus `offset` bytes. */
  loadF32(offset: number): this {
    return this.op(0x2a, 2, ...uleb(offset));
  }
  storeF32(offset: number): this {
    return this.op(0x38, 2, ...uleb(offset));
  }
  loadI32(offset: number): this {
    return this.op(0x28, 2, ...uleb(offset));
  }
  storeI32(offset: number): this {
    return this.op(0x36, 2, ...uleb(offset));
  }
  /** v128.load / store (alignment hint 4 bytes: addresses are only element-aligned). */
  loadV128(offset: number): this {
    return this.op(0xfd, 0x00, 2, ...uleb(offset));
  }
  storeV128(offset: number): this {
    return this.op(0xfd, 0x0b, 2, ...uleb(offset));
  }
  /** v128.load32_splat: one f32 broadcast to four lanes. */
  loadSplat(offset: number): this {
    return this.op(0xfd, 0x09, 2, ...uleb(offset));
  }

  /**
   * `acc = acc + a·b` on f32x4 locals, written as `get acc, get a, get b, f32x4.mul, f32x4.add,
   * set acc`: valid on every SIMD128 engine. Its site is recorded so a runtime whose engine has
   * relaxed SIMD can rewrite it in place, same length, as one f32x4.relaxed_madd
   * (src/runtime/wasm/relaxed.ts).
   */
  madd(acc: number, a: number, b: number): this {
    this.maddSites.push(this.code.length);
    return this.get(acc)
      .get(a)
      .get(b)
      .op(...F32X4_MUL)
      .op(...F32X4_ADD)
      .set(acc);
  }

  block(): this {
    return this.op(0x02, EMPTY);
  }
  loop(): this {
    return this.op(0x03, EMPTY);
  }
  /** `if` with an f32 result when `result` is given, else none. */
  if(result?: ValType): this {
    return this.op(0x04, result ?? EMPTY);
  }
  else(): this {
    return this.op(0x05);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c, ...uleb(depth));
  }
  brIf(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }
  ret(): this {
    return this.op(0x0f);
  }

  /**
   * `for (i = start; i < end; i += step) body()`: `start` and `end` push i32s (evaluated once
   * each, `end` into a local). Inside `body`, `br(1)` is `continue`-free: use only structured
   * code that falls through.
   */
  forRange(i: number, start: () => void, end: () => void, body: () => void, step = 1): this {
    const limit = this.local(I32);
    start();
    this.set(i);
    end();
    this.set(limit);
    this.block();
    this.get(i).get(limit).op(0x4f /* i32.ge_u */).brIf(0);
    this.loop();
    body();
    this.get(i).i32(step).op(0x6a).tee(i);
    this.get(limit).op(0x49 /* i32.lt_u */).brIf(0);
    this.end().end();
    return this;
  }

  /** The body as the code section encodes it: locals grouped by type, then the instructions. */
  encode(): number[] {
    const groups: number[][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]!++;
      else groups.push([1, t]);
    }
    const locals = vector(groups.map(([count, type]) => [...uleb(count!), type!]));
    const body = [...locals, ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** A function imported from the host (`env.<name>`). */
export interface ImportedFunction {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

export interface ModuleParts {
  readonly imports: readonly ImportedFunction[];
  /** Imported memory `env.memory`, in 64 KiB pages; shared memories need a maximum. */
  readonly memory: { readonly pages: number; readonly maxPages: number; readonly shared: boolean };
  /** Defined functions, indexed after the imports. */
  readonly functions: readonly { readonly body: FunctionBody; readonly results: readonly ValType[] }[];
  readonly exports: readonly { readonly name: string; readonly index: number }[];
}

/** The module's bytes. Function types are interned. */
export function encodeModule(parts: ModuleParts): Uint8Array<ArrayBuffer> {
  return encodeModuleWithSites(parts).bytes;
}

/** The module's bytes, and the byte offset in them of every function body's madd sites. */
export function encodeModuleWithSites(parts: ModuleParts): {
  bytes: Uint8Array<ArrayBuffer>;
  maddSites: number[];
} {
  const types: number[][] = [];
  const typeIndex = (params: readonly ValType[], results: readonly ValType[]) => {
    const t = [0x60, ...uleb(params.length), ...params, ...uleb(results.length), ...results];
    const key = t.join(',');
    const found = types.findIndex((x) => x.join(',') === key);
    if (found >= 0) return found;
    types.push(t);
    return types.length - 1;
  };
  const importEntries = parts.imports.map((f) => [
    ...utf8('env'),
    ...utf8(f.name),
    0x00,
    ...uleb(typeIndex(f.params, f.results)),
  ]);
  const { pages, maxPages, shared } = parts.memory;
  importEntries.push([
    ...utf8('env'),
    ...utf8('memory'),
    0x02,
    shared ? 0x03 : 0x01,
    ...uleb(pages),
    ...uleb(maxPages),
  ]);
  const functionTypes = parts.functions.map((f) => uleb(typeIndex(f.body.params, f.results)));
  const exportEntries = parts.exports.map((e) => [...utf8(e.name), 0x00, ...uleb(e.index)]);
  const bodies = parts.functions.map((f) => f.body.encode());
  const head = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector(types)),
    ...section(2, vector(importEntries)),
    ...section(3, vector(functionTypes)),
    ...section(7, vector(exportEntries)),
  ];
  const codeVector = vector(bodies);
  const code = section(10, codeVector);
  // Each body ends with its instructions and the final `end`: its sites count back from there.
  const maddSites: number[] = [];
  let at = head.length + code.length - codeVector.length + uleb(bodies.length).length;
  parts.functions.forEach((f, i) => {
    at += bodies[i]!.length;
    const codeStart = at - 1 - f.body.code.length;
    for (const site of f.body.maddSites) maddSites.push(codeStart + site);
  });
  return { bytes: new Uint8Array([...head, ...code]), maddSites };
}
