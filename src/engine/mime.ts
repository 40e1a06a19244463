/**
 * A Jupyter MIME bundle: one output, several representations; the frontend picks the richest
 * it can render. Every chart here carries Vega-Lite v5, SVG, PNG (base64) and plain text.
 */
export type MimeBundle = {
  'text/plain': string;
  'application/vnd.vegalite.v5+json'?: Record<string, unknown>;
  'image/svg+xml'?: string;
  /** Base64-encoded PNG bytes, as Jupyter stores them. */
  'image/png'?: string;
} & Record<string, unknown>;

/** Anything that can show itself in a notebook when it is a cell's last value. */
export interface HasMimeBundle {
  toMimeBundle(): MimeBundle | Promise<MimeBundle>;
}

export function hasMimeBundle(x: unknown): x is HasMimeBundle {
  return typeof x === 'object' && x !== null && typeof (x as HasMimeBundle).toMimeBundle === 'function';
}

/** What the Inference Lab kernel installs on globalThis under KERNEL_BRIDGE so the library can display. */
export interface KernelBridge {
  display(bundle: MimeBundle, options: { displayId?: string; update?: boolean }): void;
}

/** The well-known key of the kernel bridge on globalThis (Symbol.for: same across module copies). */
export const KERNEL_BRIDGE = Symbol.for('inference-lab.kernel');

export function kernelBridge(): KernelBridge | undefined {
  return (globalThis as Record<symbol, KernelBridge | undefined>)[KERNEL_BRIDGE];
}
