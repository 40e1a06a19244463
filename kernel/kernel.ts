/**
 * The Inference Lab kernel: Jupyter requests -> executor -> iopub outputs.
 *
 * What it adds over tslab's own kernel: replies carry `status`; a cell's last value is an
 * `execute_result` (multi-MIME through `toMimeBundle()`); exceptions and compile errors are
 * `error` messages; `display_data` / `update_display_data` with several MIME types through the
 * bridge on globalThis[Symbol.for('inference-lab.kernel')]; history; a correct comm_info_reply.
 */
import { Executor, describeError, typescriptVersion, CellError } from './executor';
import { Bundle, normalizeBundle, valueToBundle } from './display';
import { Channel, ConnectionInfo, KernelServer } from './server';
import { Message, PROTOCOL_VERSION } from './wire';

export { KERNEL_NAME, DISPLAY_NAME } from './names';
import { KERNEL_NAME } from './names';
export const KERNEL_BRIDGE = Symbol.for('inference-lab.kernel');

/** What the library's display() calls (the contract is KernelBridge in src/viz/mime.ts). */
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

export class Kernel {
  private readonly server: KernelServer;
  private readonly executor: Executor;
  private executionCount = 0;
  /** The request outputs belong to: the running (or last) execute_request. */
  private parent: Message | undefined;
  private readonly history: HistoryEntry[] = [];
  /** Shell messages with arrival number <= this are aborted (they were queued behind an error). */
  private abortThrough = 0;
  private pending: { name: StreamName; text: string }[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private readonly realStdout = process.stdout.write.bind(process.stdout);
  private readonly realStderr = process.stderr.write.bind(process.stderr);
  private shuttingDown = false;

  constructor(conn: ConnectionInfo, rootDir: string = process.cwd()) {
    this.server = new KernelServer(conn, (line) => this.log(line));
    this.executor = new Executor(rootDir);
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
    s.on('comm_info_request', (m, ch) => s.reply(ch, m, 'comm_info_reply', { status: 'ok', comms: {} }));
    s.on('comm_open', (m) => {
      // No comm targets: tell the frontend the comm is closed.
      if (typeof m.content.comm_id === 'string') s.publish('comm_close', { comm_id: m.content.comm_id, data: {} }, m);
    });
    s.on('comm_msg', () => {});
    s.on('comm_close', () => {});
    s.on('interrupt_request', (m, ch) => {
      this.executor.interrupt();
      return s.reply(ch, m, 'interrupt_reply', { status: 'ok' });
    });
    s.on('shutdown_request', (m, ch) => this.shutdown(m, ch));
    await s.start();
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
    const last = this.pending[this.pending.length - 1];
    if (last && last.name === name) last.text += text;
    else this.pending.push({ name, text });
    this.pendingBytes += text.length;
    if (this.pendingBytes > 64 * 1024) this.flushStreams();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushStreams());
    }
  }

  private flushStreams(): void {
    this.flushScheduled = false;
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const c of chunks) this.server.publish('stream', { name: c.name, text: c.text }, this.parent);
  }

  // ---- display bridge ---------------------------------------------------------------------

  private installBridge(): void {
    const bridge: KernelBridge = {
      display: (bundle, options = {}) => {
        const data = normalizeBundle(bundle, () => '<display>');
        if (options.update && !options.displayId) throw new TypeError('display({update: true}) needs a displayId');
        this.flushStreams();
        const transient = options.displayId ? { display_id: options.displayId } : {};
        this.server.publish(options.update ? 'update_display_data' : 'display_data', { data, metadata: {}, transient }, this.parent);
      },
      clearOutput: (wait = false) => {
        this.flushStreams();
        this.server.publish('clear_output', { wait }, this.parent);
      },
    };
    Object.defineProperty(globalThis, KERNEL_BRIDGE, { value: bridge, configurable: true, writable: true });
    // tslab's own display API (`import * as tslab from 'tslab'; tslab.display.png(...)`) keeps working.
    try {
      const tslabJupyter = require('tslab/dist/jupyter');
      tslabJupyter.lastWriteDisplayData = (content: unknown, update: boolean) => {
        this.flushStreams();
        this.server.publish(update ? 'update_display_data' : 'display_data', content, this.parent);
      };
    } catch (e) {
      this.log(`tslab display API not hooked: ${(e as Error).message}`);
    }
  }

  private installProcessHandlers(): void {
    process.on('SIGINT', () => this.executor.interrupt());
    process.on('unhandledRejection', (reason) => {
      process.stderr.write(`Unhandled promise rejection: ${describeError(reason).traceback.join('\n')}\n`);
    });
    process.on('uncaughtException', (err) => {
      process.stderr.write(`Uncaught exception: ${describeError(err).traceback.join('\n')}\n`);
    });
  }

  // ---- requests ---------------------------------------------------------------------------

  private async execute(msg: Message, channel: Channel): Promise<void> {
    const c = msg.content;
    const code = String(c.code ?? '');
    const silent = Boolean(c.silent);
    const storeHistory = c.store_history === undefined ? !silent : Boolean(c.store_history) && !silent;

    if (this.server.sequence(msg) <= this.abortThrough) {
      await this.server.reply(channel, msg, 'execute_reply', { status: 'aborted', execution_count: this.executionCount });
      return;
    }
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    this.flushStreams(); // leftovers of the previous cell stay with the previous cell
    this.parent = msg;
    if (!silent) this.server.publish('execute_input', { code, execution_count: count }, msg);
    const entry: HistoryEntry = { line: count, input: code, output: null };
    if (storeHistory) this.history.push(entry);

    let error: CellError | null = null;
    try {
      const outcome = await this.executor.execute(code, `cell-${count}`);
      if (outcome.status === 'error') {
        error = outcome;
      } else if (outcome.hasValue && !silent) {
        const data = await valueToBundle(outcome.value, (p) => this.executor.race(p));
        this.flushStreams();
        this.server.publish('execute_result', { execution_count: count, data, metadata: {} }, msg);
        entry.output = String(data['text/plain'] ?? '');
      }
    } catch (e) {
      error = describeError(e);
    }
    this.flushStreams();

    if (error) {
      this.server.publish('error', { ename: error.ename, evalue: error.evalue, traceback: error.traceback }, msg);
      if (c.stop_on_error !== false) {
        // Let requests that were sent before this reply reach the queue, then abort them.
        await new Promise((r) => setTimeout(r, 20));
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
    await this.server.reply(channel, msg, 'execute_reply', { status: 'ok', execution_count: count, user_expressions: {}, payload: [] });
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
        const pattern = String(req.pattern ?? '*');
        const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]') + '$');
        items = items.filter((h) => re.test(h.input));
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
          this.flushStreams();
          this.executor.close();
          await this.server.close();
        } finally {
          process.exit(0);
        }
      })();
    }, 50);
  }
}
