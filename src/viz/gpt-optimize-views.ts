// Views for optimizing a GPT: teacher and student next-token probabilities under a temperature
// slider (distillation), head importance (pruning heads), and a pruned weight matrix with its
// mask (which entries are gone).
import { tf, type Tensor } from '../engine/tf';
import type { HookedModel } from '../hooks/hooked-model';
import type { Tokenizer } from '../data/tokenizers';
import type { HeadImportance } from '../optimize/prune';
import type { MimeBundle } from '../engine/mime';
import { toBundle } from './render';
import { gridToPngUrl, imageLayer } from './heatmap';
import { visibleToken } from './gpt-views';

/** A GPT-like model, tfjs or ONNX Runtime: what the views need. */
type LanguageModelLike = HookedModel & { readonly tokenizer: Tokenizer; readonly config: { vocabSize: number; contextLength: number } };

/** Next-token logits after `text` (the last context-length tokens of it). */
function lastLogits(model: LanguageModelLike, text: string): number[] {
  const ids = model.tokenizer.encode(text).slice(-model.config.contextLength);
  if (ids.length === 0) throw new Error('nextTokenTemperatureView: the text is empty; give at least one character of context.');
  const input = tf.tensor2d(ids, [1, ids.length], 'int32'); // [1, pos]
  const logits = model.forward(input); // [1, pos, vocab]
  const last = tf.slice(logits, [0, ids.length - 1, 0], [1, 1, model.config.vocabSize]); // [1, 1, vocab]
  const values = Array.from(last.dataSync());
  tf.dispose([input, logits, last]);
  return values;
}

/**
 * Teacher and students: the probability of each next character after `text`, as softmax(logits / T)
 * over the WHOLE vocabulary, under a temperature slider (one Vega-Lite chart). The `topK` most
 * likely characters under the first model are drawn; the rest of the mass is off the chart.
 */
export async function nextTokenTemperatureView(text: string, models: Record<string, LanguageModelLike>, options: { topK?: number; title?: string; stillTemperature?: number } = {}): Promise<MimeBundle> {
  const labels = Object.keys(models);
  if (labels.length === 0) throw new Error('nextTokenTemperatureView needs at least one model, e.g. { teacher, student }.');
  const first = models[labels[0]];
  for (const l of labels) {
    if (models[l].config.vocabSize !== first.config.vocabSize) throw new Error(`nextTokenTemperatureView: "${l}" has a vocabulary of ${models[l].config.vocabSize}, "${labels[0]}" ${first.config.vocabSize}; the models must share a tokenizer.`);
  }
  const topK = Math.min(options.topK ?? 16, first.config.vocabSize);
  const logits = Object.fromEntries(labels.map((l) => [l, lastLogits(models[l], text)]));
  const order = logits[labels[0]].map((v, id) => [v, id]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, id]) => id);
  const rank = new Map(order.map((id, r) => [id, r]));
  const tokenOf = (id: number) => visibleToken(first.tokenizer.decode([id]));
  const rows = labels.flatMap((model) => {
    const z = logits[model];
    const top = Math.max(...z);
    return z.map((logit, id) => ({ model, token: tokenOf(id), id, rank: rank.get(id)!, shifted: logit - top, logit })); // shifted: exp never overflows
  });
  const context = text.slice(-40).replace(/\n/g, '⏎');
  const title = options.title ?? `Next character after "…${context}"`;
  const sortedTokens = order.slice(0, topK).map(tokenOf);
  const spec = (T: number) => ({
    title: { text: { expr: `${JSON.stringify(`${title} (T = `)} + format(T, '~g') + ')'` }, subtitle: [`softmax(logits / T) over all ${first.config.vocabSize} characters; the ${topK} most likely under ${labels[0]} drawn.`, 'Drag T: higher flattens, and shows what the teacher thinks is a near miss.'] },
    params: [{ name: 'T', value: T, bind: { input: 'range', min: 0.25, max: 8, step: 0.25, name: 'temperature T ' } }],
    width: 680, // 16 characters x 3 models stay readable, and fit a lesson page
    height: 220,
    data: { values: rows },
    transform: [
      { calculate: 'exp(datum.shifted / T)', as: 'e' },
      { joinaggregate: [{ op: 'sum', field: 'e', as: 'total' }], groupby: ['model'] }, // over the whole vocabulary
      { calculate: 'datum.e / datum.total', as: 'p' },
      { filter: `datum.rank < ${topK}` },
    ],
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'token', type: 'nominal', title: 'next character', sort: sortedTokens, axis: { labelAngle: 0, labelFontSize: 12 } },
      xOffset: { field: 'model', type: 'nominal', sort: labels },
      y: { field: 'p', type: 'quantitative', title: 'probability', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
      color: { field: 'model', type: 'nominal', sort: labels, title: null, legend: { orient: 'bottom', labelLimit: 400 } },
      tooltip: [{ field: 'model' }, { field: 'token' }, { field: 'p', format: '.4f' }, { field: 'logit', format: '.2f' }],
    },
  });
  const softmax = (z: number[], T: number) => {
    const top = Math.max(...z);
    const e = z.map((v) => Math.exp((v - top) / T));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  };
  const still = options.stillTemperature ?? 2;
  const describe = (T: number) => labels.map((l) => `  ${l}: ${order.slice(0, 6).map((id) => `${tokenOf(id)} ${softmax(logits[l], T)[id].toFixed(3)}`).join('  ')}`).join('\n');
  const described = [1, ...(still === 1 ? [] : [still])].map((T) => `T = ${T}:\n${describe(T)}`).join('\n'); // one block per distinct temperature
  return toBundle(spec(1), `${title}\n${described}`, spec(still));
}

/** Head importance as a block x head grid: the loss increase when each head is ablated. */
export async function headImportanceView(importance: HeadImportance, title = 'Head importance: loss increase when the head is zeroed'): Promise<MimeBundle> {
  const rows = importance.heads.map((h) => ({ block: `block ${h.block}`, head: `head ${h.head}`, increase: h.increase, loss: h.loss }));
  const spec = {
    title: { text: title, subtitle: `nats/char over ${importance.windows} validation windows; intact model ${importance.baseLoss.toFixed(4)}` },
    data: { values: rows },
    width: { step: 64 },
    height: { step: 34 },
    encoding: {
      x: { field: 'head', type: 'ordinal', title: null, axis: { orient: 'top', labelAngle: 0 } },
      y: { field: 'block', type: 'ordinal', title: null },
    },
    layer: [
      { mark: { type: 'rect' }, encoding: { color: { field: 'increase', type: 'quantitative', title: 'Δ loss', scale: { scheme: 'oranges' } }, tooltip: [{ field: 'block' }, { field: 'head' }, { field: 'increase', format: '.4f' }, { field: 'loss', format: '.4f' }] } },
      { mark: { type: 'text', fontSize: 11 }, encoding: { text: { field: 'increase', type: 'quantitative', format: '+.3f' } } },
    ],
  };
  const text = importance.heads.map((h) => `block ${h.block} head ${h.head}: +${h.increase.toFixed(4)} nats/char`).join('\n');
  return toBundle(spec, `${title} (intact ${importance.baseLoss.toFixed(4)})\n${text}`);
}

/**
 * A weight matrix after pruning: |w| as a heatmap, removed entries (exact zeros) white, so the
 * mask is the white pattern: scattered dots for magnitude pruning, whole rows or columns for heads
 * and neurons.
 */
export async function pruningMaskView(weight: Tensor, title: string): Promise<MimeBundle> {
  if (weight.rank !== 2) throw new Error(`pruningMaskView expects a weight matrix [rows, columns]; got [${weight.shape}].`);
  const [rows, cols] = weight.shape as number[];
  const raw = weight.dataSync();
  const values = new Float32Array(raw.length);
  let zeros = 0;
  let max = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0) {
      values[i] = NaN;
      zeros++;
    } else {
      values[i] = Math.abs(raw[i]);
      max = Math.max(max, values[i]);
    }
  }
  const range: [number, number] = [0, max || 1];
  // Keep the matrix's own aspect: the longer side 512 px (at least one pixel per entry up to 512).
  const scale = 512 / Math.max(rows, cols);
  const [width, height] = [Math.max(8, Math.round(cols * scale)), Math.max(8, Math.round(rows * scale))];
  const url = gridToPngUrl({ values, height: rows, width: cols }, { colormap: 'viridis', range, cell: Math.max(1, Math.round(scale)) });
  const share = zeros / raw.length;
  const full = `${title}: [${rows}, ${cols}], ${(100 * share).toFixed(1)}% removed (white)`;
  const spec = {
    title: { text: full, subtitle: 'rows: inputs, columns: outputs; colour |w|' },
    width,
    height,
    layer: [
      imageLayer(url, width, height, { smooth: false }),
      {
        data: { values: [{ v: range[0] }, { v: range[1] }] },
        mark: { type: 'point', opacity: 0 },
        encoding: { color: { field: 'v', type: 'quantitative', scale: { domain: range, scheme: 'viridis' }, legend: { title: '|w|', gradientLength: Math.max(60, Math.min(200, height * 0.8)) } } },
      },
    ],
  };
  return toBundle(spec, full);
}
