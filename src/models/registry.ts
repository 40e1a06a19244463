// The registry: what each model is. Every shipped model lives in assets/<name>/ as config.json +
// weights.safetensors (written by the training script its config names); its architecture picks
// an entry below, and the entry says the task, the kind of input, how to encode one input, the
// held-out evaluation (metric, whether lower is better, the data, n) and the views that apply.
// The CLI (models, eval, run, compare), the server's stepper and compare page and the notebooks
// dispatch on the entry, never on the model's class.
//
// ONE held-out figure per model: `evaluate(model, heldOutData(name))` computed here. The figure
// stored in config.json's `heldOut` (what `models`, /api/models and the README show) is that
// computation's result; test/registry.test.ts recomputes it and checks the README against it.
import { readJsonFile, readRegularFile } from '../io/read-file';
import { readNpy } from '../io/npy';
import * as fs from 'fs';
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { nextTokenLoss } from '../engine/ops';
import { DigitsCNN } from './cnn';
import { CharRNN } from './rnn';
import { GPT } from './gpt';
import { loadGPT2 } from './gpt2-loader';
import { KeywordCNN, evaluateKeywords, keywordWaveform, loadKeywordHeldOut } from './speech';
import { Translator } from './translator';
import { readTranslationHeldOut, tokenizeWords, type ParallelVerse } from '../data/translation';
import { corpusBleu } from './bleu';
import { correctnessVector, evaluateDigits } from './evaluate';
import type { HookedModel } from '../hooks/hooked-model';
import { assetsDir } from '../io/paths';
import { loadMnist, MNIST_SIZE, type DigitSet } from '../data/mnist';
import { readWordSet } from '../data/words';
import { readHeldOutText } from '../data/corpus';
import { readWav } from '../data/wav';
import { KEYWORDS, KWS_CLIP_SAMPLES, type KeywordClipSet } from '../data/speech';
import { readPng, pixelsFromJson } from '../preprocess/image';
import { topK, type Prediction } from './predictions';
import { TabularRegressor, rowsFromJson } from './regression';
import { readDiabetes, splitDiabetes, type TabularSet } from '../data/diabetes';

export { packageRoot, assetsDir } from '../io/paths';

/** What a model reads: 28x28 grey images, one word, one second of 16 kHz audio, text, a row of measurements, or a sentence to translate. */
export type InputKind = 'image' | 'word' | 'audio' | 'text' | 'tabular' | 'sentence';

/** Held-out data of one input kind, with where it came from (a file, or the shipped set). */
export type EvalData =
  | { kind: 'image'; set: DigitSet; source: string }
  | { kind: 'word'; words: string[]; labels: string[]; source: string }
  | { kind: 'audio'; clips: KeywordClipSet; source: string }
  | { kind: 'text'; text: string; source: string }
  | { kind: 'sentence'; verses: Pick<ParallelVerse, 'es' | 'en'>[]; source: string }
  | { kind: 'tabular'; set: TabularSet; source: string };

/** One evaluation: the figure, how many items it averages, and extras (e.g. accuracy per SNR). */
export interface ModelEvaluation {
  metric: string;
  lowerIsBetter: boolean;
  value: number;
  n: number;
  data: string;
  extra?: Record<string, unknown>;
  /** The score of each example the value averages (a language model: the loss of each window), for paired intervals. */
  perExample?: Float64Array;
}

/** The one held-out figure of a shipped model (config.json's `heldOut`). */
export interface HeldOutFigure {
  metric: string;
  lowerIsBetter: boolean;
  value: number;
  n: number;
}

export interface ModelEntry {
  /** config.json's `architecture`. */
  architecture: string;
  input: InputKind;
  /** The metric the evaluation reports, and whether lower is better. */
  metric: string;
  lowerIsBetter: boolean;
  /** Views of the web stepper and the notebooks that apply (names of viz/ views). */
  views: string[];
  /** How `compare --quantize int8` makes the int8 variant: fake-quantized tfjs weights, or ONNX Runtime's integer kernels. */
  int8: 'fake-quant' | 'onnx-dynamic';
  /** What `run --input` takes, for the usage line. */
  inputHelp: string;
  /** The shipped held-out data of `model` (null: none shipped; give --data). */
  heldOut(model: HookedModel, name: string): EvalData | null;
  /** The figure of `model` on `data` (the same data for every variant of a comparison). */
  evaluate(model: HookedModel, data: EvalData): ModelEvaluation;
  /** One input from its text form (a file path, `heldout:N`, a word or a text). Caller disposes. */
  encode(model: HookedModel, spec: string): Tensor;
  /** A batch of `count` held-out inputs (latency and per-layer error). Caller disposes. */
  batch(model: HookedModel, data: EvalData, count: number): Tensor;
  /** The `k` most likely answers for one input (a class, or the next token after the last position). */
  predict(model: HookedModel, input: Tensor, k: number): Prediction[];
  /** A regression model: the predicted number of each input row, in the target's units, and what it measures. */
  estimate?(model: HookedModel, input: Tensor): { values: number[]; target: string };
  /** Why `compare` does not apply to this kind of model (one line); absent when it does. */
  notComparable?: string;
}

/** A classifier's forward gives probabilities [batch, classes] in `config.labels` order. */
function classify(model: HookedModel, input: Tensor, k: number): Prediction[] {
  const probs = model.forward(input); // [batch, classes]
  try {
    return topK(probs, (model as HookedModel & { config: { labels: string[] } }).config.labels, k)[0];
  } finally {
    probs.dispose();
  }
}

function wrongKind(entry: string, expected: InputKind, got: EvalData): Error {
  return new Error(`${entry} evaluates ${expected} data; got ${got.kind} data from ${got.source}.`);
}

/** The largest image `run --input` or `--data` takes (per side): the digits models read 28x28. */
const MAX_INPUT_SIDE = 1024;
/** The largest JSON file `--input` or `--data` reads. */
const MAX_INPUT_JSON_BYTES = 32 * 2 ** 20;

function readJson(file: string, expects: string): unknown {
  const text = readRegularFile(file, MAX_INPUT_JSON_BYTES, 'input').toString('utf8'); // a regular file of bounded size, not a device or a FIFO
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON; expected ${expects}.`);
  }
}

const heldOutIndex = (spec: string) => {
  const m = /^heldout:(\d+)$/.exec(spec);
  return m ? Number(m[1]) : null;
};

// ---- the entries ----------------------------------------------------------------------------

// The translator's entry. Its figure is corpus BLEU of greedy translations (computed here, as
// sacreBLEU does on tokenised text); decoding a sentence is many forward passes, so the entry
// answers `eval` and `run` but not `compare`.
const translatorEntry: ModelEntry = {
  architecture: 'translator',
  input: 'sentence',
  metric: 'BLEU (greedy)',
  lowerIsBetter: false,
  views: ['cross-attention'],
  int8: 'fake-quant',
  inputHelp: '--input "Spanish sentence" (or heldout:N)',
  notComparable: 'a translation model: its figure is BLEU of whole decoded sentences, which compare (quantize, prune, distill) does not score; compare supports the digits CNN, the language-ID RNNs, the keyword CNN and the GPTs',
  heldOut: (_model, name) => {
    const dir = path.join(assetsDir(), fs.existsSync(path.join(assetsDir(), name, 'heldout.json')) ? name : 'translator-es-en');
    const set = readTranslationHeldOut(dir);
    return { kind: 'sentence', verses: set.verses, source: `assets/${path.basename(dir)}/heldout.json (${set.verses.length} held-out verses, Reina-Valera 1909 -> World English Bible)` };
  },
  evaluate(model, data) {
    if (data.kind !== 'sentence') throw wrongKind('a translation model', 'sentence', data);
    const hypotheses = (model as Translator).translateAll(data.verses.map((v) => v.es));
    const score = corpusBleu(hypotheses, data.verses.map((v) => v.en));
    return { metric: 'BLEU (greedy)', lowerIsBetter: false, value: score.bleu, n: data.verses.length, data: data.source, extra: { precisions: score.precisions, brevityPenalty: score.brevityPenalty } };
  },
  encode(model, spec) {
    const i = heldOutIndex(spec);
    const m = model as Translator;
    if (i === null) return m.encodePair(spec, []);
    const verses = readTranslationHeldOut(path.join(assetsDir(), 'translator-es-en')).verses;
    if (i >= verses.length) throw new Error(`heldout:${i} is out of range; expected 0..${verses.length - 1}.`);
    return m.encodePair(verses[i].es, []);
  },
  batch: (model, data, count) => {
    if (data.kind !== 'sentence') throw wrongKind('a translation model', 'sentence', data);
    const m = model as Translator;
    return m.pack(data.verses.slice(0, count).map((v) => ({ source: m.sourceIds(v.es), target: [2] }))); // [count, 2, pos]: each Spanish verse and <s>
  },
  predict(model, input, k) {
    const m = model as Translator;
    const probs = tf.tidy(() => tf.softmax(tf.slice(model.forward(input), [0, 0, 0], [1, 1, m.target.size]).reshape([1, m.target.size]))); // [1, tgt_vocab]: the first English word
    try {
      return topK(probs, m.target.tokens, k)[0];
    } finally {
      probs.dispose();
    }
  },
};

const imageClassifier: ModelEntry = {
  architecture: 'digits-cnn',
  input: 'image',
  metric: 'accuracy',
  lowerIsBetter: false,
  views: ['trace', 'conv-window', 'layer-error'],
  int8: 'fake-quant',
  inputHelp: '--input <file.png|file.json|heldout:N>',
  heldOut: () => ({ kind: 'image', set: loadMnist().heldOut, source: 'the 2,000 held-out MNIST digits (mnist package)' }),
  evaluate(model, data) {
    if (data.kind !== 'image') throw wrongKind('an image classifier', 'image', data);
    const e = evaluateDigits(model, data.set);
    return { metric: 'accuracy', lowerIsBetter: false, value: e.value, n: e.n, data: data.source, perExample: Float64Array.from(correctnessVector(e)) };
  },
  encode(_model, spec) {
    const i = heldOutIndex(spec);
    if (i !== null) {
      const set = loadMnist().heldOut;
      if (i >= set.count) throw new Error(`heldout:${i} is out of range; expected 0..${set.count - 1}.`);
      return digitBatch(set, i, 1);
    }
    const ext = path.extname(spec).toLowerCase();
    if (ext === '.png') return readPng(spec, { maxSide: MAX_INPUT_SIDE });
    if (ext === '.json') return pixelsFromJson(readJson(spec, 'a pixel array [height][width] of numbers 0..255'), spec, { maxSide: MAX_INPUT_SIDE });
    throw new Error(`--input ${spec}: expected a .png file, a .json pixel array, or heldout:N.`);
  },
  batch: (_model, data, count) => {
    if (data.kind !== 'image') throw wrongKind('an image classifier', 'image', data);
    return digitBatch(data.set, 0, Math.min(count, data.set.count));
  },
  predict: classify,
};

function digitBatch(set: DigitSet, start: number, count: number): Tensor {
  const px = MNIST_SIZE * MNIST_SIZE;
  return tf.tensor3d(set.images.subarray(start * px, (start + count) * px), [count, MNIST_SIZE, MNIST_SIZE], 'int32'); // [count, 28, 28]
}

const wordClassifier: ModelEntry = {
  architecture: 'char-rnn',
  input: 'word',
  metric: 'accuracy',
  lowerIsBetter: false,
  views: ['trace', 'rnn-gates'],
  int8: 'fake-quant',
  inputHelp: '--input WORD (or heldout:N)',
  heldOut: () => {
    // The held-out words are saved beside the LSTM; the GRU was trained on the same split.
    const file = path.join(assetsDir(), 'langid-lstm', 'heldout.json');
    const set = readWordSet(file);
    return { kind: 'word', words: set.words, labels: set.labels.map((l) => set.languages[l]), source: 'assets/langid-lstm/heldout.json (1,000 words per language)' };
  },
  evaluate(model, data) {
    if (data.kind !== 'word') throw wrongKind('a word classifier', 'word', data);
    const guesses = (model as CharRNN).classifyWords(data.words);
    const right = Float64Array.from(guesses, (g, i) => (g.label === data.labels[i] ? 1 : 0)); // [word]: 1 where right
    const correct = right.reduce((a, b) => a + b, 0);
    return { metric: 'accuracy', lowerIsBetter: false, value: correct / data.words.length, n: data.words.length, data: data.source, perExample: right };
  },
  encode(model, spec) {
    const i = heldOutIndex(spec);
    const word = i === null ? spec : wordClassifier.heldOut(model, '')!;
    if (typeof word === 'string') return (model as CharRNN).encode([word]);
    if (word.kind !== 'word' || i! >= word.words.length) throw new Error(`heldout:${i} is out of range.`);
    return (model as CharRNN).encode([word.words[i!]]);
  },
  batch: (model, data, count) => {
    if (data.kind !== 'word') throw wrongKind('a word classifier', 'word', data);
    return (model as CharRNN).encode(data.words.slice(0, count));
  },
  predict: classify,
};

const keywordSpotter: ModelEntry = {
  architecture: 'kws-cnn',
  input: 'audio',
  metric: 'accuracy',
  lowerIsBetter: false,
  views: ['trace', 'log-mel'],
  int8: 'fake-quant',
  inputHelp: '--input <clip.wav|heldout:N>',
  heldOut: () => ({ kind: 'audio', clips: loadKeywordHeldOut(), source: 'assets/kws-cnn/heldout (250 clean clips of 13 unseen speaker families)' }),
  evaluate(model, data) {
    if (data.kind !== 'audio') throw wrongKind('a keyword spotter', 'audio', data);
    const shipped = data.source.startsWith('assets/');
    const e = evaluateKeywords(model as KeywordCNN, data.clips, shipped ? {} : { snrs: [Infinity] });
    const bySnr = e.results.map((r) => ({ snr: Number.isFinite(r.snrDb) ? r.snrDb : 'clean', accuracy: r.accuracy }));
    const right = Float64Array.from(e.predictions[0], (p, i) => (p === data.clips.labels[i] ? 1 : 0)); // [clip]: 1 where right at the first SNR (the figure's)
    return { metric: 'accuracy', lowerIsBetter: false, value: e.results[0].accuracy, n: e.results[0].n, data: data.source, extra: { bySnr }, perExample: right };
  },
  encode(model, spec) {
    const i = heldOutIndex(spec);
    if (i !== null) {
      const set = loadKeywordHeldOut();
      if (i >= set.clips.length) throw new Error(`heldout:${i} is out of range; expected 0..${set.clips.length - 1}.`);
      return keywordWaveform(set.clips[i], set.sampleRate, (model as KeywordCNN).config.clipSamples);
    }
    if (path.extname(spec).toLowerCase() !== '.wav') throw new Error(`--input ${spec}: expected a .wav file (16 kHz mono) or heldout:N.`);
    const wav = readWav(spec);
    return keywordWaveform(wav.samples, wav.sampleRate, (model as KeywordCNN).config.clipSamples);
  },
  batch: (model, data, count) => {
    if (data.kind !== 'audio') throw wrongKind('a keyword spotter', 'audio', data);
    const n = Math.min(count, data.clips.clips.length);
    const clip = (model as KeywordCNN).config.clipSamples;
    return tf.tidy(() => tf.concat(data.clips.clips.slice(0, n).map((c) => keywordWaveform(c, data.clips.sampleRate, clip)), 0)); // [n, samples]
  },
  predict: classify,
};

/** Held-out cross-entropy of a GPT-like model (any `forward` from ids to logits): every window of the text, each id predicted once. */
export function textLoss(
  model: HookedModel & { config: { vocabSize: number; contextLength: number } },
  ids: Int32Array,
  options: { windows?: number; batchSize?: number } = {},
): { value: number; n: number; windows: number; perWindow: Float64Array } {
  const length = model.config.contextLength + 1;
  const available = Math.floor((ids.length - 1) / (length - 1));
  const windows = Math.min(options.windows ?? available, available);
  if (windows < 1) throw new Error(`The text (${ids.length} tokens) is shorter than one window of ${length} tokens (the model's context + 1); give a longer text.`);
  const batchSize = options.batchSize ?? 16;
  let total = 0;
  const perWindow = new Float64Array(windows); // each window's mean loss over its positions (paired intervals resample windows)
  for (let first = 0; first < windows; first += batchSize) {
    const count = Math.min(batchSize, windows - first);
    const batch = new Int32Array(count * length);
    for (let b = 0; b < count; b++) {
      const start = (first + b) * (length - 1); // windows overlap by one id: every id is predicted once
      batch.set(ids.subarray(start, start + length), b * length);
    }
    const [loss, rows] = tf.tidy(() => {
      const all = tf.tensor2d(batch, [count, length], 'int32');
      const inputs = tf.slice(all, [0, 0], [count, length - 1]); // [batch, pos]
      const targets = tf.slice(all, [0, 1], [count, length - 1]); // [batch, pos]
      const logits = model.forward(inputs); // [batch, pos, vocab]
      const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, model.config.vocabSize)), 2); // [batch, pos] log p(target)
      return [nextTokenLoss(logits, targets, model.config.vocabSize), tf.neg(tf.mean(picked, 1))]; // [], [batch]
    });
    total += loss.dataSync()[0] * count;
    perWindow.set(rows.dataSync(), first);
    tf.dispose([loss, rows]);
  }
  return { value: total / windows, n: windows * (length - 1), windows, perWindow };
}

/**
 * The metric a model reports: the entry's, except that a language model's cross-entropy is per
 * character only with a character tokenizer (the tiny GPTs); a GPT-2 (BPE) scores nats per token.
 */
export function metricNameOf(model: HookedModel): string {
  const tokenizer = (model as HookedModel & { config?: { tokenizer?: { kind?: string } } }).config?.tokenizer;
  if (!tokenizer) return entryFor(model).metric;
  return tokenizer.kind === 'char' ? languageModel.metric : 'cross-entropy (nats/token)';
}

type TextModel = HookedModel & { config: { vocabSize: number; contextLength: number }; tokenizer: { encode(text: string): number[] } };

const languageModel: ModelEntry = {
  architecture: 'gpt',
  input: 'text',
  metric: 'cross-entropy (nats/char)',
  lowerIsBetter: true,
  views: ['trace', 'attention', 'logit-lens'],
  int8: 'onnx-dynamic',
  inputHelp: '--text STR or --tokens 1,2,3',
  heldOut: (_model, name) => {
    // The test chapters ship beside the tiny GPT; its students are scored on the same text.
    const own = path.join(assetsDir(), name);
    const dir = fs.existsSync(path.join(own, 'heldout.txt')) ? own : name.startsWith('tiny-gpt') ? path.join(assetsDir(), 'tiny-gpt') : null;
    if (!dir) return null;
    return { kind: 'text', text: readHeldOutText(dir), source: `assets/${path.basename(dir)}/heldout.txt (the test chapters)` };
  },
  evaluate(model, data) {
    if (data.kind !== 'text') throw wrongKind('a language model', 'text', data);
    const m = model as TextModel;
    const r = textLoss(m, Int32Array.from(m.tokenizer.encode(data.text)));
    return { metric: metricNameOf(model), lowerIsBetter: true, value: r.value, n: r.n, data: data.source, extra: { perplexity: Math.exp(r.value), windows: r.windows }, perExample: r.perWindow };
  },
  encode(model, spec) {
    const ids = (model as TextModel).tokenizer.encode(spec);
    if (ids.length === 0) throw new Error(`${model.name}: the text is empty; a GPT needs at least one token.`);
    return tf.tensor2d(ids, [1, ids.length], 'int32'); // [1, pos]
  },
  batch: (model, data, count) => {
    if (data.kind !== 'text') throw wrongKind('a language model', 'text', data);
    const m = model as TextModel;
    const context = m.config.contextLength;
    const ids = Int32Array.from(m.tokenizer.encode(data.text));
    if (ids.length === 0) throw new Error(`${data.source}: the text is empty; a language model needs at least one token.`);
    if (ids.length < context) return tf.tensor2d(ids, [1, ids.length], 'int32'); // [1, pos]: shorter than one context
    const n = Math.max(1, Math.min(count, Math.floor(ids.length / context)));
    return tf.tensor2d(ids.subarray(0, n * context), [n, context], 'int32'); // [n, context]
  },
  predict(model, input, k) {
    const m = model as TextModel & { tokenizer: { decode(ids: number[]): string } };
    const pos = input.shape[1]!;
    const probs = tf.tidy(() => tf.softmax(tf.reshape(tf.slice(model.forward(input), [0, pos - 1, 0], [1, 1, m.config.vocabSize]), [1, m.config.vocabSize]))); // [1, vocab]
    try {
      const labels = Array.from({ length: m.config.vocabSize }, (_, id) => m.tokenizer.decode([id]));
      return topK(probs, labels, k)[0];
    } finally {
      probs.dispose();
    }
  },
};

// ---- a regression model (notebook 13): rows of measurements -> one number ----

/** The shipped diabetes data (assets/diabetes/diabetes.json, written by scripts/make-diabetes-data.py). */
export function diabetesFile(): string {
  return path.join(assetsDir(), 'diabetes', 'diabetes.json');
}

const sameFeatures = (a: string[], b: string[]) => a.length === b.length && a.every((f, i) => f === b[i]);

const tabularRegressor: ModelEntry = {
  architecture: 'tabular-regressor',
  input: 'tabular',
  metric: 'mean absolute error',
  lowerIsBetter: true,
  views: ['trace'],
  int8: 'fake-quant',
  inputHelp: "--input '[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.86, 87]' (one row: age, sex, bmi, bp, s1..s6), a .json file holding such a row, or heldout:N",
  heldOut(model) {
    const diabetes = readDiabetes(diabetesFile());
    if (!sameFeatures((model as TabularRegressor).config.features, diabetes.features)) return null; // another data set: give --data
    return { kind: 'tabular', set: splitDiabetes(diabetes).heldOut, source: 'the 88 held-out patients of assets/diabetes/diabetes.json (every 5th of 442)' };
  },
  evaluate(model, data) {
    if (data.kind !== 'tabular') throw wrongKind('a regression model', 'tabular', data);
    const predicted = (model as TabularRegressor).predict(data.set.rows);
    let abs = 0;
    let sq = 0;
    const perExample = new Float64Array(predicted.length);
    predicted.forEach((p, i) => {
      const e = p - data.set.targets[i];
      perExample[i] = Math.abs(e);
      abs += Math.abs(e);
      sq += e * e;
    });
    const n = predicted.length;
    return { metric: 'mean absolute error', lowerIsBetter: true, value: abs / n, n, data: data.source, extra: { rmse: Math.sqrt(sq / n) }, perExample };
  },
  encode(model, spec) {
    const features = (model as TabularRegressor).config.features;
    const i = heldOutIndex(spec);
    if (i !== null) {
      const data = tabularRegressor.heldOut(model, model.name);
      if (!data || data.kind !== 'tabular') throw new Error(`heldout:${i}: ${model.name} ships no held-out rows; give a row of ${features.length} numbers.`);
      if (i >= data.set.rows.length) throw new Error(`heldout:${i} is out of range; expected 0..${data.set.rows.length - 1}.`);
      return rowsFromJson(data.set.rows[i], features, `heldout:${i}`);
    }
    if (spec.trim().startsWith('[')) {
      let value: unknown;
      try {
        value = JSON.parse(spec);
      } catch {
        throw new Error(`--input ${spec}: not valid JSON; expected a row of ${features.length} numbers (${features.join(', ')}).`);
      }
      return rowsFromJson(value, features, '--input');
    }
    if (path.extname(spec).toLowerCase() === '.json') return rowsFromJson(readJson(spec, `a row of ${features.length} numbers`), features, spec);
    throw new Error(`--input ${spec}: expected a JSON row of ${features.length} numbers (${features.join(', ')}), a .json file holding one, or heldout:N.`);
  },
  batch: (model, data, count) => {
    if (data.kind !== 'tabular') throw wrongKind('a regression model', 'tabular', data);
    return rowsFromJson(data.set.rows.slice(0, count), (model as TabularRegressor).config.features, data.source);
  },
  predict(model) {
    throw new Error(`${model.name} is a regression model: it predicts a number, not labels with probabilities (use the registry entry's estimate).`);
  },
  estimate(model, input) {
    const out = model.forward(input); // [batch, 1] in target units
    try {
      return { values: Array.from(out.dataSync()), target: (model as TabularRegressor).config.target };
    } finally {
      out.dispose();
    }
  },
  notComparable:
    'a regression model (one number per row of measurements): compare reports classifiers\' accuracy and language models\' cross-entropy; `eval` gives its mean absolute error, and notebook 13 compares it with its yardsticks',
};

const ENTRIES: Record<string, ModelEntry> = {
  'digits-cnn': imageClassifier,
  'char-rnn': wordClassifier,
  'kws-cnn': keywordSpotter,
  gpt: languageModel,
  translator: translatorEntry,
  'tabular-regressor': tabularRegressor,
};

/** What every registered model class offers beside the hooks: its size and a way to free its weights. */
export type LoadedModel = HookedModel & { readonly parameterCount: number; readonly byteSize: number; dispose(): void };

const LOADERS: Record<string, (dir: string, name: string) => LoadedModel> = {
  'digits-cnn': (dir, name) => DigitsCNN.load(dir, name),
  'char-rnn': (dir, name) => CharRNN.load(dir, name),
  gpt: (dir, name) => GPT.load(dir, name),
  'kws-cnn': (dir, name) => KeywordCNN.load(dir, name),
  translator: (dir, name) => Translator.load(dir, name),
  'tabular-regressor': (dir, name) => TabularRegressor.load(dir, name),
};

/** Students `compare --distill-into` can name, per shipped teacher (trained by scripts/train-students.ts and train-gpt-students.ts). */
export const STUDENTS: Record<string, Record<string, string>> = {
  'digits-cnn': { student: 'digits-student-distilled', scratch: 'digits-student-scratch' },
  'tiny-gpt': { student: 'tiny-gpt-student-distilled', scratch: 'tiny-gpt-student-scratch' },
};

// ---- names, entries, loading ------------------------------------------------------------------

/** Names of the shipped models (directories under assets/ with a config.json). */
export function modelNames(): string[] {
  const root = assetsDir();
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((d) => fs.existsSync(path.join(root, d, 'config.json')))
    .sort();
}

function unknownModel(name: string): Error {
  return new Error(`Unknown model "${name}". Known models: ${modelNames().join(', ') || '(none shipped)'}.`);
}

function isPath(nameOrDir: string): boolean {
  return nameOrDir.includes(path.sep) || nameOrDir.startsWith('.');
}

function modelDir(nameOrDir: string): string {
  if (isPath(nameOrDir)) return path.resolve(nameOrDir);
  if (!modelNames().includes(nameOrDir)) throw unknownModel(nameOrDir);
  return path.join(assetsDir(), nameOrDir);
}

/** Whether `dir` is a TensorFlow.js model folder (model.json, no config.json): `lab.loadImportedModel` loads it. */
export function isTfjsModelDir(nameOrDir: string): boolean {
  if (!isPath(nameOrDir)) return false;
  const dir = path.resolve(nameOrDir);
  return fs.existsSync(path.join(dir, 'model.json')) && !fs.existsSync(path.join(dir, 'config.json'));
}

/** Why eval, run and compare cannot score a TensorFlow.js model folder (one line). */
export function tfjsModelRefusal(dir: string, command: string): string {
  return (
    `${command} ${dir}: a TensorFlow.js model folder (model.json) declares no task, labels or held-out data, so the CLI cannot encode an input or score an output for it; ` +
    `\`inference-lab models ${dir}\` describes it, and in code \`await lab.loadImportedModel('${dir}')\` gives every layer as a hook point (trace, quantize, layerErrors, compare with your own evaluator).`
  );
}

function readConfig(dir: string): Record<string, unknown> {
  const configFile = path.join(dir, 'config.json');
  if (!fs.existsSync(configFile) && fs.existsSync(path.join(dir, 'model.json'))) throw new Error(tfjsModelRefusal(dir, 'this command'));
  if (!fs.existsSync(configFile)) throw new Error(`No model at ${dir}: expected ${configFile} and weights.safetensors (or, for a Hugging Face GPT-2, model.safetensors).`);
  return readJsonFile(configFile, 'model config');
}

/** The architecture of a shipped model or model directory, read from its config without loading weights. */
export function architectureOf(nameOrDir: string): string {
  const saved = readConfig(modelDir(nameOrDir));
  if (saved.model_type === 'gpt2' && saved.architecture === undefined) return 'gpt'; // a Hugging Face GPT-2 directory
  return String(saved.architecture);
}

/** The registry entry of a shipped model or a model directory (no weights loaded). */
export function entryOf(nameOrDir: string): ModelEntry {
  const architecture = architectureOf(nameOrDir);
  const entry = ENTRIES[architecture];
  if (!entry) throw new Error(`${nameOrDir}: unknown architecture "${architecture}". Expected one of: ${Object.keys(ENTRIES).join(', ')}.`);
  return entry;
}

/** The model classes the registry loads, by architecture (a copy, quantized or pruned, keeps its class). */
const CLASSES = new Map<unknown, string>([
  [DigitsCNN, 'digits-cnn'],
  [CharRNN, 'char-rnn'],
  [GPT, 'gpt'],
  [KeywordCNN, 'kws-cnn'],
  [Translator, 'translator'],
  [TabularRegressor, 'tabular-regressor'],
]);

/** The entry of a loaded model: by its class, or by the shipped model its name starts with (e.g. an ONNX Runtime copy "tiny-gpt-int8-onnx"). */
export function entryFor(model: HookedModel): ModelEntry {
  const byClass = CLASSES.get(model.constructor);
  if (byClass) return ENTRIES[byClass];
  const shipped = modelNames()
    .filter((n) => model.name === n || model.name.startsWith(`${n}-`))
    .sort((a, b) => b.length - a.length)[0];
  if (shipped) return entryOf(shipped);
  throw new Error(`${model.name} is not a registered model: the registry knows ${Object.keys(ENTRIES).join(', ')} and the shipped models ${modelNames().join(', ')}.`);
}

/** The shipped held-out data of a model (null when none ships: give your own with --data). */
export function heldOutData(model: HookedModel, name = model.name): EvalData | null {
  return entryOf(isPath(name) || modelNames().includes(name) ? name : model.name).heldOut(model, name);
}

/** Evaluate `model` (loaded from `name`) on `data`, or on its shipped held-out data. */
export function evaluateModel(name: string, model: HookedModel, data?: EvalData): ModelEvaluation {
  const entry = entryOf(name);
  const d = data ?? entry.heldOut(model, isPath(name) ? path.basename(name) : name);
  if (!d) throw new Error(`${name} ships no held-out data; give your own with --data FILE (${DATA_FORMATS[entry.input]}).`);
  return entry.evaluate(model, d);
}

/** Load a shipped model by name, or a model directory by path (also a Hugging Face GPT-2 directory). */
export function loadModel(nameOrDir: string): LoadedModel {
  const dir = modelDir(nameOrDir);
  const saved = readConfig(dir);
  if (saved.model_type === 'gpt2' && saved.architecture === undefined) return loadGPT2(dir);
  const load = LOADERS[String(saved.architecture)];
  if (!load) throw new Error(`${path.join(dir, 'config.json')}: unknown architecture "${String(saved.architecture)}". Expected one of: ${Object.keys(LOADERS).join(', ')}.`);
  return load(dir, path.basename(dir));
}

// ---- what `models` lists ------------------------------------------------------------------------

export interface ModelInfo {
  name: string;
  task: string;
  architecture: string;
  input: InputKind;
  params: number;
  /** float32 bytes of the weights (what `compare` reports as the original's size). */
  bytes: number;
  /** The one held-out figure (config.json's heldOut, computed by evaluateModel). */
  heldOut: HeldOutFigure | null;
  views: string[];
  trainedBy: string;
}

/** The stored figure of a shipped model, as config.json has it. */
export function heldOutFigure(name: string): HeldOutFigure | null {
  const saved = readConfig(modelDir(name));
  const h = saved.heldOut as Partial<HeldOutFigure> | undefined;
  if (!h || typeof h.value !== 'number') return null;
  const entry = entryOf(name);
  return { metric: String(h.metric ?? entry.metric), lowerIsBetter: entry.lowerIsBetter, value: h.value, n: Number(h.n) };
}

/** What `models` says of a shipped model, or of a model directory (a Hugging Face GPT-2, or the shipped layout). */
export function modelInfo(name: string): ModelInfo {
  if (!isPath(name) && !modelNames().includes(name)) throw unknownModel(name);
  const saved = readConfig(modelDir(name));
  const entry = entryOf(name);
  const model = loadModel(name);
  const params = model.parameterCount;
  const bytes = model.byteSize;
  model.dispose();
  return {
    name,
    task: String(saved.task ?? (saved.model_type === 'gpt2' ? 'next token of text (a Hugging Face GPT-2 directory)' : '')),
    architecture: entry.architecture,
    input: entry.input,
    params,
    bytes,
    heldOut: isPath(name) ? null : heldOutFigure(name), // a directory's own figure is what `eval <dir> --data FILE` measures
    views: entry.views,
    trainedBy: String(saved.trainedBy ?? (isPath(name) ? 'not here (a directory you gave)' : '')),
  };
}

export function listModels(): ModelInfo[] {
  return modelNames().map(modelInfo);
}

// ---- --data FILE ------------------------------------------------------------------------------

/** The documented formats of `--data FILE` per input kind (README, "Your own data"). */
export const DATA_FORMATS: Record<InputKind, string> = {
  image: 'a .json file {"images": [[[0..255] x 28] x 28 per image], "labels": [digit, ...]}, or a folder with images.npy (uint8 or float32 0..255, shape [n, 28, 28]) and labels.npy (integers 0..9, shape [n])',
  word: 'a .json file {"words": ["..."], "labels": ["english", ...]} (labels from the model\'s classes)',
  audio: 'a folder of <keyword>/<clip>.wav (16 kHz, mono, 16-bit PCM or float; at most 1 s each)',
  text: 'a UTF-8 .txt file (the text the model should predict)',
  sentence: 'a .json file {"pairs": [{"es": "Spanish sentence", "en": "its English reference"}, ...]}',
  tabular: 'a .json file {"rows": [[one number per feature, in the model\'s feature order], ...], "targets": [number, ...]}',
};

/** Read `--data FILE` as the input kind of `name`'s entry. */
export function readEvalData(name: string, file: string): EvalData {
  const entry = entryOf(name);
  const source = file;
  const expects = DATA_FORMATS[entry.input];
  if (!fs.existsSync(file)) throw new Error(`--data ${file}: no such file; expected ${expects}.`);
  switch (entry.input) {
    case 'image': {
      if (fs.statSync(file).isDirectory()) return readNpyDigits(file, expects);
      const v = readJson(file, expects) as { images?: unknown; labels?: unknown };
      if (!Array.isArray(v.images) || !Array.isArray(v.labels) || v.images.length !== v.labels.length || v.images.length === 0) throw new Error(`${file}: expected ${expects}, one label per image.`);
      const px = MNIST_SIZE * MNIST_SIZE;
      const images = new Uint8Array(v.images.length * px);
      v.images.forEach((img, i) => {
        const t = pixelsFromJson(img, `${file} image ${i}`, { maxSide: MAX_INPUT_SIDE }); // [1, 28, 28] after resizing to the model's size
        images.set(Uint8Array.from(t.dataSync()), i * px);
        t.dispose();
      });
      const labels = Uint8Array.from(v.labels as number[]);
      if (!(v.labels as unknown[]).every((l) => Number.isInteger(l) && (l as number) >= 0 && (l as number) <= 9)) throw new Error(`${file}: labels must be digits 0..9.`);
      return { kind: 'image', set: { images, labels, count: labels.length }, source };
    }
    case 'word': {
      const v = readJson(file, expects) as { words?: unknown; labels?: unknown };
      if (!Array.isArray(v.words) || !Array.isArray(v.labels) || v.words.length !== v.labels.length || v.words.length === 0 || !v.words.every((w) => typeof w === 'string')) throw new Error(`${file}: expected ${expects}, one label per word.`);
      return { kind: 'word', words: v.words as string[], labels: (v.labels as unknown[]).map(String), source };
    }
    case 'audio': {
      if (!fs.statSync(file).isDirectory()) throw new Error(`--data ${file}: expected ${expects}.`);
      const clips: Float32Array[] = [];
      const labels: number[] = [];
      let sampleRate = 16000;
      for (const word of fs.readdirSync(file).sort()) {
        const sub = path.join(file, word);
        if (!fs.statSync(sub).isDirectory()) continue;
        const label = (KEYWORDS as readonly string[]).indexOf(word);
        if (label < 0) throw new Error(`${sub}: "${word}" is not a keyword; expected folders named ${KEYWORDS.join(', ')}.`);
        for (const f of fs.readdirSync(sub).filter((f) => f.toLowerCase().endsWith('.wav')).sort()) {
          const wav = readWav(path.join(sub, f));
          if (wav.samples.length > KWS_CLIP_SAMPLES) throw new Error(`${path.join(sub, f)}: ${wav.samples.length} samples; at most ${KWS_CLIP_SAMPLES} (1 s at 16 kHz).`);
          sampleRate = wav.sampleRate;
          clips.push(wav.samples);
          labels.push(label);
        }
      }
      if (clips.length === 0) throw new Error(`--data ${file}: no .wav clips found; expected ${expects}.`);
      return { kind: 'audio', clips: { clips, labels, info: [], keywords: [...KEYWORDS], sampleRate }, source };
    }
    case 'text': {
      const text = readRegularFile(file, 64 * 2 ** 20, '--data').toString('utf8');
      return { kind: 'text', text, source };
    }
    case 'sentence': {
      const v = readJson(file, expects) as { pairs?: unknown };
      const ok = Array.isArray(v.pairs) && v.pairs.length > 0 && v.pairs.every((p) => typeof p?.es === 'string' && typeof p?.en === 'string');
      if (!ok) throw new Error(`${file}: expected ${expects}.`);
      return { kind: 'sentence', verses: (v.pairs as { es: string; en: string }[]).map((p) => ({ es: tokenizeWords(p.es), en: tokenizeWords(p.en) })), source };
    }
    case 'tabular': {
      const v = readJson(file, expects) as { rows?: unknown; targets?: unknown };
      if (!Array.isArray(v.rows) || !Array.isArray(v.targets) || v.rows.length !== v.targets.length || v.rows.length === 0) throw new Error(`${file}: expected ${expects}, one target per row.`);
      if (!v.rows.every((r) => Array.isArray(r) && r.every((x) => typeof x === 'number' && Number.isFinite(x))) || !v.targets.every((t) => typeof t === 'number' && Number.isFinite(t))) {
        throw new Error(`${file}: every row and target must hold finite numbers; expected ${expects}.`);
      }
      return { kind: 'tabular', set: { features: [], rows: v.rows as number[][], targets: v.targets as number[], target: 'the targets of ' + file }, source };
    }
  }
}

/** `--data DIR` for an image model: DIR/images.npy [n, 28, 28] (uint8, or float32 on the same 0..255 scale) and DIR/labels.npy [n]. */
function readNpyDigits(dir: string, expects: string): EvalData {
  const imagesFile = path.join(dir, 'images.npy');
  const labelsFile = path.join(dir, 'labels.npy');
  if (!fs.existsSync(imagesFile) || !fs.existsSync(labelsFile)) throw new Error(`--data ${dir}: a folder without images.npy and labels.npy; expected ${expects}.`);
  const images = readNpy(imagesFile);
  const labels = readNpy(labelsFile);
  const [n, h, w] = images.shape;
  if (images.shape.length !== 3 || h !== MNIST_SIZE || w !== MNIST_SIZE || n === 0) throw new Error(`${imagesFile}: shape (${images.shape.join(', ')}); expected (n, ${MNIST_SIZE}, ${MNIST_SIZE}) grey images.`);
  if (images.dtype !== 'uint8' && images.dtype !== 'float32') throw new Error(`${imagesFile}: dtype ${images.dtype}; expected uint8 or float32 pixels 0..255.`);
  if (labels.shape.length !== 1 || labels.shape[0] !== n) throw new Error(`${labelsFile}: shape (${labels.shape.join(', ')}); expected (${n},), one label per image.`);
  if (!Array.from(labels.values).every((l) => Number.isInteger(l) && l >= 0 && l <= 9)) throw new Error(`${labelsFile}: labels must be digits 0..9.`);
  let pixels: Uint8Array;
  if (images.dtype === 'uint8') pixels = images.values as Uint8Array;
  else {
    const values = images.values as Float32Array;
    let max = -Infinity;
    for (const v of values) {
      if (!(v >= 0 && v <= 255)) throw new Error(`${imagesFile}: a pixel value ${v}; expected 0..255.`);
      max = Math.max(max, v);
    }
    if (max <= 1) throw new Error(`${imagesFile}: every pixel is within 0..1; the models read 0..255 (multiply by 255).`); // else every digit would read as black
    pixels = Uint8Array.from(values, (v) => Math.round(v));
  }
  return { kind: 'image', set: { images: pixels, labels: Uint8Array.from(labels.values), count: n }, source: dir };
}
