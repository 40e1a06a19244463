// A regression model's answers against the truth: one point per example (actual on x, predicted
// on y), one colour per model, and the diagonal where a perfect prediction would lie. Points
// above the diagonal are over-predictions, below it under-predictions.
import type { MimeBundle } from '../engine/mime';
import { CATEGORY_PALETTE, toBundle } from './render';

export interface PredictionSeries {
  /** The model's name in the legend. */
  label: string;
  predicted: ArrayLike<number>;
}

/** Predicted against actual for one or more models on the same examples, with the y = x line. */
export async function predictedVsActualView(actual: ArrayLike<number>, series: PredictionSeries[], options: { title: string; unit: string }): Promise<MimeBundle> {
  for (const s of series) if (s.predicted.length !== actual.length) throw new Error(`predictedVsActualView: "${s.label}" has ${s.predicted.length} predictions for ${actual.length} targets.`);
  const points = series.flatMap((s) => Array.from(actual, (a, i) => ({ model: s.label, actual: a, predicted: s.predicted[i] })));
  const all = points.flatMap((p) => [p.actual, p.predicted]);
  const lo = Math.floor(Math.min(...all) / 10) * 10;
  const hi = Math.ceil(Math.max(...all) / 10) * 10;
  const domain = [lo, hi];
  const spec = {
    title: { text: options.title, subtitle: 'one point per held-out example; on the grey line the prediction equals the truth' },
    width: 420,
    height: 420,
    layer: [
      {
        data: { values: [{ actual: lo, predicted: lo }, { actual: hi, predicted: hi }] },
        mark: { type: 'line', color: '#999999', strokeDash: [4, 4] },
        encoding: { x: { field: 'actual', type: 'quantitative', scale: { domain } }, y: { field: 'predicted', type: 'quantitative', scale: { domain } } },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 36, opacity: 0.75 },
        encoding: {
          x: { field: 'actual', type: 'quantitative', title: `actual ${options.unit}`, scale: { domain } },
          y: { field: 'predicted', type: 'quantitative', title: `predicted ${options.unit}`, scale: { domain } },
          color: { field: 'model', type: 'nominal', title: null, scale: { domain: series.map((s) => s.label), range: CATEGORY_PALETTE.slice(0, series.length) }, legend: { orient: 'bottom', labelLimit: 300 } },
          shape: { field: 'model', type: 'nominal', title: null, scale: { domain: series.map((s) => s.label) } },
          tooltip: [{ field: 'model' }, { field: 'actual', format: '.1f' }, { field: 'predicted', format: '.1f' }],
        },
      },
    ],
  };
  const text = series.map((s) => `${s.label}: ${Array.from(actual, (a, i) => `(${a}, ${Number(s.predicted[i]).toFixed(1)})`).slice(0, 5).join(' ')} ... (${actual.length} points)`).join('\n');
  return toBundle(spec, `${options.title}\n${text}`);
}
