// The comparison report drawn: a table, metric against stored size, latency, and the error at
// each hook point. Registered as the 'comparison' view (ComparisonReport.toMimeBundle).
import type { MimeBundle } from '../engine/mime';
import { fmtDb, fmtMs, shortHook, type ComparisonReport } from '../optimize/compare';
import { CATEGORY_PALETTE, toBundle } from './render';
import { tableSpec } from './specs';

/** SQNR above this is float32 rounding between two runs of the same arithmetic, not an optimization's error. */
const ROUNDING_ONLY_DB = 100;
/** Solid, dashed, dotted, dash-dot: one per variant drawn along the layers. */
const DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [12, 4]];

export async function comparisonView(report: ComparisonReport): Promise<MimeBundle> {
  const loss = report.metricKind === 'loss';
  const rows = report.rows.map((r) => ({
    label: r.label,
    metric: loss ? r.metric.toFixed(4) : `${(100 * r.metric).toFixed(2)}%`,
    perplexity: loss ? r.perplexity!.toFixed(2) : '',
    bytes: `${r.bytes.toLocaleString('en-US')} (${r.sizeRatio.toFixed(2)}x)`,
    tfjs: fmtMs(r.latencyMs),
    ort: fmtMs(r.onnxLatencyMs),
    logits: fmtDb(r.logitsSqnrDb),
    worst: r.worstStep ? `${shortHook(r.worstStep)} ${fmtDb(r.worstSqnrDb)}` : '—',
  }));
  // Two tables, one above the other: eight columns side by side do not fit a notebook column.
  // Widths in Vega's headless text estimate (8.8 px a character at 11 px), so the SVG/PNG cut nothing.
  const labelWidth = Math.min(350, Math.max(150, ...report.rows.map((r) => r.label.length * 8.8)));
  const quality = tableSpec({
    title: 'Optimized vs original: quality and size',
    rows,
    spacing: 10,
    columns: [
      { field: 'label', title: 'variant', width: labelWidth },
      { field: 'metric', title: loss ? 'nats/char' : 'accuracy', width: 70, align: 'right' },
      ...(loss ? [{ field: 'perplexity', title: 'perplexity', width: 76, align: 'right' as const }] : []),
      { field: 'bytes', title: 'bytes', width: 180, align: 'right' },
    ],
  });
  const speed = tableSpec({
    title: { text: 'Latency and error', subtitle: `latency: ${report.latencyNote}` },
    rows,
    spacing: 10,
    columns: [
      { field: 'label', title: 'variant', width: labelWidth },
      { field: 'tfjs', title: 'tfjs', width: 80, align: 'right' }, // "123.45 ms" whole
      { field: 'ort', title: 'ONNX RT', width: 80, align: 'right' },
      { field: 'logits', title: 'logits SQNR', width: 84, align: 'right' },
      { field: 'worst', title: 'worst step (SQNR)', width: 180 },
    ],
  });
  // One colour per variant, the same in every panel; a panel's legend lists only the variants it draws.
  const labels = report.rows.map((r) => r.label);
  const variantColor = (drawn: string[]) => ({ domain: drawn, range: drawn.map((l) => CATEGORY_PALETTE[labels.indexOf(l) % CATEGORY_PALETTE.length]) });
  const points = report.rows.map((r) => ({ label: r.label, metric: r.metric, kb: r.bytes / 1024, ms: r.latencyMs ?? r.onnxLatencyMs ?? 0 }));
  const scatter = {
    title: loss ? 'held-out loss against stored size (lower left is better)' : 'accuracy against stored size (bubble: tfjs latency)',
    width: 420,
    height: 220,
    data: { values: points },
    layer: [
      {
        mark: { type: 'circle', opacity: 0.8, ...(loss ? { size: 120 } : {}) },
        encoding: {
          x: { field: 'kb', type: 'quantitative', title: 'stored size (KiB)', scale: { zero: true } },
          y: loss
            ? { field: 'metric', type: 'quantitative', title: 'loss (nats/char)', scale: { zero: false } }
            : { field: 'metric', type: 'quantitative', title: 'held-out accuracy', axis: { format: '.1%' }, scale: { zero: false } },
          ...(loss ? {} : { size: { field: 'ms', type: 'quantitative', title: 'tfjs ms', scale: { range: [40, 600] }, legend: { orient: 'bottom', direction: 'horizontal' } } }),
          // Language models: variants often sit on top of each other (a model and its int8 copy), so a legend, not labels.
          color: { field: 'label', type: 'nominal', scale: variantColor(labels), legend: loss ? { orient: 'bottom', columns: 1, title: null, labelLimit: 420 } : null },
          tooltip: [{ field: 'label' }, { field: 'metric', format: loss ? '.4f' : '.2%' }, { field: 'kb', format: '.1f' }],
        },
      },
      ...(loss ? [] : [{ mark: { type: 'text', align: 'left', dx: 8, fontSize: 10 }, encoding: { x: { field: 'kb', type: 'quantitative' }, y: { field: 'metric', type: 'quantitative' }, text: { field: 'label' } } }]),
    ],
  };
  // One column, each panel left-aligned on its own bounds ('none'): aligning the plot areas would
  // push the tables right by the width of the scatter's axis labels.
  const column = (panels: Record<string, unknown>[]) => ({ concat: panels, columns: 1, align: 'none', spacing: 24, resolve: { scale: { color: 'independent', shape: 'independent' }, legend: { color: 'independent', shape: 'independent' } } });
  if (!loss) return toBundle(column([quality, speed, scatter]), report.toString());

  const latencyRows = report.rows.flatMap((r) => [
    ...(r.latencyMs === null ? [] : [{ label: r.label, engine: 'tfjs', ms: r.latencyMs, p95: r.latencyP95Ms }]),
    ...(r.onnxLatencyMs === null ? [] : [{ label: r.label, engine: 'ONNX Runtime', ms: r.onnxLatencyMs, p95: r.onnxLatencyP95Ms }]),
  ]);
  const engines = ['tfjs', 'ONNX Runtime'].filter((e) => latencyRows.some((r) => r.engine === e));
  // Engines differ by shape and by black vs grey, not by the variants' colours.
  const engineColor = { field: 'engine', type: 'nominal', scale: { domain: engines, range: engines.map((e) => (e === 'tfjs' ? '#000000' : '#888888')) }, title: null, legend: { orient: 'bottom' } };
  const engineShape = { field: 'engine', type: 'nominal', scale: { domain: engines, range: engines.map((e) => (e === 'tfjs' ? 'circle' : 'square')) }, title: null, legend: { orient: 'bottom' } };
  // Variant names above their rows, inside the plot: as axis labels they widened the report.
  const latency = {
    title: { text: 'latency, log scale (dot: median; line: to the 95th percentile)', subtitle: 'one forward pass, as in the table' },
    width: 420,
    height: { step: 36 },
    data: { values: latencyRows },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: labels, title: null, axis: null },
    },
    layer: [
      {
        transform: [{ aggregate: [], groupby: ['label'] }], // one name per variant, not one per engine
        mark: { type: 'text', align: 'left', baseline: 'bottom', dy: -7, fontSize: 11 },
        encoding: { x: { value: 0 }, text: { field: 'label' } },
      },
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'ms', type: 'quantitative', title: 'ms', scale: { type: 'log' } }, x2: { field: 'p95' }, color: engineColor } },
      {
        mark: { type: 'point', size: 70, filled: true, opacity: 1 },
        encoding: { x: { field: 'ms', type: 'quantitative' }, color: engineColor, shape: engineShape, tooltip: [{ field: 'label' }, { field: 'engine' }, { field: 'ms', format: '.2f' }, { field: 'p95', format: '.2f' }] },
      },
    ],
  };
  // Per-hook error: the residual stream and each block's outputs, where shapes allow.
  const hookOrder = (report.variants.find((v) => v.layers)?.layers ?? []).map((l) => l.name);
  // A student is compared at its logits only (the table has that figure): nothing to draw along the layers.
  const alongLayers = report.variants.filter((v) => (v.layers ?? []).some((l) => l.name !== 'hook_logits'));
  // Above ROUNDING_ONLY_DB the difference is float32 rounding (one ulp is ~138 dB), not the optimization: left out like exact values, or it stretches the axis.
  const errorRows = alongLayers.flatMap((v) => (v.layers ?? []).filter((l) => Number.isFinite(l.sqnrDb) && l.sqnrDb < ROUNDING_ONLY_DB).map((l) => ({ variant: v.label, hook: shortHook(l.name), sqnrDb: l.sqnrDb })));
  const drawnVariants = labels.filter((l) => errorRows.some((r) => r.variant === l));
  const errorLegend = { title: null, orient: 'bottom', columns: 1, labelLimit: 420, symbolType: 'stroke', symbolSize: 400, symbolStrokeWidth: 2 };
  const errors = {
    title: { text: 'where the error is: SQNR at each hook point against the original', subtitle: [
        'propagated from the input; only variants of the same shape (not students);',
        `hooks whose shape changed (pruned neurons) left out; exact values and float32`,
        `rounding (>= ${ROUNDING_ONLY_DB} dB) not drawn; dashes tell overlapping lines apart`,
      ] },
    width: { step: 7 },
    height: 200,
    data: { values: errorRows },
    mark: { type: 'line', point: { size: 14 } },
    encoding: {
      x: { field: 'hook', type: 'ordinal', sort: hookOrder.map(shortHook), title: null, axis: { labelAngle: -90, labelFontSize: 8 } },
      y: { field: 'sqnrDb', type: 'quantitative', title: 'SQNR (dB)', scale: { zero: false } },
      color: { field: 'variant', type: 'nominal', scale: variantColor(drawnVariants), legend: errorLegend },
      // A variant whose error equals another's (pruning, then int8 adding little) would hide the line under it.
      strokeDash: { field: 'variant', type: 'nominal', scale: { domain: drawnVariants, range: DASHES }, legend: null }, // the colour legend names them (Vega-Lite would draw a second, colourless legend)
      tooltip: [{ field: 'variant' }, { field: 'hook' }, { field: 'sqnrDb', format: '.1f' }],
    },
  };
  // The latency chart's variant names pushed every panel right when plot areas were aligned (1,063 px wide).
  return toBundle(column([quality, speed, scatter, latency, errors]), report.toString());
}
