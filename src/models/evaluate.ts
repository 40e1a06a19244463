import { tf } from '../engine/tf';
import type { DigitSet } from '../data/mnist';
import { MNIST_SIZE } from '../data/mnist';
import type { HookedModel } from '../hooks/hooked-model';

export interface Evaluation {
  metric: 'accuracy';
  value: number;
  n: number;
  /** Held-out indices the model got wrong, with its answer. */
  mistakes: { index: number; label: number; predicted: number }[];
}

/** Accuracy of a digits classifier (output [batch, classes]) over a digit set, in batches. */
export function evaluateDigits(model: HookedModel, set: DigitSet, batchSize = 256): Evaluation {
  let correct = 0;
  const mistakes: Evaluation['mistakes'] = [];
  for (let start = 0; start < set.count; start += batchSize) {
    const n = Math.min(batchSize, set.count - start);
    const px = MNIST_SIZE * MNIST_SIZE;
    const predicted = tf.tidy(() => {
      const pixels = tf.tensor3d(set.images.subarray(start * px, (start + n) * px), [n, MNIST_SIZE, MNIST_SIZE], 'int32'); // [n, 28, 28]
      return tf.argMax(model.forward(pixels), 1).dataSync() as Int32Array; // [n]
    });
    for (let i = 0; i < n; i++) {
      const label = set.labels[start + i];
      if (predicted[i] === label) correct++;
      else mistakes.push({ index: start + i, label, predicted: predicted[i] });
    }
  }
  return { metric: 'accuracy', value: correct / set.count, n: set.count, mistakes };
}

/** Per-example 1/0 correctness from an evaluation that lists its mistakes by index. */
export function correctnessVector(evaluation: { n: number; mistakes: { index: number }[] }): Uint8Array {
  const out = new Uint8Array(evaluation.n).fill(1);
  for (const m of evaluation.mistakes) out[m.index] = 0;
  return out;
}
