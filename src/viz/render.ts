// Vega-Lite spec -> Vega -> SVG (headless, in Node) -> PNG (resvg, prebuilt binary, no network),
// and the four-part MIME bundle every chart is displayed as.
import type { MimeBundle } from '../engine/mime';

import * as path from 'path';

/** The font every chart uses: DejaVu Sans, from the npm package dejavu-fonts-ttf. */
export const CHART_FONT = 'DejaVu Sans';

/** DejaVu faces the charts and diagrams use (regular, bold, italic; sans and mono). */
const FONT_FACES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf', 'DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf'];

/**
 * The font files PNGs are drawn with, loaded by file from the npm package (system fonts are not
 * read), so a chart's PNG is the same on every machine, with or without fonts installed.
 */
export function chartFontFiles(): string[] {
  const dir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  return FONT_FACES.map((f) => path.join(dir, f));
}

/** Vega-Lite config shared by all charts: one font, quiet axes, room for a notebook column. */
export const CHART_CONFIG = {
  font: CHART_FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: false },
  header: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 13, anchor: 'start', offset: 8 },
  legend: { labelFontSize: 11, titleFontSize: 11 },
} as const;

export const VEGA_LITE_V5_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

// Typed loosely: their types are ESM-only and this module compiles to CommonJS.
interface VegaModule {
  View: new (runtime: unknown, options: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
  parse(spec: unknown): unknown;
}
interface VegaLiteModule {
  compile(spec: unknown): { spec: unknown };
}
let modules: Promise<[VegaModule, VegaLiteModule]> | null = null;

/** vega and vega-lite are ESM-only; a real dynamic import works from this CommonJS module. */
function loadVega(): Promise<[VegaModule, VegaLiteModule]> {
  modules ??= Promise.all([import('vega') as Promise<unknown>, import('vega-lite') as Promise<unknown>]) as Promise<[VegaModule, VegaLiteModule]>;
  return modules;
}

/** A spec with the v5 schema and the shared config filled in (the caller's config wins). */
export function withDefaults(spec: Record<string, unknown>): Record<string, unknown> {
  const config = { ...CHART_CONFIG, ...((spec.config as object) ?? {}) };
  return { $schema: VEGA_LITE_V5_SCHEMA, ...spec, config };
}

/** Render a Vega-Lite spec to an SVG string, as the browser would show it at its initial state. */
export async function renderSvg(vlSpec: Record<string, unknown>): Promise<string> {
  const [vega, vl] = await loadVega();
  const compiled = vl.compile(withDefaults(vlSpec)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterise an SVG at `scale` (2 = crisp on high-DPI screens). */
export function svgToPng(svg: string, scale = 2): Buffer {
  // Loaded lazily: a native addon, only needed when a picture is made.
  const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: {
      loadSystemFonts: false,
      fontFiles: chartFontFiles(),
      defaultFontFamily: CHART_FONT,
      sansSerifFamily: CHART_FONT,
      serifFamily: CHART_FONT,
      monospaceFamily: 'DejaVu Sans Mono',
    },
  });
  return resvg.render().asPng();
}

/**
 * The bundle a chart is displayed as: Vega-Lite v5 (interactive in JupyterLab / VS Code), SVG
 * and PNG (classic Notebook, GitHub), and text. `staticSpec` draws the SVG/PNG when the
 * interactive spec's initial state is not the best still picture (e.g. a slider).
 */
export async function toBundle(vlSpec: Record<string, unknown>, text: string, staticSpec?: Record<string, unknown>, options: { pngScale?: number } = {}): Promise<MimeBundle> {
  const spec = withDefaults(vlSpec);
  const svg = await renderSvg(staticSpec ?? spec);
  return {
    'application/vnd.vegalite.v5+json': spec,
    'image/svg+xml': svg,
    'image/png': svgToPng(svg, options.pngScale).toString('base64'), // photos and tall panels pass 1: a 2x PNG of a photo weighs megabytes in a committed notebook
    'text/plain': text,
  };
}
