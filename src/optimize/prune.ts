// Pruning: removing weights. Unstructured pruning zeroes the smallest weights wherever they are
// (smaller files with sparse storage, same dense compute); structured pruning removes whole
// output channels, so the matrices really shrink and the model really gets faster.
import { tf, type Tensor } from '../engine/tf';
import { DigitsCNN } from '../models/cnn';

export interface PruneConfig {
  /** Fraction of the chosen weights to zero, 0..1. */
  sparsity: number;
  /** 'layer': each weight tensor loses `sparsity` of its own entries; 'global': one threshold for all. */
  scope: 'layer' | 'global';
  /** Weights to prune (default: every kernel and matrix; biases are kept). */
  weights?: string[];
}

export interface PruningInfo {
  config: PruneConfig | { structured: Record<string, number> };
  /** Zeroed entries / entries, per pruned weight. */
  sparsity: Record<string, number>;
  /** Bytes with sparse storage: non-zero values as float32 plus a one-bit-per-entry mask. */
  sparseBytes: number;
  denseBytes: number;
}

export type Pruned = DigitsCNN & { pruning: PruningInfo };

function prunable(model: DigitsCNN): string[] {
  return Object.entries(model.weights).filter(([, w]) => w.rank >= 2).map(([n]) => n);
}

/** The |w| below which `fraction` of the values fall. */
function magnitudeThreshold(values: Float32Array, fraction: number): number {
  if (fraction <= 0) return -Infinity;
  const sorted = Float32Array.from(values, Math.abs).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

/** Bytes of a model stored sparsely: float32 non-zeros + a bitmap per pruned tensor; the rest dense. */
function sparseSize(model: DigitsCNN, pruned: string[]): number {
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

/** Unstructured magnitude pruning: zero the smallest |w|, per layer or with one global threshold. */
export function prune(model: DigitsCNN, config: PruneConfig): Pruned {
  if (!(config.sparsity >= 0 && config.sparsity < 1)) throw new Error(`prune: sparsity must be in [0, 1), got ${config.sparsity}.`);
  const names = config.weights ?? prunable(model);
  for (const n of names) if (!(n in model.weights)) throw new Error(`prune: no weight "${n}" in ${model.name}. Weights: ${Object.keys(model.weights).join(', ')}.`);
  const copy = model.clone(`${model.name}-pruned${Math.round(config.sparsity * 100)}${config.scope === 'global' ? 'g' : ''}`) as Pruned;
  const all = names.map((n) => model.weights[n].dataSync() as Float32Array);
  const globalThreshold = config.scope === 'global' ? magnitudeThreshold(Float32Array.from(all.flatMap((v) => Array.from(v))), config.sparsity) : 0;
  const sparsity: Record<string, number> = {};
  names.forEach((n, i) => {
    const threshold = config.scope === 'global' ? globalThreshold : magnitudeThreshold(all[i], config.sparsity);
    const kept = all[i].map((v) => (Math.abs(v) < threshold ? 0 : v));
    sparsity[n] = kept.filter((v) => v === 0).length / kept.length;
    const t = tf.tensor(kept, model.weights[n].shape);
    copy.weights[n].assign(t);
    t.dispose();
  });
  copy.pruning = { config, sparsity, sparseBytes: sparseSize(copy, names), denseBytes: copy.parameterCount * 4 };
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
