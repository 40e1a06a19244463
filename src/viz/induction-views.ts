// The induction-head test as one picture: every head's stripe score (layer x head), the clearest
// head's attention on one repeated sequence with the stripe an induction head would light up
// drawn over it, and the loss at each position of the first and second copy.
import type { InductionTest } from '../analysis/induction';
import type { MimeBundle } from '../engine/mime';
import { toBundle } from './render';
import { gridToPngUrl } from './heatmap';

type Spec = Record<string, unknown>;

const PATTERN_SIZE = 200;

/** A bundle (Vega-Lite v5 + SVG + PNG + text) of an `inductionTest` result; about 800 px wide. */
export async function inductionView(test: InductionTest): Promise<MimeBundle> {
  const { period, heads, best } = test;
  const what = test.source === 'random' ? `${test.sequences} sequences of ${period} random tokens, each repeated once` : `${test.sequences} given passages of ${period} tokens, each repeated once`;
  const top = Math.max(0.1, ...heads.map((h) => h.score));

  const scores: Spec = {
    title: { text: 'stripe score per head', subtitle: [`uniform head: ${test.uniformScore.toFixed(3)}`] },
    width: 32 * Math.max(...heads.map((h) => h.head + 1)),
    height: 32 * Math.max(...heads.map((h) => h.layer + 1)),
    data: { values: heads.map((h) => ({ ...h, label: h.score.toFixed(2) })) },
    encoding: {
      x: { field: 'head', type: 'ordinal', title: 'head', axis: { labelAngle: 0 } },
      y: { field: 'layer', type: 'ordinal', title: 'layer' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'score', type: 'quantitative', scale: { scheme: 'blues', domain: [0, top] }, title: 'score', legend: { orient: 'bottom', gradientLength: 110 } }, tooltip: [{ field: 'layer' }, { field: 'head' }, { field: 'score', format: '.3f' }] } },
      { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'label' }, color: { condition: { test: `datum.score > ${top / 2}`, value: 'white' }, value: '#111' } } },
    ],
  };

  const n = test.bestPattern.length;
  const values = new Float32Array(n * n);
  test.bestPattern.forEach((row, q) => row.forEach((w, k) => (values[q * n + k] = k > q ? NaN : w)));
  const cell = PATTERN_SIZE / n;
  const pattern: Spec = {
    title: { text: `layer ${best.layer} head ${best.head} (top score)`, subtitle: ['its attention on the first sequence:', 'rows = queries, columns = keys;', 'dashed: where induction would look'] },
    width: PATTERN_SIZE,
    height: PATTERN_SIZE,
    layer: [
      {
        data: { values: [{ url: gridToPngUrl({ values, height: n, width: n }, { colormap: 'blues', range: [0, 1], cell: Math.max(1, Math.ceil(cell)) }), x0: 0, x1: PATTERN_SIZE, y0: 0, y1: PATTERN_SIZE }] },
        mark: { type: 'image', aspect: false, smooth: false },
        encoding: { url: { field: 'url', type: 'nominal' }, x: { field: 'x0', type: 'quantitative', scale: null }, x2: { field: 'x1' }, y: { field: 'y0', type: 'quantitative', scale: null }, y2: { field: 'y1' } },
      },
      {
        // The stripe's cells' centres: query q = period .. 2*period-1, key q - (period - 1).
        data: { values: [{ x: (1 + 0.5) * cell, y: (period + 0.5) * cell, x2: (period + 0.5) * cell, y2: (2 * period - 1 + 0.5) * cell }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#D55E00', strokeWidth: 1.5 },
        encoding: { x: { field: 'x', type: 'quantitative', scale: null }, y: { field: 'y', type: 'quantitative', scale: null }, x2: { field: 'x2' }, y2: { field: 'y2' } },
      },
      { data: { values: [{ x0: 0, x1: PATTERN_SIZE, y0: 0, y1: PATTERN_SIZE }] }, mark: { type: 'rect', fill: null, stroke: '#999', strokeWidth: 0.5 }, encoding: { x: { field: 'x0', type: 'quantitative', scale: null }, x2: { field: 'x1' }, y: { field: 'y0', type: 'quantitative', scale: null }, y2: { field: 'y1' } } },
    ],
  };

  const lossRows = test.lossByPosition.map((loss, i) => {
    const p = i + 1; // the position of the token being predicted
    return { copy: p < period ? 'first copy' : 'second copy', offset: p % period, loss };
  });
  const loss: Spec = {
    title: { text: 'loss at each position', subtitle: [`mean: first copy ${test.lossFirstHalf.toFixed(2)} nats,`, `second copy ${test.lossSecondHalf.toFixed(2)} nats;`, `dotted: uniform guess ${test.uniformLoss.toFixed(2)}`] },
    width: 240,
    height: PATTERN_SIZE,
    layer: [
      {
        data: { values: lossRows },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'offset', type: 'quantitative', title: 'position in the copy' },
          y: { field: 'loss', type: 'quantitative', title: 'loss (nats)', scale: { zero: true } },
          color: { field: 'copy', type: 'nominal', title: null, scale: { range: ['#0072B2', '#E69F00'] }, legend: { orient: 'bottom' } },
          tooltip: [{ field: 'copy' }, { field: 'offset' }, { field: 'loss', format: '.2f' }],
        },
      },
      { data: { values: [{ y: test.uniformLoss }] }, mark: { type: 'rule', strokeDash: [2, 2], color: '#555' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };

  const spec: Spec = {
    title: { text: `Induction test on ${test.model}: ${what}`, anchor: 'start' },
    hconcat: [scores, pattern, loss],
    spacing: 28,
    resolve: { scale: { color: 'independent' } },
  };
  const sorted = [...heads].sort((a, b) => b.score - a.score);
  const text = [
    `induction test on ${test.model}: ${what} (seed ${test.seed})`,
    `stripe score = mean attention from query q to key q - ${period - 1} over the second copy; a uniform head scores ${test.uniformScore.toFixed(3)}`,
    `heads, highest first: ${sorted.map((h) => `L${h.layer}H${h.head} ${h.score.toFixed(3)}`).join(', ')}`,
    `loss (nats per token): first copy ${test.lossFirstHalf.toFixed(3)}, second copy ${test.lossSecondHalf.toFixed(3)}, uniform guess ${test.uniformLoss.toFixed(3)}`,
  ].join('\n');
  return toBundle(spec, text);
}
