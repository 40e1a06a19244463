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
import { AsyncLocalStorage } from 'async_hooks';
import Module = require('module');
import { rewriteForConverter, lineAndCharacter, RewrittenCell } from './converter-workarounds';
import { createConverter, isCompleteCode, getCodeMetadata, createRequire, printQuickInfo, normalizeJoin, tslabTypeScript, typescriptVersion } from './tslab';
import type { Converter, Diagnostic, SideOutput } from './tslab';
import { INTERRUPTS, IN_VM, newSharedState } from './shared-state';

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

export { typescriptVersion };

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

/** A diagnostic's position moved from the rewritten cell back to the cell as typed. */
function inTypedCell(d: Diagnostic, src: string, expanded: RewrittenCell): Diagnostic {
  if (d.fileName || expanded.code === src) return d; // another module's file, or nothing was rewritten
  const at = (p: Diagnostic['start']) => {
    const offset = expanded.toOriginal(p.offset);
    return { offset, ...lineAndCharacter(src, offset) };
  };
  return { ...d, start: at(d.start), end: at(d.end) };
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

/** The call put at the top of every loop body of cell code (see Executor.checkInterrupt). */
const LOOP_CHECK = '__tslab__.checkInterrupt();';

/**
 * `js` with an interrupt check as the first statement of every loop body (for, for-in, for-of,
 * for-await, while, do), inserted without adding lines so stack traces keep their line numbers.
 * A loop that runs after the cell's first `await` is outside vm's reach (breakOnSigint only
 * covers the synchronous part), and this is what stops it.
 */
export function instrumentLoops(js: string): string {
  const ts = tslabTypeScript();
  const file = ts.createSourceFile('cell.js', js, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const edits: { pos: number; text: string; close: boolean }[] = [];
  const visit = (node: import('typescript').Node): void => {
    if (ts.isIterationStatement(node, false)) {
      const body = node.statement;
      if (ts.isBlock(body)) {
        edits.push({ pos: body.getStart(file) + 1, text: LOOP_CHECK, close: false });
      } else {
        edits.push({ pos: body.getStart(file), text: `{${LOOP_CHECK} `, close: false });
        edits.push({ pos: body.end, text: ' }', close: true });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (edits.length === 0) return js;
  // At one position, closing an earlier body comes before opening a later one.
  edits.sort((a, b) => a.pos - b.pos || Number(b.close) - Number(a.close));
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += js.slice(at, e.pos) + e.text;
    at = e.pos;
  }
  return out + js.slice(at);
}

/** One execution of a cell, as the code it started sees it (through AsyncLocalStorage). */
interface CellRun {
  /** The interrupt generation when it started: a higher one means "interrupted since". */
  startGeneration: number;
  interrupted: boolean;
  /** Its promise (a cell with top-level await) has not settled. */
  pending: boolean;
  /** Counted in Executor.zombies: interrupted while pending. */
  zombie: boolean;
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
  private readonly runs = new AsyncLocalStorage<CellRun>();
  private current: CellRun = { startGeneration: 0, interrupted: false, pending: false, zombie: false };
  /** Interrupted cells whose promise has not settled: code they started is still going. */
  private zombies = 0;

  /**
   * `shared` is the state the socket thread writes (kernel/shared-state.ts); by default a
   * private one (then only SIGINT and interrupt() interrupt).
   */
  constructor(rootDir: string = process.cwd(), private readonly shared: Int32Array = newSharedState()) {
    this.converter = createConverter({ isJS: false, isBrowser: false });
    const req = wrapRequire(createRequire(rootDir), rootDir, this.sideOutputs, this.sideModules);
    // Through vm so the global is set in the context cells run in (as tslab does).
    vm.runInThisContext('(x) => { globalThis.__tslab__ = x; }')({
      exports: this.locals,
      require: req,
      checkInterrupt: () => this.checkInterrupt(),
      enterVm: () => Atomics.store(this.shared, IN_VM, 1),
      leaveVm: () => this.leaveVm(),
    });
    this.resetInterrupt();
  }

  /**
   * Throws KeyboardInterrupt when the code calling it belongs to a cell that has been interrupted.
   * Called at the top of every loop body of cell code, and by the kernel's display bridge (so
   * library loops that show progress stop too). It must be cheap: one plain load of the shared
   * interrupt generation (a plain load, not Atomics.load: that is ~4x slower in a tight loop, and
   * V8 does not hoist the load out of a loop that calls this), plus an AsyncLocalStorage lookup
   * only after an interrupt.
   */
  checkInterrupt(): void {
    const run = this.current;
    if (this.running && this.shared[INTERRUPTS] !== run.startGeneration) {
      // Interrupted since the running cell started: stop the code that belongs to it (or that
      // cannot be told apart), not a timer left by an earlier cell.
      const owner = this.runs.getStore();
      if (owner === undefined || owner === run) {
        this.markInterrupted(run);
        throw new InterruptError();
      }
    }
    if (this.zombies > 0 && this.runs.getStore()?.interrupted) throw new InterruptError();
  }

  private markInterrupted(run: CellRun): void {
    run.interrupted = true;
    if (run.pending && !run.zombie) {
      run.zombie = true;
      this.zombies++;
    }
  }

  /**
   * The socket thread performed interrupt number `generation` (an interrupt_request, the memory
   * guard, a stuck shutdown). Arrives when this thread is free, so possibly after the cell it was
   * meant for: it applies only to a cell that was running when it was made.
   */
  interruptRequested(generation: number): void {
    if (this.running && this.current.startGeneration < generation) this.interrupt();
  }

  private resetInterrupt(): void {
    this.interruptPromise = new Promise<never>((_, reject) => {
      this.rejectInterrupt = reject;
    });
    this.interruptPromise.catch(() => {}); // never an unhandled rejection
  }

  /** Interrupt the running cell: what it awaits is rejected, its loops stop at their next turn. */
  interrupt(): void {
    if (this.running) {
      this.interruptPending = true;
      this.markInterrupted(this.current);
    }
    this.rejectInterrupt(new InterruptError());
    this.resetInterrupt();
  }

  /**
   * Run `body` (an expression) in this context with breakOnSigint. While its JavaScript runs,
   * shared[IN_VM] tells the socket thread that a SIGINT would be taken by vm (see leaveVm).
   */
  private runInVm(body: string, filename: string): unknown {
    // On the first line, so the cell's line numbers stay as they are.
    const code = `(function () { __tslab__.enterVm(); try { return ${body}; } finally { __tslab__.leaveVm(); } })()`;
    try {
      return vm.runInThisContext(code, { breakOnSigint: true, filename });
    } finally {
      Atomics.store(this.shared, IN_VM, 0); // when vm stopped it, leaveVm did not run
    }
  }

  /**
   * Leaving vm. If the socket thread has just sent a SIGINT (it found IN_VM = 1 first), wait here,
   * still inside vm, until vm takes it: a SIGINT that arrived after vm let go would end up with
   * Node's SIGINT handling reset for the NEXT vm run, which it would then interrupt.
   */
  private leaveVm(): void {
    if (Atomics.compareExchange(this.shared, IN_VM, 1, 0) === 1) return;
    for (;;) {
      // vm's breakOnSigint ends this (a SIGINT is on its way)
    }
  }

  /** Await `p`, but give up when the user interrupts (also if they did since the cell started). */
  race<T>(p: PromiseLike<T>): Promise<T> {
    if (this.interruptPending) {
      Promise.resolve(p).catch(() => {}); // abandoned: its rejection is not the user's business now
      return Promise.reject(new InterruptError());
    }
    return Promise.race([Promise.resolve(p), this.interruptPromise]);
  }

  /**
   * Call `f` (user code outside a cell: a value's toMimeBundle()) under the same interrupt guard
   * as a cell: inside vm with breakOnSigint, so an interrupt stops a loop in it.
   */
  callGuarded<T>(f: () => T): T {
    const slot = (globalThis as any).__tslab__;
    slot.guardedCall = f;
    try {
      return this.runInVm('__tslab__.guardedCall()', 'toMimeBundle') as T;
    } finally {
      slot.guardedCall = undefined;
    }
  }

  /** Evaluate a JavaScript expression over the notebook's variables (for user_expressions). */
  evaluate(expr: string): unknown {
    return this.runInVm(`(function () { with (__tslab__.exports) { return (${expr}\n); } })()`, 'user_expression');
  }

  private updateSideOutputs(outs: SideOutput[]): void {
    for (const out of outs) {
      this.sideModules.delete(out.path);
      this.sideOutputs.set(out.path, out.data);
    }
  }

  async execute(src: string, cellName = 'cell'): Promise<CellOutcome> {
    this.current = { startGeneration: this.shared[INTERRUPTS], interrupted: false, pending: false, zombie: false };
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
    const expanded = rewriteForConverter(tslabTypeScript(), src);
    const converted = this.converter.convert(this.prevDecl, expanded.code);
    if (converted.sideOutputs) this.updateSideOutputs(converted.sideOutputs);
    if (converted.diagnostics.length > 0) {
      return { status: 'error', ...describeDiagnostics(converted.diagnostics.map((d) => inTypedCell(d, src, expanded))) };
    }
    if (!converted.output) {
      this.prevDecl = converted.declOutput || '';
      return { status: 'ok', hasValue: false };
    }
    const prefix = converted.hasToplevelAwait ? '(async function(exports, require) { ' : '(function(exports, require) { ';
    const wrapped = '(' + prefix + instrumentLoops(converted.output) + '\n})(__tslab__.exports, __tslab__.require))';
    const run = this.current;
    try {
      const ret = this.runs.run(run, () => this.runInVm(wrapped, cellName));
      if (converted.hasToplevelAwait) {
        const promise = Promise.resolve(ret);
        run.pending = true;
        const settled = () => {
          run.pending = false;
          if (run.zombie) {
            run.zombie = false;
            this.zombies--;
          }
        };
        promise.then(settled, settled);
        await this.race(promise);
      }
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
    // A name TypeScript cannot resolve comes back as kind "" with the text "any": not found.
    return info && info.kind ? printQuickInfo(info) : null;
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
