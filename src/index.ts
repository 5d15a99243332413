/**
 * nnx as a library: `import { compile } from 'nnx'`. The compiler stages are exported for
 * tools that want to look inside (the parser, the IR printer, the reference interpreter).
 */
export { check, compile, codegenModule } from './compile.js';
export type { CheckedProgram, CompileOptions, CompileResult, TrainOverrides } from './compile.js';
export type { CompiledModel } from './codegen/spec.js';
export { parse } from './parser/index.js';
export type { Program } from './parser/ast.js';
export { printGraph } from './ir/print.js';
export { interpret, interpretOutputs } from './ir/interpret.js';
export type { Graph, Node, Op, Shape } from './ir/graph.js';
export type { ModelIR } from './lower/lower.js';
export type { Diagnostic, SourceFile, Span } from './util/diagnostics.js';
export { renderDiagnostic, renderDiagnostics, hasErrors } from './util/diagnostics.js';
export type { ModelSpec } from './runtime/spec.js';
