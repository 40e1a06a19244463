/**
 * The kernel's ZeroMQ side, run in a worker thread so that it keeps working while the main
 * thread is busy with a cell (a synchronous `while (true) {}` included):
 *
 * - the heartbeat keeps answering, so a long synchronous cell does not look like a dead kernel;
 * - `interrupt_request` on the control channel is answered HERE. An interrupt raises the shared
 *   interrupt generation (kernel/shared-state.ts), which the loops of cell code check (see
 *   Executor.checkInterrupt); if the main thread is inside vm running a cell's synchronous part
 *   the worker also sends SIGINT to its own process (vm's `breakOnSigint` stops any code there);
 *   and it tells the main thread, which rejects what an awaiting cell waits for;
 * - stream output the main thread posts while a cell runs is batched here and published within
 *   50 ms (postMessage is delivered to this thread's own event loop, not the blocked one).
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
import { GUARD_MB, GUARD_TRIPPED, INTERRUPTS, IN_VM, VM_SIGINT_SENT } from './shared-state';

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
  /** Text written to stdout / stderr while `parentHeader`'s request ran. */
  | { op: 'stream'; name: 'stdout' | 'stderr'; text: string; parentHeader: Header }
  | { op: 'drain'; id: number }
  | { op: 'close'; id: number }
  /** The main thread's memory, sent whenever its event loop is free (see the memory guard). */
  | { op: 'mem'; rss: number; heapUsed: number };

/** worker -> main */
export type FromWorker =
  | { op: 'ready' }
  | { op: 'failed'; error: string }
  | { op: 'msg'; channel: 'shell' | 'control'; msg: Message }
  /** An interrupt was performed; `generation` is the new interrupt generation. */
  | { op: 'interrupted'; generation: number; reason: 'request' | 'memory' | 'shutdown' }
  | { op: 'done'; id: number };

export interface WorkerInit {
  conn: ConnectionInfo;
  session: string;
  /** The buffer behind kernel/shared-state.ts's slots. */
  state: SharedArrayBuffer;
  /** Memory guard: interrupt when the process grew by this many bytes beyond its non-heap memory; 0 = off. */
  memoryGuardBytes: number;
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
  const shared = new Int32Array((workerData as WorkerInit).state);
  /** Interrupt the main thread's cell, however it is busy (see the file comment). */
  const interrupt = (reason: 'request' | 'memory' | 'shutdown') => {
    const generation = Atomics.add(shared, INTERRUPTS, 1) + 1;
    // Windows has no SIGINT to send (process.kill would end the process): there the loop checks
    // and the message below do it all.
    if (process.platform !== 'win32' && Atomics.compareExchange(shared, IN_VM, 1, VM_SIGINT_SENT) === 1) {
      process.kill(process.pid, 'SIGINT');
    }
    port.postMessage({ op: 'interrupted', generation, reason } satisfies FromWorker);
  };
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

  // Stream text is batched here: consecutive writes to one stream for one request become one
  // message, sent 50 ms after the first write or at 64 KiB, and always before any other message
  // (so output stays in order with displays, results, replies and `idle`).
  let streamBuffer: { name: 'stdout' | 'stderr'; parentHeader: Header; text: string } | null = null;
  let streamTimer: NodeJS.Timeout | null = null;
  const flushStream = () => {
    if (streamTimer) clearTimeout(streamTimer);
    streamTimer = null;
    const b = streamBuffer;
    streamBuffer = null;
    if (b) void send('iopub', 'stream', { name: b.name, text: b.text }, b.parentHeader);
  };
  const addStream = (name: 'stdout' | 'stderr', text: string, parentHeader: Header) => {
    if (streamBuffer && (streamBuffer.name !== name || streamBuffer.parentHeader.msg_id !== parentHeader.msg_id)) flushStream();
    if (streamBuffer) streamBuffer.text += text;
    else streamBuffer = { name, parentHeader, text };
    if (streamBuffer.text.length >= 64 * 1024) flushStream();
    else if (!streamTimer) streamTimer = setTimeout(flushStream, 50);
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
            interrupt('request');
            void send('control', 'interrupt_reply', { status: 'ok' }, msg.header, msg.identities);
          } catch (e) {
            const m = (e as Error)?.message ?? String(e);
            void send('control', 'interrupt_reply', { status: 'error', ename: 'InterruptError', evalue: m, traceback: [m] }, msg.header, msg.identities);
          }
          void send('iopub', 'status', { execution_state: 'idle' }, msg.header);
          continue;
        }
        if (msg.header.msg_type === 'shutdown_request' && !shutdownNudge) {
          // The main thread answers it, unless a synchronous cell holds it: then stop that cell
          // (as an interrupt would) so the shutdown goes through in about a second instead of
          // the client's kill timeout.
          shutdownNudge = setTimeout(() => {
            log('shutdown_request not answered within 1 s: interrupting the running cell');
            interrupt('shutdown');
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
      case 'stream':
        addStream(m.name, m.text, m.parentHeader);
        break;
      case 'send':
        if (m.msgType === 'shutdown_reply' && shutdownNudge) clearTimeout(shutdownNudge);
        flushStream();
        void send(m.channel, m.msgType, m.content, m.parentHeader, m.identities, m.metadata);
        break;
      case 'mem':
        nonHeap = m.rss - m.heapUsed;
        armed = true;
        lastReport = Date.now();
        break;
      case 'drain':
        flushStream();
        void Promise.all(Object.values(out).map((q) => q.drain())).then(() => port.postMessage({ op: 'done', id: m.id } satisfies FromWorker));
        break;
      case 'close':
        flushStream();
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
  // cell is interrupted as by an interrupt_request. Armed again at the main thread's next report.
  const guardLimit = (workerData as WorkerInit).memoryGuardBytes;
  let nonHeap = process.memoryUsage.rss();
  let armed = true;
  let lastReport = Date.now();
  if (guardLimit > 0) {
    setInterval(() => {
      // Only while the main thread is busy (it reports every 250 ms when free): a notebook that
      // merely holds a lot of memory between cells is not interrupted.
      if (!armed || Date.now() - lastReport < 400) return;
      const rss = process.memoryUsage.rss();
      if (rss - nonHeap < guardLimit) return;
      armed = false;
      log(`memory guard: RSS ${(rss / 2 ** 20).toFixed(0)} MB, growth past ${(guardLimit / 2 ** 20).toFixed(0)} MB while busy: interrupting the running cell`);
      Atomics.store(shared, GUARD_MB, Math.round((rss - nonHeap) / 2 ** 20));
      Atomics.store(shared, GUARD_TRIPPED, 1);
      interrupt('memory');
    }, 50);
  }

  send('iopub', 'status', { execution_state: 'starting' }, {});
  port.postMessage({ op: 'ready' } satisfies FromWorker);
}

void main().catch((e) => {
  log(`socket worker failed: ${(e as Error)?.stack ?? e}`);
  parentPort?.postMessage({ op: 'failed', error: String((e as Error)?.message ?? e) } satisfies FromWorker);
});
