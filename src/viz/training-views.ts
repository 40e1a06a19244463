// Views for training: loss/accuracy curves (live during `fit`), loss functions against the
// prediction, and optimizer paths on 2-D loss surfaces. Each returns a MimeBundle via toBundle.
import type { MimeBundle } from '../engine/mime';
import { toBundle } from './render';
import type { EpochRecord } from '../train/loop';
import type { Surface, OptimizerPath } from '../train/surfaces';
import { gridToPngUrl } from './heatmap';

type Spec = Record<string, unknown>;

const SPLIT_COLORS = { scale: { domain: ['train', 'validation'], range: ['#0072B2', '#D55E00'] }, legend: { title: null, orient: 'top' } };

/**
 * Train vs validation loss (left) and accuracy (right) per epoch. The best validation epoch is
 * marked; a widening gap between the two lines is the picture of overfitting.
 */
export function trainingCurves(history: EpochRecord[], options: { title?: string; bestEpoch?: number; stoppedEarly?: boolean } = {}): Promise<MimeBundle> {
  const title = options.title ?? 'training';
  const rows: { epoch: number; split: string; metric: string; value: number }[] = [];
  for (const r of history) {
    rows.push({ epoch: r.epoch, split: 'train', metric: 'loss', value: r.trainLoss });
    if (r.valLoss !== undefined) rows.push({ epoch: r.epoch, split: 'validation', metric: 'loss', value: r.valLoss });
    if (r.trainAccuracy !== undefined) rows.push({ epoch: r.epoch, split: 'train', metric: 'accuracy', value: r.trainAccuracy });
    if (r.valAccuracy !== undefined) rows.push({ epoch: r.epoch, split: 'validation', metric: 'accuracy', value: r.valAccuracy });
  }
  const hasAccuracy = rows.some((r) => r.metric === 'accuracy');
  const maxEpoch = Math.max(1, ...history.map((r) => r.epoch));
  const panel = (metric: string): Spec => ({
    width: 300,
    height: 200,
    title: { text: metric, fontSize: 12 },
    layer: [
      {
        data: { values: rows.filter((r) => r.metric === metric) },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', scale: { domain: [1, Math.max(2, maxEpoch)] }, axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false }, axis: metric === 'accuracy' ? { format: '.0%' } : {} },
          color: { field: 'split', type: 'nominal', ...SPLIT_COLORS },
          tooltip: [{ field: 'epoch' }, { field: 'split' }, { field: 'value', format: '.4f' }],
        },
      },
      ...(options.bestEpoch
        ? [{ data: { values: [{ epoch: options.bestEpoch }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { x: { field: 'epoch', type: 'quantitative' } } }]
        : []),
    ],
  });
  const last = history[history.length - 1];
  const subtitle = last
    ? `epoch ${last.epoch}: train loss ${last.trainLoss.toFixed(4)}` +
      (last.valLoss !== undefined ? `, validation loss ${last.valLoss.toFixed(4)}` : '') +
      (last.valAccuracy !== undefined ? `, validation accuracy ${(last.valAccuracy * 100).toFixed(1)}%` : '') +
      `; ${last.seconds.toFixed(1)} s` +
      (options.bestEpoch ? ` — dashed line: best validation epoch (${options.bestEpoch})${options.stoppedEarly ? ', stopped early' : ''}` : '')
    : 'waiting for the first epoch…';
  const spec: Spec = {
    title: { text: title, subtitle },
    hconcat: hasAccuracy ? [panel('loss'), panel('accuracy')] : [panel('loss')],
    resolve: { scale: { color: 'shared' } },
  };
  const text = [
    `${title}: ${history.length} epochs`,
    ...history.map(
      (r) =>
        `  epoch ${String(r.epoch).padStart(3)}  train loss ${r.trainLoss.toFixed(4)}` +
        (r.trainAccuracy !== undefined ? ` acc ${(r.trainAccuracy * 100).toFixed(1)}%` : '') +
        (r.valLoss !== undefined ? `  val loss ${r.valLoss.toFixed(4)}` : '') +
        (r.valAccuracy !== undefined ? ` acc ${(r.valAccuracy * 100).toFixed(1)}%` : ''),
    ),
  ].join('\n');
  return toBundle(spec, text);
}

/**
 * Several loss functions against the prediction, for one fixed target (a dashed rule marks it).
 * The default subtitle says each loss is 0 at the target, which is true of regression losses; for
 * losses that are not 0 at the marked value (a classifier's score s = 0), pass `subtitle`, and
 * `ruleLabel` for what the dashed rule marks.
 */
export function lossCurvesView(curves: { name: string; points: { prediction: number; loss: number }[] }[], options: { target: number; title?: string; xTitle?: string; subtitle?: string; ruleLabel?: string }): Promise<MimeBundle> {
  const rows = curves.flatMap((c) => c.points.map((p) => ({ loss_fn: c.name, prediction: p.prediction, loss: p.loss })));
  const spec: Spec = {
    title: { text: options.title ?? 'loss against the prediction', subtitle: options.subtitle ?? `target = ${options.target}; each loss is 0 at the target and grows differently away from it` },
    width: 460,
    height: 260,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', strokeWidth: 2, clip: true },
        encoding: {
          x: { field: 'prediction', type: 'quantitative', title: options.xTitle ?? 'prediction' },
          y: { field: 'loss', type: 'quantitative', title: 'loss' },
          color: { field: 'loss_fn', type: 'nominal', title: 'loss', sort: curves.map((c) => c.name) },
        },
      },
      { data: { values: [{ t: options.target }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { x: { field: 't', type: 'quantitative' } } },
    ],
  };
  const text = `${spec.title && (spec.title as { text: string }).text}: ${curves.map((c) => c.name).join(', ')} (${options.ruleLabel ?? 'target'} ${options.target})`;
  return toBundle(spec, text);
}

/** A table-like bar chart: one value per (loss function, case), e.g. losses on the same outputs. */
export function lossComparisonView(rows: { case: string; loss_fn: string; value: number }[], title = 'the same predictions, scored by each loss'): Promise<MimeBundle> {
  const spec: Spec = {
    title,
    data: { values: rows },
    facet: { field: 'loss_fn', type: 'nominal', title: null, sort: [...new Set(rows.map((r) => r.loss_fn))] },
    columns: 3, // five losses side by side do not fit a notebook column: a grid
    spec: {
      width: 110,
      height: { step: 18 },
      layer: [
        { mark: { type: 'bar', color: '#0072B2' }, encoding: { y: { field: 'case', type: 'nominal', title: null, sort: null }, x: { field: 'value', type: 'quantitative', title: 'loss' } } },
        { mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 }, encoding: { y: { field: 'case', type: 'nominal', sort: null }, x: { field: 'value', type: 'quantitative' }, text: { field: 'value', type: 'quantitative', format: '.3f' } } },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  };
  const byFn = new Map<string, string[]>();
  for (const r of rows) byFn.set(r.loss_fn, [...(byFn.get(r.loss_fn) ?? []), `${r.case}=${r.value.toFixed(4)}`]);
  return toBundle(spec, [title, ...[...byFn].map(([fn, v]) => `  ${fn.padEnd(14)} ${v.join('  ')}`)].join('\n'));
}

const PATH_COLORS = ['#D55E00', '#E69F00', '#009E73', '#CC79A7', '#0072B2', '#F0E442'];

/**
 * Contour-style picture of a 2-D loss surface (log-scaled colour image) with optimizer paths
 * drawn on top: where each method goes, step by step, from the same start.
 */
export function surfacePathsView(surface: Surface, paths: OptimizerPath[], options: { title?: string; size?: number; resolution?: number } = {}): Promise<MimeBundle> {
  const size = options.size ?? 360;
  const n = options.resolution ?? 90;
  const [[x0, x1], [y0, y1]] = surface.domain;
  const values = new Float32Array(n * n);
  let min = Infinity;
  for (const v of grid()) if (v < min) min = v;
  function* grid(): Generator<number> {
    for (let r = 0; r < n; r++) {
      const y = y1 - ((r + 0.5) / n) * (y1 - y0); // top row = largest y
      for (let c = 0; c < n; c++) {
        const x = x0 + ((c + 0.5) / n) * (x1 - x0);
        yield surface.f(x, y);
      }
    }
  }
  let k = 0;
  for (const v of grid()) values[k++] = Math.log1p(v - min); // log scale: the valley floor and the walls both visible
  // Filled contours: 12 flat bands of equal log-loss width (a contour plot, and a small PNG).
  let top = 0;
  for (const v of values) if (v > top) top = v;
  const levels = 12;
  for (let i = 0; i < values.length; i++) values[i] = Math.min(levels - 1, Math.floor((values[i] / (top || 1)) * levels)) / (levels - 1);
  const url = gridToPngUrl({ values, height: n, width: n }, { colormap: 'viridis', range: [0, 1], cell: 3 });
  const labels = paths.map((p) => p.label);
  // At most ~150 drawn points per path (a long run is thinned evenly; the last point is kept).
  const thin = (pts: [number, number, number][]) => {
    const every = Math.max(1, Math.ceil(pts.length / 150));
    return pts.map((pt, i) => ({ pt, i })).filter(({ i }) => i % every === 0 || i === pts.length - 1);
  };
  const clip = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  const panel = (p: OptimizerPath, k: number, side: number): Spec => {
    const end = p.points[p.points.length - 1];
    const rows = thin(p.points).map(({ pt, i }) => ({ step: i, x: clip(pt[0], x0, x1), y: clip(pt[1], y0, y1), loss: pt[2] }));
    return {
      title: { text: p.label, subtitle: `${p.points.length - 1} steps${p.diverged ? ', DIVERGED' : ''} → loss ${Number.isFinite(end[2]) ? end[2].toPrecision(3) : '∞'}`, fontSize: 12, subtitleFontSize: 10 },
      width: side,
      height: side,
      layer: [
        {
          data: { values: [{ url, x: x0, y: y1 }] },
          mark: { type: 'image', width: side, height: side, align: 'left', baseline: 'top', aspect: false },
          encoding: { url: { field: 'url', type: 'nominal' }, x: { field: 'x', type: 'quantitative', scale: { domain: [x0, x1], nice: false }, title: 'w1' }, y: { field: 'y', type: 'quantitative', scale: { domain: [y0, y1], nice: false }, title: 'w2' } },
        },
        {
          data: { values: rows },
          mark: { type: 'line', strokeWidth: 2, color: PATH_COLORS[k % PATH_COLORS.length], point: { size: 10, filled: true, color: PATH_COLORS[k % PATH_COLORS.length] } },
          encoding: {
            x: { field: 'x', type: 'quantitative' },
            y: { field: 'y', type: 'quantitative' },
            order: { field: 'step', type: 'quantitative' },
            tooltip: [{ field: 'step' }, { field: 'x', format: '.3f' }, { field: 'y', format: '.3f' }, { field: 'loss', format: '.4g' }],
          },
        },
        ...(surface.minimum
          ? [{ data: { values: [{ x: surface.minimum[0], y: surface.minimum[1] }] }, mark: { type: 'text', text: '★', fontSize: 16, color: 'white' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } }]
          : []),
        { data: { values: [{ x: p.points[0][0], y: p.points[0][1] }] }, mark: { type: 'point', shape: 'circle', size: 80, color: 'white', filled: false, strokeWidth: 2 }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
      ],
    };
  };
  const single = paths.length === 1;
  const side = single ? size : Math.round(size * 0.55);
  const spec: Spec = {
    title: { text: options.title ?? `${surface.name}: optimizer paths`, subtitle: `${surface.formula}; filled contours of log(1 + loss − min), dark = low; ○ = start, ★ = minimum` },
    ...(single ? panel(paths[0], 0, side) : { columns: Math.min(2, paths.length), spacing: 16, concat: paths.map((p, k) => panel(p, k, side)) }),
  };
  if (single) (spec as { title: unknown }).title = { text: options.title ?? `${surface.name}: ${paths[0].label}`, subtitle: `${surface.formula}; dark = low loss; ○ = start, ★ = minimum` };
  const text = [
    `${surface.name} (${surface.formula}), start (${paths[0]?.points[0]?.[0]}, ${paths[0]?.points[0]?.[1]})`,
    ...paths.map((p) => {
      const end = p.points[p.points.length - 1];
      return `  ${p.label.padEnd(26)} ${p.points.length - 1} steps -> (${end[0].toFixed(3)}, ${end[1].toFixed(3)}) loss ${end[2].toPrecision(4)}`;
    }),
  ].join('\n');
  return toBundle(spec, text);
}

/** Loss against step for each optimizer path (log scale): how fast each one gets down. */
export function pathLossView(paths: OptimizerPath[], title = 'loss at each step'): Promise<MimeBundle> {
  const labels = paths.map((p) => p.label);
  let floor = Infinity;
  for (const p of paths) for (const pt of p.points) if (pt[2] > 0 && pt[2] < floor) floor = pt[2];
  const rows = paths.flatMap((p) => {
    const every = Math.max(1, Math.ceil(p.points.length / 200)); // thin long runs for a small chart
    return p.points.map((pt, i) => ({ method: p.label, step: i, loss: Math.max(pt[2], floor) })).filter((r) => r.step % every === 0 || r.step === p.points.length - 1);
  });
  const spec: Spec = {
    title,
    width: 420,
    height: 220,
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 2, clip: true },
    encoding: {
      x: { field: 'step', type: 'quantitative' },
      y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } },
      color: { field: 'method', type: 'nominal', title: 'optimizer', sort: labels, scale: { domain: labels, range: PATH_COLORS.slice(0, labels.length) } },
    },
  };
  const text = [title, ...paths.map((p) => `  ${p.label.padEnd(26)} final loss ${p.points[p.points.length - 1][2].toPrecision(4)}`)].join('\n');
  return toBundle(spec, text);
}
