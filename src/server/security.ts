// What keeps the web explainer safe to run in a classroom: headers (CSP with no inline script),
// a path resolver that cannot leave its root, per-client rate limiting, and a compute queue that
// bounds how much work can wait and how long it may wait.
import * as fs from 'fs';
import * as path from 'path';
import type { NextFunction, Request, Response } from 'express';

/**
 * The Content-Security-Policy of every response. Scripts only from this server, never inline and
 * never eval: Vega's expressions run through vega-interpreter (`ast: true`), not `new Function`.
 * Styles allow inline attributes because Vega's SVG renderer writes `style=` on marks.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  next();
}

/**
 * Resolve `relative` (a URL path already split off its route prefix, still percent-encoded or
 * not) inside `root`. Returns null for anything that is not a plain file strictly inside `root`:
 * `..` segments (raw or encoded), absolute paths, backslashes, NUL bytes, dot files, and symlinks
 * that lead outside.
 */
export function resolveInside(root: string, relative: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || path.isAbsolute(decoded)) return null;
  const segments = decoded.split('/').filter((s) => s.length > 0);
  if (segments.length === 0) return null;
  if (segments.some((s) => s === '..' || s === '.' || s.startsWith('.'))) return null;
  const realRoot = safeRealpath(root);
  if (!realRoot) return null;
  const candidate = path.resolve(realRoot, ...segments);
  if (!candidate.startsWith(realRoot + path.sep)) return null;
  const real = safeRealpath(candidate);
  if (!real || !real.startsWith(realRoot + path.sep)) return null;
  try {
    if (!fs.statSync(real).isFile()) return null;
  } catch {
    return null;
  }
  return real;
}

function safeRealpath(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

/** A token bucket per client: `capacity` requests at once, refilled at `perSecond`. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly capacity: number,
    readonly perSecond: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Take one token for `key`; returns 0 if allowed, else the seconds until one is available. */
  take(key: string): number {
    const t = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: t };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + ((t - bucket.at) / 1000) * this.perSecond);
    bucket.at = t;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 10_000) this.sweep(t);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perSecond);
  }

  /** Forget full buckets (clients that have been quiet), so memory stays bounded. */
  private sweep(t: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.perSecond >= this.capacity) this.buckets.delete(key);
    }
  }

  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const wait = this.take(req.socket.remoteAddress ?? 'unknown');
      if (wait === 0) return next();
      res.setHeader('Retry-After', String(wait));
      res.status(429).json({ error: `Too many requests: at most ${this.capacity} at once and ${this.perSecond} per second per client. Retry in ${wait} s.` });
    };
  }
}

export class BusyError extends Error {
  readonly status = 503;
}

/**
 * Model computation is synchronous (TensorFlow.js on one thread), so jobs run one at a time in
 * arrival order. The queue is bounded (`maxQueue`) and a job that waited longer than `timeoutMs`
 * is answered 503 without being computed; jobs are kept small (input size limits) so a job that
 * starts finishes quickly.
 */
export class ComputeQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(
    readonly maxQueue: number,
    readonly timeoutMs: number,
  ) {}

  get length(): number {
    return this.waiting;
  }

  run<T>(job: () => T | Promise<T>): Promise<T> {
    if (this.waiting >= this.maxQueue) {
      return Promise.reject(new BusyError(`The server is busy (${this.waiting} computations queued); try again shortly.`));
    }
    this.waiting++;
    const queuedAt = Date.now();
    const result = this.tail.then(async () => {
      if (Date.now() - queuedAt > this.timeoutMs) {
        throw new BusyError(`Timed out after waiting ${this.timeoutMs} ms for the model; the server is busy, try again shortly.`);
      }
      // Let the event loop answer other requests (static files, 429s) between jobs.
      await new Promise((r) => setImmediate(r));
      return job();
    });
    this.tail = result.then(
      () => void this.waiting--,
      () => void this.waiting--,
    );
    return result;
  }
}
