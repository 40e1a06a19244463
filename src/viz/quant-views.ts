// Quantization views: where the integer grid sits on real weights, what each calibration method
// clips, how error grows through the layers, and the two forward passes side by side.
import type { Tensor } from '../engine/tf';
import type { Trace } from '../hooks/trace';
import type { MimeBundle } from '../engine/mime';
import type { QuantParams } from '../optimize/quantize';
import type { CalibratedRange } from '../optimize/calibrate';
import type { LayerError } from '../optimize/analyze';
import { toBundle } from './render';
import { gridRange, gridToPngUrl, toMosaic, type Grid } from './heatmap';

type Spec = Record<string, unknown>;
const fmt = (v: number) => (v !== 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3) ? v.toExponential(2) : Number(v.toFixed(4)).toString());

function bin(values: ArrayLike<number>, lo: number, hi: number, count: number): { x0: number; x1: number; count: number }[] {
  const width = (hi - lo) / count || 1;
  const counts = new Array(count).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo || v > hi) continue;
    counts[Math.min(count - 1, Math.floor((v - lo) / width))]++;
  }
  return counts.map((c, i) => ({ x0: lo + i * width, x1: lo + (i + 1) * width, count: c }));
}

/**
 * One weight tensor's values with the quantization grid drawn over them: every representable
 * value as a tick, and the clipping range as red rules. For per-channel parameters, `channel`
 * picks which channel's grid (and values) to draw.
 */
export async function weightQuantizationView(weight: Tensor, params: QuantParams, title: string, channel = 0): Promise<MimeBundle> {
  const all = weight.dataSync();
  const channels = params.scale.length;
  const c = Math.min(channel, channels - 1);
  const values = channels === 1 ? Float32Array.from(all) : Float32Array.from(all).filter((_, i) => i % channels === c);
  const scale = params.scale[c];
  const zero = params.zeroPoint[c];
  const clipLo = (params.qmin - zero) * scale;
  const clipHi = (params.qmax - zero) * scale;
  const [vmin, vmax] = gridRange({ values, height: 1, width: values.length });
  const lo = Math.min(vmin, clipLo);
  const hi = Math.max(vmax, clipHi);
  const levels = Array.from({ length: params.qmax - params.qmin + 1 }, (_, k) => ({ level: (params.qmin + k - zero) * scale }));
  const spec: Spec = {
    title: {
      text: title,
      subtitle: `${values.length} weights${channels > 1 ? ` of channel ${c}` : ''}; ${levels.length} representable values (ticks), step ${fmt(scale)}; red: clipping range [${fmt(clipLo)}, ${fmt(clipHi)}]`,
    },
    width: 560,
    height: 200,
    layer: [
      {
        data: { values: bin(values, lo, hi, 80) },
        mark: { type: 'rect', color: '#0072B2' },
        encoding: {
          x: { field: 'x0', type: 'quantitative', title: 'weight value', scale: { domain: [lo, hi] } },
          x2: { field: 'x1' },
          y: { field: 'count', type: 'quantitative', title: 'count' },
        },
      },
      { data: { values: levels }, mark: { type: 'tick', color: '#333', thickness: 1, size: 10, opacity: 0.7 }, encoding: { x: { field: 'level', type: 'quantitative' }, y: { value: 205 } } },
      { data: { values: [{ v: clipLo }, { v: clipHi }] }, mark: { type: 'rule', color: '#D55E00', strokeWidth: 2 }, encoding: { x: { field: 'v', type: 'quantitative' } } },
    ],
  };
  return toBundle(spec, `${title}: grid step ${fmt(scale)}, ${levels.length} levels, clipping [${fmt(clipLo)}, ${fmt(clipHi)}]`);
}

/** An activation's histogram (log counts) with each calibration method's range and its error. */
export async function calibrationRangesView(values: Float32Array, ranges: Record<string, CalibratedRange>, title: string): Promise<MimeBundle> {
  const [lo, hi] = gridRange({ values, height: 1, width: values.length });
  const methods = Object.keys(ranges);
  const rules = methods.flatMap((m) => [
    { method: `${m}: [${fmt(ranges[m].lo)}, ${fmt(ranges[m].hi)}], MSE ${ranges[m].mse.toExponential(2)}`, v: ranges[m].lo },
    { method: `${m}: [${fmt(ranges[m].lo)}, ${fmt(ranges[m].hi)}], MSE ${ranges[m].mse.toExponential(2)}`, v: ranges[m].hi },
  ]);
  const spec: Spec = {
    title: { text: title, subtitle: `${values.length.toLocaleString('en-US')} values from the calibration set; counts on a log scale` },
    width: 560,
    height: 220,
    layer: [
      {
        data: { values: bin(values, lo, hi, 100).map((b) => ({ ...b, count: b.count || null })) },
        mark: { type: 'rect', color: '#bbb' },
        encoding: {
          x: { field: 'x0', type: 'quantitative', title: 'activation value' },
          x2: { field: 'x1' },
          y: { field: 'count', type: 'quantitative', title: 'count (log)', scale: { type: 'log' } },
        },
      },
      {
        data: { values: rules },
        mark: { type: 'rule', strokeWidth: 2, strokeDash: [5, 3] },
        encoding: {
          x: { field: 'v', type: 'quantitative' },
          color: { field: 'method', type: 'nominal', title: 'range (clipping) by method', legend: { orient: 'bottom', direction: 'vertical', labelLimit: 500 } },
        },
      },
    ],
  };
  const text = methods.map((m) => `${m.padEnd(10)} [${fmt(ranges[m].lo)}, ${fmt(ranges[m].hi)}]  MSE ${ranges[m].mse.toExponential(3)}`).join('\n');
  return toBundle(spec, `${title}\n${text}`);
}

/**
 * SQNR at every step, propagated (error carried from the input) and isolated (each step fed
 * exact inputs): bars per step, in forward order. Exact steps (no error) are listed, not drawn.
 */
export async function layerErrorView(propagated: LayerError[], isolated: LayerError[] | null, title: string): Promise<MimeBundle> {
  const order = propagated.map((r) => r.name);
  const rows = [
    ...propagated.map((r) => ({ ...r, mode: 'propagated' })),
    ...(isolated ?? []).map((r) => ({ ...r, mode: 'isolated' })),
  ].filter((r) => Number.isFinite(r.sqnrDb));
  const exact = propagated.filter((r) => !Number.isFinite(r.sqnrDb)).map((r) => r.name);
  // Many steps (a GPT has ~60 hooks): steps down the side, so the chart grows in height, not past 900 px.
  const tall = order.length * (isolated ? 2 : 1) > 30;
  const step = { field: 'name', type: 'nominal', sort: order, title: null, ...(tall ? { axis: { labelLimit: 260 } } : { axis: { labelAngle: -40 } }) };
  const sqnr = { field: 'sqnrDb', type: 'quantitative', title: 'SQNR (dB)' };
  const offset = { field: 'mode', type: 'nominal', sort: ['propagated', 'isolated'] };
  const spec: Spec = {
    title: { text: title, subtitle: `SQNR in dB (higher is better; every 6 dB is one bit)${exact.length ? `; exact, not drawn: ${exact.join(', ')}` : ''}` },
    ...(tall ? { width: 520, height: { step: isolated ? 16 : 12 } } : { width: { step: 16 }, height: 220 }),
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      ...(tall ? { y: step, yOffset: offset, x: sqnr } : { x: step, xOffset: offset, y: sqnr }),
      color: { field: 'mode', type: 'nominal', sort: ['propagated', 'isolated'], scale: { range: ['#0072B2', '#E69F00'] }, title: null },
      tooltip: [{ field: 'name' }, { field: 'mode' }, { field: 'sqnrDb', format: '.1f' }, { field: 'cosine', format: '.5f' }, { field: 'maxAbs', format: '.4f' }],
    },
  };
  const text = propagated
    .map((r, i) => `${r.name.padEnd(22)} propagated ${r.sqnrDb.toFixed(1).padStart(6)} dB${isolated ? `   isolated ${isolated[i].sqnrDb.toFixed(1).padStart(6)} dB` : ''}   cos ${r.cosine.toFixed(5)}`)
    .join('\n');
  return toBundle(spec, `${title}\n${text}`);
}

/** Error growth through depth: SQNR per step as a line, one line per variant. */
export async function errorGrowthView(series: Record<string, LayerError[]>, title: string): Promise<MimeBundle> {
  const rows = Object.entries(series).flatMap(([variant, errs]) => errs.map((r, depth) => ({ variant, depth, name: r.name, sqnrDb: r.sqnrDb })).filter((r) => Number.isFinite(r.sqnrDb)));
  const order = Object.values(series)[0]?.map((r) => r.name) ?? [];
  const spec: Spec = {
    title: { text: title, subtitle: 'SQNR (dB) at each step of the forward pass, error propagated from the input' },
    width: 520,
    height: 220,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'name', type: 'ordinal', sort: order, title: null, axis: { labelAngle: -40 } },
      y: { field: 'sqnrDb', type: 'quantitative', title: 'SQNR (dB)', scale: { zero: false } },
      // Below the chart: whole labels, never cut; colour and dashes in one legend (not colour alone).
      color: { field: 'variant', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 500 } },
      strokeDash: { field: 'variant', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 500 } },
      tooltip: [{ field: 'variant' }, { field: 'name' }, { field: 'sqnrDb', format: '.1f' }],
    },
  };
  return toBundle(spec, `${title}\n${rows.map((r) => `${r.variant} ${r.name} ${r.sqnrDb.toFixed(1)} dB`).join('\n')}`);
}

function squareUrl(values: Float32Array, shape: number[], range: [number, number]): string {
  const m: Grid = toMosaic(values, shape);
  const side = Math.max(m.height, m.width);
  const padded = new Float32Array(side * side).fill(NaN);
  for (let y = 0; y < m.height; y++) padded.set(m.values.subarray(y * m.width, (y + 1) * m.width), y * side);
  return gridToPngUrl({ values: padded, height: side, width: side }, { colormap: 'viridis', range });
}

/**
 * The original and the optimized forward pass side by side, with |difference| at each step,
 * on one slider. Both passes share each step's colour scale; the difference has its own.
 */
export async function compareStepper(original: Trace, optimized: Trace, labels: [string, string] = ['original', 'optimized']): Promise<MimeBundle> {
  const names = original.names.filter((n) => optimized.names.includes(n) && original.step(n).tensor && optimized.step(n).tensor);
  const rows = names.map((name, i) => {
    const a = original.step(name);
    const b = optimized.step(name);
    const shape = a.outputShape.slice(1);
    const size = shape.reduce((x, y) => x * y, 1);
    const va = Float32Array.from(a.tensor!.dataSync().subarray(0, size));
    const vb = Float32Array.from(b.tensor!.dataSync().subarray(0, size));
    const diff = Float32Array.from(va, (v, k) => Math.abs(v - vb[k]));
    const [lo1, hi1] = gridRange({ values: va, height: 1, width: size });
    const [lo2, hi2] = gridRange({ values: vb, height: 1, width: size });
    const range: [number, number] = [Math.min(lo1, lo2), Math.max(hi1, hi2)];
    let maxDiff = 0;
    for (const d of diff) maxDiff = Math.max(maxDiff, d);
    return {
      i,
      name,
      title: `step ${i} of ${names.length - 1}: ${name}  (${a.kind})`,
      stats: `max |difference| ${fmt(maxDiff)}   ${labels[0]} mean ${fmt(a.stats.mean)}   ${labels[1]} mean ${fmt(b.stats.mean)}`,
      a: squareUrl(va, shape, range),
      b: squareUrl(vb, shape, range),
      d: squareUrl(diff, shape, [0, maxDiff || 1]),
    };
  });
  const size = 200;
  const image = (field: string, title: string): Spec => ({
    width: size,
    height: size,
    title: { text: title, fontSize: 12 },
    data: { name: 'steps' },
    transform: [{ filter: 'datum.i == step' }],
    mark: { type: 'image', width: size, height: size, align: 'left', baseline: 'top', aspect: false, smooth: false },
    encoding: { url: { field, type: 'nominal' }, x: { value: 0 }, y: { value: 0 } },
  });
  const interactive: Spec = {
    title: { text: `${labels[0]} vs ${labels[1]}: every step`, subtitle: 'drag the step slider; left and middle share a colour scale, right is |difference| (dark = 0)' },
    params: [{ name: 'step', value: 0, bind: { input: 'range', min: 0, max: rows.length - 1, step: 1, name: 'step ' } }],
    datasets: { steps: rows },
    vconcat: [
      {
        width: 640,
        height: 36,
        data: { name: 'steps' },
        transform: [{ filter: 'datum.i == step' }],
        layer: [
          { mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 14, fontWeight: 'bold' }, encoding: { text: { field: 'title' }, x: { value: 0 }, y: { value: 0 } } },
          { mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 11, color: '#555' }, encoding: { text: { field: 'stats' }, x: { value: 0 }, y: { value: 20 } } },
        ],
      },
      { hconcat: [image('a', labels[0]), image('b', labels[1]), image('d', '|difference|')] },
    ],
  };
  // The still picture: the difference at every step, with its largest value.
  const still: Spec = {
    title: { text: `|${labels[0]} - ${labels[1]}| at every step`, subtitle: 'each panel on its own scale (dark = 0); the title gives the largest difference' },
    columns: 5,
    spacing: 10,
    concat: rows.map((r) => ({
      title: { text: [`${r.i}  ${r.name}`, r.stats.split('   ')[0]], fontSize: 10, fontWeight: 'normal' },
      width: 104,
      height: 104,
      data: { values: [{ url: r.d }] },
      mark: { type: 'image', width: 104, height: 104, align: 'left', baseline: 'top', aspect: false, smooth: false },
      encoding: { url: { field: 'url', type: 'nominal' }, x: { value: 0 }, y: { value: 0 } },
    })),
  };
  const text = rows.map((r) => `${String(r.i).padStart(3)}  ${r.name.padEnd(22)} ${r.stats}`).join('\n');
  return toBundle(interactive, `${labels[0]} vs ${labels[1]}\n${text}`, still);
}
