// Vega-Lite v5 spec builders. Plain data in, plain spec objects out: no tensors, no rendering.
// Heatmaps are PNG data URLs (see heatmap.ts) drawn with image marks.

import { KEEP_ROW } from './render';

type Spec = Record<string, unknown>;

/** A legend-only layer: invisible points that give the colour scale a legend. */
function colorLegendLayer(range: [number, number], scheme: string, reverse: boolean, title: string, length: number): Spec {
  return {
    data: { values: [{ v: range[0] }, { v: range[1] }] },
    mark: { type: 'point', opacity: 0 },
    encoding: {
      color: {
        field: 'v',
        type: 'quantitative',
        scale: { domain: range, scheme, reverse },
        legend: { title, gradientLength: length, orient: 'right' },
      },
    },
  };
}

function imageLayer(url: string, size: number): Spec {
  return {
    data: { values: [{ url }] },
    mark: { type: 'image', width: size, height: size, align: 'left', baseline: 'top', aspect: false, smooth: false },
    encoding: { url: { field: 'url', type: 'nominal' }, x: { value: 0 }, y: { value: 0 } },
  };
}

/** One square heatmap image (pre-rendered PNG) with a colour legend for its value range. */
export function heatmapSpec(options: { url: string; range: [number, number]; title: string; colormap: 'viridis' | 'grey'; size?: number; legendTitle?: string }): Spec {
  const size = options.size ?? 280;
  const grey = options.colormap === 'grey';
  return {
    title: options.title,
    width: size,
    height: size,
    layer: [imageLayer(options.url, size), colorLegendLayer(options.range, grey ? 'greys' : 'viridis', grey, options.legendTitle ?? 'value', size * 0.8)],
  };
}

/** Small multiples: one heatmap image per channel on a shared colour scale. */
export function featureMapGridSpec(options: { urls: string[]; range: [number, number]; title: string; columns?: number; size?: number }): Spec {
  const size = options.size ?? 96;
  return {
    title: { text: options.title, subtitle: `one colour scale for all maps: ${options.range[0].toFixed(2)} (dark) to ${options.range[1].toFixed(2)} (bright)` },
    columns: options.columns ?? 8,
    spacing: 8,
    concat: options.urls.map((url, c) => ({
      title: { text: `ch ${c}`, fontSize: 10, offset: 2 },
      width: size,
      height: size,
      ...imageLayer(url, size),
    })),
  };
}

/** Histogram from pre-binned counts (values are binned in JS so the spec stays small). */
export function histogramSpec(options: { bins: { x0: number; x1: number; count: number }[]; title: string; xTitle?: string }): Spec {
  return {
    title: options.title,
    width: 480,
    height: 180,
    data: { values: options.bins },
    mark: { type: 'rect', color: '#0072B2' },
    encoding: {
      x: { field: 'x0', type: 'quantitative', title: options.xTitle ?? 'value', scale: { zero: false } },
      x2: { field: 'x1' },
      y: { field: 'count', type: 'quantitative', title: 'count' },
      tooltip: [
        { field: 'x0', title: 'from', format: '.3f' },
        { field: 'x1', title: 'to', format: '.3f' },
        { field: 'count', title: 'count' },
      ],
    },
  };
}

/** Horizontal probability bars, the top (or highlighted) class in a stronger colour. */
export function classProbabilitiesSpec(options: { labels: string[]; probs: number[]; title: string; highlight?: string }): Spec {
  const top = options.highlight ?? options.labels[options.probs.indexOf(Math.max(...options.probs))];
  const values = options.labels.map((label, i) => ({ label, p: options.probs[i], top: label === top }));
  return {
    title: options.title,
    width: 420,
    height: { step: 20 },
    data: { values },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: 'class' },
      x: { field: 'p', type: 'quantitative', title: 'probability', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
    },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          color: { field: 'top', type: 'nominal', scale: { domain: [true, false], range: ['#D55E00', '#a6cee3'] }, legend: null },
          tooltip: [{ field: 'label' }, { field: 'p', format: '.4f' }],
        },
      },
      { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { text: { field: 'p', type: 'quantitative', format: '.1%' } } },
    ],
  };
}

/** A table drawn with text marks (no HTML anywhere in a bundle): one text column per field. */
export function tableSpec(options: { rows: Record<string, string | number>[]; columns: { field: string; title: string; width: number; align?: 'left' | 'right' }[]; title: string | { text: string; subtitle?: string }; spacing?: number }): Spec {
  const values = options.rows.map((r, i) => ({ ...r, _row: i }));
  return {
    title: options.title,
    data: { values },
    spacing: options.spacing ?? 14,
    description: KEEP_ROW, // a table's columns never wrap
    hconcat: options.columns.map((col) => ({
      width: col.width,
      height: { step: 18 },
      title: { text: col.title, fontSize: 11, fontWeight: 'bold', anchor: col.align === 'right' ? 'end' : 'start', offset: 4 },
      mark: { type: 'text', align: col.align ?? 'left', baseline: 'middle', fontSize: 11, limit: col.width }, // never into the next column
      encoding: {
        y: { field: '_row', type: 'ordinal', axis: null },
        x: { value: col.align === 'right' ? col.width - 4 : 0 },
        text: { field: col.field },
      },
    })),
  };
}

/** One step of a trace as the stepper shows it. */
export interface StepperRow {
  i: number;
  title: string;
  shapes: string;
  stats: string;
  url: string;
  /** A strip of named entries (logits, probabilities): each cell's class name and value, drawn under it. */
  cells?: { label: string; value: string }[];
}

/** One colour range for every step (instead of each step's own), with its legend. */
export interface SharedScale {
  range: [number, number];
}

/** Text under each cell of a labelled strip (the strip is the top row of a size x size square). */
function cellLabelRows(rows: StepperRow[], size: number, withValues: boolean): Record<string, unknown>[] {
  return rows.flatMap((r) =>
    (r.cells ?? []).map((c, j, all) => {
      const cell = size / all.length;
      const upright = Math.max(...all.map((x) => x.label.length)) * 6.5 <= cell; // long names (speech keywords) read upwards
      const roomForValues = withValues && Math.max(...all.map((x) => x.value.length)) * 8 <= cell; // 8 px a character at 10 px (Vega's headless estimate)
      return { i: r.i, x: (j + 0.5) * cell, y: cell + 4, label: c.label, value: roomForValues ? c.value : '', upright };
    }),
  );
}

function cellLabelLayers(fontSize: number, withValues: boolean): Spec[] {
  const text = (field: string, dy: number, angleUp: boolean) => ({
    mark: { type: 'text', fontSize, baseline: angleUp ? 'middle' : 'top', align: angleUp ? 'right' : 'center', dy, ...(angleUp ? { angle: 270 } : {}) },
    encoding: { x: { field: 'x', type: 'quantitative', scale: null }, y: { field: 'y', type: 'quantitative', scale: null }, text: { field } },
  });
  return [
    { transform: [{ filter: 'datum.upright' }], layer: [text('label', 0, false), ...(withValues ? [{ ...text('value', fontSize + 4, false), mark: { ...text('value', fontSize + 4, false).mark, fontSize: 10 } }] : [])] },
    { transform: [{ filter: '!datum.upright' }], layer: [text('label', 0, true)] },
  ];
}

/**
 * The step-through view: ONE chart whose `step` slider (a Vega-Lite param bound to a range input)
 * walks the steps in the page, with no kernel round-trip.
 */
export function traceStepperSpec(rows: StepperRow[], title: string, scale?: SharedScale): Spec {
  const size = 340;
  const atStep = [{ filter: 'datum.i == step' }];
  const labels = cellLabelRows(rows, size, true);
  return {
    title: {
      text: title,
      subtitle: scale
        ? `drag the step slider below the chart; one colour scale for every step: ${scale.range[0].toPrecision(3)} (dark) to ${scale.range[1].toPrecision(3)} (bright)`
        : 'drag the step slider below the chart; colours are scaled per step (dark = min, bright = max)',
    },
    params: [{ name: 'step', value: 0, bind: { input: 'range', min: 0, max: rows.length - 1, step: 1, name: 'step ' } }],
    datasets: { steps: rows.map(({ cells: _cells, ...r }) => r), ...(labels.length ? { cellLabels: labels } : {}) },
    spacing: 6,
    vconcat: [
      {
        width: 560,
        height: 50,
        data: { name: 'steps' },
        transform: atStep,
        layer: [
          { mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 14, fontWeight: 'bold' }, encoding: { text: { field: 'title' }, x: { value: 0 }, y: { value: 0 } } },
          { mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 11 }, encoding: { text: { field: 'shapes' }, x: { value: 0 }, y: { value: 20 } } },
          { mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 11, color: '#555' }, encoding: { text: { field: 'stats' }, x: { value: 0 }, y: { value: 36 } } },
        ],
      },
      {
        width: size,
        height: size,
        layer: [
          {
            data: { name: 'steps' },
            transform: atStep,
            mark: { type: 'image', width: size, height: size, align: 'left', baseline: 'top', aspect: false, smooth: false },
            encoding: { url: { field: 'url', type: 'nominal' }, x: { value: 0 }, y: { value: 0 } },
          },
          ...(labels.length ? [{ data: { name: 'cellLabels' }, transform: atStep, layer: cellLabelLayers(11, true) }] : []),
          ...(scale ? [colorLegendLayer(scale.range, 'viridis', false, 'value', size * 0.8)] : []),
        ],
      },
    ],
  };
}

/** The still picture of a trace (for PNG/SVG viewers): every step at once, in a grid. */
export function traceFilmstripSpec(rows: (StepperRow & { name: string; shape: string })[], title: string, columns = 5, scale?: SharedScale): Spec {
  const size = 104;
  return {
    title: {
      text: title,
      subtitle: scale
        ? `every step of the forward pass, in order; one colour scale for every step: ${scale.range[0].toPrecision(3)} (dark) to ${scale.range[1].toPrecision(3)} (bright)`
        : 'every step of the forward pass, in order; colours scaled per step (dark = min, bright = max)',
    },
    columns,
    spacing: 10,
    concat: rows.map((r) => {
      const labels = cellLabelRows([r], size, false);
      const image = imageLayer(r.url, size);
      return {
        title: { text: [`${r.i}  ${r.name}`, r.shape], fontSize: 10, fontWeight: 'normal', offset: 2 },
        width: size,
        height: size,
        ...(labels.length ? { layer: [image, { data: { values: labels }, layer: cellLabelLayers(8, false) }] } : image),
      };
    }),
  };
}
