/**
 * The Jupyter wire protocol (messaging spec 5.3): framing, HMAC signing and verification.
 *
 * A message on a ROUTER socket is
 *   [identity..., "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers...]
 * and the signature is HMAC(key, header + parent_header + metadata + content) in hex.
 * https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol
 */
import { createHmac, randomUUID, timingSafeEqual } from 'crypto';

export const PROTOCOL_VERSION = '5.3';
const DELIM = Buffer.from('<IDS|MSG>');

export interface Header {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
  [k: string]: unknown;
}

export interface Message {
  /** ZeroMQ routing prefix, copied onto replies. */
  identities: Buffer[];
  header: Header;
  /** Empty object when there is no parent. */
  parent_header: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: Record<string, any>;
  buffers: Buffer[];
}

/** A message that could not be accepted; `reason` is what gets logged. */
export class WireError extends Error {}

export class Signer {
  private readonly key: string;
  private readonly algorithm: string | null;

  constructor(key: string, scheme = 'hmac-sha256') {
    this.key = key;
    if (!key) {
      this.algorithm = null; // Jupyter allows an empty key: no signing at all.
    } else {
      const m = /^hmac-(.+)$/.exec(scheme);
      if (!m) throw new Error(`unsupported signature_scheme ${scheme}`);
      this.algorithm = m[1];
    }
  }

  sign(parts: (Buffer | string)[]): string {
    if (!this.algorithm) return '';
    const h = createHmac(this.algorithm, this.key);
    for (const p of parts) h.update(p);
    return h.digest('hex');
  }

  /** Signatures of messages already accepted, oldest first (bounded, as ipykernel's digest history). */
  private readonly seen = new Set<string>();
  static readonly MAX_SEEN = 2 ** 16;

  /**
   * Record an accepted message's signature; false when it was seen before (a replay). With no
   * key there is no signature to tell messages apart, so nothing is recorded.
   */
  remember(signature: string): boolean {
    if (!this.algorithm) return true;
    if (this.seen.has(signature)) return false;
    this.seen.add(signature);
    if (this.seen.size > Signer.MAX_SEEN) {
      // Drop the oldest tenth at once (a Set iterates in insertion order).
      let drop = Math.ceil(Signer.MAX_SEEN / 10);
      for (const old of this.seen) {
        if (drop-- <= 0) break;
        this.seen.delete(old);
      }
    }
    return true;
  }

  verify(signature: string, parts: Buffer[]): boolean {
    if (!this.algorithm) return true;
    const want = Buffer.from(this.sign(parts), 'utf8');
    const got = Buffer.from(signature, 'utf8');
    return want.length === got.length && timingSafeEqual(want, got);
  }
}

function parseJson(buf: Buffer, what: string): any {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw new WireError(`${what} is not valid JSON`);
  }
}

/** Parse and verify raw frames. Throws WireError for anything malformed or wrongly signed. */
export function decode(frames: Buffer[], signer: Signer): Message {
  const delim = frames.findIndex((f) => f.equals(DELIM));
  if (delim < 0) throw new WireError('missing <IDS|MSG> delimiter');
  if (frames.length < delim + 6) throw new WireError(`too few frames (${frames.length - delim - 1} after delimiter, want >= 5)`);
  const signature = frames[delim + 1].toString('utf8');
  const parts = frames.slice(delim + 2, delim + 6);
  if (!signer.verify(signature, parts)) throw new WireError('invalid signature');
  if (!signer.remember(signature)) throw new WireError('duplicate signature: a replayed message');
  const header = parseJson(parts[0], 'header');
  if (!header || typeof header !== 'object' || typeof header.msg_type !== 'string' || typeof header.msg_id !== 'string') {
    throw new WireError('header lacks msg_type / msg_id');
  }
  const parent = parseJson(parts[1], 'parent_header');
  const metadata = parseJson(parts[2], 'metadata');
  const content = parseJson(parts[3], 'content');
  if (!content || typeof content !== 'object') throw new WireError('content is not an object');
  return {
    identities: frames.slice(0, delim),
    header,
    parent_header: parent && typeof parent === 'object' ? parent : {},
    metadata: metadata && typeof metadata === 'object' ? metadata : {},
    content,
    buffers: frames.slice(delim + 6),
  };
}

export function makeHeader(msgType: string, session: string): Header {
  return {
    msg_id: randomUUID(),
    msg_type: msgType,
    session,
    username: 'kernel',
    date: new Date().toISOString(),
    version: PROTOCOL_VERSION,
  };
}

/** Frames for a message; `identities` is the routing prefix (or the iopub topic). */
export function encode(
  signer: Signer,
  identities: Buffer[],
  header: Header,
  parent: Message['parent_header'],
  metadata: Record<string, unknown>,
  content: unknown,
): Buffer[] {
  const parts = [header, parent, metadata, content].map((x) => Buffer.from(JSON.stringify(x ?? {}), 'utf8'));
  return [...identities, DELIM, Buffer.from(signer.sign(parts), 'utf8'), ...parts];
}
