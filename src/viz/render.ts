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

/** Chart ink: dark text on the white card every chart sits on. */
export const INK = '#111111';
const MUTED = '#333333';

/**
 * The category palette: Okabe & Ito (2008), distinguishable with the common colour-vision
 * deficiencies; blue and orange first, so two series never differ by red vs green.
 */
export const CATEGORY_PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/** The widest a chart may be, in CSS pixels: a JupyterLab notebook column at a common window size. */
export const MAX_CHART_WIDTH = 900;

/**
 * Vega-Lite config shared by all charts: one font, quiet axes, and a white card with dark text
 * whatever the theme. JupyterLab's dark mode hands Vega its dark theme (light text); the
 * background and colours set here win over it, so every chart reads the same in both themes.
 */
export const CHART_CONFIG = {
  font: CHART_FONT,
  background: '#ffffff',
  padding: 8,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: false, labelColor: INK, titleColor: INK, domainColor: MUTED, tickColor: MUTED, gridColor: '#dddddd' },
  header: { labelFontSize: 11, titleFontSize: 12, labelColor: INK, titleColor: INK },
  title: { fontSize: 13, subtitleFontSize: 11, anchor: 'start', offset: 8, color: INK, subtitleColor: MUTED },
  legend: { labelFontSize: 11, titleFontSize: 11, labelColor: INK, titleColor: INK, labelLimit: 260 },
  text: { color: INK },
  range: { category: CATEGORY_PALETTE },
} as const;

export const VEGA_LITE_V5_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

// Typed loosely: their types are ESM-only and this module compiles to CommonJS.
interface VegaLogger {
  level(): number;
  warn(...args: unknown[]): VegaLogger;
}
interface VegaModule {
  View: new (runtime: unknown, options: { renderer: 'none'; logger?: VegaLogger }) => { toSVG(): Promise<string>; runAsync(): Promise<unknown>; finalize(): void };
  parse(spec: unknown, config?: unknown, options?: { logger?: VegaLogger }): unknown;
  logger(level: number, method?: string, handler?: (method: string, level: number, input: ArrayLike<unknown>) => void): VegaLogger;
  Warn: number;
}
interface VegaLiteModule {
  compile(spec: unknown, options?: { logger?: VegaLogger }): { spec: unknown };
}
let modules: Promise<[VegaModule, VegaLiteModule]> | null = null;

/** vega and vega-lite are ESM-only; a real dynamic import works from this CommonJS module. */
function loadVega(): Promise<[VegaModule, VegaLiteModule]> {
  modules ??= Promise.all([import('vega') as Promise<unknown>, import('vega-lite') as Promise<unknown>]) as Promise<[VegaModule, VegaLiteModule]>;
  return modules;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A spec with the v5 schema and the shared config filled in (the caller's config wins, key by key). */
export function withDefaults(spec: Record<string, unknown>): Record<string, unknown> {
  const own = (spec.config as Record<string, unknown>) ?? {};
  const config: Record<string, unknown> = { ...CHART_CONFIG };
  for (const [k, v] of Object.entries(own)) config[k] = isObject(v) && isObject(config[k]) ? { ...(config[k] as object), ...v } : v;
  return { $schema: VEGA_LITE_V5_SCHEMA, ...wrapTitles(spec), config };
}

/**
 * Titles do not wrap in Vega: a long subtitle alone made charts 1,500 px wide. Break title and
 * subtitle text into lines that fit the column (Vega draws an array as lines). Vega without a
 * canvas estimates 0.8 x font size per character, so the limits keep even that estimate inside.
 */
const TITLE_CHARS = 64;
const SUBTITLE_CHARS = 84;

function breakLines(text: unknown, max: number): unknown {
  if (Array.isArray(text)) return text.flatMap((t) => (typeof t === 'string' ? (breakLines(t, max) as string[]) : [t]));
  if (typeof text !== 'string' || text.length <= max) return Array.isArray(text) ? text : text;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function wrapTitles(spec: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec };
  if (typeof out.title === 'string') out.title = { text: breakLines(out.title, TITLE_CHARS) };
  else if (isObject(out.title)) {
    const t = { ...out.title };
    if (typeof t.text === 'string' || Array.isArray(t.text)) t.text = breakLines(t.text, TITLE_CHARS);
    if (typeof t.subtitle === 'string' || Array.isArray(t.subtitle)) t.subtitle = breakLines(t.subtitle, SUBTITLE_CHARS);
    out.title = t;
  }
  for (const key of ['vconcat', 'hconcat', 'concat', 'layer']) {
    if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map((v) => (isObject(v) ? wrapTitles(v) : v));
  }
  return out;
}

/** What compiling and drawing a spec said: the SVG and every warning Vega-Lite and Vega logged. */
export interface RenderResult {
  svg: string;
  warnings: string[];
}

/**
 * Render a Vega-Lite spec to an SVG string, as the browser would show it at its initial state,
 * collecting the warnings Vega-Lite (compile) and Vega (parse, dataflow, scales) log on the way:
 * the same ones a browser console would show.
 */
export async function renderChecked(vlSpec: Record<string, unknown>): Promise<RenderResult> {
  const [vega, vl] = await loadVega();
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, _level, input: ArrayLike<unknown>) => {
    warnings.push(Array.from(input).map((x) => (x instanceof Error ? x.message : String(x))).join(' '));
  });
  const compiled = vl.compile(withDefaults(vlSpec), { logger }).spec;
  const view = new vega.View(vega.parse(compiled, undefined, { logger }), { renderer: 'none', logger });
  try {
    return { svg: await view.toSVG(), warnings };
  } finally {
    view.finalize();
  }
}

/** Render a Vega-Lite spec to an SVG string, as the browser would show it at its initial state. */
export async function renderSvg(vlSpec: Record<string, unknown>): Promise<string> {
  return (await renderChecked(vlSpec)).svg;
}

/** The CSS size an SVG declares (its root width / height attributes). */
export function svgSize(svg: string): { width: number; height: number } | null {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0];
  const width = root && /\swidth="([\d.]+)"/.exec(root);
  const height = root && /\sheight="([\d.]+)"/.exec(root);
  return width && height ? { width: Number(width[1]), height: Number(height[1]) } : null;
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

type Spec = Record<string, unknown>;

/** A row that must stay a row (a table's columns): wrapToFit leaves an hconcat with this description alone. */
export const KEEP_ROW = 'keep-row';

/** Every `hconcat` in a spec with more than one view, outermost first. */
function hconcats(spec: unknown, out: Spec[] = []): Spec[] {
  if (Array.isArray(spec)) spec.forEach((x) => hconcats(x, out));
  else if (isObject(spec)) {
    if (Array.isArray(spec.hconcat) && spec.hconcat.length > 1 && spec.description !== KEEP_ROW) out.push(spec);
    for (const [k, v] of Object.entries(spec)) if (k !== 'data' && k !== 'datasets') hconcats(v, out);
  }
  return out;
}

/**
 * Wrap instead of widening: while the drawn chart is wider than MAX_CHART_WIDTH, turn its widest
 * row of side-by-side views (an `hconcat`) into a grid with one column fewer, until it fits or
 * every row is a single column. The spec is changed in place (a deep copy of the caller's).
 */
export async function wrapToFit(spec: Spec, draw: (s: Spec) => Promise<string> = renderSvg): Promise<{ spec: Spec; svg: string }> {
  let svg = await draw(spec);
  for (let guard = 0; guard < 12 && (svgSize(svg)?.width ?? 0) > MAX_CHART_WIDTH; guard++) {
    const rows = hconcats(spec);
    if (!rows.length) {
      // A grid already: one column fewer.
      const grid = [spec, ...gridsIn(spec)].find((g) => Array.isArray(g.concat) && typeof g.columns === 'number' && (g.columns as number) > 1);
      if (!grid) break;
      grid.columns = (grid.columns as number) - 1;
    } else {
      const row = rows[0];
      const views = row.hconcat as Spec[];
      delete row.hconcat;
      row.concat = views;
      row.columns = views.length - 1;
    }
    svg = await draw(spec);
  }
  return { spec, svg };
}

function gridsIn(spec: unknown, out: Spec[] = []): Spec[] {
  if (Array.isArray(spec)) spec.forEach((x) => gridsIn(x, out));
  else if (isObject(spec)) {
    if (Array.isArray(spec.concat) && typeof spec.columns === 'number') out.push(spec);
    for (const [k, v] of Object.entries(spec)) if (k !== 'data' && k !== 'datasets') gridsIn(v, out);
  }
  return out;
}

/**
 * The bundle a chart is displayed as: Vega-Lite v5 (interactive in JupyterLab / VS Code), SVG
 * and PNG (classic Notebook, GitHub), and text. `staticSpec` draws the SVG/PNG when the
 * interactive spec's initial state is not the best still picture (e.g. a slider). Side-by-side
 * views that would not fit a notebook column (MAX_CHART_WIDTH) are wrapped into a grid.
 */
export async function toBundle(vlSpec: Record<string, unknown>, text: string, staticSpec?: Record<string, unknown>, options: { pngScale?: number } = {}): Promise<MimeBundle> {
  const interactive = await wrapToFit(withDefaults(structuredClone(vlSpec)));
  const svg = staticSpec ? (await wrapToFit(withDefaults(structuredClone(staticSpec)))).svg : interactive.svg;
  return {
    'application/vnd.vegalite.v5+json': interactive.spec,
    'image/svg+xml': svg,
    'image/png': svgToPng(svg, options.pngScale).toString('base64'), // photos and tall panels pass 1: a 2x PNG of a photo weighs megabytes in a committed notebook
    'text/plain': text,
  };
}
