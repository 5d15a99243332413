/** How a kernel reads its sources: a literal for a scalar constant, else a storage binding. */
import type { Graph, Node, NodeOf, Op } from '../../ir/graph.js';
import type { BindingAccess } from '../../runtime/spec.js';
import { type Binding, bindingDecls, elementOf, f32Literal } from './builder.js';

export interface GeneratedKernel {
  readonly name: string;
  readonly wgsl: string;
  /** Buffer ids in binding order. */
  readonly buffers: readonly number[];
  /** How the kernel uses each binding, in binding order. */
  readonly access: readonly BindingAccess[];
  readonly workgroups: readonly [number, number, number];
  /** What its workgroup asks of the adapter, where the kernel has tilings (a matmul). */
  readonly needs?: WorkgroupNeeds;
}

export interface WorkgroupNeeds {
  readonly invocations: number;
  readonly workgroupBytes: number;
}

/** Maps each source to a WGSL reader: a literal for constants, else a binding. */
export class Operands {
  readonly bindings: Binding[] = [];
  readonly buffers: number[] = [];
  private readonly names: (string | undefined)[] = [];

  constructor(
    readonly g: Graph,
    readonly node: NodeOf<Op>,
    bufferOf: ReadonlyMap<number, number>,
  ) {
    const out = bufferOf.get(node.id)!;
    node.srcs.forEach((s, k) => {
      if (g.nodes[s]!.op === 'const') return;
      const buffer = bufferOf.get(s)!;
      // A source in the output's own buffer (an in-place update) is read through the output binding.
      if (buffer === out) return void (this.names[k] = 'out');
      const existing = this.buffers.indexOf(buffer);
      if (existing >= 0) return void (this.names[k] = this.bindings[existing]!.name);
      this.names[k] = `in${this.bindings.length}`;
      this.bindings.push({ name: this.names[k]!, writable: false });
      this.buffers.push(buffer);
    });
    this.bindings.push({ name: 'out', writable: true });
    this.buffers.push(out);
  }

  shape(k: number): number[] {
    return this.g.nodes[this.node.srcs[k]!]!.shape as number[];
  }

  /** Reads source `k` at a u32 offset expression. */
  load(k: number, offset: string): string {
    const src = this.g.nodes[this.node.srcs[k]!]!;
    if (src.op === 'const') return f32Literal(src.params.value);
    return elementOf(this.bindingOf(k), offset);
  }

  /**
   * Declares source `k`'s binding as vec4s, for 16-byte loads; refused (false) for a constant,
   * the output's binding, and a binding another source reads too (it would be vec4s for both).
   */
  vectorize(k: number): boolean {
    const name = this.names[k];
    if (name === undefined || name === 'out' || this.names.some((n, j) => j !== k && n === name))
      return false;
    const i = this.bindings.findIndex((b) => b.name === name);
    this.bindings[i] = { ...this.bindings[i]!, vec4: true };
    return true;
  }

  /** The four elements of source `k` from `offset` on (a multiple of 4) as a vec4, once vectorised. */
  quad(k: number, offset: string): string {
    if (!this.bindingOf(k).vec4) throw new Error(`internal: source ${k} is not read as vec4s`);
    return `${this.names[k]}[(${offset}) / 4u]`;
  }

  private bindingOf(k: number): Binding {
    return this.bindings.find((b) => b.name === this.names[k])!;
  }

  header(): string {
    return bindingDecls(this.bindings);
  }

  access(): BindingAccess[] {
    return accessOf(this.bindings);
  }
}

/** A node's shape, bound (codegen only sees specialised graphs). */
export function shapeOf(n: Node): number[] {
  return n.shape as number[];
}

/** Each binding's access, as the kernel declares it. */
export function accessOf(bindings: readonly Binding[]): BindingAccess[] {
  return bindings.map((b) => (b.writable ? 'read_write' : 'read'));
}
