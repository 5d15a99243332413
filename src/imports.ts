/**
 * Loads a source file and, transitively, the files it imports (`import "layers.nnx"`, relative to
 * the importing file), then gives each file its scope: its own blocks and models plus those of
 * the files it imports directly. A missing file and an import cycle are diagnostics at the
 * `import` that caused them; a cycle's message spells the whole loop.
 */
import type { ImportDecl, LayerDefinition, Program } from './parser/ast.js';
import { parse } from './parser/index.js';
import type { DefinitionSite, Scope } from './lower/scope.js';
import { type Diagnostic, type SourceFile, error } from './util/diagnostics.js';

/** Reads a file's text; undefined (or a thrown error) when it cannot be read. */
export type ReadFile = (path: string) => string | undefined;

/** One loaded file. `path` is undefined for the file being checked. */
export interface LoadedFile {
  readonly path: string | undefined;
  readonly displayPath: string;
  readonly program: Program | undefined;
  /** The resolved paths of the files it imports. */
  readonly imports: readonly string[];
}

export interface LoadedProgram {
  readonly main: LoadedFile;
  /** Imported files by resolved path, in the order they were loaded. */
  readonly imported: ReadonlyMap<string, LoadedFile>;
  /** Their texts, for rendering diagnostics that point into them. */
  readonly sources: ReadonlyMap<string, SourceFile>;
  readonly diagnostics: readonly Diagnostic[];
}

/** `a/b/../c.nnx` → `a/c.nnx`; keeps a leading `/` and leading `..` segments. */
export function normalizePath(path: string): string {
  const absolute = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (part !== '..' || !absolute) out.push(part);
  }
  return (absolute ? '/' : '') + out.join('/');
}

function resolveImport(from: string, target: string): string {
  if (target.startsWith('/')) return normalizePath(target);
  const dir = from.includes('/') ? from.slice(0, from.lastIndexOf('/') + 1) : '';
  return normalizePath(dir + target);
}

function tryRead(readFile: ReadFile, path: string): { text?: string; problem?: string } {
  try {
    const text = readFile(path);
    return text === undefined ? { problem: 'no such file' } : { text };
  } catch (e) {
    const code = (e as { code?: string }).code;
    return { problem: code === 'ENOENT' ? 'no such file' : (e as Error).message };
  }
}

/** Parses `text` (the file at `path`) and every file it imports, reporting cycles and missing files. */
export function loadProgram(path: string, text: string, readFile: ReadFile): LoadedProgram {
  const diagnostics: Diagnostic[] = [];
  const imported = new Map<string, LoadedFile>();
  const sources = new Map<string, SourceFile>();
  const mainPath = normalizePath(path);

  const visit = (filePath: string, fileText: string, stack: readonly string[]): LoadedFile => {
    const isMain = stack.length === 0;
    const file = isMain ? undefined : filePath;
    const parsed = parse(fileText);
    diagnostics.push(...parsed.diagnostics.map((d) => (file === undefined ? d : { ...d, file })));
    const imports: string[] = [];
    for (const decl of parsed.result?.imports ?? []) {
      const target = resolveImport(filePath, decl.path.value);
      const chain = [...stack, filePath];
      if (target === mainPath || chain.includes(target)) {
        diagnostics.push(cycleDiagnostic(decl, file, [...chain.slice(chain.indexOf(target)), target]));
        continue;
      }
      imports.push(target);
      if (imported.has(target)) continue;
      const read = tryRead(readFile, target);
      if (read.text === undefined) {
        diagnostics.push(
          at(
            file,
            error(
              'E0401',
              decl.path.span,
              `cannot import "${decl.path.value}": ${read.problem} (looked for ${target})`,
            ),
          ),
        );
        imports.pop();
        continue;
      }
      sources.set(target, { path: target, text: read.text });
      imported.set(target, visit(target, read.text, chain));
    }
    return { path: file, displayPath: filePath, program: parsed.result, imports };
  };

  const main = visit(mainPath, text, []);
  return { main, imported, sources, diagnostics };
}

function at(file: string | undefined, d: Diagnostic): Diagnostic {
  return file === undefined ? d : { ...d, file };
}

function cycleDiagnostic(decl: ImportDecl, file: string | undefined, loop: readonly string[]): Diagnostic {
  return at(
    file,
    error('E0402', decl.path.span, `import cycle: ${loop.join(' → ')}`, [
      {
        message:
          'a file cannot import itself, directly or through others; move the shared blocks to a file both import',
      },
    ]),
  );
}

/** The blocks and models a file defines, by name (the first of a duplicated name wins). */
function ownDefinitions(file: LoadedFile): Map<string, LayerDefinition> {
  const out = new Map<string, LayerDefinition>();
  for (const def of file.program?.definitions ?? []) {
    if (def.kind !== 'train' && def.kind !== 'gan' && !out.has(def.name.name)) out.set(def.name.name, def);
  }
  return out;
}

/**
 * The scope of every loaded file, keyed by path (undefined for the main file). A name defined
 * locally and imported too is an error at the local definition.
 */
export function buildScopes(
  loaded: LoadedProgram,
  diagnostics: Diagnostic[],
): Map<string | undefined, Scope> {
  const files = [loaded.main, ...loaded.imported.values()];
  const scopes = new Map<string | undefined, Map<string, DefinitionSite>>();
  for (const file of files) scopes.set(file.path, new Map());
  const own = new Map<string | undefined, Map<string, DefinitionSite>>();
  for (const file of files) {
    const scope = scopes.get(file.path)!;
    const sites = new Map<string, DefinitionSite>();
    for (const [name, def] of ownDefinitions(file)) sites.set(name, { def, file: file.path, scope });
    own.set(file.path, sites);
  }
  for (const file of files) {
    const scope = scopes.get(file.path)!;
    for (const [name, site] of own.get(file.path)!) scope.set(name, site);
    for (const target of file.imports) {
      for (const [name, site] of own.get(target) ?? []) {
        const local = scope.get(name);
        if (local === undefined) {
          scope.set(name, site);
          continue;
        }
        if (local === site) continue;
        diagnostics.push(
          at(
            file.path,
            error(
              'E0102',
              local.def.name.span,
              `\`${name}\` is defined here and also imported from ${target}`,
              [{ span: site.def.name.span, file: target, message: 'the imported definition' }],
            ),
          ),
        );
      }
    }
  }
  return scopes;
}
