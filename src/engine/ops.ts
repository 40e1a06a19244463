import { tf, type Tensor } from './tf';
import { gradientDepth } from './tfjs-internals';

/**
 * 2-D convolution (stride 1, 'valid') as im2col + one matMul.
 * Why: the WASM backend has no Conv2DBackpropFilter kernel, so tf.conv2d cannot be trained there;
 * slices, concat and matMul all have WASM gradients. Same numbers as tf.conv2d (tested).
 */
export function conv2dViaMatmul(x: Tensor, kernel: Tensor): Tensor {
  return tf.tidy(() => {
    const [batch, height, width, inCh] = x.shape; // x: [batch, h, w, in]
    const [kh, kw, , outCh] = kernel.shape; // kernel: [kh, kw, in, out]
    const outH = height - kh + 1;
    const outW = width - kw + 1;
    const patches: Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        patches.push(tf.slice(x, [0, i, j, 0], [batch, outH, outW, inCh])); // [batch, outH, outW, in]
      }
    }
    const columns = tf.reshape(tf.concat(patches, 3), [batch * outH * outW, kh * kw * inCh]); // [batch*outH*outW, kh*kw*in]
    const flatKernel = tf.reshape(kernel, [kh * kw * inCh, outCh]); // [kh*kw*in, out]; HWIO order matches the patch order
    return tf.reshape(tf.matMul(columns, flatKernel), [batch, outH, outW, outCh]); // [batch, outH, outW, out]
  });
}

/**
 * True inside tf.grad / optimizer.minimize (a gradient tape is recording). Lets a model use a
 * faster op without a WASM gradient (gather) for inference and a differentiable one for training.
 */
export function isRecordingGradients(): boolean {
  return gradientDepth() > 0;
}

/**
 * a [m, k] x b [k, n], whose gradient multiplies by explicitly transposed copies instead of
 * tfjs's default matMul(dy, b, false, true) / matMul(a, dy, true, false): on WASM the transposed
 * variants of a large matMul are several times slower (measured: a GPT training step 4x faster).
 */
export const matMulTrainable = tf.customGrad(((a: Tensor, b: Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), // [m, n]
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [x, w] = saved as tf.Tensor2D[];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(w)), tf.matMul(tf.transpose(x), dy as tf.Tensor2D)]; // [m, k], [k, n]
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: Tensor, b: Tensor) => Tensor;

/** Mean next-token cross-entropy of logits [batch, pos, vocab] against targets [batch, pos] (nats). */
export function nextTokenLoss(logits: Tensor, targets: Tensor, vocabSize: number): tf.Scalar {
  return tf.tidy(() => {
    const flat = tf.reshape(logits, [-1, vocabSize]); // [batch*pos, vocab]
    const picked = tf.sum(tf.mul(tf.logSoftmax(flat), tf.oneHot(tf.reshape(targets, [-1]), vocabSize)), 1); // [batch*pos]
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/**
 * The values of a tensor computed by `build`, with every intermediate freed. Why not
 * `tf.tidy(() => build().dataSync())`: tidy searches its result for tensors key by key, and a
 * typed array of a million values is a million keys (seconds for a photo or a batch of spectrograms).
 */
export function tensorValues(build: () => Tensor): Float32Array {
  const result = tf.tidy(() => {
    const t = build();
    return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
  });
  try {
    return result.dataSync<'float32'>();
  } finally {
    result.dispose();
  }
}

/** A variable holding `initial`, which is freed (tf.variable copies). */
export function variableFrom(initial: Tensor, trainable = true): tf.Variable {
  const variable = tf.variable(initial, trainable);
  initial.dispose();
  return variable;
}
