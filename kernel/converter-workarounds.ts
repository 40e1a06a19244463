/**
 * Rewrites of a cell, before tslab's converter sees it, around two bugs in how the converter
 * rewrites references to earlier cells' variables as `exports.x` (it asks the type checker which
 * declaration an identifier names, and wraps it when that declaration is in an earlier cell):
 *
 * 1. A shorthand property `{ x }` naming an earlier cell's `x` threw "x is not defined": for a
 *    shorthand the checker answers with the property's symbol, so `x` was left unwrapped.
 *    Written out as `{ x: x }` (the same meaning), the value is an ordinary reference.
 * 2. A renaming destructuring `const { size: s } = obj`, where obj's type comes from an earlier
 *    cell, threw "Identifier 'exports' has already been declared": the property name resolves to
 *    that earlier declaration, and was rewritten to `exports.size`. Quoted, `{ "size": s }` (the
 *    same meaning) has no identifier to rewrite.
 */
type TypeScript = typeof import('typescript');

export interface RewrittenCell {
  /** The cell as the converter should see it. */
  code: string;
  /** Map an offset in `code` back to the offset in the cell as typed (for error positions). */
  toOriginal(offset: number): number;
}

/** `ts`: the TypeScript that tslab bundles (the one that will compile the cell). */
export function rewriteForConverter(ts: TypeScript, src: string): RewrittenCell {
  const file = ts.createSourceFile('cell.ts', src, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const insertions: { at: number; text: string }[] = []; // text inserted before src[at]
  const visit = (node: import('typescript').Node): void => {
    if (ts.isShorthandPropertyAssignment(node)) insertions.push({ at: node.name.end, text: `: ${node.name.text}` });
    if (ts.isBindingElement(node) && node.propertyName && ts.isIdentifier(node.propertyName)) {
      insertions.push({ at: node.propertyName.getStart(file), text: '"' }, { at: node.propertyName.end, text: '"' });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (insertions.length === 0) return { code: src, toOriginal: (offset) => offset };
  insertions.sort((a, b) => a.at - b.at);
  let code = '';
  let from = 0;
  for (const n of insertions) {
    code += src.slice(from, n.at) + n.text;
    from = n.at;
  }
  code += src.slice(from);
  return {
    code,
    toOriginal(offset: number): number {
      let shift = 0;
      for (const n of insertions) {
        const insertedAt = n.at + shift; // where this insertion starts in `code`
        if (offset < insertedAt) break;
        if (offset < insertedAt + n.text.length) return n.at; // inside inserted text: blame what follows
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
