// Pruning: removing weights. Unstructured pruning zeroes the smallest weights wherever they are
// (smaller files with sparse storage, same dense compute); structured pruning removes whole
// units — conv output channels, MLP neurons, attention heads — so the matrices really shrink
// and the model really gets faster (heads: see pruneHeads for why they are masked instead).
// The same functions work on the digits CNN and on a GPT.
import { tf, type Tensor } from '../engine/tf';
import { DigitsCNN } from '../models/cnn';
import { GPT } from '../models/gpt';
import type { HookSpec } from '../hooks/hooked-model';
import { trainLanguageModel, type LanguageModelRecord, type LanguageModelTraining } from '../train/language-model';
import { heldOutLoss } from './lm-eval';
import { progressBar } from '../engine/display';
import type { PruneConfig, PruningInfo } from '../hooks/optimization-info';

export type { PruneConfig, PruningInfo } from '../hooks/optimization-info';

/** One bit per entry, 1 where the value is kept (non-zero). */
function maskBits(values: Float32Array): Uint8Array {
  const bits = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) bits[i >> 3] |= 1 << (i & 7);
  return bits;
}

function maskValues(bits: Uint8Array, count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => (bits[i >> 3] >> (i & 7)) & 1);
}

/** What pruning needs of a model: named float32 weights and a copy with its own. */
export interface Prunable {
  readonly name: string;
  readonly weights: Record<string, tf.Variable>;
  readonly parameterCount: number;
  clone(name: string): this;
  dispose(): void;
}

export type Pruned<M extends Prunable = DigitsCNN> = M & { pruning: PruningInfo };

/** A GPT's prunable weights: the matrices of its blocks (embeddings and LayerNorms are kept, as is usual). */
export const GPT_BLOCK_MATRIX = /^blocks\.\d+\.(attn\.W_[QKVO]|mlp\.W_(in|out))$/;

function prunable(model: Prunable): string[] {
  const names = Object.entries(model.weights).filter(([, w]) => w.rank >= 2).map(([n]) => n);
  return model instanceof GPT ? names.filter((n) => GPT_BLOCK_MATRIX.test(n)) : names;
}

/** Bytes of a model stored sparsely: float32 non-zeros + a bitmap per pruned tensor; the rest dense. */
function sparseSize(model: Prunable, pruned: string[]): number {
  let bytes = 0;
  for (const [name, w] of Object.entries(model.weights)) {
    if (!pruned.includes(name)) {
      bytes += w.size * 4;
      continue;
    }
    const values = w.dataSync();
    let nonZero = 0;
    for (const v of values) if (v !== 0) nonZero++;
    bytes += nonZero * 4 + Math.ceil(w.size / 8);
  }
  return bytes;
}

/** Indices of `abs` in increasing order (ties by index, so the choice is deterministic). */
function ascendingOrder(abs: Float32Array): Uint32Array {
  const order = new Uint32Array(abs.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => abs[a] - abs[b] || a - b);
}

/**
 * Unstructured magnitude pruning: zero the smallest |w|, per layer or over all chosen weights at
 * once. Exactly floor(sparsity x entries) are zeroed (per tensor, or in total for 'global').
 */
export function prune<M extends Prunable>(model: M, config: PruneConfig): Pruned<M> {
  if (!(config.sparsity >= 0 && config.sparsity < 1)) throw new Error(`prune: sparsity must be in [0, 1), got ${config.sparsity}.`);
  if (config.scope !== 'layer' && config.scope !== 'global') throw new Error(`prune: scope must be 'layer' or 'global', got ${JSON.stringify(config.scope)}.`);
  const names = config.weights ?? prunable(model);
  for (const n of names) if (!(n in model.weights)) throw new Error(`prune: no weight "${n}" in ${model.name}. Weights: ${Object.keys(model.weights).join(', ')}.`);
  const copy = model.clone(`${model.name}-pruned${Math.round(config.sparsity * 100)}${config.scope === 'global' ? 'g' : ''}`) as Pruned<M>;
  const values = names.map((n) => Float32Array.from(model.weights[n].dataSync() as Float32Array));
  if (config.scope === 'layer') {
    values.forEach((v) => {
      const order = ascendingOrder(Float32Array.from(v, Math.abs));
      const remove = Math.floor(config.sparsity * v.length);
      for (let i = 0; i < remove; i++) v[order[i]] = 0;
    });
  } else {
    // One ranking over every chosen entry: position k of the concatenation is (tensor, offset).
    const total = values.reduce((n, v) => n + v.length, 0);
    const abs = new Float32Array(total);
    const starts: number[] = [];
    let offset = 0;
    for (const v of values) {
      starts.push(offset);
      for (let i = 0; i < v.length; i++) abs[offset + i] = Math.abs(v[i]);
      offset += v.length;
    }
    const order = ascendingOrder(abs);
    const remove = Math.floor(config.sparsity * total);
    for (let i = 0; i < remove; i++) {
      const k = order[i];
      let t = starts.length - 1;
      while (starts[t] > k) t--;
      values[t][k - starts[t]] = 0;
    }
  }
  const sparsity: Record<string, number> = {};
  const masks: Record<string, Uint8Array> = {};
  names.forEach((n, i) => {
    sparsity[n] = values[i].filter((v) => v === 0).length / values[i].length;
    masks[n] = maskBits(values[i]);
    const t = tf.tensor(values[i], model.weights[n].shape);
    copy.weights[n].assign(t);
    t.dispose();
  });
  copy.pruning = { config, sparsity, sparseBytes: sparseSize(copy, names), denseBytes: copy.parameterCount * 4, masks };
  return copy;
}

/**
 * Structured pruning: remove the output channels of `conv.0` / `conv.1` with the smallest L1
 * norm (fraction per layer). The next layer loses the matching inputs, so every matrix shrinks.
 */
export function pruneChannels(model: DigitsCNN, fractions: Partial<Record<'conv.0' | 'conv.1', number>>): Pruned {
  const keep: number[][] = [0, 1].map((i) => {
    const w = model.weights[`conv.${i}.weight`]; // [kh, kw, in, out]
    const out = w.shape[3]!;
    const l1 = tf.tidy(() => Array.from(tf.sum(tf.abs(w), [0, 1, 2]).dataSync())); // [out]
    const fraction = fractions[`conv.${i}` as 'conv.0' | 'conv.1'] ?? 0;
    if (!(fraction >= 0 && fraction < 1)) throw new Error(`pruneChannels: fraction for conv.${i} must be in [0, 1), got ${fraction}.`);
    const remove = Math.floor(out * fraction);
    return l1.map((v, c) => [v, c]).sort((a, b) => b[0] - a[0]).slice(0, out - remove).map(([, c]) => c).sort((a, b) => a - b);
  });
  const config = { ...model.config, channels: [keep[0].length, keep[1].length] as [number, number] };
  const small = new DigitsCNN(config, `${model.name}-channels${keep[0].length}x${keep[1].length}`) as Pruned;
  const gather = (t: Tensor, idx: number[], axis: number) => tf.gather(t, tf.tensor1d(idx, 'int32'), axis);
  const w = model.weights;
  tf.tidy(() => {
    small.weights['conv.0.weight'].assign(gather(w['conv.0.weight'], keep[0], 3));
    small.weights['conv.0.bias'].assign(gather(w['conv.0.bias'], keep[0], 0));
    small.weights['conv.1.weight'].assign(gather(gather(w['conv.1.weight'], keep[0], 2), keep[1], 3));
    small.weights['conv.1.bias'].assign(gather(w['conv.1.bias'], keep[1], 0));
    // Dense rows are NHWC-flattened: row = (y * side + x) * channels + c; keep the rows of kept channels.
    const channels = model.config.channels[1];
    const positions = model.flatSize / channels;
    const rows = Array.from({ length: positions }, (_, p) => keep[1].map((c) => p * channels + c)).flat();
    small.weights['dense.weight'].assign(gather(w['dense.weight'], rows, 0));
    small.weights['dense.bias'].assign(w['dense.bias']);
  });
  const structured = { 'conv.0': 1 - keep[0].length / model.config.channels[0], 'conv.1': 1 - keep[1].length / model.config.channels[1] };
  small.pruning = { config: { structured }, sparsity: {}, sparseBytes: small.parameterCount * 4, denseBytes: small.parameterCount * 4 };
  return small;
}

// ---- GPT: attention heads and MLP neurons ---------------------------------------------------

export interface HeadScore {
  block: number;
  head: number;
  /** Held-out loss (nats/token) with this head's output zeroed. */
  loss: number;
  /** loss - the intact model's loss: how much the model relies on the head (Michel et al., 2019). */
  increase: number;
}

export interface HeadImportance {
  /** Loss of the intact model on the same windows. */
  baseLoss: number;
  /** One entry per head, in (block, head) order. */
  heads: HeadScore[];
  /** Windows of the stream the losses were measured on. */
  windows: number;
}

function checkStream(name: string, stream: Int32Array, model: GPT): void {
  if (!(stream instanceof Int32Array) || stream.length < 2) throw new Error(`${name} needs a token stream (Int32Array of ids from model.tokenizer.encode, at least 2 ids).`);
  for (let i = 0; i < stream.length; i++) {
    if (stream[i] < 0 || stream[i] >= model.config.vocabSize) throw new Error(`${name}: token id ${stream[i]} at index ${i} is outside the vocabulary 0..${model.config.vocabSize - 1}.`);
  }
}

/**
 * Importance of every attention head: the loss increase when its output (`attn.hook_z`, one head's
 * slice) is zeroed, measured on `stream` — validation text, never the test text the pruned
 * model is then scored on. `windows` consecutive windows of the model's context are used.
 */
export function headImportance(model: GPT, stream: Int32Array, options: { windows?: number; progress?: boolean } = {}): HeadImportance {
  checkStream('headImportance', stream, model);
  const { nLayers } = model.config;
  const headCount = Array.from({ length: nLayers }, (_, b) => model.headsIn(b)).reduce((a, b) => a + b, 0);
  const windows = Math.min(options.windows ?? 16, Math.floor((stream.length - 1) / model.config.contextLength));
  if (windows < 1) throw new Error(`headImportance: the stream (${stream.length} ids) is shorter than one window of ${model.config.contextLength + 1}.`);
  const evaluate = (hooks: HookSpec[]) => heldOutLoss(model, stream, { windows, hooks });
  const bar = options.progress === false ? null : progressBar(headCount + 1, 'head importance');
  const baseLoss = evaluate([]);
  bar?.tick();
  const heads: HeadScore[] = [];
  for (let block = 0; block < nLayers; block++) {
    const nHeads = model.headsIn(block);
    for (let head = 0; head < nHeads; head++) {
      const keep = tf.tensor4d(Array.from({ length: nHeads }, (_, h) => (h === head ? 0 : 1)), [1, 1, nHeads, 1]); // [1, 1, head, 1]
      try {
        const loss = evaluate([[`blocks.${block}.attn.hook_z`, (z) => tf.mul(z, keep)]]); // z: [batch, pos, head, d_head]
        heads.push({ block, head, loss, increase: loss - baseLoss });
      } finally {
        keep.dispose();
      }
      bar?.tick(1, `block ${block} head ${head}`);
    }
  }
  bar?.done();
  return { baseLoss, heads, windows };
}

/** The `count` heads with the smallest importance (least loss increase), as [block, head]. */
export function leastImportantHeads(importance: HeadImportance, count: number): [number, number][] {
  if (!(Number.isInteger(count) && count >= 0 && count <= importance.heads.length)) throw new Error(`leastImportantHeads: count must be an integer in 0..${importance.heads.length}, got ${count}.`);
  return [...importance.heads].sort((a, b) => a.increase - b.increase || a.block - b.block || a.head - b.head).slice(0, count).map((h): [number, number] => [h.block, h.head]);
}

/**
 * Remove attention heads: head h of block b loses its columns of W_Q, W_K, W_V (and their biases)
 * and its rows of W_O, in a smaller GPT whose blocks keep different numbers of heads
 * (`headsPerBlock`), so the attention matrices really shrink. It computes exactly what zeroing
 * the head's slice of `attn.hook_z` computes in the original (tested). Every block keeps at least
 * one head: with a fraction, the least important heads are taken in order, skipping any that
 * would leave its block empty; an explicit list that empties a block is refused.
 */
export function pruneHeads(model: GPT, heads: [number, number][] | { fraction: number; importance: HeadImportance }): Pruned<GPT> {
  const { nLayers } = model.config;
  const dHead = model.dHead;
  let list: [number, number][];
  if (Array.isArray(heads)) {
    list = heads;
  } else {
    if (!(heads.fraction >= 0 && heads.fraction <= 1)) throw new Error(`pruneHeads: fraction must be in [0, 1], got ${heads.fraction}.`);
    const total = heads.importance.heads.length;
    const wanted = Math.round(heads.fraction * total);
    const left = Array.from({ length: nLayers }, (_, b) => model.headsIn(b));
    list = [];
    for (const [b, h] of leastImportantHeads(heads.importance, total)) {
      if (list.length === wanted) break;
      if (left[b] === 1) continue; // the block's last head stays
      left[b]--;
      list.push([b, h]);
    }
  }
  const seen = new Set<string>();
  for (const [block, head] of list) {
    if (!(Number.isInteger(block) && block >= 0 && block < nLayers && Number.isInteger(head) && head >= 0 && head < model.headsIn(block))) {
      throw new Error(`pruneHeads: head [${block}, ${head}] does not exist; ${model.name} has blocks 0..${nLayers - 1} with heads ${Array.from({ length: nLayers }, (_, b) => `0..${model.headsIn(b) - 1}`).join(', ')}.`);
    }
    if (seen.has(`${block},${head}`)) throw new Error(`pruneHeads: head [${block}, ${head}] is listed twice.`);
    seen.add(`${block},${head}`);
  }
  const keptHeads = Array.from({ length: nLayers }, (_, b) => Array.from({ length: model.headsIn(b) }, (_, h) => h).filter((h) => !seen.has(`${b},${h}`)));
  const empty = keptHeads.findIndex((k) => k.length === 0);
  if (empty >= 0) throw new Error(`pruneHeads: removing every head of block ${empty} is not supported (a block keeps at least one head).`);
  const small = new GPT({ ...model.config, headsPerBlock: keptHeads.map((k) => k.length) }, `${model.name}-heads-${list.length}`, null) as Pruned<GPT>;
  tf.tidy(() => {
    for (const [name, w] of Object.entries(model.weights)) {
      const attn = /^blocks\.(\d+)\.attn\.(W_Q|W_K|W_V|b_Q|b_K|b_V|W_O)$/.exec(name);
      if (!attn) {
        small.weights[name].assign(w);
        continue;
      }
      const columns = keptHeads[Number(attn[1])].flatMap((h) => Array.from({ length: dHead }, (_, j) => h * dHead + j)); // the kept heads' slots of head*d_head
      const axis = attn[2].startsWith('W_') && attn[2] !== 'W_O' ? 1 : 0; // W_Q/K/V [d, head*d_head]: columns; b_Q/K/V [head*d_head] and W_O [head*d_head, d]: rows
      small.weights[name].assign(tf.gather(w, tf.tensor1d(columns, 'int32'), axis));
    }
  });
  const structured: Record<string, number> = {};
  for (let b = 0; b < nLayers; b++) if (keptHeads[b].length < model.headsIn(b)) structured[`blocks.${b}.attn`] = 1 - keptHeads[b].length / model.headsIn(b);
  small.pruning = {
    config: { structured },
    sparsity: {}, // nothing zeroed: the matrices are smaller
    sparseBytes: small.parameterCount * 4,
    denseBytes: small.parameterCount * 4,
    heads: list.map(([b, h]): [number, number] => [b, h]).sort((x, y) => x[0] - y[0] || x[1] - y[1]),
  };
  return small;
}

export interface NeuronPruneOptions {
  /**
   * How a neuron is scored. 'weights': |W_in column| x |W_out row| (L2 norms), data-free.
   * 'activations': mean |GELU output| on `stream` x |W_out row|: the typical size of what the
   * neuron writes into the residual stream. Default: 'activations' when a stream is given, else
   * 'weights'. On the tiny GPT weight norms pick badly (see the README's figures): use text.
   */
  score?: 'weights' | 'activations';
  /** Validation ids for 'activations' (never the test text). */
  stream?: Int32Array;
  /** Windows of the stream used for 'activations' (default 8). */
  windows?: number;
}

/**
 * Remove MLP neurons: in every block, the floor(fraction x d_mlp) lowest-scoring neurons lose
 * their column of W_in (and b_in) and their row of W_out. Every block keeps the same number (the
 * config has one d_mlp), so the result is a smaller GPT whose MLP matrices really shrink.
 */
export function pruneNeurons(model: GPT, fraction: number, options: NeuronPruneOptions = {}): Pruned<GPT> {
  const { nLayers, dMlp } = model.config;
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`pruneNeurons: fraction must be in [0, 1), got ${fraction}.`);
  const score = options.score ?? (options.stream ? 'activations' : 'weights');
  if (score !== 'weights' && score !== 'activations') throw new Error(`pruneNeurons: score must be 'weights' or 'activations', got ${JSON.stringify(score)}.`);
  const keepCount = dMlp - Math.floor(fraction * dMlp);
  const outNorms = (i: number) => Array.from(tf.tidy(() => tf.norm(model.weights[`blocks.${i}.mlp.W_out`], 'euclidean', 1).dataSync())); // [d_mlp]
  let scores: number[][];
  if (score === 'weights') {
    scores = Array.from({ length: nLayers }, (_, i) => {
      const inNorms = Array.from(tf.tidy(() => tf.norm(model.weights[`blocks.${i}.mlp.W_in`], 'euclidean', 0).dataSync())); // [d_mlp]
      const out = outNorms(i);
      return inNorms.map((v, j) => v * out[j]);
    });
  } else {
    if (!options.stream) throw new Error("pruneNeurons: score 'activations' needs `stream`, validation token ids (never the test text).");
    checkStream('pruneNeurons', options.stream, model);
    scores = meanAbsActivations(model, options.stream, options.windows ?? 8).map((mean, i) => {
      const out = outNorms(i);
      return mean.map((v, j) => v * out[j]);
    });
  }
  const kept = scores.map((s) => s.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, keepCount).map(([, j]) => j).sort((a, b) => a - b));
  const small = new GPT({ ...model.config, dMlp: keepCount }, `${model.name}-mlp${keepCount}`, null) as Pruned<GPT>;
  tf.tidy(() => {
    for (const [name, w] of Object.entries(model.weights)) {
      const mlp = /^blocks\.(\d+)\.mlp\.(W_in|b_in|W_out)$/.exec(name);
      if (!mlp) {
        small.weights[name].assign(w);
        continue;
      }
      const index = tf.tensor1d(kept[Number(mlp[1])], 'int32'); // [kept]
      small.weights[name].assign(tf.gather(w, index, mlp[2] === 'W_out' ? 0 : mlp[2] === 'W_in' ? 1 : 0)); // W_in [d, kept], b_in [kept], W_out [kept, d]
    }
  });
  const structured = Object.fromEntries(Array.from({ length: nLayers }, (_, i) => [`blocks.${i}.mlp`, 1 - keepCount / dMlp]));
  small.pruning = { config: { structured }, sparsity: {}, sparseBytes: small.parameterCount * 4, denseBytes: small.parameterCount * 4, keptNeurons: kept };
  return small;
}

/** Per block, the mean |mlp.hook_post| of each neuron over `windows` windows of the stream. */
function meanAbsActivations(model: GPT, stream: Int32Array, windows: number): number[][] {
  const { nLayers, dMlp, contextLength } = model.config;
  const count = Math.min(windows, Math.floor(stream.length / contextLength));
  if (count < 1) throw new Error(`pruneNeurons: the stream (${stream.length} ids) is shorter than one window of ${contextLength}.`);
  const names = Array.from({ length: nLayers }, (_, i) => `blocks.${i}.mlp.hook_post`);
  const sums = names.map(() => new Float64Array(dMlp));
  for (let w = 0; w < count; w++) {
    const ids = tf.tensor2d(stream.subarray(w * contextLength, (w + 1) * contextLength), [1, contextLength], 'int32'); // [1, context]
    const [out, cache] = model.runWithCache(ids, { names });
    names.forEach((n, i) => {
      const mean = tf.tidy(() => tf.mean(tf.abs(cache.get(n)), [0, 1]).dataSync()); // [d_mlp]
      for (let j = 0; j < dMlp; j++) sums[i][j] += mean[j] / count;
    });
    cache.dispose();
    tf.dispose([out, ids]);
  }
  return sums.map((s) => Array.from(s));
}

/**
 * Masks that keep a pruned model's zeros at zero while it is fine-tuned: 1 where a pruned tensor
 * is non-zero, 0 where it was removed. Structurally smaller models need none (nothing to keep).
 */
export function pruningMasks(model: Pruned<Prunable>): Record<string, Tensor> {
  const saved = model.pruning.masks; // the masks pruning recorded (carried by clone and save/load)
  return Object.fromEntries(
    Object.keys(model.pruning.sparsity).map((n) => {
      const w = model.weights[n];
      return [n, saved?.[n] ? tf.tensor(maskValues(saved[n], w.size), w.shape, 'float32') : tf.tidy(() => tf.cast(tf.notEqual(w, 0), 'float32'))];
    }),
  );
}

/**
 * Short fine-tuning of a pruned GPT on training ids (the language-model loop, with a progress
 * bar), re-applying the pruning masks after every step so removed weights stay removed.
 * Returns the loop's records.
 */
export function fineTunePruned(model: Pruned<GPT>, train: Int32Array, options: Partial<LanguageModelTraining> & { steps: number }): LanguageModelRecord[] {
  checkStream('fineTunePruned', train, model);
  const masks = pruningMasks(model);
  try {
    return trainLanguageModel(model, train, {
      batchSize: 8,
      learningRate: 3e-4, // a tenth of the from-scratch peak: nudge the survivors, do not retrain
      warmupSteps: Math.min(20, options.steps),
      evalEvery: options.steps,
      ...options,
      afterStep: (step) => {
        for (const [name, mask] of Object.entries(masks)) {
          const masked = tf.mul(model.weights[name], mask);
          model.weights[name].assign(masked);
          masked.dispose();
        }
        options.afterStep?.(step);
      },
    });
  } finally {
    tf.dispose(Object.values(masks));
  }
}

export type GptPruneMethod = 'magnitude, per layer' | 'magnitude, global' | 'heads (by ablation importance)' | 'MLP neurons (by weight norms)' | 'MLP neurons (by activations)';

export interface SweepPoint {
  method: GptPruneMethod;
  /** The method's own knob: fraction of entries, heads or neurons removed. */
  fraction: number;
  /** Share of the blocks' matrix weights removed (comparable across methods). */
  removed: number;
  /** The metric `evaluate` returned (e.g. held-out nats per character). */
  metric: number;
}

/**
 * The sparsity sweep: every method at every fraction (one list for all, or a list per method),
 * each scored by `evaluate` (e.g. held-out loss). Heads are ranked once, by `importance`
 * measured on validation text; fractions of neurons must stay below 1.
 */
export function pruningSweep(
  model: GPT,
  options: {
    fractions: number[] | Partial<Record<GptPruneMethod, number[]>>;
    evaluate: (m: GPT) => number;
    /** Head ranking for the heads method (headImportance on validation text). */
    importance?: HeadImportance;
    /** Validation ids for 'MLP neurons (by activations)'. */
    stream?: Int32Array;
    methods?: GptPruneMethod[];
    progress?: boolean;
  },
): SweepPoint[] {
  const perMethod = Array.isArray(options.fractions) ? null : options.fractions;
  const methods = options.methods ?? (perMethod ? (Object.keys(perMethod) as GptPruneMethod[]) : (['magnitude, per layer', 'magnitude, global', ...(options.importance ? ['heads (by ablation importance)'] : []), 'MLP neurons (by weight norms)', ...(options.stream ? ['MLP neurons (by activations)'] : [])] as GptPruneMethod[]));
  const fractionsOf = (m: GptPruneMethod): number[] => (perMethod ? perMethod[m] ?? [] : (options.fractions as number[]));
  if (methods.includes('heads (by ablation importance)') && !options.importance) throw new Error('pruningSweep: the heads method needs `importance` (headImportance on validation text).');
  if (methods.includes('MLP neurons (by activations)') && !options.stream) throw new Error('pruningSweep: scoring neurons by activations needs `stream` (validation ids).');
  const { nLayers, dModel: d, dMlp } = model.config;
  const blockMatrices = nLayers * (4 * d * d + 2 * d * dMlp);
  const bar = options.progress === false ? null : progressBar(methods.reduce((n, m) => n + fractionsOf(m).length, 0), 'pruning sweep');
  const points: SweepPoint[] = [];
  for (const method of methods) {
    for (const fraction of fractionsOf(method)) {
      let pruned: Pruned<GPT>;
      let removed: number;
      if (method === 'magnitude, per layer' || method === 'magnitude, global') {
        pruned = prune(model, { sparsity: fraction, scope: method === 'magnitude, global' ? 'global' : 'layer' });
        removed = Object.entries(pruned.pruning.sparsity).reduce((n, [w, share]) => n + share * model.weights[w].size, 0) / blockMatrices;
      } else if (method === 'heads (by ablation importance)') {
        pruned = pruneHeads(model, { fraction, importance: options.importance! });
        removed = (pruned.pruning.heads!.length * (d / model.config.nHeads) * 4 * d) / blockMatrices;
      } else {
        pruned = method === 'MLP neurons (by activations)' ? pruneNeurons(model, fraction, { score: 'activations', stream: options.stream }) : pruneNeurons(model, fraction);
        removed = (nLayers * (dMlp - pruned.config.dMlp) * 2 * d) / blockMatrices;
      }
      points.push({ method, fraction, removed, metric: options.evaluate(pruned) });
      pruned.dispose();
      bar?.tick(1, `${method} ${fraction}`);
    }
  }
  bar?.done();
  return points;
}
