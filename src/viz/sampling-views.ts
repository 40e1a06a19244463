// The distribution a language model draws its next token from, under a temperature. Its own file
// because it uses gpt.ts's samplingDistribution (the function `generate` samples with), and
// gpt-views.ts must not import gpt.ts (see there).
import { tf } from '../engine/tf';
import { samplingDistribution, type GPT } from '../models/gpt';
import type { MimeBundle } from '../engine/mime';
import { toBundle } from './render';
import { visibleToken } from './gpt-views';

type Spec = Record<string, unknown>;

/** The slider's temperatures: 0.05, 0.10, ... 3.00 (the normaliser is precomputed at each). */
const T_STEP = 0.05;
const T_STEPS = 60;

export interface NextTokenOptions {
  /** Temperature of the still picture and the slider's start (default 1; 0 = greedy). */
  temperature?: number;
  /** Bars to show: the most likely tokens (default 12); the rest is one "all others" bar. */
  topK?: number;
  /** Which position's prediction (default: the last, i.e. the token after the text). */
  position?: number;
}

/** log sum_i exp(z_i / T) for z = logits - max, at temperature T > 0 (the softmax normaliser). */
function logNormaliser(shifted: Float32Array, temperature: number): number {
  let total = 0;
  for (let i = 0; i < shifted.length; i++) total += Math.exp(shifted[i] / temperature);
  return Math.log(total);
}

/**
 * The next-token probabilities softmax(logits / T) as bars: the `topK` most likely tokens and
 * one bar for everything else. In JupyterLab a T slider recomputes the softmax in the page (the
 * normaliser over the whole vocabulary is precomputed for each slider step); the PNG shows the
 * given temperature, with probabilities from samplingDistribution, the function generate() uses.
 */
export async function nextTokenView(model: GPT, input: string | number[], options: NextTokenOptions = {}): Promise<MimeBundle> {
  const ids = typeof input === 'string' ? model.tokenizer.encode(input) : input;
  if (ids.length === 0) throw new Error('nextTokenView: the text is empty; give at least one token.');
  const temperature = options.temperature ?? 1;
  if (!(temperature >= 0 && temperature <= T_STEP * T_STEPS)) throw new Error(`temperature must be in 0..${T_STEP * T_STEPS}, got ${temperature}.`);
  const position = options.position ?? ids.length - 1;
  if (!(Number.isInteger(position) && position >= 0 && position < ids.length)) throw new Error(`position ${position} does not exist: the text has positions 0..${ids.length - 1}.`);
  const window = ids.slice(0, position + 1).slice(-model.config.contextLength);
  const logits = tf.tidy(() => {
    const input = tf.tensor2d(window, [1, window.length], 'int32'); // [1, pos]
    const all = model.forward(input); // [1, pos, vocab]
    return tf.slice(all, [0, window.length - 1, 0], [1, 1, model.config.vocabSize]).dataSync() as Float32Array; // [vocab] of the last position
  });
  const vocab = logits.length;
  const k = Math.max(1, Math.min(options.topK ?? 12, vocab));
  const exact = samplingDistribution(logits, { temperature }); // [id, p], most likely first
  const order = temperature === 0 ? samplingDistribution(logits, { temperature: 1 }).map(([id]) => id) : exact.map(([id]) => id);
  const pAt = new Map(exact);
  const maxLogit = logits[order[0]];
  const shifted = logits.map((v) => v - maxLogit);
  const shownIds = order.slice(0, k);
  const pieces = model.tokenizer.pieces(shownIds);
  const rows = shownIds.map((id, r) => ({ rank: r, label: `${visibleToken(pieces[r], 12)}`, token: JSON.stringify(pieces[r]), id, z: shifted[id], logit: logits[id], other: false, pStill: pAt.get(id) ?? 0 }));
  const rest = vocab - k;
  if (rest > 0) rows.push({ rank: k, label: `(${rest.toLocaleString('en-US')} others)`, token: '', id: -1, z: 0, logit: NaN, other: true, pStill: 1 - shownIds.reduce((s, id) => s + (pAt.get(id) ?? 0), 0) });
  const logZ = Array.from({ length: T_STEPS }, (_, i) => Number(logNormaliser(shifted, (i + 1) * T_STEP).toFixed(6)));
  const labels = rows.map((r) => r.label);
  const context = model.tokenizer.decode(window.slice(-40));
  const shownContext = context.replace(/\n/g, '↵').replace(/\s+$/, (tail) => visibleToken(tail, tail.length)); // a trailing space is what the model continues from
  const spec = (still: boolean): Spec => ({
    title: {
      text: `Next token after "${context.length < model.tokenizer.decode(window).length ? '…' : ''}${shownContext}"`,
      subtitle: still
        ? `softmax(logits / T) at T = ${temperature}${temperature === 0 ? ' (greedy: all mass on the top token)' : ''}; the ${k} most likely of ${vocab.toLocaleString('en-US')} tokens (␣ = space, ↵ = newline)`
        : 'softmax(logits / T); drag T: below 1 sharpens the distribution, above 1 flattens it (␣ = space, ↵ = newline)',
    },
    params: still ? [] : [
      { name: 'T', value: Math.max(T_STEP, Math.round(temperature / T_STEP) * T_STEP), bind: { input: 'range', min: T_STEP, max: T_STEP * T_STEPS, step: T_STEP, name: 'temperature T ' } },
      { name: 'logZs', value: logZ },
    ],
    width: 420,
    height: { step: 20 },
    data: { values: rows },
    transform: still
      ? [{ calculate: 'datum.pStill', as: 'p' }]
      : [
          { calculate: `datum.other ? 0 : exp(datum.z / T - logZs[clamp(round(T / ${T_STEP}) - 1, 0, ${T_STEPS - 1})])`, as: 'shownP' },
          { joinaggregate: [{ op: 'sum', field: 'shownP', as: 'shownTotal' }] },
          { calculate: 'datum.other ? max(0, 1 - datum.shownTotal) : datum.shownP', as: 'p' },
        ],
    encoding: {
      y: { field: 'label', type: 'nominal', sort: labels, title: null, axis: { labelFont: 'DejaVu Sans Mono, monospace', labelFontSize: 12, labelLimit: 200 } },
      x: { field: 'p', type: 'quantitative', title: 'probability', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
    },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          color: { condition: { test: 'datum.other', value: '#cccccc' }, value: '#0072B2' },
          tooltip: [{ field: 'token' }, { field: 'id' }, { field: 'logit', format: '.3f' }, { field: 'p', format: '.4f', title: 'probability' }],
        },
      },
      { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { text: { field: 'p', type: 'quantitative', format: '.1%' } } },
    ],
  });
  const text = [
    `next token after ${JSON.stringify(context)} at T = ${temperature}:`,
    ...rows.map((r) => `  ${(r.other ? r.label : r.token).padEnd(16)} ${(100 * r.pStill).toFixed(2).padStart(6)}%${r.other ? '' : `   logit ${r.logit.toFixed(3)}`}`),
  ].join('\n');
  return toBundle(spec(false), text, spec(true));
}
