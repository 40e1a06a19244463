// Tensor-aware views: each returns a Promise of a MimeBundle (Vega-Lite v5 + SVG + PNG + text).
// As the last value of a notebook cell, the kernel awaits and displays it.
import type { Tensor } from '../engine/tf';
import type { Trace } from '../hooks/trace';
import type { ActivationCache } from '../hooks/activation-cache';
import type { MimeBundle } from '../engine/mime';
import { MAX_CHART_WIDTH, toBundle } from './render';
import { gridRange, gridToPngUrl, toMosaic, type Colormap, type Grid } from './heatmap';
import { classProbabilitiesSpec, featureMapGridSpec, heatmapSpec, histogramSpec, tableSpec, traceFilmstripSpec, traceStepperSpec, type StepperRow } from './specs';

const fmt = (v: number) => (v !== 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3) ? v.toExponential(2) : Number(v.toFixed(3)).toString());
const shapeText = (s: number[] | null) => (s ? `[${s.join(', ')}]` : '—');

/** Values of batch item 0 (or the whole tensor when `hasBatch` is false) and their shape. */
function firstItem(t: Tensor, hasBatch = true): { values: Float32Array; shape: number[] } {
  const shape = hasBatch ? t.shape.slice(1) : t.shape.slice();
  const size = shape.reduce((a, b) => a * b, 1);
  const all = t.dataSync();
  return { values: Float32Array.from(all.subarray(0, size)), shape };
}

/** Pad a grid with NaN (white) to a square, so images keep their aspect in a square frame. */
function padSquare(grid: Grid): Grid {
  const side = Math.max(grid.height, grid.width);
  if (grid.height === side && grid.width === side) return grid;
  const values = new Float32Array(side * side).fill(NaN);
  for (let y = 0; y < grid.height; y++) values.set(grid.values.subarray(y * grid.width, (y + 1) * grid.width), y * side);
  return { values, height: side, width: side };
}

/** A 2-D image from [h, w], [1, h, w], [h, w, 1] or [1, h, w, 1]. */
function asImage(t: Tensor): Grid {
  const dims = t.shape.filter((d, i) => !(d === 1 && (i === 0 || i === t.shape.length - 1)));
  if (dims.length !== 2) throw new Error(`showImage expects one grey image shaped [h, w], [1, h, w] or [1, h, w, 1]; got [${t.shape}].`);
  return { values: Float32Array.from(t.dataSync()), height: dims[0], width: dims[1] };
}

/** A grey image (pixels 0..255 or any range), with its colour legend. */
export async function showImage(t: Tensor, title = 'image'): Promise<MimeBundle> {
  const grid = asImage(t);
  const [min, max] = gridRange(grid);
  const range: [number, number] = min >= 0 && max > 1 && max <= 255 ? [0, 255] : [min, max];
  const url = gridToPngUrl(padSquare(grid), { colormap: 'grey', range });
  return toBundle(heatmapSpec({ url, range, title, colormap: 'grey', size: 224, legendTitle: 'pixel' }), `${title}: [${t.shape}] values ${fmt(min)}..${fmt(max)}`);
}

/** Every channel of a conv activation `[1, h, w, ch]` (or `[h, w, ch]`) on one colour scale. */
export async function featureMaps(t: Tensor, title = 'feature maps', maxChannels = 32): Promise<MimeBundle> {
  const { values, shape } = firstItem(t, t.rank === 4);
  if (shape.length !== 3) throw new Error(`featureMaps expects [batch, h, w, ch] or [h, w, ch]; got [${t.shape}].`);
  const [h, w, ch] = shape;
  const shown = Math.min(ch, maxChannels);
  const all: Grid = { values, height: h * w, width: ch };
  const range = gridRange(all);
  const urls = Array.from({ length: shown }, (_, c) => {
    const map = new Float32Array(h * w);
    for (let i = 0; i < h * w; i++) map[i] = values[i * ch + c];
    return gridToPngUrl({ values: map, height: h, width: w }, { colormap: 'viridis', range });
  });
  const columns = shown <= 8 ? shown : 8;
  const text = `${title}: ${ch} maps of ${h}x${w}, values ${fmt(range[0])}..${fmt(range[1])}`;
  return toBundle(featureMapGridSpec({ urls, range, title: shown < ch ? `${title} (first ${shown} of ${ch})` : title, columns, size: shown <= 8 ? 96 : 72 }), text);
}

/** Histogram of all values of a tensor (binned here, 40 bins). */
export async function activationHistogram(t: Tensor, title = 'activation histogram', binCount = 40): Promise<MimeBundle> {
  const values = Float32Array.from(t.dataSync());
  const [min, max] = gridRange({ values, height: 1, width: values.length });
  const width = (max - min) / binCount;
  const counts = new Array(binCount).fill(0);
  for (const v of values) counts[Math.min(binCount - 1, Math.floor((v - min) / width))]++;
  const bins = counts.map((count, i) => ({ x0: min + i * width, x1: min + (i + 1) * width, count }));
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return toBundle(histogramSpec({ bins, title }), `${title}: ${values.length} values, min ${fmt(min)}, max ${fmt(max)}, mean ${fmt(mean)}`);
}

/** Class probabilities as bars; the top class (or `highlight`) stands out. */
export async function classProbabilities(labels: string[], probs: number[] | Tensor, title = 'class probabilities', highlight?: string): Promise<MimeBundle> {
  const p = Array.isArray(probs) ? probs : Array.from(firstItem(probs, probs.rank === 2).values);
  if (p.length !== labels.length) throw new Error(`classProbabilities: ${labels.length} labels but ${p.length} probabilities.`);
  const text = labels.map((l, i) => `${l}: ${(p[i] * 100).toFixed(1)}%`).join('  ');
  return toBundle(classProbabilitiesSpec({ labels, probs: p, title, highlight }), `${title}\n${text}`);
}

/** A model's layer table: hook name, operation, output shape for one input, parameters. */
/** One row of a model's layer table. */
export interface SummaryRow {
  name: string;
  kind: string;
  outputShape: number[];
  params: number;
}

export async function modelSummary(rows: SummaryRow[], title: string): Promise<MimeBundle> {
  const table = rows.map((r) => ({ name: r.name, kind: r.kind, shape: shapeText(r.outputShape), params: r.params ? r.params.toLocaleString('en-US') : '' }));
  const text = [title, ...table.map((r) => `  ${r.name.padEnd(22)} ${r.kind.padEnd(10)} ${r.shape.padEnd(16)} ${r.params}`)].join('\n');
  const spec = tableSpec({
    title,
    rows: table,
    columns: [
      { field: 'name', title: 'hook point', width: 170 },
      { field: 'kind', title: 'op', width: 80 },
      { field: 'shape', title: 'output shape', width: 120 },
      { field: 'params', title: 'params', width: 60, align: 'right' },
    ],
  });
  return toBundle(spec, text);
}

/** An activation cache: names and shapes of what it holds. */
export async function cacheTable(cache: ActivationCache): Promise<MimeBundle> {
  const rows = cache.names.map((name) => ({ name, shape: shapeText(cache.get(name).shape), dtype: cache.get(name).dtype }));
  const spec = tableSpec({
    title: `ActivationCache of ${cache.model}: ${cache.size} activations`,
    rows,
    columns: [
      { field: 'name', title: 'hook point', width: 190 },
      { field: 'shape', title: 'shape', width: 130 },
      { field: 'dtype', title: 'dtype', width: 70 },
    ],
  });
  return toBundle(spec, cache.toString());
}

/** How the stepper colours its steps: each on its own range, or all on one (normalisation and scaling then show). */
export interface TraceStepperOptions {
  colorScale?: 'per step' | 'shared';
}

/** The stepper (interactive Vega-Lite) with a filmstrip of all steps as its still picture. */
export async function traceStepper(trace: Trace, options: TraceStepperOptions = {}): Promise<MimeBundle> {
  const n = trace.steps.length;
  const shared = options.colorScale === 'shared';
  if (options.colorScale !== undefined && !shared && options.colorScale !== 'per step') throw new Error(`traceStepper: colorScale must be 'per step' or 'shared'; got ${JSON.stringify(options.colorScale)}.`);
  const items = trace.steps.map((s) => (s.tensor ? firstItem(s.tensor) : null));
  let range: [number, number] | undefined;
  if (shared) {
    const ranges = items.filter((x) => x !== null).map((x) => gridRange({ values: x!.values, height: 1, width: x!.values.length }));
    range = [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))];
  }
  const rows = trace.steps.map((s, k) => {
    let url = gridToPngUrl({ values: new Float32Array([NaN]), height: 1, width: 1 }, { colormap: 'grey', cell: 1 });
    let shown = '';
    let cells: StepperRow['cells'];
    const item = items[k];
    if (item) {
      const { values, shape } = item;
      const image = shape.length === 3 && shape[2] === 1;
      const mosaic = toMosaic(values, shape);
      const colormap: Colormap = !shared && s.name.startsWith('pre.') && image ? 'grey' : 'viridis'; // one scale, one colormap
      url = gridToPngUrl(padSquare(mosaic), { colormap, range });
      if (mosaic.shown < mosaic.channels) shown = `  (first ${mosaic.shown} of ${mosaic.channels} channels)`;
      else if (shape.length === 3 && shape[2] > 1) shown = `  (${shape[2]} channels tiled)`;
      // A strip of named entries (logits, probabilities, top-k): each cell labelled with its class and value.
      if (s.labels && shape.length === 1 && shape[0] === s.labels.length && mosaic.height === 1) {
        const probabilities = s.kind === 'softmax' || s.kind === 'topk';
        cells = s.labels.map((label, j) => ({ label, value: probabilities ? `${(100 * values[j]).toFixed(0)}%` : values[j].toFixed(Math.abs(values[j]) >= 100 ? 0 : 1) }));
      }
    }
    const { min, max, mean, std } = s.stats;
    return {
      i: s.index,
      name: s.name,
      shape: shapeText(s.outputShape),
      title: `step ${s.index} of ${n - 1}: ${s.name}  (${s.kind})`,
      shapes: `in ${shapeText(s.inputShape)}  →  out ${shapeText(s.outputShape)}    ${s.shapeDoc}${shown}`,
      stats: `min ${fmt(min)}   max ${fmt(max)}   mean ${fmt(mean)}   std ${fmt(std)}${s.note ? `    ${s.note}` : ''}`,
      url,
      cells,
    };
  });
  const title = `Forward pass of ${trace.model}: ${n} steps`;
  const scale = range ? { range } : undefined;
  const stepperRows: StepperRow[] = rows.map(({ i, title: t, shapes, stats, url, cells }) => ({ i, title: t, shapes, stats, url, cells }));
  return toBundle(traceStepperSpec(stepperRows, title, scale), trace.toString(), traceFilmstripSpec(rows, title, 5, scale));
}


/** A line chart of several series over a numeric x (e.g. accuracy against sparsity). */
/** A horizontal yardstick drawn dashed across a line chart (a baseline's score, chance), labelled at its right end. */
export interface ReferenceLine {
  label: string;
  y: number;
}

export async function lineChart(rows: { series: string; x: number; y: number }[], options: { title: string; xTitle: string; yTitle: string; yFormat?: string; xFormat?: string; xLog?: boolean; yLog?: boolean; references?: ReferenceLine[] }): Promise<MimeBundle> {
  // Integer x (blocks, layers, epochs): integer ticks, never 0.2, 0.4 ...
  const integerX = rows.length > 0 && rows.every((r) => Number.isInteger(r.x));
  // Values spanning more than 100x read on a log axis (latency against batch size, parameter counts).
  const spans = (values: number[]) => values.length > 1 && values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) > 100;
  const xLog = options.xLog ?? spans(rows.map((r) => r.x));
  const yLog = options.yLog ?? (xLog && spans(rows.map((r) => r.y))); // a power law (latency per image against batch size): both axes
  const lines = {
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: options.xTitle + (xLog ? ' (log scale)' : ''), axis: { ...(integerX && !xLog ? { tickMinStep: 1, format: 'd' } : {}), ...(options.xFormat ? { format: options.xFormat } : {}) }, ...(xLog ? { scale: { type: 'log' } } : {}) },
      y: { field: 'y', type: 'quantitative', title: options.yTitle + (yLog ? ' (log scale)' : ''), axis: options.yFormat ? { format: options.yFormat } : {}, scale: yLog ? { type: 'log' } : { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 320 } },
      tooltip: [{ field: 'series' }, { field: 'x' }, { field: 'y', format: '.4f' }],
    },
  };
  const references = options.references ?? [];
  const yardsticks = references.length
    ? [
        { data: { values: references }, mark: { type: 'rule', strokeDash: [6, 4], color: '#555' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        // The label sits just above its line at the right edge of the plot, inside it.
        { data: { values: references }, mark: { type: 'text', align: 'right', baseline: 'bottom', dy: -2, fontSize: 10, color: '#333' }, encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 480 }, text: { field: 'label' } } },
      ]
    : [];
  const spec = { title: options.title, width: 480, height: 240, layer: [lines, ...yardsticks] };
  const series = [...new Set(rows.map((r) => r.series))];
  const text = series.map((s) => `${s}: ${rows.filter((r) => r.series === s).map((r) => `(${r.x}, ${Number(r.y.toFixed(4))})`).join(' ')}`).join('\n');
  const referenceText = references.map((r) => `${r.label}: ${Number(r.y.toFixed(4))}`).join('\n');
  return toBundle(spec, `${options.title}\n${text}${referenceText ? `\n${referenceText}` : ''}`);
}

/** Horizontal bars, one per labelled value (e.g. milliseconds per engine), the value printed beside each. */
export async function barChart(rows: { label: string; value: number }[], options: { title: string; xTitle: string; format?: string; xLog?: boolean }): Promise<MimeBundle> {
  const format = options.format ?? ',.1f';
  // Values spanning more than 100x (parameter counts, a word against a photo) read on a log axis.
  const values = rows.map((r) => r.value);
  const xLog = options.xLog ?? (values.length > 1 && values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) > 100);
  // The plot gives way to long labels and values so the whole chart stays in the column (8.8 px a character: Vega's headless estimate).
  const labelPx = Math.min(400, 8.8 * Math.max(0, ...rows.map((r) => r.label.length)));
  const valuePx = 8.8 * Math.max(0, ...values.map((v) => Math.round(v).toLocaleString('en-US').length + 2));
  const spec = {
    title: options.title,
    width: Math.round(Math.max(200, Math.min(420, MAX_CHART_WIDTH - 50 - labelPx - valuePx))),
    height: { step: 26 },
    data: { values: rows },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 400 } },
      x: xLog
        ? { field: 'value', type: 'quantitative', title: `${options.xTitle} (log scale)`, scale: { type: 'log' }, stack: null } // a log scale cannot stack
        : { field: 'value', type: 'quantitative', title: options.xTitle, scale: { zero: true } },
    },
    layer: [
      { mark: { type: 'bar', color: '#0072B2' }, encoding: { tooltip: [{ field: 'label' }, { field: 'value', format }] } },
      { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { text: { field: 'value', format } } },
    ],
  };
  return toBundle(spec, `${options.title}\n${rows.map((r) => `${r.label}: ${Number(r.value.toFixed(3))}`).join('\n')}`);
}

/**
 * Teacher and student probabilities under a temperature slider: one Vega-Lite chart whose `T`
 * param (a range input) re-applies softmax(logits / T) in the page.
 */
export async function temperatureView(labels: string[], logits: Record<string, number[]>, title = 'probabilities at temperature T'): Promise<MimeBundle> {
  const rows = Object.entries(logits).flatMap(([model, z]) => z.map((logit, i) => ({ model, label: labels[i], logit })));
  const models = Object.keys(logits);
  const spec = (T: number) => ({
    title: { text: { expr: `${JSON.stringify(`${title} (T = `)} + format(T, '~g') + ')'` }, subtitle: 'drag T: higher temperatures flatten the distribution and reveal what the model thinks is similar' },
    params: [{ name: 'T', value: T, bind: { input: 'range', min: 0.5, max: 10, step: 0.5, name: 'temperature T ' } }],
    width: { step: 14 },
    height: 220,
    data: { values: rows },
    transform: [
      { calculate: 'exp(datum.logit / T)', as: 'e' },
      { joinaggregate: [{ op: 'sum', field: 'e', as: 'total' }], groupby: ['model'] },
      { calculate: 'datum.e / datum.total', as: 'p' },
    ],
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'label', type: 'nominal', title: 'class', sort: labels, axis: { labelAngle: 0 } },
      xOffset: { field: 'model', type: 'nominal', sort: models },
      y: { field: 'p', type: 'quantitative', title: 'probability', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
      color: { field: 'model', type: 'nominal', sort: models, title: null, legend: { labelLimit: 400, orient: 'bottom' } },
      tooltip: [{ field: 'model' }, { field: 'label' }, { field: 'p', format: '.3f' }, { field: 'logit', format: '.2f' }],
    },
  });
  const softmax = (z: number[], T: number) => z.map((v) => Math.exp(v / T)).map((e, _, all) => e / all.reduce((a, b) => a + b, 0));
  const text = models.map((m) => `${m}: T=1 [${softmax(logits[m], 1).map((p) => p.toFixed(3)).join(' ')}]  T=4 [${softmax(logits[m], 4).map((p) => p.toFixed(3)).join(' ')}]`).join('\n');
  // The still picture shows T = 4, where the soft targets are visible.
  return toBundle(spec(1), `${title}\n${text}`, spec(4));
}

/**
 * Roofline: achieved GFLOP/s of each engine's matmul against arithmetic intensity (FLOPs per
 * byte), under the machine's roofs: memory bandwidth x intensity, and the best measured compute.
 */
export async function rooflineView(points: { engine: string; size: number; gflops: number; intensity: number }[], peakGflops: number, bandwidthGBs: number, title = 'Roofline: matrix multiply on this machine'): Promise<MimeBundle> {
  const xs = points.map((p) => p.intensity);
  const [lo, hi] = [Math.min(...xs) / 2, Math.max(...xs) * 2];
  const roof = Array.from({ length: 40 }, (_, i) => {
    const x = lo * (hi / lo) ** (i / 39);
    return { x, y: Math.min(peakGflops, bandwidthGBs * x) };
  });
  const spec = {
    title: { text: title, subtitle: `roof: min(${peakGflops.toFixed(0)} GFLOP/s best measured, ${bandwidthGBs.toFixed(1)} GB/s x intensity); labels: matrix size n` },
    width: 480,
    height: 280,
    layer: [
      { data: { values: roof }, mark: { type: 'line', color: '#999', strokeDash: [6, 3] }, encoding: { x: { field: 'x', type: 'quantitative', scale: { type: 'log' }, title: 'arithmetic intensity (FLOPs per byte)' }, y: { field: 'y', type: 'quantitative', scale: { type: 'log' }, title: 'GFLOP/s' } } },
      {
        data: { values: points },
        layer: [
          { mark: { type: 'line', point: true }, encoding: { x: { field: 'intensity', type: 'quantitative' }, y: { field: 'gflops', type: 'quantitative' }, color: { field: 'engine', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 300 } }, tooltip: [{ field: 'engine' }, { field: 'size' }, { field: 'gflops', format: '.1f' }] } },
          { mark: { type: 'text', dy: -9, fontSize: 9 }, encoding: { x: { field: 'intensity', type: 'quantitative' }, y: { field: 'gflops', type: 'quantitative' }, text: { field: 'size' }, color: { field: 'engine', type: 'nominal' } } },
        ],
      },
    ],
  };
  const text = points.map((p) => `${p.engine.padEnd(26)} n=${String(p.size).padStart(4)}  ${p.gflops.toFixed(1).padStart(6)} GFLOP/s (${((100 * p.gflops) / peakGflops).toFixed(0)}% of the best)`).join('\n');
  return toBundle(spec, `${title}\n${text}`);
}

/** Weight memory of models at each precision, on a log scale (bars grouped by model). */
export async function modelMemoryView(models: { name: string; bytes: Record<string, number> }[], title = 'Weight memory by precision'): Promise<MimeBundle> {
  const rows = models.flatMap((m) => Object.entries(m.bytes).map(([precision, bytes]) => ({ model: m.name, precision, gib: bytes / 2 ** 30, bytes })));
  const precisions = Object.keys(models[0]?.bytes ?? {});
  const gibs = rows.map((r) => r.gib);
  const yScale = { type: 'log', domain: [10 ** Math.floor(Math.log10(Math.min(...gibs))), 10 ** Math.ceil(Math.log10(Math.max(...gibs, 80)))] };
  const spec = {
    title: { text: title, subtitle: 'GiB, log scale; a 16 GiB laptop and an 80 GiB GPU for scale' },
    width: { step: 11 },
    height: 260,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'model', type: 'nominal', sort: models.map((m) => m.name), title: null, axis: { labelAngle: -30 } },
          xOffset: { field: 'precision', type: 'nominal', sort: precisions },
          y: { field: 'gib', type: 'quantitative', scale: yScale, title: 'GiB' },
          y2: { datum: yScale.domain[0] }, // bars on a log scale need an explicit floor (log 0 is -infinity)
          color: { field: 'precision', type: 'nominal', sort: precisions, title: null },
          tooltip: [{ field: 'model' }, { field: 'precision' }, { field: 'gib', format: '.3f' }],
        },
      },
      {
        data: { values: [{ gib: 16, label: '16 GiB laptop' }, { gib: 80, label: '80 GiB GPU' }] },
        layer: [
          { mark: { type: 'rule', color: '#D55E00', strokeDash: [4, 3] }, encoding: { y: { field: 'gib', type: 'quantitative', scale: yScale } } },
          { mark: { type: 'text', align: 'left', x: 2, dy: -6, fontSize: 10, color: '#D55E00' }, encoding: { y: { field: 'gib', type: 'quantitative', scale: yScale }, text: { field: 'label' } } },
        ],
      },
    ],
  };
  const text = models.map((m) => `${m.name.padEnd(14)} ${Object.entries(m.bytes).map(([p, b]) => `${p} ${(b / 2 ** 30).toFixed(3)} GiB`).join('  ')}`).join('\n');
  return toBundle(spec, `${title}\n${text}`);
}
