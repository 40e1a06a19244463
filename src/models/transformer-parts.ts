// The pieces the course's two transformers (the GPT and the translator) share, written once:
// GPT-2's initialisation, a linear layer, LayerNorm, GELU, the causal mask and the tied
// unembedding. Hooks stay in the models; these are plain tensor functions.
import { tf, type Tensor } from '../engine/tf';
import { isRecordingGradients, matMulTrainable, variableFrom } from '../engine/ops';

/**
 * GPT-2's initialisers: N(0, std) with seeds seed+1, seed+2, ... in call order (all zeros when
 * `seed` is null, for a model whose weights are loaded next), zeros and ones.
 */
export function gpt2Initializers(seed: number | null): { normal: (shape: number[], std?: number) => tf.Variable; zeros: (shape: number[]) => tf.Variable; ones: (shape: number[]) => tf.Variable } {
  let s = seed ?? 0;
  return {
    normal: (shape, std = 0.02) => variableFrom(seed === null ? tf.zeros(shape) : tf.randomNormal(shape, 0, std, 'float32', ++s)),
    zeros: (shape) => variableFrom(tf.zeros(shape)),
    ones: (shape) => variableFrom(tf.ones(shape)),
  };
}

/** x W (+ b) on the last axis, as one 2-D matmul. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const inDim = x.shape[x.rank - 1];
  const outDim = weight.shape[1] as number;
  const rows = tf.reshape(x, [-1, inDim]); // [batch*pos, in]
  const flat = isRecordingGradients() ? matMulTrainable(rows, weight) : tf.matMul(rows, weight); // [batch*pos, out]
  return tf.reshape(bias ? tf.add(flat, bias) : flat, [...x.shape.slice(0, -1), outDim]); // [batch, pos, out]
}

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * w + b. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  const mean = tf.mean(x, -1, true); // [batch, pos, 1]
  const centered = tf.sub(x, mean); // [batch, pos, d_model]
  const variance = tf.mean(tf.square(centered), -1, true); // [batch, pos, 1] biased, as torch.nn.LayerNorm
  const normalized = tf.div(centered, tf.sqrt(tf.add(variance, eps))); // [batch, pos, d_model]
  return tf.add(tf.mul(normalized, weight), bias); // [batch, pos, d_model]
}

/** GPT-2's GELU, the tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function geluTanh(x: Tensor): Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(x, tf.square(x))))); // sqrt(2/pi) (x + 0.044715 x^3)
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}

/** [pos, past+pos] additive mask: query i (at absolute position past+i) sees keys 0..past+i. */
export function causalMaskBias(pos: number, past = 0): Tensor {
  const keys = past + pos;
  const bias = new Float32Array(pos * keys);
  for (let i = 0; i < pos; i++) bias.fill(-1e9, i * keys + past + i + 1, (i + 1) * keys);
  return tf.tensor2d(bias, [pos, keys]); // [pos, past+pos]
}

/**
 * A tied unembedding: the embedding [vocab, d_model] transposed to [d_model, vocab], made once and
 * reused while the embedding holds the same data (a transpose per step is slow on WASM, and
 * tfjs-wasm's matMul with transposeB is ~9x slower on a large matrix); recomputed under a gradient
 * tape so gradients reach the embedding.
 */
export class TransposedCopy {
  private kept: { source: object; value: Tensor } | null = null;

  of(embedding: tf.Variable): Tensor {
    if (isRecordingGradients()) return tf.transpose(embedding); // [d_model, vocab]
    const source = (embedding as unknown as { dataId: object }).dataId; // changes whenever the variable is assigned
    if (this.kept?.source !== source) {
      this.kept?.value.dispose();
      this.kept = { source, value: tf.keep(tf.transpose(embedding)) }; // [d_model, vocab]
    }
    return this.kept.value;
  }

  dispose(): void {
    this.kept?.value.dispose();
    this.kept = null;
  }
}
