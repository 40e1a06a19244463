/**
 * The Inference Lab kernel: Jupyter requests -> executor -> iopub outputs.
 *
 * What it adds over tslab's own kernel: replies carry `status`; a cell's last value is an
 * `execute_result` (multi-MIME through `toMimeBundle()`); exceptions and compile errors are
 * `error` messages; `display_data` / `update_display_data` with several MIME types through the
 * bridge on globalThis[Symbol.for('inference-lab.kernel')]; history; a correct comm_info_reply.
 */
import * as v8 from 'v8';
import { Executor, describeError, typescriptVersion, CellError } from './executor';
import { hookTslabDisplay } from './tslab';
import { Bundle, bundleMetadata, inspectValue, normalizeBundle, valueToBundle } from './display';
import { Channel, ConnectionInfo, KernelServer } from './server';
import { Message, PROTOCOL_VERSION } from './wire';

export { KERNEL_NAME, DISPLAY_NAME } from './names';
import { KERNEL_NAME } from './names';
import { exitKernel } from './exit';
export const KERNEL_BRIDGE = Symbol.for('inference-lab.kernel');

/** What the library's display() calls (the contract is KernelBridge in src/engine/mime.ts). */
export interface KernelBridge {
  display(bundle: Bundle, options?: { displayId?: string; update?: boolean }): void;
  clearOutput(wait?: boolean): void;
}

interface HistoryEntry {
  line: number;
  input: string;
  output: string | null;
}

type StreamName = 'stdout' | 'stderr';

function kernelVersion(): string {
  try {
    return String(require('../../package.json').version);
  } catch {
    return '0.0.0';
  }
}

/**
 * The name in an IPython-style help request (`Math.max?`, `?Math.max`), else null. Neither form
 * is valid TypeScript, so no real cell is taken for one.
 */
export function helpTarget(code: string): string | null {
  const m = /^\s*(?:\?\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)|([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*\?)\s*$/.exec(code);
  return m ? (m[1] ?? m[2]) : null;
}

/** History search patterns are cut to this length (a pattern is a short glob). */
const MAX_GLOB_LENGTH = 1000;

/**
 * Whether `text` matches the glob `pattern` (`*` any run, `?` one character), in O(pattern x text)
 * steps at worst: on a mismatch only the last `*` is retried, never every earlier one, so a
 * pattern such as `*a*a*a*a*a*a*b` cannot backtrack catastrophically (a RegExp built from it did).
 */
export function globMatch(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (j < t.length) {
    if (i < p.length && (p[i] === '?' || (p[i] !== '*' && p[i] === t[j]))) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      resume = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++resume;
    } else {
      return false;
    }
  }
  while (i < p.length && p[i] === '*') i++;
  return i === p.length;
}

export class Kernel {
  private readonly server: KernelServer;
  private executorInstance: Executor | null = null;
  private readonly rootDir: string;
  private executionCount = 0;
  /** The request outputs belong to: the running (or last) execute_request. */
  private parent: Message | undefined;
  private readonly history: HistoryEntry[] = [];
  /** Shell messages with arrival number <= this are aborted (they were queued behind an error). */
  private abortThrough = 0;
  private readonly realStdout = process.stdout.write.bind(process.stdout);
  private readonly realStderr = process.stderr.write.bind(process.stderr);
  private shuttingDown = false;
  /** True while an execute_request runs (its outputs go to it). */
  private running = false;
  /** Errors raised after their cell had finished (a late promise rejection, a timer that threw). */
  private lateErrors: string[] = [];

  constructor(conn: ConnectionInfo, rootDir: string = process.cwd()) {
    this.server = new KernelServer(conn, (line) => this.log(line));
    // The socket thread performed an interrupt (see socket-worker.ts): reject what the cell awaits.
    this.server.onInterrupt = (generation) => this.executorInstance?.interruptRequested(generation);
    this.rootDir = rootDir;
  }

  /**
   * Built after the sockets are up: tslab's converter takes ~2 s to create (a TypeScript
   * language service over the lib and @types declarations), and kernel_info is answered first.
   */
  private get executor(): Executor {
    if (!this.executorInstance) this.executorInstance = new Executor(this.rootDir, this.server.sharedState);
    return this.executorInstance;
  }

  log(line: string): void {
    this.realStderr(`[inference-lab kernel] ${line}\n`);
  }

  async start(): Promise<void> {
    this.captureStreams();
    this.installBridge();
    this.installProcessHandlers();
    const s = this.server;
    s.on('kernel_info_request', (m, ch) => s.reply(ch, m, 'kernel_info_reply', this.kernelInfo()));
    s.on('execute_request', (m, ch) => this.execute(m, ch));
    s.on('complete_request', (m, ch) => this.complete(m, ch));
    s.on('inspect_request', (m, ch) => this.inspect(m, ch));
    s.on('is_complete_request', (m, ch) => s.reply(ch, m, 'is_complete_reply', this.executor.isComplete(String(m.content.code ?? ''))));
    s.on('history_request', (m, ch) => s.reply(ch, m, 'history_reply', { status: 'ok', history: this.historyFor(m.content) }));
    // No comm targets are registered, so no comm is ever open: comm_info lists none, and a
    // frontend's comm_open is answered with comm_close, as the spec says for an unknown target.
    s.on('comm_info_request', (m, ch) => s.reply(ch, m, 'comm_info_reply', { status: 'ok', comms: {} }));
    s.on('comm_open', (m) => {
      if (typeof m.content.comm_id === 'string') {
        this.log(`comm_open for unknown target ${JSON.stringify(m.content.target_name)}: closing it`);
        s.publish('comm_close', { comm_id: m.content.comm_id, data: {} }, m);
      }
    });
    s.on('comm_msg', () => {});
    s.on('comm_close', () => {});
    // interrupt_request on control is answered by the socket thread, which sends this process
    // SIGINT (see socket-worker.ts); this handler only serves one sent on shell by mistake.
    s.on('interrupt_request', (m, ch) => {
      this.executor.interrupt();
      return s.reply(ch, m, 'interrupt_reply', { status: 'ok' });
    });
    s.on('shutdown_request', (m, ch) => this.shutdown(m, ch));
    await s.start();
    // Answer the kernel_info requests already waiting, then build the converter before the first
    // cell arrives (the socket thread keeps the heartbeat going meanwhile).
    setTimeout(() => void this.executor, 20);
  }

  kernelInfo(): Record<string, unknown> {
    const tsVersion = typescriptVersion();
    return {
      status: 'ok',
      protocol_version: PROTOCOL_VERSION,
      implementation: KERNEL_NAME,
      implementation_version: kernelVersion(),
      language_info: {
        name: 'typescript',
        version: tsVersion,
        mimetype: 'text/typescript',
        file_extension: '.ts',
        // As tslab: `mode` enables TypeScript highlighting in JupyterLab, name+typescript in Notebook 6.
        codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true },
        pygments_lexer: 'typescript',
      },
      banner: `Inference Lab ${kernelVersion()} — TypeScript ${tsVersion} on Node.js ${process.version} (built on tslab)`,
      help_links: [
        { text: 'TypeScript Handbook', url: 'https://www.typescriptlang.org/docs/handbook/' },
        { text: 'TensorFlow.js API', url: 'https://js.tensorflow.org/api/latest/' },
        { text: 'Vega-Lite', url: 'https://vega.github.io/vega-lite/docs/' },
      ],
    };
  }

  // ---- output streams ---------------------------------------------------------------------

  private captureStreams(): void {
    const make = (name: StreamName) =>
      ((chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
        const text =
          typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : String(chunk);
        this.writeStream(name, text);
        const done = typeof encoding === 'function' ? encoding : cb;
        if (typeof done === 'function') process.nextTick(done as () => void);
        return true;
      }) as typeof process.stdout.write;
    process.stdout.write = make('stdout');
    process.stderr.write = make('stderr');
  }

  private writeStream(name: StreamName, text: string): void {
    if (!text) return;
    if (!this.parent) {
      // Nothing to attach it to yet (start-up): keep it in the kernel's own log.
      (name === 'stdout' ? this.realStdout : this.realStderr)(text);
      return;
    }
    // Handed to the socket thread at once; it batches stream text into messages and publishes
    // it even while a synchronous cell keeps this thread busy (see socket-worker.ts).
    this.server.stream(name, text, this.parent);
  }

  // ---- display bridge ---------------------------------------------------------------------

  private installBridge(): void {
    const bridge: KernelBridge = {
      display: (bundle, options = {}) => {
        // Library loops show progress through here: an interrupted cell's loop stops at its next draw.
        this.executorInstance?.checkInterrupt();
        const data = normalizeBundle(bundle, () => '<display>');
        if (options.update && !options.displayId) throw new TypeError('display({update: true}) needs a displayId');
        const transient = options.displayId ? { display_id: options.displayId } : {};
        this.server.publish(options.update ? 'update_display_data' : 'display_data', { data, metadata: bundleMetadata(data), transient }, this.parent);
      },
      clearOutput: (wait = false) => {
        this.executorInstance?.checkInterrupt();
        this.server.publish('clear_output', { wait }, this.parent);
      },
    };
    Object.defineProperty(globalThis, KERNEL_BRIDGE, { value: bridge, configurable: true, writable: true });
    // tslab's own display API (`import * as tslab from 'tslab'; tslab.display.png(...)`) keeps working.
    try {
      hookTslabDisplay((content: unknown, update: boolean) => {
        this.executorInstance?.checkInterrupt();
        this.server.publish(update ? 'update_display_data' : 'display_data', content, this.parent);
      });
    } catch (e) {
      this.log(`tslab display API not hooked: ${(e as Error).message}`);
    }
  }

  private installProcessHandlers(): void {
    // SIGINT (sent by a user or by a client with interrupt_mode "signal"): a cell's synchronous
    // part is stopped by vm's breakOnSigint, which takes the signal while it runs; otherwise this
    // handler runs once the thread is free and rejects what the cell awaits. (A loop after the
    // cell's first await keeps the thread busy, so SIGINT cannot reach it: interrupt_request can,
    // which is why the kernelspec says interrupt_mode "message".)
    process.on('SIGINT', () => this.executorInstance?.interrupt());
    // Neither is fatal. While a cell runs it goes to that cell's stderr; after it finished, it is
    // kept and shown at the top of the next cell's output (a frontend has stopped listening to
    // the old cell by then), and logged.
    const late = (what: string, e: unknown) => {
      const detail = describeError(e).traceback.join('\n');
      if (this.running) {
        process.stderr.write(`${what}: ${detail}\n`);
      } else {
        const text = `${what} (from code that ran earlier): ${detail}\n`;
        this.log(text.trimEnd());
        if (this.lateErrors.length < 20) this.lateErrors.push(text);
      }
    };
    process.on('unhandledRejection', (reason) => late('Unhandled promise rejection', reason));
    process.on('uncaughtException', (err) => late('Uncaught exception', err));
  }

  /**
   * An interrupt stops a cell's code without running its `finally` blocks: let the library (when
   * loaded) close the tf.tidy scopes and free what the stopped code held (src/engine/tfjs-internals.ts).
   */
  private cleanupAfterInterrupt(): void {
    const cleanup = (globalThis as Record<symbol, unknown>)[Symbol.for('inference-lab.cleanup-after-interrupt')];
    if (typeof cleanup !== 'function') return;
    try {
      const freed = (cleanup as () => number)();
      if (freed > 0) this.log(`after the interrupt: freed ${freed} tensors the stopped code held`);
    } catch (e) {
      this.log(`cleanup after the interrupt failed: ${(e as Error).message}`);
    }
  }

  // ---- requests ---------------------------------------------------------------------------

  private async execute(msg: Message, channel: Channel): Promise<void> {
    const c = msg.content;
    if (typeof c.code !== 'string') {
      // A well-signed but malformed request still gets its reply (an error), never silence.
      const evalue = `execute_request content.code must be a string; got ${c.code === null ? 'null' : Array.isArray(c.code) ? 'an array' : typeof c.code}.`;
      const error = { ename: 'TypeError', evalue, traceback: [`TypeError: ${evalue}`] };
      this.server.publish('error', error, msg);
      await this.server.reply(channel, msg, 'execute_reply', { status: 'error', execution_count: this.executionCount, ...error });
      return;
    }
    const code = c.code;
    const silent = Boolean(c.silent);
    const storeHistory = c.store_history === undefined ? !silent : Boolean(c.store_history) && !silent;

    if (this.server.sequence(msg) <= this.abortThrough) {
      await this.server.reply(channel, msg, 'execute_reply', { status: 'aborted', execution_count: this.executionCount });
      return;
    }
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    this.parent = msg;
    this.running = true;
    if (!silent) this.server.publish('execute_input', { code, execution_count: count }, msg);
    if (this.lateErrors.length) {
      const text = this.lateErrors.join('');
      this.lateErrors = [];
      this.writeStream('stderr', text);
    }
    try {
      await this.runCell(msg, channel, code, count, silent, storeHistory);
    } finally {
      this.running = false;
    }
  }

  private async runCell(msg: Message, channel: Channel, code: string, count: number, silent: boolean, storeHistory: boolean): Promise<void> {
    const c = msg.content;
    const entry: HistoryEntry = { line: count, input: code, output: null };
    if (storeHistory) this.history.push(entry);

    const helpFor = helpTarget(code);
    if (helpFor !== null) {
      await this.server.reply(channel, msg, 'execute_reply', {
        status: 'ok',
        execution_count: count,
        user_expressions: {},
        payload: this.helpPayload(helpFor, msg),
      });
      return;
    }

    let error: CellError | null = null;
    this.server.takeMemoryGuardTrip(); // a stale trip is not this cell's
    try {
      const outcome = await this.executor.execute(code, `cell-${count}`);
      if (outcome.status === 'error' && outcome.ename === 'KeyboardInterrupt') this.cleanupAfterInterrupt();
      const guardMB = this.server.takeMemoryGuardTrip();
      if (outcome.status === 'error' && outcome.ename === 'KeyboardInterrupt' && guardMB !== null) {
        // What the guard sees is the process's growth while the cell ran (mostly JS heap here).
        const evalue =
          `the kernel's memory grew by about ${guardMB} MB while this cell ran, close to the JavaScript heap limit of ` +
          `${Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20)} MB; the cell was stopped before V8 would abort the kernel. ` +
          'Variables defined so far are kept: free big ones (x = null) before going on.';
        error = { ename: 'MemoryError', evalue, traceback: [`MemoryError: ${evalue}`] };
      } else if (outcome.status === 'error') {
        error = outcome;
      } else if (outcome.hasValue && !silent) {
        const data = await valueToBundle(outcome.value, (p) => this.executor.race(p), (f) => this.executor.callGuarded(f));
        this.server.publish('execute_result', { execution_count: count, data, metadata: bundleMetadata(data) }, msg);
        entry.output = String(data['text/plain'] ?? '');
      }
    } catch (e) {
      error = describeError(e);
    }

    if (error) {
      this.server.publish('error', { ename: error.ename, evalue: error.evalue, traceback: error.traceback }, msg);
      if (c.stop_on_error !== false) {
        // Abort the requests that reached the kernel before this reply (Run All's later cells):
        // after a round trip through the socket thread, every message it had read has arrived
        // here (ipykernel likewise flushes its shell socket before aborting).
        await this.server.drain();
        this.abortThrough = this.server.receivedCount;
      }
      await this.server.reply(channel, msg, 'execute_reply', {
        status: 'error',
        execution_count: count,
        ename: error.ename,
        evalue: error.evalue,
        traceback: error.traceback,
      });
      return;
    }
    const userExpressions = this.userExpressions(c.user_expressions);
    await this.server.reply(channel, msg, 'execute_reply', { status: 'ok', execution_count: count, user_expressions: userExpressions, payload: [] });
  }

  /**
   * `name?` / `?name`: what inspect_request says about `name`, as a pager payload (JupyterLab
   * shows it below the cell, a console in its pager), or "not found" on stdout, as IPython does.
   */
  private helpPayload(name: string, msg: Message): unknown[] {
    let text: string | null = null;
    try {
      text = this.executor.inspect(name, name.length);
    } catch (e) {
      this.log(`inspect for help on ${name} failed: ${(e as Error).message}`);
    }
    if (text === null) {
      this.server.stream('stdout', `${name}: not found (nothing by that name is in scope)\n`, msg);
      return [];
    }
    return [{ source: 'page', data: { 'text/plain': text }, start: 0 }];
  }

  /** Evaluate `user_expressions` (name -> JavaScript expression over the notebook's variables). */
  private userExpressions(req: unknown): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (!req || typeof req !== 'object') return out;
    for (const [name, expr] of Object.entries(req as Record<string, unknown>)) {
      try {
        const value = this.executor.evaluate(String(expr));
        out[name] = { status: 'ok', data: { 'text/plain': inspectValue(value) }, metadata: {} };
      } catch (e) {
        out[name] = { status: 'error', ...describeError(e) };
      }
    }
    return out;
  }

  private complete(msg: Message, channel: Channel): Promise<void> {
    const code = String(msg.content.code ?? '');
    const cursor = Number(msg.content.cursor_pos ?? code.length);
    try {
      const r = this.executor.complete(code, cursor);
      return this.server.reply(channel, msg, 'complete_reply', { status: 'ok', ...r, metadata: {} });
    } catch (e) {
      return this.server.reply(channel, msg, 'complete_reply', { status: 'error', ...describeError(e) });
    }
  }

  private inspect(msg: Message, channel: Channel): Promise<void> {
    const code = String(msg.content.code ?? '');
    const cursor = Number(msg.content.cursor_pos ?? code.length);
    try {
      const text = this.executor.inspect(code, cursor);
      return this.server.reply(channel, msg, 'inspect_reply', {
        status: 'ok',
        found: text !== null,
        data: text !== null ? { 'text/plain': text } : {},
        metadata: {},
      });
    } catch (e) {
      return this.server.reply(channel, msg, 'inspect_reply', { status: 'error', ...describeError(e) });
    }
  }

  /** history_request over this session's cells (no persistent store yet). Session number 0 = current. */
  private historyFor(req: Record<string, any>): unknown[] {
    const withOutput = Boolean(req.output);
    const row = (h: HistoryEntry) => [0, h.line, withOutput ? [h.input, h.output] : h.input];
    let items = this.history;
    switch (req.hist_access_type) {
      case 'range': {
        const start = Number(req.start ?? 0);
        const stop = req.stop == null ? Infinity : Number(req.stop);
        items = items.filter((h) => h.line >= start && h.line < stop);
        break;
      }
      case 'search': {
        const pattern = String(req.pattern ?? '*').slice(0, MAX_GLOB_LENGTH);
        items = items.filter((h) => globMatch(pattern, h.input));
        if (req.unique) {
          const seen = new Set<string>();
          items = items.filter((h) => (seen.has(h.input) ? false : (seen.add(h.input), true)));
        }
        if (req.n != null) items = items.slice(-Number(req.n));
        break;
      }
      default: {
        // 'tail'
        const n = req.n == null ? 10 : Number(req.n);
        items = n > 0 ? items.slice(-n) : [];
      }
    }
    return items.map(row);
  }

  private async shutdown(msg: Message, channel: Channel): Promise<void> {
    const restart = Boolean(msg.content.restart);
    await this.server.reply(channel, msg, 'shutdown_reply', { status: 'ok', restart });
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    // Exit after the server has published `idle` for this request.
    setTimeout(() => {
      void (async () => {
        try {
            this.executorInstance?.close();
          await this.server.close();
        } finally {
          exitKernel(0);
        }
      })();
    }, 50);
  }
}
