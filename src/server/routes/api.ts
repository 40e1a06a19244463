// The JSON API behind the pages. Every error is JSON {error} with a 4xx/5xx status; compute runs
// through the rate limiter and the bounded queue.
import type { Router, NextFunction, Request, Response } from 'express';
import * as lab from '../../index';
import { COMPARE_ITEMS, InputError, LabService, MAX_IMAGE_SIDE, MAX_COMPARE_DIGITS } from '../compute';
import { BusyError, type ComputeQueue, type RateLimiter } from '../security';

type Handler = (req: Request, res: Response) => Promise<void>;
const wrap = (fn: Handler) => (req: Request, res: Response, next: NextFunction) => fn(req, res).catch(next);

function body(req: Request): Record<string, unknown> {
  const b = req.body as unknown;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) {
    throw new InputError('Expected a JSON object body (Content-Type: application/json).');
  }
  return b as Record<string, unknown>;
}

/** Routes added to `r` (a Router made by the caller, so this module loads no Express code). */
export function apiRouter(r: Router, service: LabService, queue: ComputeQueue, limiter: RateLimiter | null): Router {
  const limited = limiter ? [limiter.middleware()] : [];

  r.get(
    '/models',
    wrap(async (_req, res) => {
      const models = await service.listModels();
      res.json({
        backend: lab.backend(),
        models,
        samples: { count: service.heldOutCount(), description: 'held-out MNIST digits (never seen in training)' },
        limits: { maxImageSide: MAX_IMAGE_SIDE, maxCompareDigits: MAX_COMPARE_DIGITS, compareItems: COMPARE_ITEMS },
        compare: { available: LabService.quantizeAvailable() },
      });
    }),
  );

  r.post(
    '/run',
    ...limited,
    wrap(async (req, res) => {
      const b = body(req);
      await service.init();
      res.json(await queue.run(() => service.run(b)));
    }),
  );

  r.post(
    '/compare',
    ...limited,
    wrap(async (req, res) => {
      const b = body(req);
      await service.init();
      const result = await queue.run(() => service.compare(b));
      const isolated = result.layers.every((l) => l.isolated) ? result.layers.map((l) => ({ name: l.name, kind: l.kind, ...l.isolated!, sqnrDb: num(l.isolated!.sqnrDb) })) : null;
      const on = result.sample ? `held-out digit #${result.sample.index}` : `${Math.min(16, result.data.items)} ${result.data.unit}`;
      const view = b.chart === false || result.layers.length === 0 ? null : await lab.layerErrorView(
        result.layers.map((l) => ({ ...l, sqnrDb: num(l.sqnrDb) })),
        isolated,
        `${result.optimizedName} vs ${result.model}: error at each step (${on})`,
      );
      res.json({ ...result, chart: view ? { spec: view['application/vnd.vegalite.v5+json'], svg: view['image/svg+xml'] } : null });
    }),
  );

  r.use((req, res) => {
    res.status(404).json({ error: `No API endpoint ${req.method} ${req.path}. Endpoints: GET /api/models, POST /api/run, POST /api/compare.` });
  });
  return r;
}

const num = (v: number | 'inf' | '-inf') => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

/** Errors as JSON for /api, with the status the error carries (4xx for the caller's mistakes). */
export function apiErrors(err: unknown, req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  const e = err as { status?: number; statusCode?: number; type?: string; message?: string; expose?: boolean };
  let status = e.status ?? e.statusCode ?? 500;
  let message = e.message ?? String(err);
  if (e.type === 'entity.too.large') message = `Request body too large (limit ${(err as { limit?: number }).limit ?? '?'} bytes).`;
  else if (e.type === 'entity.parse.failed') message = `Request body is not valid JSON: ${message}`;
  else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') message = 'Unsupported body encoding; send UTF-8 JSON.';
  else if (err instanceof InputError || err instanceof BusyError) status = err.status;
  else if (status >= 500) {
    console.error(`[inference-lab serve] ${req.method} ${req.path}:`, err);
    message = 'Internal error while computing; see the server log.';
  }
  res.status(status).json({ error: message });
}
