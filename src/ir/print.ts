/** The IR's text form: one line per node, `%3 = matmul %1, %2 {transB} : [B,3]`. Golden tests read it. */
import { type Graph, type Node, shapeToString } from './graph.js';

function attributes(n: Node): string {
  const p = n.params as Record<string, unknown>;
  switch (n.op) {
    case 'input': {
      const q = n.params;
      return ` ${q.name} (${q.role}${q.init ? `, ${q.init.kind}` : ''})`;
    }
    case 'const':
      return ` ${formatNumber(n.params.value)}`;
    case 'dimsize':
      return ` ${n.params.dim}`;
    case 'matmul': {
      const q = n.params;
      const flags = [q.transA ? 'transA' : '', q.transB ? 'transB' : ''].filter(Boolean);
      return flags.length ? ` {${flags.join(', ')}}` : '';
    }
    default: {
      const keys = Object.keys(p);
      if (keys.length === 0) return '';
      return ` {${keys.map((k) => `${k}=${formatValue(p[k])}`).join(', ')}}`;
    }
  }
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.fround(v) === v ? v : +v.toPrecision(9));
}

function formatValue(v: unknown): string {
  return Array.isArray(v) ? `[${v.join(',')}]` : String(v);
}

export function printNode(n: Node): string {
  const srcs = n.srcs.map((s) => `%${s}`).join(', ');
  return `%${n.id} = ${n.op}${srcs ? ' ' + srcs : ''}${attributes(n)} : ${shapeToString(n.shape)}`;
}

export function printGraph(g: Graph): string {
  const lines = g.nodes.map(printNode);
  for (const o of g.outputs) {
    lines.push(`${o.role} ${o.name} = %${o.node}${o.target !== undefined ? ` -> %${o.target}` : ''}`);
  }
  return lines.join('\n') + '\n';
}
