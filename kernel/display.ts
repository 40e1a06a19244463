/**
 * Turning a value into a Jupyter MIME bundle: objects with `toMimeBundle()` choose their own
 * representations (the library's charts: Vega-Lite v5 + SVG + PNG + text); everything else is
 * shown as `util.inspect` text, the way Node's REPL would.
 */
import * as util from 'util';

export type Bundle = Record<string, unknown>;

export function inspectValue(value: unknown): string {
  return util.inspect(value, { depth: 4, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100 });
}

/** Binary payloads (image/png as bytes) become base64, as the notebook format stores them. */
export function normalizeBundle(raw: unknown, fallbackText: () => string): Bundle {
  if (!raw || typeof raw !== 'object') throw new TypeError('toMimeBundle() must return an object of mime type -> value');
  const out: Bundle = {};
  for (const [mime, v] of Object.entries(raw as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    if (v instanceof Uint8Array) out[mime] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    else out[mime] = v;
  }
  if (typeof out['text/plain'] !== 'string') out['text/plain'] = fallbackText();
  return out;
}

function hasMimeBundle(x: unknown): x is { toMimeBundle(): unknown } {
  return (typeof x === 'object' || typeof x === 'function') && x !== null && typeof (x as any).toMimeBundle === 'function';
}

/** A plain object of mime type -> value with a text/plain fallback, e.g. what a chart view resolves to. */
function isPlainBundle(x: unknown): x is Bundle {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || Object.getPrototypeOf(x) !== Object.prototype) return false;
  const keys = Object.keys(x);
  return typeof (x as Bundle)['text/plain'] === 'string' && keys.length > 1 && keys.every((k) => /^[a-z]+\/[\w.+-]+$/.test(k));
}

/**
 * The bundle for a cell's last value. `awaitFn` lets the caller make the wait interruptible, and
 * `call` the synchronous part of `toMimeBundle()` (user code that may loop for ever).
 */
export async function valueToBundle(
  value: unknown,
  awaitFn: <T>(p: PromiseLike<T>) => Promise<T> = (p) => Promise.resolve(p),
  call: <T>(f: () => T) => T = (f) => f(),
): Promise<Bundle> {
  if (hasMimeBundle(value)) {
    const raw = await awaitFn(Promise.resolve(call(() => value.toMimeBundle())));
    return normalizeBundle(raw, () => inspectValue(value));
  }
  if (isPlainBundle(value)) return normalizeBundle(value, () => inspectValue(value));
  return { 'text/plain': inspectValue(value) };
}

/**
 * Output metadata for a bundle: a chart's PNG is drawn at 2x (or 1x for photos), so without a
 * size GitHub and classic Notebook show it at double size. The SVG in the same bundle is the
 * same picture at its CSS size, so the PNG gets that width and height.
 */
export function bundleMetadata(data: Bundle): Record<string, unknown> {
  const svg = data['image/svg+xml'];
  if (typeof data['image/png'] !== 'string' || typeof svg !== 'string') return {};
  const root = /<svg\b[^>]*>/.exec(svg)?.[0];
  const width = root && /\swidth="([\d.]+)"/.exec(root);
  const height = root && /\sheight="([\d.]+)"/.exec(root);
  if (!width || !height) return {};
  return { 'image/png': { width: Math.round(Number(width[1])), height: Math.round(Number(height[1])) } };
}
