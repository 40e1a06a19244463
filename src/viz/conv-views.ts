// The convolution window moving over a real digit (as CNN Explainer shows it): two sliders pick
// the window's position, and the view shows the 3x3 window on the model's own preprocessed
// input, the nine products with the filter, their sum plus the bias, and the value the model
// wrote at that position (conv.0.hook_conv). Everything that moves is Vega-Lite: params bound to
// range inputs, filters and calculations in Vega expressions; no JavaScript in the page.
import type { Tensor } from '../engine/tf';
import type { HookedModel } from '../hooks/hooked-model';
import type { MimeBundle } from '../engine/mime';
import { CHART_CONFIG, toBundle } from './render';
import { gridToPngUrl, imageLayer } from './heatmap';

/** The model the view reads: the digits CNN's hook names and weight names. */
type ConvModel = Pick<HookedModel, 'runWithCache'> & { weights: Record<string, Tensor> };

export interface ConvWindowOptions {
  /** Which of conv.0's filters (default 0). */
  filter?: number;
  /** Where the window starts (top-left corner, output coordinates); default: where the filter responds most. */
  row?: number;
  col?: number;
  title?: string;
}

/** What the view is built from (the test reads the same numbers). */
export interface ConvWindowData {
  filter: number;
  /** Preprocessed input, [h][w] (pre.hook_normalized of batch item 0). */
  input: number[][];
  /** The filter's 3x3 weights [dy][dx]. */
  weights: number[][];
  bias: number;
  /** conv.0.hook_conv for this filter, [h - 2][w - 2]. */
  output: number[][];
  row: number;
  col: number;
}

/** Text colour: dark on the white card. */
const INK = '#111111';

const f4 = (v: number) => (v >= 0 ? ' ' : '') + v.toFixed(4);

/** Read the numbers from one forward pass of `model` on `pixels` [1, 28, 28] (raw 0..255). */
export function convWindowData(model: ConvModel, pixels: Tensor, options: ConvWindowOptions = {}): ConvWindowData {
  const kernel = model.weights['conv.0.weight'];
  if (!kernel || kernel.rank !== 4 || kernel.shape[0] !== 3 || kernel.shape[1] !== 3 || kernel.shape[2] !== 1) {
    throw new Error(`convolutionWindowView expects the digits CNN (conv.0.weight [3, 3, 1, filters]); got ${kernel ? `[${kernel.shape}]` : 'no conv.0.weight'}.`);
  }
  const filters = kernel.shape[3] as number;
  const filter = options.filter ?? 0;
  if (!Number.isInteger(filter) || filter < 0 || filter >= filters) throw new Error(`filter must be an integer 0..${filters - 1}; got ${filter}.`);
  const [probs, cache] = model.runWithCache(pixels, { names: ['pre.hook_normalized', 'conv.0.hook_conv'] });
  try {
    const x = (cache.get('pre.hook_normalized').arraySync() as number[][][][])[0].map((row) => row.map((v) => v[0])); // [h, w]
    const out = (cache.get('conv.0.hook_conv').arraySync() as number[][][][])[0].map((row) => row.map((v) => v[filter])); // [h-2, w-2]
    const w = (kernel.arraySync() as number[][][][]).map((row) => row.map((v) => v[0][filter])); // [3, 3]
    const bias = (model.weights['conv.0.bias'].arraySync() as number[])[filter];
    const size = out.length;
    let [row, col] = [0, 0];
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) if (out[i][j] > out[row][col]) [row, col] = [i, j];
    if (options.row !== undefined) row = options.row;
    if (options.col !== undefined) col = options.col;
    for (const [name, v] of [['row', row], ['col', col]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= size) throw new Error(`${name} must be an integer 0..${size - 1}; got ${v}.`);
    }
    return { filter, input: x, weights: w, bias, output: out, row, col };
  } finally {
    probs.dispose();
    cache.dispose();
  }
}

/** The Vega-Lite spec: sliders `row` and `col`; datasets `pixels` {r, c, x} and `outputs` {r, c, v}. */
export function convWindowSpec(data: ConvWindowData, title?: string): Record<string, unknown> {
  const { input, weights, bias, output, filter, row, col } = data;
  const h = input.length;
  const size = output.length;
  const pixels = input.flatMap((line, r) => line.map((x, c) => ({ r, c, x })));
  const outputs = output.flatMap((line, r) => line.map((v, c) => ({ r, c, v })));
  const wList = weights.flat();
  const inWindow = 'datum.r >= row && datum.r < row + 3 && datum.c >= col && datum.c < col + 3';
  const atPosition = 'datum.r == row && datum.c == col';
  const maxProduct = Math.max(...wList.map(Math.abs)) * Math.max(...pixels.map((p) => Math.abs(p.x)));
  const grid = (extent: number) => ({
    x: { field: 'c', type: 'quantitative', scale: { domain: [0, extent] }, axis: null },
    x2: { field: 'c1' },
    y: { field: 'r', type: 'quantitative', scale: { domain: [0, extent], reverse: true }, axis: null },
    y2: { field: 'r1' },
  });
  const edges = [{ calculate: 'datum.c + 1', as: 'c1' }, { calculate: 'datum.r + 1', as: 'r1' }];
  const small = 8;

  // The two maps are pictures (PNG data URLs: a small spec and SVG); only the outlines are marks.
  const picture = (values: number[][], colormap: 'grey' | 'viridis') =>
    gridToPngUrl({ values: Float32Array.from(values.flat()), height: values.length, width: values[0].length }, { colormap, cell: small });
  const inputPanel = {
    title: { text: 'input: pre.hook_normalized', subtitle: `${h} × ${h}; the window in orange`, fontSize: 12, subtitleFontSize: 11 },
    width: h * small,
    height: h * small,
    layer: [
      imageLayer(picture(input, 'grey'), h * small, h * small, { smooth: false }),
      { data: { name: 'pixels' }, transform: [{ filter: inWindow }, ...edges], mark: { type: 'rect', fill: null, stroke: '#E69F00', strokeWidth: 1.5 }, encoding: grid(h) },
    ],
  };

  const windowPanel = {
    title: { text: `window × filter ${filter}`, subtitle: 'input x, weight w, product x·w', fontSize: 12, subtitleFontSize: 11 },
    width: 246,
    height: 246,
    data: { name: 'pixels' },
    transform: [
      { filter: inWindow },
      { calculate: 'datum.r - row', as: 'dy' },
      { calculate: 'datum.c - col', as: 'dx' },
      { calculate: `[${wList.join(', ')}][datum.dy * 3 + datum.dx]`, as: 'w' },
      { calculate: 'datum.x * datum.w', as: 'p' },
      { calculate: "'x ' + format(datum.x, '.3f')", as: 'xText' },
      { calculate: "'w ' + format(datum.w, '.3f')", as: 'wText' },
      { calculate: "'= ' + format(datum.p, '.3f')", as: 'pText' },
    ],
    encoding: {
      x: { field: 'dx', type: 'ordinal', scale: { domain: [0, 1, 2] }, axis: null },
      y: { field: 'dy', type: 'ordinal', scale: { domain: [0, 1, 2] }, axis: null },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 2 },
        encoding: {
          color: {
            field: 'p', type: 'quantitative', legend: null,
            scale: { domain: [-maxProduct, maxProduct], range: ['#56B4E9', '#ffffff', '#E69F00'], interpolate: 'rgb' },
          },
        },
      },
      { mark: { type: 'text', dy: -18, fontSize: 12, font: 'DejaVu Sans Mono', color: INK }, encoding: { text: { field: 'xText' } } },
      { mark: { type: 'text', dy: 0, fontSize: 12, font: 'DejaVu Sans Mono', color: '#7a5200' }, encoding: { text: { field: 'wText' } } },
      { mark: { type: 'text', dy: 20, fontSize: 13, font: 'DejaVu Sans Mono', fontWeight: 'bold', color: INK }, encoding: { text: { field: 'pText' } } },
    ],
  };

  const outputPanel = {
    title: { text: 'output: conv.0.hook_conv', subtitle: `filter ${filter}, ${size} × ${size}; (row, col) in orange`, fontSize: 12, subtitleFontSize: 11 },
    width: size * small,
    height: size * small,
    layer: [
      imageLayer(picture(output, 'viridis'), size * small, size * small, { smooth: false }),
      { data: { name: 'outputs' }, transform: [{ filter: atPosition }, ...edges], mark: { type: 'rect', fill: null, stroke: '#E69F00', strokeWidth: 2.5 }, encoding: grid(size) },
    ],
  };

  const textMark = (y: number, field: string, bold = false) => ({
    mark: { type: 'text', align: 'left', baseline: 'middle', fontSize: 13, font: 'DejaVu Sans Mono', fontWeight: bold ? 'bold' : 'normal', color: INK },
    encoding: { x: { value: 0 }, y: { value: y }, text: { field } },
  });
  const summary = {
    width: 720,
    height: 62,
    layer: [
      {
        data: { name: 'pixels' },
        transform: [
          { filter: inWindow },
          { calculate: `[${wList.join(', ')}][(datum.r - row) * 3 + (datum.c - col)]`, as: 'w' },
          { calculate: 'datum.x * datum.w', as: 'p' },
          { aggregate: [{ op: 'sum', field: 'p', as: 'productSum' }, { op: 'count', as: 'products' }] },
          { calculate: `datum.productSum + ${bias}`, as: 'sumPlusBias' },
          {
            calculate: `'sum of the ' + datum.products + ' products ' + format(datum.productSum, '.4f') + ' + bias ' + format(${bias}, '.4f') + ' = ' + format(datum.sumPlusBias, '.4f')`,
            as: 'line',
          },
          { calculate: "'window at row ' + row + ', column ' + col + ':'", as: 'where' },
        ],
        layer: [textMark(8, 'where'), textMark(30, 'line')],
      },
      {
        data: { name: 'outputs' },
        transform: [
          { filter: atPosition },
          { calculate: `'the model wrote conv.0.hook_conv[0, ' + row + ', ' + col + ', ${filter}] = ' + format(datum.v, '.4f')`, as: 'line' },
        ],
        ...textMark(52, 'line', true),
      },
    ],
  };

  return {
    title: {
      text: title ?? `The 3×3 window of conv.0 (filter ${filter}) moving over the digit`,
      subtitle: 'drag the sliders (JupyterLab, VS Code); the still picture shows one position',
    },
    // A white card with dark text whatever the notebook's theme (JupyterLab gives Vega its dark
    // theme in dark mode; this spec's own colours win over it).
    background: '#ffffff',
    config: { title: { ...CHART_CONFIG.title, color: INK, subtitleColor: '#333333' } },
    datasets: { pixels, outputs },
    params: [
      { name: 'row', value: row, bind: { input: 'range', min: 0, max: size - 1, step: 1, name: 'window row ' } },
      { name: 'col', value: col, bind: { input: 'range', min: 0, max: size - 1, step: 1, name: 'window column ' } },
    ],
    spacing: 16,
    resolve: { scale: { color: 'independent' } },
    vconcat: [{ hconcat: [inputPanel, windowPanel, outputPanel], spacing: 28, bounds: 'flush' }, summary],
  };
}

/**
 * The convolution window on a real digit under two sliders: the 3x3 window on the model's
 * preprocessed input, the nine products with the filter, their sum + bias, and the model's own
 * conv.0.hook_conv value at that position (the same number). `pixels` is one digit [1, 28, 28].
 */
export async function convolutionWindowView(model: ConvModel, pixels: Tensor, options: ConvWindowOptions = {}): Promise<MimeBundle> {
  const data = convWindowData(model, pixels, options);
  const { input, weights, bias, output, row, col, filter } = data;
  let sum = 0;
  const lines: string[] = [];
  for (let dy = 0; dy < 3; dy++) {
    const parts = [0, 1, 2].map((dx) => {
      const x = input[row + dy][col + dx];
      const w = weights[dy][dx];
      sum += x * w;
      return `${f4(x)} x ${f4(w)} = ${f4(x * w)}`;
    });
    lines.push(`  ${parts.join('   ')}`);
  }
  const text = [
    `conv.0, filter ${filter}, window at row ${row}, column ${col} (sliders move it in JupyterLab / VS Code):`,
    ...lines,
    `  sum of the 9 products ${sum.toFixed(4)} + bias ${bias.toFixed(4)} = ${(sum + bias).toFixed(4)}`,
    `  the model's conv.0.hook_conv[0, ${row}, ${col}, ${filter}] = ${output[row][col].toFixed(4)}`,
  ].join('\n');
  return toBundle(convWindowSpec(data, options.title), text);
}
