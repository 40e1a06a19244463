/** The checks every chart in the tests passes: exactly the four MIME types, a Vega-Lite v5 spec, real SVG and PNG. */
import { expect } from 'vitest';
import { PNG } from 'pngjs';
import type { MimeBundle } from '../../src/index';

export const FOUR_MIME_TYPES = ['application/vnd.vegalite.v5+json', 'image/png', 'image/svg+xml', 'text/plain'];

export function checkBundle(b: MimeBundle): { spec: Record<string, any>; width: number; height: number } {
  expect(Object.keys(b).sort()).toEqual(FOUR_MIME_TYPES); // exactly the four, no HTML
  const spec = b['application/vnd.vegalite.v5+json']! as Record<string, any>;
  expect(spec.$schema).toBe('https://vega.github.io/schema/vega-lite/v5.json');
  expect(b['image/svg+xml']).toMatch(/^<svg /);
  const png = PNG.sync.read(Buffer.from(b['image/png']!, 'base64')); // throws unless a real PNG
  expect(png.width).toBeGreaterThan(100);
  return { spec, width: png.width, height: png.height };
}
