/**
 * The kernel's message server as the main thread sees it: requests come in already decoded and
 * verified, one request at a time on shell (in arrival order), control served beside it; replies
 * and iopub messages go out in order.
 *
 * The sockets themselves live in a worker thread (kernel/socket-worker.ts), so heartbeats,
 * `interrupt_request` on control and output published during a synchronous cell keep working
 * while this thread runs user code. See that file for why.
 */
import * as fs from 'fs';
import * as path from 'path';
import { randomUUID } from 'crypto';
import * as v8 from 'v8';
import { Worker } from 'worker_threads';
import type { Message } from './wire';
import { exitKernel } from './exit';
import type { FromWorker, SocketChannel, ToWorker, WorkerInit } from './socket-worker';
import { GUARD_MB, GUARD_TRIPPED, newSharedState } from './shared-state';

export interface ConnectionInfo {
  transport: string;
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme?: string;
  kernel_name?: string;
}

export type Channel = 'shell' | 'control';

/** Handles one request. The server has already published `busy` and publishes `idle` after. */
export type RequestHandler = (msg: Message, channel: Channel) => Promise<void> | void;

export function readConnectionFile(file: string): ConnectionInfo {
  const info = JSON.parse(fs.readFileSync(file, 'utf8')) as ConnectionInfo;
  for (const k of ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const) {
    if (typeof info[k] !== 'number') throw new Error(`connection file ${file} lacks ${k}`);
  }
  return info;
}

const asBuffer = (u: Uint8Array) => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

export class KernelServer {
  /** The kernel's own session id, used in the headers it writes. */
  readonly session = randomUUID();
  private worker: Worker | null = null;
  private readonly handlers = new Map<string, RequestHandler>();
  private shellQueue: Promise<void> = Promise.resolve();
  private closed = false;
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();
  /** Messages received so far on shell; lets the kernel abort requests queued before an error. */
  private received = 0;
  private readonly seqOf = new WeakMap<Message, number>();
  /** Shared with the socket thread (slots in kernel/shared-state.ts); the executor reads it too. */
  readonly sharedState = newSharedState();
  /** Called (on this thread, when it is free) after the socket thread performed an interrupt. */
  onInterrupt: (generation: number) => void = () => {};

  constructor(
    private readonly conn: ConnectionInfo,
    private readonly log: (line: string) => void,
  ) {}

  on(msgType: string, handler: RequestHandler): this {
    this.handlers.set(msgType, handler);
    return this;
  }

  /** Arrival number of a shell message (1-based). */
  sequence(msg: Message): number {
    return this.seqOf.get(msg) ?? 0;
  }
  /** How many shell messages have arrived so far. */
  get receivedCount(): number {
    return this.received;
  }

  /**
   * If the memory guard interrupted the running cell since the last call: the estimated JS heap
   * size in MB at that moment (and the guard is reset); else null.
   */
  takeMemoryGuardTrip(): number | null {
    if (Atomics.exchange(this.sharedState, GUARD_TRIPPED, 0) !== 1) return null;
    return Atomics.load(this.sharedState, GUARD_MB);
  }

  start(): Promise<void> {
    // Interrupt a cell whose heap growth reaches this share of V8's heap limit (V8 aborts the
    // whole process when the heap is full). INFERENCE_LAB_MEMORY_GUARD=0 turns it off.
    const ratio = Number(process.env.INFERENCE_LAB_MEMORY_GUARD ?? '0.8');
    const limitBytes = Number.isFinite(ratio) && ratio > 0 ? Math.round(ratio * v8.getHeapStatistics().heap_size_limit) : 0;
    const init: WorkerInit = { conn: this.conn, session: this.session, state: this.sharedState.buffer as SharedArrayBuffer, memoryGuardBytes: limitBytes };
    const worker = new Worker(path.join(__dirname, 'socket-worker.js'), { workerData: init, stdout: false, stderr: false });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      worker.on('error', (e) => {
        this.log(`socket thread failed: ${e?.stack ?? e}`);
        reject(e);
        if (!this.closed) exitKernel(1); // no sockets, no kernel
      });
      worker.on('exit', (code) => {
        if (!this.closed) {
          this.log(`socket thread exited (${code})`);
          exitKernel(1);
        }
      });
      worker.on('message', (m: FromWorker) => {
        switch (m.op) {
          case 'ready': {
            resolve();
            const report = () => {
              const mu = process.memoryUsage();
              this.post({ op: 'mem', rss: mu.rss, heapUsed: mu.heapUsed });
            };
            report();
            setInterval(report, 250).unref();
            break;
          }
          case 'failed':
            reject(new Error(`could not open the kernel's sockets: ${m.error}`));
            break;
          case 'done':
            this.waiting.get(m.id)?.();
            this.waiting.delete(m.id);
            break;
          case 'interrupted':
            this.onInterrupt(m.generation);
            break;
          case 'msg':
            this.receive(m.channel, this.revive(m.msg));
            break;
        }
      });
    });
  }

  /** Buffers arrive as plain Uint8Arrays after postMessage. */
  private revive(msg: Message): Message {
    return { ...msg, identities: msg.identities.map(asBuffer), buffers: msg.buffers.map(asBuffer) };
  }

  private receive(channel: Channel, msg: Message): void {
    if (channel === 'shell') {
      this.seqOf.set(msg, ++this.received);
      // One request at a time, in order; an execute holds the queue until it is done.
      this.shellQueue = this.shellQueue.then(() => this.dispatch(msg, channel));
    } else {
      void this.dispatch(msg, channel);
    }
  }

  private async dispatch(msg: Message, channel: Channel): Promise<void> {
    const type = msg.header.msg_type;
    const handler = this.handlers.get(type);
    this.publish('status', { execution_state: 'busy' }, msg);
    try {
      if (handler) await handler(msg, channel);
      else this.log(`ignored unknown message type ${JSON.stringify(type).slice(0, 80)} on ${channel}`);
    } catch (e) {
      this.log(`handler for ${type} failed: ${(e as Error)?.stack ?? e}`);
    } finally {
      this.publish('status', { execution_state: 'idle' }, msg);
    }
  }

  private post(m: ToWorker): void {
    if (this.closed || !this.worker) return;
    try {
      this.worker.postMessage(m);
    } catch (e) {
      // A value structured clone refuses (a function inside a MIME bundle, say): send what JSON
      // makes of it, which is what goes on the wire anyway.
      try {
        if (m.op !== 'send') throw e;
        this.worker.postMessage({ ...m, content: JSON.parse(JSON.stringify(m.content ?? {})), metadata: JSON.parse(JSON.stringify(m.metadata ?? {})) });
      } catch (e2) {
        this.log(`could not send ${m.op === 'send' ? m.msgType : m.op}: ${(e2 as Error)?.message ?? e2}`);
      }
    }
  }

  private send(channel: SocketChannel, msgType: string, content: unknown, parent: Message | undefined, metadata: Record<string, unknown> = {}): void {
    this.post({
      op: 'send',
      channel,
      msgType,
      content,
      parentHeader: parent ? parent.header : {},
      identities: channel === 'iopub' || !parent ? undefined : parent.identities,
      metadata,
    });
  }

  /** Stream text (stdout / stderr) belonging to `parent`; the socket thread batches it into messages. */
  stream(name: 'stdout' | 'stderr', text: string, parent: Message): void {
    this.post({ op: 'stream', name, text, parentHeader: parent.header });
  }

  /** Reply on the channel the request came from. */
  reply(channel: Channel, parent: Message, msgType: string, content: unknown): Promise<void> {
    this.send(channel, msgType, content, parent);
    return Promise.resolve();
  }

  /** Publish on iopub; `parent` is the request this output belongs to. */
  publish(msgType: string, content: unknown, parent: Message | undefined, metadata: Record<string, unknown> = {}): Promise<void> {
    this.send('iopub', msgType, content, parent, metadata);
    return Promise.resolve();
  }

  private roundTrip(op: 'drain' | 'close'): Promise<void> {
    if (this.closed || !this.worker) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000); // never hang a shutdown on a stuck socket
      this.waiting.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.post({ op, id });
    });
  }

  /** Wait until everything queued has been handed to ZeroMQ. */
  drain(): Promise<void> {
    return this.roundTrip('drain');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.roundTrip('close');
    this.closed = true;
    await this.worker?.terminate();
  }
}
