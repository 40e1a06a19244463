// Character-level recurrent classifiers: characters -> embedding -> LSTM or GRU, one time step
// at a time -> dense head -> softmax. The cells are written with tfjs ops (not tf.layers) so
// every gate at every time step is a value you can read: each per-step quantity is stacked into
// one hook point with a time axis, `[batch, time, units]`.
//
// Gate order and formulas follow tfjs-layers (and Keras), so the same weights give the same
// numbers (tested against tf.layers.lstm / tf.layers.gru to 1e-5):
//   LSTM kernel columns [input i, forget f, candidate g, output o]
//     i = s(x Wi + h Ui + bi)   f = s(x Wf + h Uf + bf)   g = tanh(x Wg + h Ug + bg)
//     o = s(x Wo + h Uo + bo)   c' = f*c + i*g             h' = o * tanh(c')
//   GRU kernel columns [update z, reset r, candidate h~] (Keras reset_after=false, the only
//   variant tfjs-layers implements; one bias vector):
//     z = s(x Wz + h Uz + bz)   r = s(x Wr + h Ur + br)   h~ = tanh(x Wh + (r*h) Uh + bh)
//     h' = z*h + (1-z)*h~
// s is the logistic sigmoid (tfjs-layers defaults to hardSigmoid; pass recurrentActivation:
// 'sigmoid' there to compare).
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { variableFrom } from '../engine/ops';
import { backendLabel } from '../engine/backend';
import { HookedModel } from '../hooks/hooked-model';
import { encodeBatch, PAD_ID } from '../data/words';
import type { MimeBundle } from '../engine/mime';
import { viewOf } from '../engine/display';

export type CellType = 'lstm' | 'gru';

export interface CharRNNConfig {
  /** 'lstm' (gates i, f, o and a cell state) or 'gru' (gates z, r; the hidden state is the memory). */
  cell: CellType;
  /** Characters the model knows, sorted; id = index + 2 (0 = padding, 1 = unknown character). */
  alphabet: string[];
  /** Size of each character's learned vector. */
  embedDim: number;
  /** Size of the recurrent state h (and c for the LSTM). */
  units: number;
  /** Class names, one per output logit (here: languages). */
  labels: string[];
  /** Longest input in characters; longer words are cut. */
  maxLength: number;
}

/** The shipped configuration before training fills in the alphabet and labels. */
export const CHAR_RNN_DEFAULTS: CharRNNConfig = {
  cell: 'lstm',
  alphabet: [...'abcdefghijklmnopqrstuvwxyz'],
  embedDim: 16,
  units: 64,
  labels: ['english', 'german', 'french', 'spanish', 'italian', 'dutch'],
  maxLength: 20,
};

/** Weights of one recurrent layer, in tfjs-layers' layout. */
export interface RecurrentWeights {
  /** `[in, gates*units]`: input to all gates at once (gates = 4 for LSTM, 3 for GRU). */
  kernel: Tensor;
  /** `[units, gates*units]`: previous hidden state to all gates. */
  recurrentKernel: Tensor;
  /** `[gates*units]` */
  bias: Tensor;
}

/** Every per-step quantity of a run, stacked on a time axis: `[batch, time, units]` each. */
export interface RecurrentSequence {
  /** LSTM: input, forget, candidate (g), output gates, cell state; GRU: update, reset, candidate. */
  gates: Record<string, Tensor>;
  /** LSTM only: the cell state c after each step. */
  cell?: Tensor;
  /** The hidden state h after each step. */
  hidden: Tensor;
}

/** Gate names per cell type, in kernel column order (the hook names use these). */
export const GATE_NAMES: Record<CellType, string[]> = {
  lstm: ['input', 'forget', 'candidate', 'output'],
  gru: ['update', 'reset', 'candidate'],
};

/**
 * Run an LSTM over `x` [batch, time, in] from zero state. `mask` [batch, time] (1 = real step,
 * 0 = padding) keeps the state unchanged on padding steps, as Keras masking does.
 */
export function runLSTM(x: Tensor, w: RecurrentWeights, mask?: Tensor): RecurrentSequence {
  const [batch, time, inDim] = x.shape;
  const units = w.recurrentKernel.shape[0];
  const xw = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [batch * time, inDim]), w.kernel), w.bias), [batch, time, 4 * units]); // [batch, time, 4u]: input part of every step at once
  let h: Tensor = tf.zeros([batch, units]); // [batch, units]
  let c: Tensor = tf.zeros([batch, units]); // [batch, units]
  const steps: Record<'input' | 'forget' | 'candidate' | 'output' | 'cell' | 'hidden', Tensor[]> = { input: [], forget: [], candidate: [], output: [], cell: [], hidden: [] };
  for (let t = 0; t < time; t++) {
    const z = tf.add(tf.reshape(tf.slice(xw, [0, t, 0], [batch, 1, 4 * units]), [batch, 4 * units]), tf.matMul(h, w.recurrentKernel)); // [batch, 4u]
    const [zi, zf, zg, zo] = tf.split(z, 4, 1); // 4 x [batch, units]
    const i = tf.sigmoid(zi); // [batch, units] how much of the candidate to write
    const f = tf.sigmoid(zf); // [batch, units] how much of the old cell to keep
    const g = tf.tanh(zg); // [batch, units] candidate values
    const o = tf.sigmoid(zo); // [batch, units] how much of the cell to show as h
    let cNext = tf.add(tf.mul(f, c), tf.mul(i, g)); // [batch, units]
    let hNext = tf.mul(o, tf.tanh(cNext)); // [batch, units]
    if (mask) {
      const m = tf.reshape(tf.slice(mask, [0, t], [batch, 1]), [batch, 1]); // [batch, 1]
      cNext = tf.add(tf.mul(m, cNext), tf.mul(tf.sub(1, m), c)); // padding: keep c
      hNext = tf.add(tf.mul(m, hNext), tf.mul(tf.sub(1, m), h)); // padding: keep h
    }
    c = cNext;
    h = hNext;
    steps.input.push(i);
    steps.forget.push(f);
    steps.candidate.push(g);
    steps.output.push(o);
    steps.cell.push(c);
    steps.hidden.push(h);
  }
  const stack = (list: Tensor[]) => tf.stack(list, 1); // [batch, time, units]
  return {
    gates: { input: stack(steps.input), forget: stack(steps.forget), candidate: stack(steps.candidate), output: stack(steps.output) },
    cell: stack(steps.cell),
    hidden: stack(steps.hidden),
  };
}

/** Run a GRU (reset gate applied before the recurrent matmul, as tfjs-layers) over `x` [batch, time, in]. */
export function runGRU(x: Tensor, w: RecurrentWeights, mask?: Tensor): RecurrentSequence {
  const [batch, time, inDim] = x.shape;
  const units = w.recurrentKernel.shape[0];
  const xw = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [batch * time, inDim]), w.kernel), w.bias), [batch, time, 3 * units]); // [batch, time, 3u]
  const [uZR, uH] = tf.split(w.recurrentKernel, [2 * units, units], 1); // [units, 2u], [units, u]
  let h: Tensor = tf.zeros([batch, units]); // [batch, units]
  const steps: Record<'update' | 'reset' | 'candidate' | 'hidden', Tensor[]> = { update: [], reset: [], candidate: [], hidden: [] };
  for (let t = 0; t < time; t++) {
    const xt = tf.reshape(tf.slice(xw, [0, t, 0], [batch, 1, 3 * units]), [batch, 3 * units]); // [batch, 3u]
    const [xz, xr, xh] = tf.split(xt, 3, 1); // 3 x [batch, units]
    const [hz, hr] = tf.split(tf.matMul(h, uZR), 2, 1); // 2 x [batch, units]
    const z = tf.sigmoid(tf.add(xz, hz)); // [batch, units] how much of the old state to keep
    const r = tf.sigmoid(tf.add(xr, hr)); // [batch, units] how much of the old state the candidate sees
    const candidate = tf.tanh(tf.add(xh, tf.matMul(tf.mul(r, h), uH))); // [batch, units]
    let hNext = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), candidate)); // [batch, units]
    if (mask) {
      const m = tf.reshape(tf.slice(mask, [0, t], [batch, 1]), [batch, 1]); // [batch, 1]
      hNext = tf.add(tf.mul(m, hNext), tf.mul(tf.sub(1, m), h)); // padding: keep h
    }
    h = hNext;
    steps.update.push(z);
    steps.reset.push(r);
    steps.candidate.push(candidate);
    steps.hidden.push(h);
  }
  const stack = (list: Tensor[]) => tf.stack(list, 1); // [batch, time, units]
  return { gates: { update: stack(steps.update), reset: stack(steps.reset), candidate: stack(steps.candidate) }, hidden: stack(steps.hidden) };
}

export interface LanguageGuess {
  word: string;
  label: string;
  p: number;
  /** Probability of every class, in `config.labels` order. */
  probs: number[];
  /**
   * False when no character of the word is in the model's alphabet ("日本語", "---"): the label
   * is then a guess from the unknown-character embedding alone, not an answer.
   */
  known: boolean;
}

/**
 * A character-level LSTM or GRU classifier. Input: character ids `[batch, time]` (int32,
 * right-padded with 0; see `encode`). Output: class probabilities `[batch, classes]` read after
 * the last real character.
 *
 * Hook points (prefix `lstm.` or `gru.`), each with every time step:
 * `embed.hook_out` [batch, time, embed]; gates `lstm.hook_gates_input|forget|candidate|output` or
 * `gru.hook_gates_update|reset|candidate`; `lstm.hook_cell`; `<cell>.hook_hidden`
 * [batch, time, units]; `head.hook_step_logits`, `post.hook_step_probs` [batch, time, classes]
 * (the prediction after each character); `hook_logits`, `post.hook_probs` [batch, classes].
 * The gate and cell hooks are read after the recurrence and are read-only: a hook that returns a
 * replacement there (or a transform) is refused, since it could not reach the recurrence;
 * replacing `<cell>.hook_hidden` changes the head's input (and so the prediction), which is what
 * ablation of hidden units needs.
 */
export class CharRNN extends HookedModel {
  readonly name: string;
  readonly config: CharRNNConfig;
  readonly weights: Record<string, tf.Variable>;

  constructor(config: CharRNNConfig = CHAR_RNN_DEFAULTS, name = `langid-${config.cell}`, seed = 0) {
    super();
    this.name = name;
    this.config = config;
    const { cell, embedDim: e, units: u } = config;
    const gates = GATE_NAMES[cell].length;
    const classes = config.labels.length;
    const uniform = (shape: number[], fanIn: number, fanOut: number, s: number) => {
      const limit = Math.sqrt(6 / (fanIn + fanOut)); // Glorot uniform
      return variableFrom(tf.randomUniform(shape, -limit, limit, 'float32', seed + s));
    };
    const biasInit = tf.tidy(() => {
      const b = new Float32Array(gates * u);
      if (cell === 'lstm') b.fill(1, u, 2 * u); // forget bias 1: remember by default (Jozefowicz et al. 2015; Keras unitForgetBias)
      return tf.tensor1d(b);
    });
    this.weights = {
      'embed.weight': uniform([this.vocabSize, e], 1, e, 1), // [vocab, embed]
      [`${cell}.kernel`]: uniform([e, gates * u], e, u, 2), // [embed, gates*units]
      [`${cell}.recurrent_kernel`]: uniform([u, gates * u], u, u, 3), // [units, gates*units]
      [`${cell}.bias`]: variableFrom(biasInit), // [gates*units]
      'head.weight': uniform([u, classes], u, classes, 4), // [units, classes]
      'head.bias': variableFrom(tf.zeros([classes])), // [classes]
    };

    // Gates and the LSTM cell state are stacked after the loop over time steps: they can be read,
    // not patched (a replacement could not reach the recurrence), so those points refuse one.
    const afterLoop = `recorded after the ${cell.toUpperCase()} loop over time steps, so a replacement cannot change the recurrence; patch ${cell}.hook_hidden instead`;
    this.hookPoint('embed.hook_out', 'embedding', '[batch, time, embed]');
    for (const gate of GATE_NAMES[cell]) this.hookPoint(`${cell}.hook_gates_${gate}`, gate === 'candidate' ? 'tanh' : 'sigmoid', '[batch, time, units]', { inputs: ['embed.hook_out'], readOnly: afterLoop });
    if (cell === 'lstm') this.hookPoint('lstm.hook_cell', 'cell', '[batch, time, units]', { inputs: ['embed.hook_out'], readOnly: afterLoop });
    this.hookPoint(`${cell}.hook_hidden`, cell, '[batch, time, units]', { inputs: ['embed.hook_out'] }); // the whole recurrence, from the embeddings
    this.hookPoint('head.hook_step_logits', 'dense', '[batch, time, classes]', { inputs: [`${cell}.hook_hidden`] });
    this.hookPoint('post.hook_step_probs', 'softmax', '[batch, time, classes]', { inputs: ['head.hook_step_logits'] });
    this.hookPoint('hook_logits', 'dense', '[batch, classes]', { inputs: ['head.hook_step_logits'] }); // the last step's logits
    this.hookPoint('post.hook_probs', 'softmax', '[batch, classes]', { inputs: ['hook_logits'] });
  }

  /** Rows of the embedding: padding, unknown, then the alphabet. */
  get vocabSize(): number {
    return this.config.alphabet.length + 2;
  }

  get parameterCount(): number {
    return Object.values(this.weights).reduce((n, w) => n + w.size, 0);
  }

  /** Bytes as stored: float32 weights, unless an optimization (quantize) recorded its real size. */
  get byteSize(): number {
    return this.storedBytes ?? this.parameterCount * 4;
  }

  /** Where an integer engine would quantize activations: the input and output of the embedding, the recurrence and the head. */
  get activationQuantPoints(): string[] {
    return ['embed.hook_out', `${this.config.cell}.hook_hidden`, 'head.hook_step_logits'];
  }

  /** A copy with its own weights (same config and hook names) and the same optimization state. */
  clone(name = `${this.name}-copy`): this {
    return this.copyInto(() => new CharRNN(this.config, name) as this);
  }

  /** The recurrent layer's weights, as runLSTM / runGRU take them. */
  get recurrentWeights(): RecurrentWeights {
    const c = this.config.cell;
    return { kernel: this.weights[`${c}.kernel`], recurrentKernel: this.weights[`${c}.recurrent_kernel`], bias: this.weights[`${c}.bias`] };
  }

  /** Where this model runs. */
  get backend(): string {
    return `tfjs (${backendLabel()})`;
  }

  /**
   * The fast path exports straight-line graphs; this model's recurrence is a loop over time steps
   * (ONNX needs a Loop or LSTM/GRU node with another gate layout), which the exporter does not write.
   * Says so, naming the layer and op; the model itself keeps working on tfjs.
   */
  compile(target: 'onnx'): never {
    const layer = `${this.config.cell}.hook_hidden`;
    throw new Error(`${this.name}.compile('${target}'): cannot export layer "${layer}" (op: ${this.config.cell.toUpperCase()} recurrence, a loop over time steps); the ONNX exporter writes only straight-line graphs (GPT, digits CNN). ${this.name} keeps running on ${this.backend}.`);
  }

  /** Words -> character ids `[batch, time]` (int32, right-padded with 0). */
  encode(words: string[]): Tensor {
    const { ids, time } = encodeBatch(words, this.config.alphabet, this.config.maxLength);
    return tf.tensor2d(ids, [words.length, time], 'int32');
  }

  protected validateInput(input: Tensor): void {
    const shape: number[] = input.shape;
    const ok = shape.length === 2 && shape[0] > 0 && shape[1] > 0 && input.dtype === 'int32';
    if (!ok) {
      throw new Error(`${this.name} expects character ids shaped [batch, time] (int32, 0 = padding; make them with model.encode(words)), got [${input.shape}] ${input.dtype}.`);
    }
  }

  protected forwardImpl(input: Tensor): Tensor {
    const { cell, labels } = this.config;
    const [batch, time] = input.shape as number[];
    const mask = tf.cast(tf.notEqual(input, PAD_ID), 'float32'); // [batch, time] 1 = real character
    // One-hot times the embedding matrix (same as a gather, and its gradient runs on WASM).
    const oneHot = tf.oneHot(tf.reshape(input, [batch * time]), this.vocabSize); // [batch*time, vocab]
    const x = this.hook('embed.hook_out', tf.reshape(tf.matMul(oneHot, this.weights['embed.weight']), [batch, time, this.config.embedDim])); // [batch, time, embed]
    const seq = cell === 'lstm' ? runLSTM(x, this.recurrentWeights, mask) : runGRU(x, this.recurrentWeights, mask);
    for (const gate of GATE_NAMES[cell]) this.hook(`${cell}.hook_gates_${gate}`, seq.gates[gate]); // [batch, time, units]
    if (seq.cell) this.hook('lstm.hook_cell', seq.cell); // [batch, time, units]
    const hidden = this.hook(`${cell}.hook_hidden`, seq.hidden); // [batch, time, units]
    const units = hidden.shape[2] as number;
    const stepLogits = this.hook('head.hook_step_logits', tf.reshape(tf.add(tf.matMul(tf.reshape(hidden, [batch * time, units]), this.weights['head.weight']), this.weights['head.bias']), [batch, time, labels.length])); // [batch, time, classes]
    this.hook('post.hook_step_probs', tf.softmax(stepLogits)); // [batch, time, classes]
    // Padding steps carry the state, so the last step holds each word's final state.
    const logits = this.hook('hook_logits', tf.reshape(tf.slice(stepLogits, [0, time - 1, 0], [batch, 1, labels.length]), [batch, labels.length])); // [batch, classes]
    return this.hook('post.hook_probs', tf.softmax(logits)); // [batch, classes]
  }

  /** Logits without the softmax, for a loss (same graph, read at `hook_logits`). */
  logits(input: Tensor): Tensor {
    let logits: Tensor | null = null;
    const probs = this.runWithHooks(input, [['hook_logits', (v) => void (logits = tf.keep(tf.clone(v)))]]);
    probs.dispose();
    return logits!;
  }

  /** The characters of `word` outside the alphabet this model knows (lower-cased as encode does). */
  unknownCharacters(word: string): string[] {
    const known = new Set(this.config.alphabet);
    return [...new Set([...word.normalize('NFC').toLowerCase()].filter((ch) => !known.has(ch)))];
  }

  /** True when at least one character of `word` is in the alphabet (else the model has nothing to go on). */
  knowsAnyOf(word: string): boolean {
    const chars = [...word.normalize('NFC').toLowerCase()];
    return chars.length > 0 && this.unknownCharacters(word).length < new Set(chars).size;
  }

  /** The most likely language of each word, with all class probabilities (`known` false: outside the alphabet). */
  classifyWords(words: string[], batchSize = 512): LanguageGuess[] {
    const out: LanguageGuess[] = [];
    for (let start = 0; start < words.length; start += batchSize) {
      const chunk = words.slice(start, start + batchSize);
      const ids = this.encode(chunk);
      const probs = this.forward(ids);
      const rows = probs.arraySync() as number[][];
      tf.dispose([ids, probs]);
      rows.forEach((p, i) => {
        const best = p.indexOf(Math.max(...p));
        out.push({ word: chunk[i], label: this.config.labels[best], p: p[best], probs: p, known: this.knowsAnyOf(chunk[i]) });
      });
    }
    return out;
  }

  /** Class probabilities after each character of one word: `[time][classes]`. */
  probabilitiesPerCharacter(word: string): number[][] {
    const ids = this.encode([word]);
    const [probs, cache] = this.runWithCache(ids, { names: ['post.hook_step_probs'] });
    const rows = (cache.get('post.hook_step_probs').arraySync() as number[][][])[0];
    tf.dispose([ids, probs]);
    cache.dispose();
    return rows;
  }

  /** Layer table: hook name, kind, output shape for one 8-character word, parameters per layer. */
  summary(): { name: string; kind: string; outputShape: number[]; params: number }[] {
    const example = tf.ones([1, 8], 'int32');
    const trace = this.trace(example, { keepTensors: false });
    example.dispose();
    const owner: Record<string, string> = { 'embed.hook_out': 'embed', [`${this.config.cell}.hook_gates_${GATE_NAMES[this.config.cell][0]}`]: this.config.cell, 'head.hook_step_logits': 'head' };
    return trace.steps.map((s) => {
      const layer = owner[s.name];
      const params = layer ? Object.entries(this.weights).filter(([n]) => n.startsWith(layer + '.')).reduce((sum, [, w]) => sum + w.size, 0) : 0;
      return { name: s.name, kind: s.kind, outputShape: s.outputShape, params };
    });
  }

  override toString(): string {
    const rows = this.summary().map((r) => `  ${r.name.padEnd(24)} ${r.kind.padEnd(10)} ${`[${r.outputShape.join(', ')}]`.padEnd(16)} ${r.params || ''}`);
    return `CharRNN (${this.config.cell.toUpperCase()}) "${this.name}": ${this.parameterCount.toLocaleString('en-US')} parameters, ${this.config.units} units, ${this.config.alphabet.length} characters, classes ${this.config.labels.join(', ')}\n${rows.join('\n')}`;
  }

  async toMimeBundle(): Promise<MimeBundle> {
    return viewOf('model-summary', { rows: this.summary(), title: `${this.name} (${this.config.cell.toUpperCase()}): ${this.parameterCount.toLocaleString('en-US')} parameters, shapes for one 8-character word` }, () => this.toString());
  }

  /** Write weights.safetensors + config.json into `dir`. */
  save(dir: string, extra: Record<string, unknown> = {}): void {
    this.saveFiles(dir, 'char-rnn', this.config, extra); // throws on a function transform, naming its hook
  }

  /** Load a model saved by `save` (or a shipped one). Errors name the file and tensor. */
  static load(dir: string, name = path.basename(dir)): CharRNN {
    return HookedModel.loadFiles<CharRNNConfig, CharRNN>(dir, 'char-rnn', (config) => new CharRNN(config, name)); // quantization, pruning, transforms; other format versions refused
  }

  dispose(): void {
    for (const w of Object.values(this.weights)) w.dispose();
  }
}
