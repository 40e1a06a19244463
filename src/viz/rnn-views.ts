// Views of a recurrent network reading a word: the hidden state over time (time x units), the
// gate activations, and the class probabilities after each character. Each returns a MimeBundle
// (Vega-Lite v5 + SVG + PNG + text) through toBundle; heatmaps are PNG images inside the spec.
import { PNG } from 'pngjs';
import { tf } from '../engine/tf';
import type { CharRNN } from '../models/rnn';
import { GATE_NAMES } from '../models/rnn';
import type { MimeBundle } from '../engine/mime';
import { toBundle } from './render';
import { colorAt, imageLayer } from './heatmap';

type Spec = Record<string, unknown>;

const BLUE = [33, 102, 172];
const WHITE = [247, 247, 247];
const RED = [178, 24, 43];

/** Blue (-1) -> white (0) -> red (+1): for values with a meaningful sign, like h = o·tanh(c). */
function diverging(v: number, limit: number): number[] {
  const t = Math.max(-1, Math.min(1, v / limit));
  const [from, to, f] = t < 0 ? [WHITE, BLUE, -t] : [WHITE, RED, t];
  return from.map((c, k) => Math.round(c + f * (to[k] - c)));
}

/** Rows x cols values as a PNG data URL, `cell` pixels per value. */
function pngUrl(values: ArrayLike<number>, rows: number, cols: number, color: (v: number) => number[], cellW: number, cellH: number): string {
  const png = new PNG({ width: cols * cellW, height: rows * cellH });
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const rgb = color(values[r * cols + c]);
      for (let dy = 0; dy < cellH; dy++) for (let dx = 0; dx < cellW; dx++) png.data.set([rgb[0], rgb[1], rgb[2], 255], ((r * cellH + dy) * cols * cellW + c * cellW + dx) * 4);
    }
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

/** Read named hook values for one word: `[time, units]` rows of each. */
function readWord(model: CharRNN, word: string, names: string[]): { chars: string[]; values: Record<string, number[][]> } {
  const ids = model.encode([word]);
  const [out, cache] = model.runWithCache(ids, { names });
  const values: Record<string, number[][]> = {};
  for (const n of names) values[n] = (cache.get(n).arraySync() as number[][][])[0];
  tf.dispose([ids, out]);
  cache.dispose();
  const chars = [...word.normalize('NFC').toLowerCase()].slice(0, model.config.maxLength);
  return { chars, values };
}

/** One time x units heatmap panel with the characters down the left. */
function heatPanel(url: string, chars: string[], units: number, options: { title: string; cellW: number; cellH: number; showChars: boolean }): Spec {
  const width = units * options.cellW;
  const height = chars.length * options.cellH;
  const rows = chars.map((ch, t) => ({ t, label: `${t + 1}: ${ch}` }));
  return {
    title: { text: options.title, fontSize: 12 },
    width,
    height,
    layer: [
      imageLayer(url, width, height, { smooth: false }),
      {
        data: { values: rows },
        mark: { type: 'tick', opacity: 0 },
        encoding: {
          y: { field: 'label', type: 'ordinal', sort: null, scale: { padding: 0.5 } /* a point scale: labels at row centres */, title: options.showChars ? 'character read (time →)' : null, axis: options.showChars ? { labelFontSize: 11, ticks: false, domain: false } : { labels: false, ticks: false, domain: false } },
        },
      },
      {
        data: { values: [{ u: 0 }, { u: units }] },
        mark: { type: 'point', opacity: 0 },
        encoding: { x: { field: 'u', type: 'quantitative', scale: { domain: [0, units], nice: false }, title: 'unit', axis: { tickCount: 4 } } },
      },
    ],
  };
}

function legend(domain: number[], range: string[], title: string, length: number): Spec {
  return {
    data: { values: domain.map((v) => ({ v })) },
    mark: { type: 'point', opacity: 0 },
    encoding: { color: { field: 'v', type: 'quantitative', scale: { domain, range }, legend: { title, gradientLength: length, orient: 'right' } } },
  };
}

/** How many units the hidden-state view follows as lines. */
const HIGHLIGHTED_UNITS = 5;

const hex = (rgb: number[]) => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;

/**
 * The hidden state h after each character: a time x units heatmap (rows = characters read so
 * far, columns = hidden units; red positive, blue negative). What the network carries forward.
 */
export async function hiddenStateView(model: CharRNN, word: string, options: { cell?: boolean } = {}): Promise<MimeBundle> {
  const c = model.config.cell;
  const names = [`${c}.hook_hidden`, ...(options.cell && c === 'lstm' ? ['lstm.hook_cell'] : [])];
  const { chars, values } = readWord(model, word, names);
  const units = model.config.units;
  const cellW = units > 64 ? 3 : 5;
  const cellH = 16;
  const panels: Spec[] = names.map((n, i) => {
    const flat = values[n].flat();
    const limit = n.endsWith('hook_cell') ? Math.max(1e-6, ...flat.map(Math.abs)) : 1;
    const url = pngUrl(flat, chars.length, units, (v) => diverging(v, limit), cellW, cellH);
    const panel = heatPanel(url, chars, units, { title: n.endsWith('hook_cell') ? `cell state c (±${limit.toFixed(2)})` : 'hidden state h (−1 to 1)', cellW, cellH, showChars: true });
    (panel.layer as Spec[]).push(legend([-limit, 0, limit], [hex(BLUE), hex(WHITE), hex(RED)], n.endsWith('hook_cell') ? 'c' : 'h', chars.length * cellH * 0.8));
    return panel;
  });
  const h = values[`${c}.hook_hidden`];
  // A few units worth following: the ones whose value moves most while the word is read.
  const spread = Array.from({ length: units }, (_, k) => Math.max(...h.map((row) => row[k])) - Math.min(...h.map((row) => row[k])));
  const picked = spread.map((v, k) => [v, k]).sort((a, b) => b[0] - a[0]).slice(0, HIGHLIGHTED_UNITS).map(([, k]) => k).sort((a, b) => a - b);
  const unitLines: Spec = {
    title: { text: `the ${picked.length} units of h that move most while reading`, fontSize: 12 },
    width: Math.max(260, chars.length * 34),
    height: 160,
    data: { values: chars.flatMap((ch, t) => picked.map((k) => ({ label: `${t + 1}: ${ch}`, unit: `unit ${k}`, h: h[t][k] }))) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'label', type: 'ordinal', sort: null, title: 'character read (time →)', axis: { labelAngle: 0 } },
      y: { field: 'h', type: 'quantitative', title: 'h', scale: { domain: [-1, 1] } },
      color: { field: 'unit', type: 'nominal', sort: picked.map((k) => `unit ${k}`), title: null, legend: { orient: 'right' } },
      strokeDash: { field: 'unit', type: 'nominal', sort: picked.map((k) => `unit ${k}`), title: null, legend: { orient: 'right' } },
      tooltip: [{ field: 'unit' }, { field: 'label', title: 'after' }, { field: 'h', format: '.3f' }],
    },
  };
  const spec: Spec = {
    title: { text: `${model.name}: the ${c === 'lstm' ? 'LSTM' : 'GRU'} state while reading "${word}"`, subtitle: ['one row per character read; each row is the state after that character; red = positive, blue = negative;', `below: the ${picked.length} units (of ${units}) that change most, as lines`] },
    vconcat: [...panels, unitLines],
    spacing: 14,
    resolve: { scale: { color: 'independent', strokeDash: 'independent' } },
  };
  const changes = h.slice(1).map((row, t) => Math.sqrt(row.reduce((s, v, k) => s + (v - h[t][k]) ** 2, 0)));
  const text = [
    `${model.name} hidden state h for "${word}": [time ${chars.length}, units ${units}]`,
    ...chars.map((ch, t) => `  ${String(t + 1).padStart(2)} ${ch}  mean |h| ${(h[t].reduce((s, v) => s + Math.abs(v), 0) / units).toFixed(3)}${t ? `  change ${changes[t - 1].toFixed(3)}` : ''}`),
  ].join('\n');
  return toBundle(spec, text);
}

/**
 * Gate activations while reading a word, one heatmap per gate (0 = closed, 1 = open):
 * LSTM input / forget / output (and the candidate in −1..1), GRU update / reset (and candidate).
 */
export async function gateActivationsView(model: CharRNN, word: string): Promise<MimeBundle> {
  const c = model.config.cell;
  const gates = GATE_NAMES[c];
  const names = gates.map((g) => `${c}.hook_gates_${g}`);
  const { chars, values } = readWord(model, word, names);
  const units = model.config.units;
  const cellW = units > 48 ? 3 : 5;
  const cellH = 14;
  const panels = gates.map((g, i) => {
    const flat = values[names[i]].flat();
    const isCandidate = g === 'candidate';
    const url = pngUrl(flat, chars.length, units, isCandidate ? (v) => diverging(v, 1) : (v) => colorAt(v, 'viridis'), cellW, cellH);
    return heatPanel(url, chars, units, { title: `${g}${isCandidate ? ' (−1..1)' : ' gate (0..1)'}`, cellW, cellH, showChars: i % 2 === 0 });
  });
  const viridis = [0, 0.25, 0.5, 0.75, 1].map((t) => hex(colorAt(t, 'viridis')));
  (panels[0].layer as Spec[]).push(legend([0, 0.25, 0.5, 0.75, 1], viridis, 'gate', chars.length * cellH * 0.8));
  const meaning = c === 'lstm' ? 'input: write the candidate; forget: keep the old cell; output: show the cell as h' : 'update: keep the old state (1) or take the candidate (0); reset: how much old state the candidate sees';
  const spec: Spec = {
    title: { text: `${model.name}: gates while reading "${word}"`, subtitle: [meaning, 'gates: dark = closed (0), yellow = open (1); candidate: blue −1, red +1'] },
    columns: 2, // a 2 x 2 grid: four gates side by side do not fit a notebook column
    concat: panels,
    spacing: 14,
    resolve: { scale: { color: 'independent', y: 'shared' } },
  };
  const mean = (rows: number[][], t: number) => rows[t].reduce((s, v) => s + v, 0) / units;
  const text = [
    `${model.name} gates for "${word}" (mean over ${units} units per character)`,
    `  ${'char'.padEnd(6)}${gates.map((g) => g.padStart(11)).join('')}`,
    ...chars.map((ch, t) => `  ${`${t + 1} ${ch}`.padEnd(6)}${names.map((n) => mean(values[n], t).toFixed(3).padStart(11)).join('')}`),
  ].join('\n');
  return toBundle(spec, text);
}

const LANGUAGE_COLORS = ['#0072B2', '#E69F00', '#D55E00', '#56B4E9', '#009E73', '#CC79A7', '#F0E442', '#999999'];

/** The class probabilities after each character: the prediction forming as the word is read. */
export async function characterProbabilitiesView(model: CharRNN, word: string): Promise<MimeBundle> {
  const rows = model.probabilitiesPerCharacter(word);
  const chars = [...word.normalize('NFC').toLowerCase()].slice(0, model.config.maxLength);
  const labels = model.config.labels;
  const prefixes = chars.map((_, t) => chars.slice(0, t + 1).join(''));
  const values = rows.flatMap((p, t) => p.map((prob, k) => ({ step: t, prefix: prefixes[t], language: labels[k], p: prob })));
  const final = rows[rows.length - 1];
  const best = final.indexOf(Math.max(...final));
  const spec: Spec = {
    title: { text: `${model.name} reading "${word}": P(language) after each character`, subtitle: `final answer: ${labels[best]} (${(final[best] * 100).toFixed(1)}%)` },
    width: Math.max(260, 44 * chars.length),
    height: 220,
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'prefix', type: 'ordinal', sort: prefixes, title: 'characters read so far', axis: { labelAngle: -40 } },
      y: { field: 'p', type: 'quantitative', title: 'probability', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      color: { field: 'language', type: 'nominal', sort: labels, scale: { domain: labels, range: LANGUAGE_COLORS.slice(0, labels.length) } },
      tooltip: [{ field: 'prefix' }, { field: 'language' }, { field: 'p', format: '.3f' }],
    },
  };
  const text = [
    `${model.name} reading "${word}": P(language) after each character`,
    `  ${'prefix'.padEnd(model.config.maxLength + 2)}${labels.map((l) => l.slice(0, 7).padStart(9)).join('')}`,
    ...rows.map((p, t) => `  ${prefixes[t].padEnd(model.config.maxLength + 2)}${p.map((v) => (v * 100).toFixed(1).padStart(8) + '%').join('')}`),
  ].join('\n');
  return toBundle(spec, text);
}

/** Accuracy per class for several models side by side (e.g. n-gram baseline, LSTM, GRU). */
export async function accuracyComparisonView(results: { model: string; perClass: Record<string, number>; accuracy: number }[], title = 'held-out accuracy per language'): Promise<MimeBundle> {
  const classes = Object.keys(results[0]?.perClass ?? {});
  const values = results.flatMap((r) => [...classes.map((c) => ({ model: r.model, cls: c, acc: r.perClass[c] })), { model: r.model, cls: 'ALL', acc: r.accuracy }]);
  const models = results.map((r) => r.model);
  const spec: Spec = {
    title,
    data: { values },
    width: { step: 16 },
    height: 200,
    mark: { type: 'bar' },
    encoding: {
      column: { field: 'cls', type: 'nominal', sort: [...classes, 'ALL'], title: null, header: { labelOrient: 'bottom' } },
      x: { field: 'model', type: 'nominal', sort: models, axis: null },
      y: { field: 'acc', type: 'quantitative', title: 'accuracy', scale: { domain: [0.5, 1] }, axis: { format: '.0%' } },
      y2: { datum: 0.5 }, // bars start at 50%: the differences are a few points
      color: { field: 'model', type: 'nominal', sort: models, legend: { orient: 'top', title: null } },
      tooltip: [{ field: 'model' }, { field: 'cls' }, { field: 'acc', format: '.3f' }],
    },
  };
  const text = [
    title,
    `  ${'model'.padEnd(20)}${[...classes, 'ALL'].map((c) => c.slice(0, 8).padStart(9)).join('')}`,
    ...results.map((r) => `  ${r.model.padEnd(20)}${[...classes.map((c) => r.perClass[c]), r.accuracy].map((v) => (v * 100).toFixed(1).padStart(8) + '%').join('')}`),
  ].join('\n');
  return toBundle(spec, text);
}

/**
 * Accuracy after reading only the first k characters (k = 1..maxPrefix), over the words of a set
 * that are at least `maxPrefix` long: how the answer forms as more of the word arrives.
 */
export function prefixAccuracy(model: CharRNN, words: string[], labels: number[], maxPrefix = 10): { k: number; accuracy: number; n: number }[] {
  const keep = words.map((w, i) => i).filter((i) => [...words[i]].length >= maxPrefix);
  const correct = new Array(maxPrefix).fill(0);
  for (let start = 0; start < keep.length; start += 500) {
    const idx = keep.slice(start, start + 500);
    const ids = model.encode(idx.map((i) => words[i]));
    const [out, cache] = model.runWithCache(ids, { names: ['post.hook_step_probs'] });
    const best = tf.tidy(() => tf.argMax(tf.slice(cache.get('post.hook_step_probs'), [0, 0, 0], [-1, maxPrefix, -1]), 2).arraySync() as number[][]); // [batch, k]
    tf.dispose([ids, out]);
    cache.dispose();
    best.forEach((row, b) => row.forEach((p, k) => (correct[k] += p === labels[idx[b]] ? 1 : 0)));
  }
  return correct.map((c, k) => ({ k: k + 1, accuracy: c / Math.max(1, keep.length), n: keep.length }));
}

/** Accuracy against characters read, one line per model (from `prefixAccuracy`). */
export async function prefixAccuracyView(curves: { model: string; points: { k: number; accuracy: number; n: number }[] }[], title = 'accuracy after reading only the first k characters'): Promise<MimeBundle> {
  const values = curves.flatMap((c) => c.points.map((p) => ({ model: c.model, k: p.k, accuracy: p.accuracy })));
  const n = curves[0]?.points[0]?.n ?? 0;
  const spec: Spec = {
    title: { text: title, subtitle: `${n} held-out words of at least ${curves[0]?.points.length ?? 0} letters; chance = ${(100 / 6).toFixed(1)}% for six languages` },
    width: 420,
    height: 220,
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'k', type: 'quantitative', title: 'characters read', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      color: { field: 'model', type: 'nominal', legend: { orient: 'top', title: null } },
      tooltip: [{ field: 'model' }, { field: 'k' }, { field: 'accuracy', format: '.3f' }],
    },
  };
  const text = [title, ...curves.map((c) => `  ${c.model.padEnd(14)} ${c.points.map((p) => `${p.k}:${(p.accuracy * 100).toFixed(1)}%`).join('  ')}`)].join('\n');
  return toBundle(spec, text);
}
