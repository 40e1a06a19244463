/**
 * The kernel's ZeroMQ side, run in a worker thread so that it keeps working while the main
 * thread is busy with a cell (a synchronous `while (true) {}` included):
 *
 * - the heartbeat keeps answering, so a long synchronous cell does not look like a dead kernel;
 * - `interrupt_request` on the control channel is answered HERE: the worker sends SIGINT to its
 *   own process, which stops a synchronous cell through vm's `breakOnSigint` and an awaiting
 *   cell through the main thread's SIGINT handler — the same path as `interrupt_mode: signal`;
 * - output the main thread posts while a cell runs is published at once (postMessage is
 *   delivered to this thread's own event loop, not the blocked one).
 *
 * Everything else is decoded and verified here and handed to the main thread; what the main
 * thread wants sent comes back as { channel, msgType, content, parent } and is signed here.
 * Malformed or wrongly signed messages are dropped with one line on stderr (written with
 * fs.writeSync: a worker's process.stderr goes through the main thread, which may be blocked).
 */
import * as fs from 'fs';
import { parentPort, workerData } from 'worker_threads';
import * as zmq from 'zeromq';
import { decode, encode, Header, makeHeader, Message, Signer, WireError } from './wire';
import type { ConnectionInfo } from './server';

export type SocketChannel = 'shell' | 'control' | 'stdin' | 'iopub';

/** main -> worker */
export type ToWorker =
  | {
      op: 'send';
      channel: SocketChannel;
      msgType: string;
      content: unknown;
      /** Header of the request this message answers / belongs to ({} for none). */
      parentHeader: Header | Record<string, never>;
      /** ZeroMQ routing prefix of that request (replies only). */
      identities?: Uint8Array[];
      metadata?: Record<string, unknown>;
    }
  | { op: 'drain'; id: number }
  | { op: 'close'; id: number }
  /** The main thread's memory, sent whenever its event loop is free (see the memory guard). */
  | { op: 'mem'; rss: number; heapUsed: number };

/** worker -> main */
export type FromWorker =
  | { op: 'ready' }
  | { op: 'failed'; error: string }
  | { op: 'msg'; channel: 'shell' | 'control'; msg: Message }
  | { op: 'interrupted'; msg: Message }
  | { op: 'done'; id: number };

export interface WorkerInit {
  conn: ConnectionInfo;
  session: string;
  memoryGuard: {
    /** Interrupt when the process grew by this many bytes beyond its non-heap memory; 0 = off. */
    limitBytes: number;
    /** [0] = 1 when the guard fired (the main thread resets it), [1] = the heap growth in MB then. */
    state: SharedArrayBuffer;
  };
}

const log = (line: string) => {
  try {
    fs.writeSync(2, `[inference-lab kernel] ${line}\n`);
  } catch {
    /* stderr closed */
  }
};

class SendQueue {
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly sock: zmq.Writable) {}
  send(frames: Buffer[]): Promise<void> {
    this.chain = this.chain.then(() => this.sock.send(frames)).catch((e: unknown) => log(`send failed: ${(e as Error)?.message ?? e}`));
    return this.chain;
  }
  drain(): Promise<void> {
    return this.chain;
  }
}

const asBuffer = (u: Uint8Array) => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

async function main(): Promise<void> {
  const port = parentPort!;
  const { conn, session } = workerData as WorkerInit;
  const signer = new Signer(conn.key ?? '', conn.signature_scheme ?? 'hmac-sha256');
  const sockets = {
    shell: new zmq.Router(),
    control: new zmq.Router(),
    stdin: new zmq.Router(),
    iopub: new zmq.Publisher(),
  };
  const hb = new zmq.Reply();
  const out: Record<SocketChannel, SendQueue> = {
    shell: new SendQueue(sockets.shell),
    control: new SendQueue(sockets.control),
    stdin: new SendQueue(sockets.stdin),
    iopub: new SendQueue(sockets.iopub),
  };
  let closed = false;
  let shutdownNudge: NodeJS.Timeout | null = null;

  const send = (channel: SocketChannel, msgType: string, content: unknown, parentHeader: Message['parent_header'], identities: Uint8Array[] = [], metadata: Record<string, unknown> = {}) => {
    const ids = channel === 'iopub' ? [Buffer.from(`kernel.${session}.${msgType}`)] : identities.map(asBuffer);
    return out[channel].send(encode(signer, ids, makeHeader(msgType, session), parentHeader, metadata, content));
  };

  const addr = (p: number) => (conn.transport === 'ipc' ? `ipc://${conn.ip}-${p}` : `${conn.transport}://${conn.ip}:${p}`);
  try {
    await Promise.all([
      sockets.shell.bind(addr(conn.shell_port)),
      sockets.control.bind(addr(conn.control_port)),
      sockets.stdin.bind(addr(conn.stdin_port)),
      sockets.iopub.bind(addr(conn.iopub_port)),
      hb.bind(addr(conn.hb_port)),
    ]);
  } catch (e) {
    port.postMessage({ op: 'failed', error: (e as Error)?.message ?? String(e) } satisfies FromWorker);
    return;
  }

  void (async () => {
    try {
      for await (const frames of hb) await hb.send(frames);
    } catch (e) {
      if (!closed) log(`heartbeat stopped: ${(e as Error).message}`);
    }
  })();

  const loop = async (channel: 'shell' | 'control') => {
    try {
      for await (const frames of sockets[channel]) {
        let msg: Message;
        try {
          msg = decode(frames, signer);
        } catch (e) {
          const why = e instanceof WireError ? e.message : `unreadable message: ${(e as Error)?.message ?? e}`;
          log(`dropped a message on ${channel}: ${why}`);
          continue;
        }
        if (channel === 'control' && msg.header.msg_type === 'interrupt_request') {
          // Answered here: the main thread may be stuck in a synchronous loop.
          void send('iopub', 'status', { execution_state: 'busy' }, msg.header);
          try {
            // Windows has no SIGINT to send (process.kill would end the process): there the main
            // thread interrupts what the cell awaits when it gets the 'interrupted' note below.
            if (process.platform !== 'win32') process.kill(process.pid, 'SIGINT');
            void send('control', 'interrupt_reply', { status: 'ok' }, msg.header, msg.identities);
          } catch (e) {
            const m = (e as Error)?.message ?? String(e);
            void send('control', 'interrupt_reply', { status: 'error', ename: 'InterruptError', evalue: m, traceback: [m] }, msg.header, msg.identities);
          }
          void send('iopub', 'status', { execution_state: 'idle' }, msg.header);
          port.postMessage({ op: 'interrupted', msg } satisfies FromWorker);
          continue;
        }
        if (msg.header.msg_type === 'shutdown_request' && !shutdownNudge) {
          // The main thread answers it, unless a synchronous cell holds it: then stop that cell
          // (as an interrupt would) so the shutdown goes through in about a second instead of
          // the client's kill timeout.
          shutdownNudge = setTimeout(() => {
            log('shutdown_request not answered within 1 s: interrupting the running cell');
            if (process.platform !== 'win32') process.kill(process.pid, 'SIGINT');
          }, 1000);
        }
        port.postMessage({ op: 'msg', channel, msg } satisfies FromWorker);
      }
    } catch (e) {
      if (!closed) log(`${channel} loop stopped: ${(e as Error).message}`);
    }
  };
  void loop('shell');
  void loop('control');

  port.on('message', (m: ToWorker) => {
    switch (m.op) {
      case 'send':
        if (m.msgType === 'shutdown_reply' && shutdownNudge) clearTimeout(shutdownNudge);
        void send(m.channel, m.msgType, m.content, m.parentHeader, m.identities, m.metadata);
        break;
      case 'mem':
        nonHeap = m.rss - m.heapUsed;
        armed = true;
        break;
      case 'drain':
        void Promise.all(Object.values(out).map((q) => q.drain())).then(() => port.postMessage({ op: 'done', id: m.id } satisfies FromWorker));
        break;
      case 'close':
        void Promise.all(Object.values(out).map((q) => q.drain())).then(() => {
          closed = true;
          for (const s of [...Object.values(sockets), hb]) {
            try {
              s.linger = 200;
              s.close();
            } catch {
              /* already closed */
            }
          }
          port.postMessage({ op: 'done', id: m.id } satisfies FromWorker);
        });
        break;
    }
  });

  // Memory guard. V8 cannot survive running out of heap (it aborts the process), so a cell that
  // grows the heap without end would kill the kernel. The main thread reports rss - heapUsed
  // (memory that is not JS heap: code, wasm, buffers) whenever it is free; while it is busy,
  // growth of the RSS beyond that is taken as heap growth, and when it passes the limit the
  // cell is interrupted with SIGINT, as a user would. Armed again at the main thread's next report.
  const guard = new Int32Array(workerData.memoryGuard.state as SharedArrayBuffer);
  const guardLimit = (workerData as WorkerInit).memoryGuard.limitBytes;
  let nonHeap = process.memoryUsage.rss();
  let armed = true;
  if (guardLimit > 0 && process.platform !== 'win32') {
    setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (!armed || rss - nonHeap < guardLimit) return;
      armed = false;
      log(`memory guard: RSS ${(rss / 2 ** 20).toFixed(0)} MB, heap growth past ${(guardLimit / 2 ** 20).toFixed(0)} MB: interrupting the running cell`);
      Atomics.store(guard, 1, Math.round((rss - nonHeap) / 2 ** 20));
      Atomics.store(guard, 0, 1);
      process.kill(process.pid, 'SIGINT');
    }, 50);
  }

  send('iopub', 'status', { execution_state: 'starting' }, {});
  port.postMessage({ op: 'ready' } satisfies FromWorker);
}

void main().catch((e) => {
  log(`socket worker failed: ${(e as Error)?.stack ?? e}`);
  parentPort?.postMessage({ op: 'failed', error: String((e as Error)?.message ?? e) } satisfies FromWorker);
});
