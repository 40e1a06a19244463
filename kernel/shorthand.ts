/**
 * Work around a tslab converter bug: a shorthand property `{ x }` whose `x` was declared in an
 * earlier cell throws "x is not defined". The converter rewrites references to earlier cells'
 * variables as `exports.x`, but for a shorthand property the type checker answers with the
 * property's symbol, not the variable's, so `{ x }` is left as it is and `x` does not exist in the
 * cell's scope. Writing every shorthand property out as `x: x` (the same meaning in JavaScript)
 * before conversion lets the rewrite see the variable.
 */
type TypeScript = typeof import('typescript');

export interface ExpandedSource {
  /** The cell with every `{ x }` written as `{ x: x }`. */
  code: string;
  /** Map an offset in `code` back to the offset in the cell as typed (for error positions). */
  toOriginal(offset: number): number;
}

/** `ts`: the TypeScript that tslab bundles (the one that will compile the cell). */
export function expandShorthandProperties(ts: TypeScript, src: string): ExpandedSource {
  const file = ts.createSourceFile('cell.ts', src, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const names: { end: number; text: string }[] = []; // insert `: name` right after each shorthand name
  const visit = (node: import('typescript').Node): void => {
    if (ts.isShorthandPropertyAssignment(node)) names.push({ end: node.name.end, text: `: ${node.name.text}` });
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (names.length === 0) return { code: src, toOriginal: (offset) => offset };
  let code = '';
  let from = 0;
  for (const n of names) {
    code += src.slice(from, n.end) + n.text;
    from = n.end;
  }
  code += src.slice(from);
  return {
    code,
    toOriginal(offset: number): number {
      let shift = 0;
      for (const n of names) {
        const insertedAt = n.end + shift; // where this insertion starts in `code`
        if (offset < insertedAt) break;
        if (offset < insertedAt + n.text.length) return n.end; // inside inserted text: blame the name
        shift += n.text.length;
      }
      return offset - shift;
    },
  };
}

/** Zero-based line and character of `offset` in `src`. */
export function lineAndCharacter(src: string, offset: number): { line: number; character: number } {
  const before = src.slice(0, offset).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}
