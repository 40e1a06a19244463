// The web explainer as an Express app (no listen: main.ts or a test does that).
//   /                       table of contents (the curriculum; lessons present are linked)
//   /lessons/<slug>         a lesson rendered from lessons/<slug>.md, charts live via vega-embed
//                           (a generated lesson's charts are read from its notebook in notebooks/)
//   /stepper, /compare      the forward-pass stepper and the original-vs-optimized comparison
//   /api/models|run|compare the JSON API behind them
//   /static, /vendor, /files client files, Vega from node_modules, lessons/ and assets/ only
import * as path from 'path';
import type { IncomingMessage, Server, ServerResponse } from 'http';
import type { NextFunction, Request, Response } from 'express';
import { assetsDir } from '../index';
import { LabService } from './compute';
import { Lessons } from './lessons';
import { apiErrors, apiRouter } from './routes/api';
import { filesRouter } from './routes/files';
import { pagesRouter } from './routes/pages';
import { ComputeQueue, RateLimiter, securityHeaders } from './security';
import { escapeHtml, page } from './html';

export interface AppOptions {
  /** Package root holding lessons/, notebooks/, assets/, public/ (default: this package's root). */
  root?: string;
  /** Largest accepted request body (default '1mb': a 256x256 RGBA image as JSON fits). */
  bodyLimit?: string;
  /**
   * Per-client token bucket on the compute endpoints: `capacity` at once, `perSecond` refill.
   * Default 60 / 30 per second. `false` turns it off (e.g. a load test measuring the engine).
   */
  rateLimit?: { capacity: number; perSecond: number } | false;
  /** A computation that waited this long in the queue is answered 503 (default 10 s). */
  computeTimeoutMs?: number;
  /** At most this many computations wait at once; more are answered 503 (default 64). */
  maxQueue?: number;
  /**
   * Host names the Host header may carry (without port); others get 421. `serve` sets the
   * loopback names when it binds to loopback, so a DNS-rebinding page cannot drive the API.
   */
  allowedHosts?: string[];
}

/** The hostname of a Host header, without its port ("[::1]:80" -> "[::1]"). */
function hostName(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  return h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0];
}

/**
 * The app as a plain request listener with `listen` (typed without Express, so the library's
 * public declarations do not depend on @types/express).
 */
export interface WebApp {
  (req: IncomingMessage, res: ServerResponse): void;
  listen(port: number, host: string, callback?: () => void): Server;
  /** The engine service (start it with `init()`, free its models with `dispose()`) and the compute queue. */
  locals: { service: { init(): Promise<string>; dispose(): void }; queue: { readonly length: number } };
}

export function createApp(options: AppOptions = {}): WebApp {
  const root = options.root ?? path.dirname(assetsDir());
  const lessonsDir = path.join(root, 'lessons');
  const service = new LabService();
  const queue = new ComputeQueue(options.maxQueue ?? 64, options.computeTimeoutMs ?? 10_000);
  const rate = options.rateLimit === undefined ? { capacity: 60, perSecond: 30 } : options.rateLimit;
  const limiter = rate ? new RateLimiter(rate.capacity, rate.perSecond) : null;
  const lessons = new Lessons(lessonsDir, service, path.join(root, 'notebooks'));

  // Loaded on first use, so importing the library (e.g. in a notebook) does not load Express.
  const express = require('express') as typeof import('express');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.locals.service = service;
  app.locals.queue = queue;
  app.use(securityHeaders);
  if (options.allowedHosts) {
    const allowed = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
    app.use((req: Request, res: Response, next: NextFunction) => {
      if (allowed.has(hostName(req.headers.host))) return next();
      res.status(421).type('text/plain').send(`Host ${JSON.stringify(String(req.headers.host ?? '').slice(0, 100))} is not served here.`);
    });
  }
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
      res.setHeader('Allow', 'GET, HEAD, POST');
      return void res.status(405).json({ error: `Method ${req.method} not allowed.` });
    }
    next();
  });
  app.use(filesRouter(express.Router(), { root, publicDir: path.join(root, 'public'), lessonsDir, assetsDir: path.join(root, 'assets') }));
  app.use(
    '/api',
    (req: Request, res: Response, next: NextFunction) => {
      if (req.method === 'POST' && !req.is('application/json')) {
        return void res.status(415).json({ error: 'Send the body as JSON with Content-Type: application/json.' });
      }
      next();
    },
    express.json({ limit: options.bodyLimit ?? '1mb', strict: true }),
    apiRouter(express.Router(), service, queue, limiter),
    apiErrors,
  );
  app.use(pagesRouter(express.Router(), lessons));
  app.use((req: Request, res: Response) => {
    res.status(404).type('html').send(page({ title: 'Not found', body: `<h1>Not found</h1><p>Nothing at <code>${escapeHtml(req.path.slice(0, 200))}</code>. <a href="/">Back to the lessons</a>.</p>` }));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    console.error(`[inference-lab serve] ${req.method} ${req.path}:`, err);
    if (res.headersSent) return;
    res.status(500).type('html').send(page({ title: 'Error', body: '<h1>Something went wrong</h1><p>See the server log.</p>' }));
  });
  return app as unknown as WebApp;
}
