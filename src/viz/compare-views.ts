// The comparison report drawn: a table, metric against stored size, latency, and the error at
// each hook point. Registered as the 'comparison' view (ComparisonReport.toMimeBundle).
import type { MimeBundle } from '../engine/mime';
import { fmtDb, fmtMs, shortHook, type ComparisonReport } from '../optimize/compare';
import { toBundle } from './render';
import { tableSpec } from './specs';

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
    worst: r.worstStep ? `${loss ? shortHook(r.worstStep) : r.worstStep} ${fmtDb(r.worstSqnrDb)}` : '—',
  }));
  // Two tables, one above the other: eight columns side by side do not fit a notebook column.
  const labelWidth = Math.min(360, Math.max(150, ...report.rows.map((r) => r.label.length * 8.8))); // 8.8 px a character: what Vega estimates without a canvas
  const quality = tableSpec({
    title: 'Optimized vs original: quality and size',
    rows,
    columns: [
      { field: 'label', title: 'variant', width: labelWidth },
      { field: 'metric', title: loss ? 'nats/char' : 'accuracy', width: 70, align: 'right' },
      ...(loss ? [{ field: 'perplexity', title: 'perplexity', width: 64, align: 'right' as const }] : []),
      { field: 'bytes', title: 'bytes', width: 180, align: 'right' },
    ],
  });
  const speed = tableSpec({
    title: `Latency and error (latency: ${report.latencyNote})`,
    rows,
    columns: [
      { field: 'label', title: 'variant', width: labelWidth },
      { field: 'tfjs', title: 'tfjs', width: 70, align: 'right' },
      { field: 'ort', title: 'ONNX RT', width: 70, align: 'right' },
      { field: 'logits', title: 'logits SQNR', width: 84, align: 'right' },
      { field: 'worst', title: 'worst step (SQNR)', width: 190 },
    ],
  });
  const table = { vconcat: [quality, speed], spacing: 18 };
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
            ? { field: 'metric', type: 'quantitative', title: 'held-out cross-entropy (nats/char)', scale: { zero: false } }
            : { field: 'metric', type: 'quantitative', title: 'held-out accuracy', axis: { format: '.1%' }, scale: { zero: false } },
          ...(loss ? {} : { size: { field: 'ms', type: 'quantitative', title: 'tfjs ms', scale: { range: [40, 600] }, legend: { orient: 'bottom', direction: 'horizontal' } } }),
          // Language models: variants often sit on top of each other (a model and its int8 copy), so a legend, not labels.
          color: { field: 'label', type: 'nominal', sort: report.rows.map((r) => r.label), legend: loss ? { orient: 'bottom', columns: 2, title: null, labelLimit: 260 } : null },
          tooltip: [{ field: 'label' }, { field: 'metric', format: loss ? '.4f' : '.2%' }, { field: 'kb', format: '.1f' }],
        },
      },
      ...(loss ? [] : [{ mark: { type: 'text', align: 'left', dx: 8, fontSize: 10 }, encoding: { x: { field: 'kb', type: 'quantitative' }, y: { field: 'metric', type: 'quantitative' }, text: { field: 'label' } } }]),
    ],
  };
  if (!loss) return toBundle({ vconcat: [table, scatter], spacing: 24 }, report.toString());

  const labels = report.rows.map((r) => r.label);
  const latencyRows = report.rows.flatMap((r) => [
    ...(r.latencyMs === null ? [] : [{ label: r.label, engine: 'tfjs', ms: r.latencyMs, p95: r.latencyP95Ms }]),
    ...(r.onnxLatencyMs === null ? [] : [{ label: r.label, engine: 'ONNX Runtime', ms: r.onnxLatencyMs, p95: r.onnxLatencyP95Ms }]),
  ]);
  const latency = {
    title: { text: 'latency, log scale (dot: median; line: to the 95th percentile)', subtitle: 'one forward pass, as in the table' },
    width: 300,
    height: { step: 22 },
    data: { values: latencyRows },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 240 } },
      color: { field: 'engine', type: 'nominal', sort: ['tfjs', 'ONNX Runtime'], scale: { range: ['#0072B2', '#E69F00'] }, title: null, legend: { orient: 'bottom' } },
    },
    layer: [
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'ms', type: 'quantitative', title: 'ms', scale: { type: 'log' } }, x2: { field: 'p95' } } },
      { mark: { type: 'circle', size: 70, opacity: 1 }, encoding: { x: { field: 'ms', type: 'quantitative' }, tooltip: [{ field: 'label' }, { field: 'engine' }, { field: 'ms', format: '.2f' }, { field: 'p95', format: '.2f' }] } },
    ],
  };
  // Per-hook error: the residual stream and each block's outputs, where shapes allow.
  const hookOrder = (report.variants.find((v) => v.layers)?.layers ?? []).map((l) => l.name);
  const errorRows = report.variants.flatMap((v) => (v.layers ?? []).filter((l) => Number.isFinite(l.sqnrDb)).map((l) => ({ variant: v.label, hook: shortHook(l.name), sqnrDb: l.sqnrDb })));
  const errors = {
    title: { text: 'where the error is: SQNR at each hook point against the original', subtitle: 'propagated from the input; only variants of the same shape (not students); hooks whose shape changed (pruned neurons) left out; exact values not drawn' },
    width: { step: 7 },
    height: 200,
    data: { values: errorRows },
    mark: { type: 'line', point: { size: 14 } },
    encoding: {
      x: { field: 'hook', type: 'ordinal', sort: hookOrder.map(shortHook), title: null, axis: { labelAngle: -90, labelFontSize: 8 } },
      y: { field: 'sqnrDb', type: 'quantitative', title: 'SQNR (dB)', scale: { zero: false } },
      color: { field: 'variant', type: 'nominal', sort: labels, title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 300 } },
      tooltip: [{ field: 'variant' }, { field: 'hook' }, { field: 'sqnrDb', format: '.1f' }],
    },
  };
  return toBundle({ vconcat: [table, { hconcat: [scatter, latency], spacing: 40, resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } } }, errors], spacing: 24, resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } } }, report.toString());
}
