// Heatmaps as small PNG images (data URLs) for Vega-Lite image marks. A feature map of 26x26x8
// would be 5,408 rect marks (megabytes of SVG); as one image it is a few kilobytes.
import { PNG } from 'pngjs';

export type Colormap = 'viridis' | 'grey' | 'blues' | 'diverging';

// Viridis at 9 evenly spaced points (matplotlib's table); linear interpolation in between.
const VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'].map((hex) => [
  parseInt(hex.slice(1, 3), 16),
  parseInt(hex.slice(3, 5), 16),
  parseInt(hex.slice(5, 7), 16),
]);

const hexTable = (colors: string[]) => colors.map((hex) => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)]);
// ColorBrewer Blues (white -> dark blue: attention weights, probabilities) and RdBu reversed
// (blue = negative, white = 0, red = positive: signed activations; centre the range on 0).
const BLUES = hexTable(['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b']);
const DIVERGING = hexTable(['#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b']);

function interpolate(table: number[][], x: number): [number, number, number] {
  const pos = x * (table.length - 1);
  const i = Math.min(table.length - 2, Math.floor(pos));
  const f = pos - i;
  return [0, 1, 2].map((k) => Math.round(table[i][k] + f * (table[i + 1][k] - table[i][k]))) as [number, number, number];
}

/** RGB for t in [0, 1]: viridis (dark blue -> yellow), grey (black -> white, as MNIST ink), blues (white -> dark blue), diverging (blue -> white -> red). */
export function colorAt(t: number, colormap: Colormap): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  if (colormap === 'grey') {
    const g = Math.round(255 * x);
    return [g, g, g];
  }
  if (colormap === 'blues') return interpolate(BLUES, x);
  if (colormap === 'diverging') return interpolate(DIVERGING, x);
  return interpolate(VIRIDIS, x);
}

/** A grid of values, row-major, with NaN for gaps (drawn white). */
export interface Grid {
  values: Float32Array;
  height: number;
  width: number;
}

/** Value range ignoring NaN gaps; a flat map gets a range of 1 so it draws mid-colour-free. */
export function gridRange(grid: Grid): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of grid.values) {
    if (Number.isNaN(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return [0, 1];
  return max > min ? [min, max] : [min, min + 1];
}

/**
 * Encode a grid as a PNG data URL, each cell `cell` x `cell` pixels (nearest neighbour, so
 * renderers that smooth images still show crisp cells).
 */
export function gridToPngUrl(grid: Grid, options: { colormap: Colormap; range?: [number, number]; cell?: number }): string {
  const [min, max] = options.range ?? gridRange(grid);
  const cell = options.cell ?? Math.max(1, Math.round(256 / Math.max(grid.height, grid.width)));
  const png = new PNG({ width: grid.width * cell, height: grid.height * cell });
  for (let y = 0; y < grid.height; y++) {
    for (let x = 0; x < grid.width; x++) {
      const v = grid.values[y * grid.width + x];
      const rgb = Number.isNaN(v) ? [255, 255, 255] : colorAt((v - min) / (max - min), options.colormap);
      for (let dy = 0; dy < cell; dy++) {
        for (let dx = 0; dx < cell; dx++) {
          png.data.set([rgb[0], rgb[1], rgb[2], 255], (((y * cell + dy) * grid.width * cell) + x * cell + dx) * 4);
        }
      }
    }
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

/**
 * Lay out a value of batch item 0 as one 2-D grid:
 * `[h, w, ch]` -> channels tiled in a near-square mosaic (one-cell NaN gutters);
 * `[n]` -> a near-square block of n cells, read row by row (a vector has no 2-D meaning).
 */
export function toMosaic(values: ArrayLike<number>, shape: number[], maxChannels = 16): Grid & { channels: number; shown: number } {
  if (shape.length === 3) {
    const [h, w, ch] = shape;
    const shown = Math.min(ch, maxChannels);
    const cols = Math.ceil(Math.sqrt(shown));
    const rows = Math.ceil(shown / cols);
    const width = cols * w + (cols - 1);
    const height = rows * h + (rows - 1);
    const out = new Float32Array(width * height).fill(NaN);
    for (let c = 0; c < shown; c++) {
      const ox = (c % cols) * (w + 1);
      const oy = Math.floor(c / cols) * (h + 1);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(oy + y) * width + ox + x] = values[(y * w + x) * ch + c];
    }
    return { values: out, height, width, channels: ch, shown };
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const width = n <= 16 ? n : Math.ceil(Math.sqrt(n));
  const height = Math.ceil(n / width);
  const out = new Float32Array(width * height).fill(NaN);
  for (let i = 0; i < n; i++) out[i] = values[i];
  return { values: out, height, width, channels: 1, shown: 1 };
}

/**
 * A Vega-Lite layer that draws a PNG data URL (from gridToPngUrl) as one image filling a
 * width x height panel from its top-left corner; `smooth: false` keeps cells crisp.
 */
export function imageLayer(url: string, width: number, height: number, options: { smooth?: boolean } = {}): Record<string, unknown> {
  return {
    data: { values: [{ url }] },
    mark: { type: 'image', width, height, align: 'left', baseline: 'top', aspect: false, ...(options.smooth === undefined ? {} : { smooth: options.smooth }) },
    encoding: { url: { field: 'url', type: 'nominal' }, x: { value: 0 }, y: { value: 0 } },
  };
}
