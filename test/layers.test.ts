// The library's layers point one way: data -> engine -> hooks -> models -> optimize/train -> viz ->
// the entry (src/index.ts) -> server and CLI. This test reads every import of src/ with the
// TypeScript parser and fails on an import against that direction — type-only imports included,
// since a lower layer that names a higher layer's types depends on it all the same — or on any
// cycle of value imports (`import type` is erased at compile time, so it can neither run early nor loop).
import * as fs from 'fs';
import * as path from 'path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '..', 'src');

/** A layer may import its own and lower ranks; equal ranks are siblings (cycles still fail). */
const RANKS: Record<string, number> = {
  data: 0, // datasets, corpora, tokenizers: plain JavaScript, no tensors
  engine: 1, // tfjs and its backends, ops, ONNX Runtime's binding, timing, display plumbing
  io: 1, // file formats: safetensors, ONNX protobuf, tfjs weights, model folders
  preprocess: 2, // raw input -> tensors (images, log-mel)
  hooks: 3, // hook points, HookedModel, caches, traces
  models: 4, // model definitions, loaders, the registry of shipped models
  analysis: 5, // what models do (heads, scale)
  fastpath: 5, // the same models run by ONNX Runtime, and their exporters
  optimize: 5, // quantize, prune, distill, compare
  train: 5, // losses, optimizers, training loops
  viz: 6, // charts
  exercises: 6, // the course's checked exercises: may compute answers from any layer below
  index: 7, // the one public entry
  server: 8,
  cli: 8,
};

/** The layer of a file under src/: its folder, or for top-level files their role. */
function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  if (rel.length > 1) return rel[0];
  if (rel[0] === 'index.ts') return 'index';
  if (rel[0].startsWith('cli')) return 'cli';
  throw new Error(`src/${rel[0]}: a top-level file with no layer; put it in a layer folder or name it in RANKS.`);
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null; // a package
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${path.relative(SRC, from)}: cannot resolve import "${spec}".`);
}

/** What `file` imports: as values (import/export-from without `type`, require(), import()), or everything with `types`. */
function importSpecifiers(file: string, { types = false } = {}): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const typeOnly = clause !== undefined && (clause.isTypeOnly || (!clause.name && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)));
      if (types || !typeOnly) found.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause;
      const typeOnly = node.isTypeOnly || (clause !== undefined && ts.isNamedExports(clause) && clause.elements.every((e) => e.isTypeOnly));
      if (types || !typeOnly) found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourceImports(file: string, options: { types?: boolean } = {}): string[] {
  return importSpecifiers(file, options).map((spec) => resolveImport(file, spec)).filter((p): p is string => p !== null && p.startsWith(SRC));
}

/** Imports from a lower layer to a higher one, as "a (layer) imports b (layer)". */
function againstDirection(graph: Map<string, string[]>, name: (f: string) => string): string[] {
  const against: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const [a, b] = [layerOf(file), layerOf(target)];
      if (RANKS[b] > RANKS[a]) against.push(`${name(file)} (${a}) imports ${name(target)} (${b})`);
    }
  }
  return against;
}

/** Tarjan's strongly connected components: each component of more than one file is a cycle. */
function findCycles(graph: Map<string, string[]>, name: (f: string) => string): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(name(w));
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const f of graph.keys()) if (!index.has(f)) connect(f);
  return cycles;
}

/**
 * The only type-level edges allowed against the direction: `model.compile('onnx')` is declared by
 * the model and returns its fast twin, whose class lives in fastpath/ and registers itself through
 * hooks/compile.ts at load time. The model names that class's type (erased at run time) so the
 * learner's `fast.classify(...)` / `fast.generate(...)` type-check; nothing runs upward. Value
 * imports never get an exception, and the list is exact: any other type edge against the direction fails.
 */
const SANCTIONED_TYPE_EDGES = [
  'src/models/cnn.ts (models) imports src/fastpath/cnn-onnx.ts (fastpath)',
  'src/models/gpt.ts (models) imports src/fastpath/gpt-onnx.ts (fastpath)',
];

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, sourceImports(f)]));
const graphWithTypes = new Map(files.map((f) => [f, sourceImports(f, { types: true })]));
const rel = (f: string) => `src/${path.relative(SRC, f)}`;

describe('src/ layers', () => {
  it('every file belongs to a known layer', () => {
    for (const f of files) expect(RANKS[layerOf(f)], rel(f)).toBeTypeOf('number');
  });

  it('no import, type-only ones included, points against the direction data -> engine -> hooks -> models -> optimize/train -> viz -> index -> server/CLI', () => {
    expect(againstDirection(graph, rel)).toEqual([]);
    expect(againstDirection(graphWithTypes, rel)).toEqual(SANCTIONED_TYPE_EDGES);
  });

  it('the server uses only the public entry (and its own files)', () => {
    const outside = [...graphWithTypes].flatMap(([file, targets]) =>
      layerOf(file) !== 'server' ? [] : targets.filter((t) => !['server', 'index'].includes(layerOf(t))).map((t) => `${rel(file)} imports ${rel(t)}`),
    );
    expect(outside).toEqual([]);
  });

  it('has no cycle of value imports', () => {
    expect(findCycles(graph, rel)).toEqual([]);
  });

  it('the checks catch what they claim to, on a made-up tree', () => {
    const fixture = path.join(__dirname, 'fixtures', 'layers-probe.ts');
    fs.writeFileSync(fixture, "import type { A } from './a';\nimport { type B } from './b';\nimport { c } from './c';\nexport * from './d';\nexport type { E } from './e';\nconst f = require('./f');\nasync function g() { return import('./g'); }\n");
    try {
      expect(importSpecifiers(fixture)).toEqual(['./c', './d', './f', './g']);
      expect(importSpecifiers(fixture, { types: true })).toEqual(['./a', './b', './c', './d', './e', './f', './g']);
    } finally {
      fs.rmSync(fixture);
    }
    const at = (p: string) => path.join(SRC, p);
    const made = new Map([
      [at('hooks/a.ts'), [at('viz/b.ts')]], // upward
      [at('viz/b.ts'), [at('hooks/c.ts')]],
      [at('hooks/c.ts'), [at('hooks/a.ts')]], // closes a -> b -> c -> a
      [at('models/d.ts'), [at('engine/e.ts')]], // fine
      [at('engine/e.ts'), []],
    ]);
    expect(againstDirection(made, rel)).toEqual(['src/hooks/a.ts (hooks) imports src/viz/b.ts (viz)']);
    expect(findCycles(made, rel)).toEqual([['src/hooks/a.ts', 'src/hooks/c.ts', 'src/viz/b.ts']]);
  });
});
