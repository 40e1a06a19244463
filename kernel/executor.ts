/**
 * Runs notebook cells: TypeScript -> JavaScript with tslab's converter (type checking against
 * all previous cells), then `vm.runInThisContext`. Unlike tslab's own executor this one RETURNS
 * the cell's last value and its errors instead of printing them, so the kernel can send
 * `execute_result` / `error` messages.
 *
 * Cell code sees `__tslab__.exports` (the notebook's variables, rewritable across cells) and
 * `__tslab__.require` (resolves from the notebook's directory; `require('tslab')` and imports of
 * files next to the notebook work as in tslab).
 */
import * as path from 'path';
import * as vm from 'vm';
import Module = require('module');
import { createConverter, isCompleteCode, Converter, Diagnostic, SideOutput } from 'tslab/dist/converter';
import { getCodeMetadata } from 'tslab/dist/metadata';
import { createRequire } from 'tslab/dist/executor';
import { printQuickInfo } from 'tslab/dist/inspect';
import { normalizeJoin } from 'tslab/dist/tspath';

export interface CellError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export type CellOutcome =
  | { status: 'ok'; /** false when the cell has no last expression or it is undefined */ hasValue: boolean; value?: unknown }
  | ({ status: 'error' } & CellError);

/** Error used to reject a running cell when the user interrupts it. */
export class InterruptError extends Error {
  constructor() {
    super('Execution interrupted');
    this.name = 'KeyboardInterrupt';
  }
}

/** The TypeScript version tslab compiles cells with (it bundles its own copy). */
export function typescriptVersion(): string {
  try {
    const tslabDir = path.dirname(require.resolve('tslab/package.json'));
    const pkg = require.resolve('@tslab/typescript-for-tslab/package.json', { paths: [tslabDir] });
    return String(require(pkg).version);
  } catch {
    return 'unknown';
  }
}

function thenable(x: unknown): x is PromiseLike<unknown> {
  return (typeof x === 'object' || typeof x === 'function') && x !== null && typeof (x as PromiseLike<unknown>).then === 'function';
}

const KERNEL_DIR = __dirname;

/** Keep the frames that belong to the user's code (cells, their modules), drop the kernel's. */
function cleanStack(stack: string): string[] {
  let lines = stack.split('\n');
  // Node prefixes some stacks with the throwing source line ("file:line", code, "^", "");
  // useless when that is Node's own code.
  const blank = lines.indexOf('');
  if (blank > 0 && blank <= 4 && /^node:/.test(lines[0])) lines = lines.slice(blank + 1);
  const keep: string[] = [];
  for (const line of lines) {
    const frame = /^\s+at /.test(line);
    if (frame && (line.includes(KERNEL_DIR) || line.includes('node:internal') || line.includes('node:vm') || /\(vm\.js:/.test(line))) continue;
    keep.push(line);
  }
  return keep;
}

export function describeError(e: unknown): CellError {
  if (e instanceof InterruptError) {
    return { ename: 'KeyboardInterrupt', evalue: 'Execution interrupted', traceback: ['KeyboardInterrupt: Execution interrupted'] };
  }
  if (e && typeof e === 'object' && 'message' in e) {
    const err = e as Error;
    const message = String(err.message ?? '');
    if (/Script execution was interrupted/.test(message)) {
      return { ename: 'KeyboardInterrupt', evalue: 'Execution interrupted', traceback: ['KeyboardInterrupt: Execution interrupted'] };
    }
    const ename = String(err.name || (err.constructor && err.constructor.name) || 'Error');
    const traceback = typeof err.stack === 'string' && err.stack ? cleanStack(err.stack) : [`${ename}: ${message}`];
    return { ename, evalue: message, traceback };
  }
  let shown: string;
  try {
    shown = require('util').inspect(e);
  } catch {
    shown = String(e);
  }
  return { ename: 'Uncaught', evalue: shown, traceback: [`Uncaught ${shown}`] };
}

export function describeDiagnostics(diags: Diagnostic[]): CellError {
  const lines = diags.map(
    (d) => `${d.fileName ? d.fileName + ' ' : ''}${d.start.line + 1}:${d.start.character + 1} - ${d.messageText}`,
  );
  return { ename: 'CompileError', evalue: lines.join('\n'), traceback: ['TypeScript compile error:', ...lines] };
}

/** tslab's require wrapper: `require('tslab')` and imports of files compiled beside the cell. */
function wrapRequire(req: NodeJS.Require, dirname: string, sideOutputs: Map<string, string>, sideModules: Map<string, Module>): NodeJS.Require {
  function fromSideOutputs(id: string): unknown {
    let filename = normalizeJoin(dirname, id);
    if (path.extname(filename) === '') filename += '.js';
    const cached = sideModules.get(filename);
    if (cached) return cached.exports;
    if (!sideOutputs.has(filename)) return null;
    const mod = new Module(filename, module);
    mod.filename = filename;
    mod.paths = (Module as any)._nodeModulePaths(path.dirname(filename));
    mod.require = wrapRequire(mod.require as NodeJS.Require, path.dirname(filename), sideOutputs, sideModules);
    (mod as any)._compile(sideOutputs.get(filename), filename);
    sideModules.set(filename, mod);
    return mod.exports;
  }
  return new Proxy(req, {
    apply: (_t, thisArg, args: unknown[]) => {
      if (args.length !== 1) return (req as any).apply(thisArg, args);
      const id = args[0] as string;
      if (id === 'tslab') return require('tslab');
      const side = fromSideOutputs(id);
      if (side) return side;
      return (req as any).apply(thisArg, args);
    },
  });
}

/** The notebook's variables: named imports become plain writable properties (as in tslab). */
function createExports(): Record<string, any> {
  const store: Record<string, any> = {};
  return new Proxy(store, {
    defineProperty: (_t, prop, attrs) => {
      if (prop === '__esModule') return true;
      store[prop as string] = attrs.get ? attrs.get() : attrs.value;
      return true;
    },
  });
}

let tsForTslab: typeof import('typescript') | null = null;
/** The TypeScript that tslab bundles (its scanner is what reads cells). */
function tslabTypeScript(): typeof import('typescript') {
  if (!tsForTslab) {
    const tslabDir = path.dirname(require.resolve('tslab/package.json'));
    tsForTslab = require(require.resolve('@tslab/typescript-for-tslab', { paths: [tslabDir] }));
  }
  return tsForTslab!;
}

/** True when `src` has a `)`, `]` or `}` that closes nothing or the wrong bracket (strings, comments, templates and regexps skipped). */
export function hasUnmatchedCloser(src: string): boolean {
  const ts = tslabTypeScript();
  const K = ts.SyntaxKind;
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, src);
  const stack: number[] = []; // the kind of closer each open bracket wants; -1 for a template `${`
  let prev: number = K.Unknown;
  const endsExpression = (k: number) =>
    k === K.Identifier || k === K.CloseParenToken || k === K.CloseBracketToken || k === K.CloseBraceToken ||
    k === K.NumericLiteral || k === K.StringLiteral || k === K.BigIntLiteral || k === K.ThisKeyword ||
    k === K.NoSubstitutionTemplateLiteral || k === K.TemplateTail || k === K.RegularExpressionLiteral ||
    k === K.PlusPlusToken || k === K.MinusMinusToken || k === K.TrueKeyword || k === K.FalseKeyword || k === K.NullKeyword;
  for (let k: number = scanner.scan(); k !== K.EndOfFileToken; k = scanner.scan()) {
    if ((k === K.SlashToken || k === K.SlashEqualsToken) && !endsExpression(prev)) k = scanner.reScanSlashToken();
    switch (k) {
      case K.OpenParenToken: stack.push(K.CloseParenToken); break;
      case K.OpenBracketToken: stack.push(K.CloseBracketToken); break;
      case K.OpenBraceToken: stack.push(K.CloseBraceToken); break;
      case K.TemplateHead: stack.push(-1); break;
      case K.CloseParenToken:
      case K.CloseBracketToken:
        if (stack.pop() !== k) return true;
        break;
      case K.CloseBraceToken: {
        const want = stack.pop();
        if (want === -1) {
          k = scanner.reScanTemplateToken(false);
          if (k === K.TemplateMiddle) stack.push(-1);
        } else if (want !== K.CloseBraceToken) return true;
        break;
      }
    }
    prev = k;
  }
  return false;
}

export class Executor {
  private readonly converter: Converter;
  private readonly sideOutputs = new Map<string, string>();
  private readonly sideModules = new Map<string, Module>();
  readonly locals = createExports();
  private prevDecl = '';
  private rejectInterrupt: (e: unknown) => void = () => {};
  private interruptPromise!: Promise<never>;
  /** A cell is running; an interrupt that arrives between its awaits is remembered. */
  private running = false;
  private interruptPending = false;

  constructor(rootDir: string = process.cwd()) {
    this.converter = createConverter({ isJS: false, isBrowser: false });
    const req = wrapRequire(createRequire(rootDir), rootDir, this.sideOutputs, this.sideModules);
    // Through vm so the global is set in the context cells run in (as tslab does).
    vm.runInThisContext('(x) => { globalThis.__tslab__ = x; }')({ exports: this.locals, require: req });
    this.resetInterrupt();
  }

  private resetInterrupt(): void {
    this.interruptPromise = new Promise<never>((_, reject) => {
      this.rejectInterrupt = reject;
    });
    this.interruptPromise.catch(() => {}); // never an unhandled rejection
  }

  /** Interrupt an awaiting cell (a synchronous loop is stopped by SIGINT through breakOnSigint). */
  interrupt(): void {
    if (this.running) this.interruptPending = true;
    this.rejectInterrupt(new InterruptError());
    this.resetInterrupt();
  }

  /** Await `p`, but give up when the user interrupts (also if they did since the cell started). */
  race<T>(p: PromiseLike<T>): Promise<T> {
    if (this.interruptPending) {
      Promise.resolve(p).catch(() => {}); // abandoned: its rejection is not the user's business now
      return Promise.reject(new InterruptError());
    }
    return Promise.race([Promise.resolve(p), this.interruptPromise]);
  }

  /** Evaluate a JavaScript expression over the notebook's variables (for user_expressions). */
  evaluate(expr: string): unknown {
    return vm.runInThisContext(`with (__tslab__.exports) { (${expr}\n) }`, { filename: 'user_expression', breakOnSigint: true });
  }

  private updateSideOutputs(outs: SideOutput[]): void {
    for (const out of outs) {
      this.sideModules.delete(out.path);
      this.sideOutputs.set(out.path, out.data);
    }
  }

  async execute(src: string, cellName = 'cell'): Promise<CellOutcome> {
    this.running = true;
    this.interruptPending = false;
    try {
      return await this.executeCell(src, cellName);
    } finally {
      this.running = false;
      this.interruptPending = false;
    }
  }

  private async executeCell(src: string, cellName: string): Promise<CellOutcome> {
    const meta = getCodeMetadata(src);
    if (meta.module) {
      const diags = this.converter.addModule(meta.module, src, meta);
      return diags.length ? { status: 'error', ...describeDiagnostics(diags) } : { status: 'ok', hasValue: false };
    }
    if (meta.mode === 'browser') {
      return { status: 'error', ename: 'UnsupportedError', evalue: 'browser-mode cells are not supported by this kernel', traceback: [] };
    }
    const converted = this.converter.convert(this.prevDecl, src);
    if (converted.sideOutputs) this.updateSideOutputs(converted.sideOutputs);
    if (converted.diagnostics.length > 0) return { status: 'error', ...describeDiagnostics(converted.diagnostics) };
    if (!converted.output) {
      this.prevDecl = converted.declOutput || '';
      return { status: 'ok', hasValue: false };
    }
    const prefix = converted.hasToplevelAwait ? '(async function(exports, require) { ' : '(function(exports, require) { ';
    const wrapped = prefix + converted.output + '\n})(__tslab__.exports, __tslab__.require)';
    try {
      const ret = vm.runInThisContext(wrapped, { breakOnSigint: true, filename: cellName });
      if (converted.hasToplevelAwait) await this.race(ret as Promise<unknown>);
    } catch (e) {
      // Declarations that ran before the throw stay usable (their values are in `exports`).
      this.prevDecl = converted.declOutput || this.prevDecl;
      return { status: 'error', ...describeError(e) };
    }
    this.prevDecl = converted.declOutput || '';
    const key = converted.lastExpressionVar;
    if (!key || !(key in this.locals)) return { status: 'ok', hasValue: false };
    let value: unknown = this.locals[key];
    delete this.locals[key];
    if (thenable(value)) {
      try {
        value = await this.race(value);
      } catch (e) {
        return { status: 'error', ...describeError(e) };
      }
    }
    return value === undefined ? { status: 'ok', hasValue: false } : { status: 'ok', hasValue: true, value };
  }

  complete(src: string, cursor: number): { cursor_start: number; cursor_end: number; matches: string[] } {
    const info = this.converter.complete(this.prevDecl, src, cursor);
    return { cursor_start: info.start, cursor_end: info.end, matches: info.candidates };
  }

  inspect(src: string, cursor: number): string | null {
    const info = this.converter.inspect(this.prevDecl, src, cursor);
    return info ? printQuickInfo(info) : null;
  }

  /**
   * tslab's isCompleteCode knows complete / incomplete only; code that no continuation can fix
   * (a closing bracket without its opener, or the wrong one) is `invalid`, so a console
   * frontend runs it and shows the error instead of waiting for more lines. `unknown` when the
   * code defeats the parser (e.g. nesting deeper than its stack).
   */
  isComplete(src: string): { status: 'complete' | 'invalid' | 'unknown' } | { status: 'incomplete'; indent: string } {
    try {
      if (hasUnmatchedCloser(src)) return { status: 'invalid' };
      const r = isCompleteCode(src);
      return r.completed ? { status: 'complete' } : { status: 'incomplete', indent: r.indent ?? '' };
    } catch {
      return { status: 'unknown' };
    }
  }

  close(): void {
    this.converter.close();
  }
}
