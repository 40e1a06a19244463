/**
 * The ZeroMQ side of the kernel: five sockets bound from a connection file, signed messages,
 * one request at a time on shell (in arrival order), control served beside it.
 *
 * Malformed or wrongly signed messages are dropped with one line on stderr; nothing a client
 * sends can crash the kernel. zeromq 6 allows one pending send() per socket, so every socket
 * writes through a small promise queue that keeps order.
 */
import * as fs from 'fs';
import { randomUUID } from 'crypto';
import * as zmq from 'zeromq';
import { decode, encode, makeHeader, Message, Signer, WireError } from './wire';

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

class SendQueue {
  private chain: Promise<void> = Promise.resolve();
  constructor(
    private readonly sock: zmq.Writable,
    private readonly log: (s: string) => void,
  ) {}
  send(frames: Buffer[]): Promise<void> {
    this.chain = this.chain
      .then(() => this.sock.send(frames))
      .catch((e: unknown) => this.log(`send failed: ${(e as Error)?.message ?? e}`));
    return this.chain;
  }
  drain(): Promise<void> {
    return this.chain;
  }
}

export class KernelServer {
  /** The kernel's own session id, used in the headers it writes. */
  readonly session = randomUUID();
  private readonly signer: Signer;
  private readonly shell = new zmq.Router();
  private readonly control = new zmq.Router();
  private readonly stdin = new zmq.Router();
  private readonly iopub = new zmq.Publisher();
  private readonly hb = new zmq.Reply();
  private readonly out: Record<'shell' | 'control' | 'stdin' | 'iopub', SendQueue>;
  private readonly handlers = new Map<string, RequestHandler>();
  private shellQueue: Promise<void> = Promise.resolve();
  private closed = false;
  /** Messages received so far on shell; lets the kernel abort requests queued before an error. */
  private received = 0;
  private readonly seqOf = new WeakMap<Message, number>();

  constructor(
    private readonly conn: ConnectionInfo,
    private readonly log: (line: string) => void,
  ) {
    this.signer = new Signer(conn.key ?? '', conn.signature_scheme ?? 'hmac-sha256');
    this.out = {
      shell: new SendQueue(this.shell, log),
      control: new SendQueue(this.control, log),
      stdin: new SendQueue(this.stdin, log),
      iopub: new SendQueue(this.iopub, log),
    };
  }

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

  async start(): Promise<void> {
    const c = this.conn;
    const addr = (port: number) => (c.transport === 'ipc' ? `ipc://${c.ip}-${port}` : `${c.transport}://${c.ip}:${port}`);
    await Promise.all([
      this.shell.bind(addr(c.shell_port)),
      this.control.bind(addr(c.control_port)),
      this.stdin.bind(addr(c.stdin_port)),
      this.iopub.bind(addr(c.iopub_port)),
      this.hb.bind(addr(c.hb_port)),
    ]);
    void this.loop('shell', this.shell);
    void this.loop('control', this.control);
    void this.heartbeat();
    this.publish('status', { execution_state: 'starting' }, undefined);
  }

  private async heartbeat(): Promise<void> {
    try {
      for await (const frames of this.hb) await this.hb.send(frames);
    } catch (e) {
      if (!this.closed) this.log(`heartbeat stopped: ${(e as Error).message}`);
    }
  }

  private async loop(channel: Channel, sock: zmq.Router): Promise<void> {
    try {
      for await (const frames of sock) {
        let msg: Message;
        try {
          msg = decode(frames, this.signer);
        } catch (e) {
          const why = e instanceof WireError ? e.message : `unreadable message: ${(e as Error)?.message ?? e}`;
          this.log(`dropped a message on ${channel}: ${why}`);
          continue;
        }
        if (channel === 'shell') {
          this.seqOf.set(msg, ++this.received);
          // One request at a time, in order; an execute holds the queue until it is done.
          this.shellQueue = this.shellQueue.then(() => this.dispatch(msg, channel));
        } else {
          await this.dispatch(msg, channel);
        }
      }
    } catch (e) {
      if (!this.closed) this.log(`${channel} loop stopped: ${(e as Error).message}`);
    }
  }

  private async dispatch(msg: Message, channel: Channel): Promise<void> {
    const type = msg.header.msg_type;
    const handler = this.handlers.get(type);
    this.publish('status', { execution_state: 'busy' }, msg);
    try {
      if (handler) await handler(msg, channel);
      else this.log(`ignored unknown message type ${type} on ${channel}`);
    } catch (e) {
      this.log(`handler for ${type} failed: ${(e as Error)?.stack ?? e}`);
    } finally {
      this.publish('status', { execution_state: 'idle' }, msg);
    }
  }

  /** Reply on the channel the request came from. */
  reply(channel: Channel, parent: Message, msgType: string, content: unknown): Promise<void> {
    const frames = encode(this.signer, parent.identities, makeHeader(msgType, this.session), parent.header, {}, content);
    return this.out[channel].send(frames);
  }

  /** Publish on iopub; `parent` is the request this output belongs to. */
  publish(msgType: string, content: unknown, parent: Message | undefined, metadata: Record<string, unknown> = {}): Promise<void> {
    const topic = Buffer.from(`kernel.${this.session}.${msgType}`);
    const frames = encode(this.signer, [topic], makeHeader(msgType, this.session), parent ? parent.header : {}, metadata, content);
    return this.out.iopub.send(frames);
  }

  /** Wait until everything queued has been handed to ZeroMQ. */
  async drain(): Promise<void> {
    await Promise.all(Object.values(this.out).map((q) => q.drain()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain();
    this.closed = true;
    for (const s of [this.shell, this.control, this.stdin, this.iopub, this.hb]) {
      try {
        s.linger = 200;
        s.close();
      } catch {
        /* already closed */
      }
    }
  }
}
