// Loss functions as plain functions of tensors: (target, prediction) -> a scalar, the mean over
// the batch. Each is a few tfjs ops you can read and differentiate (tf.grad works on all of them);
// the tests check them against tf.losses and their gradients against finite differences.
import { tf, type Tensor } from '../engine/tf';

/** Mean squared error: mean (y - p)². Punishes big errors a lot (quadratic); regression. */
export function mse(yTrue: Tensor, yPred: Tensor): tf.Scalar {
  return tf.mean(tf.square(tf.sub(yPred, yTrue))) as tf.Scalar;
}

/** Mean absolute error: mean |y - p|. Every unit of error costs the same; robust to outliers. */
export function mae(yTrue: Tensor, yPred: Tensor): tf.Scalar {
  return tf.mean(tf.abs(tf.sub(yPred, yTrue))) as tf.Scalar;
}

/** Huber: quadratic for |error| <= delta, linear beyond (MSE near the target, MAE far away). */
export function huber(yTrue: Tensor, yPred: Tensor, delta = 1): tf.Scalar {
  return tf.tidy(() => {
    const e = tf.abs(tf.sub(yPred, yTrue));
    const quadratic = tf.minimum(e, delta); // the part of the error inside delta
    const linear = tf.sub(e, quadratic); // the rest
    return tf.mean(tf.add(tf.mul(0.5, tf.square(quadratic)), tf.mul(delta, linear))) as tf.Scalar;
  });
}

/**
 * Cross-entropy of integer class labels against logits `[batch, classes]`:
 * mean over the batch of -log softmax(logits)[label]. The classification loss.
 * Takes logits, not probabilities: log-softmax is computed stably in one step.
 */
export function crossEntropy(labels: Tensor, logits: Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[logits.rank - 1];
    const oneHot = labels.dtype === 'int32' ? tf.oneHot(labels as tf.Tensor1D, classes) : labels; // [batch, classes]
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as tf.Scalar;
  });
}

/** Binary cross-entropy of 0/1 targets against probabilities p (clipped away from 0 and 1). */
export function binaryCrossEntropy(yTrue: Tensor, p: Tensor, epsilon = 1e-7): tf.Scalar {
  return tf.tidy(() => {
    const q = tf.clipByValue(p, epsilon, 1 - epsilon);
    return tf.neg(tf.mean(tf.add(tf.mul(yTrue, tf.log(q)), tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, q)))))) as tf.Scalar;
  });
}

/** Hinge: mean max(0, 1 - y·s) for targets y in {-1, +1} and raw scores s (SVMs). Zero once the margin is 1. */
export function hinge(yTrue: Tensor, score: Tensor): tf.Scalar {
  return tf.mean(tf.relu(tf.sub(1, tf.mul(yTrue, score)))) as tf.Scalar;
}

/**
 * Kullback-Leibler divergence KL(p || q) = sum p·log(p/q) over the last axis, mean over the batch:
 * how many extra nats q costs when the truth is p (distillation matches a student q to a
 * teacher p). Terms with p = 0 contribute 0; q is clipped away from 0.
 */
export function klDivergence(p: Tensor, q: Tensor, epsilon = 1e-7): tf.Scalar {
  return tf.tidy(() => {
    const pSafe = tf.clipByValue(p, epsilon, 1);
    const qSafe = tf.clipByValue(q, epsilon, 1);
    const terms = tf.mul(p, tf.sub(tf.log(pSafe), tf.log(qSafe))); // p·log(p/q); 0 where p = 0
    const perRow = p.rank > 1 ? tf.sum(terms, -1) : tf.sum(terms);
    return tf.mean(perRow) as tf.Scalar;
  });
}

/** The regression / margin losses by name, as (target, prediction) -> scalar. */
export const LOSSES = {
  mse,
  mae,
  huber: (y: Tensor, p: Tensor) => huber(y, p, 1),
  hinge,
} as const;

/**
 * One loss evaluated at many predictions for a fixed target: the curve you plot to see its
 * shape. Each prediction is scored on its own (batch of one).
 */
export function lossCurve(fn: (yTrue: Tensor, yPred: Tensor) => tf.Scalar, target: number, predictions: number[]): { prediction: number; loss: number }[] {
  return predictions.map((prediction) =>
    tf.tidy(() => ({ prediction, loss: fn(tf.tensor1d([target]), tf.tensor1d([prediction])).dataSync()[0] })),
  );
}

/** Evenly spaced numbers from `start` to `stop` inclusive. */
export function linspace(start: number, stop: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => start + ((stop - start) * i) / (n - 1));
}

/**
 * Central finite differences of a scalar function of one tensor: (f(x+h) - f(x-h)) / 2h at each
 * element. The reference a gradient is checked against (slow: two evaluations per element).
 */
export function numericGradient(f: (x: Tensor) => tf.Scalar, x: Tensor, h = 1e-2, indices?: number[]): Float32Array {
  const base = Float32Array.from(x.dataSync());
  const which = indices ?? Array.from({ length: base.length }, (_, i) => i);
  const out = new Float32Array(which.length);
  which.forEach((idx, k) => {
    const at = (delta: number) =>
      tf.tidy(() => {
        const v = Float32Array.from(base);
        v[idx] += delta;
        return f(tf.tensor(v, x.shape, 'float32')).dataSync()[0];
      });
    out[k] = (at(h) - at(-h)) / (2 * h);
  });
  return out;
}
