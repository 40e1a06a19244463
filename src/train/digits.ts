// One training step of the digits CNN, as `npm run train:digits` takes it (and the benchmark times
// it): a batch of training digits, each shifted by a few random pixels, then one optimizer step
// on the softmax cross-entropy.
import { tf } from '../engine/tf';
import { MNIST_SIZE } from '../data/mnist';
import type { DigitsCNN } from '../models/cnn';

/** Copy a 28x28 digit shifted by (dx, dy) pixels, filling with black: cheap augmentation. */
export function shiftedDigit(src: Uint8Array, dst: Uint8Array, dx: number, dy: number): void {
  dst.fill(0);
  for (let y = 0; y < MNIST_SIZE; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= MNIST_SIZE) continue;
    for (let x = 0; x < MNIST_SIZE; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < MNIST_SIZE) dst[y * MNIST_SIZE + x] = src[sy * MNIST_SIZE + sx];
    }
  }
}

/**
 * One step on the digits `indices` of `train` (each shifted by up to `maxShift` pixels, drawn from
 * `random`): returns the batch's mean loss. Differentiable on WASM when `model.convKernel` is 'im2col'.
 */
export function digitsTrainingStep(
  model: DigitsCNN,
  optimizer: tf.Optimizer,
  train: { images: Uint8Array; labels: ArrayLike<number> },
  indices: ArrayLike<number>,
  random: () => number,
  maxShift: number,
): number {
  const px = MNIST_SIZE * MNIST_SIZE;
  const batchSize = indices.length;
  const pixels = new Uint8Array(batchSize * px);
  const labels = new Int32Array(batchSize);
  for (let b = 0; b < batchSize; b++) {
    const j = indices[b];
    const dx = Math.floor(random() * (2 * maxShift + 1)) - maxShift;
    const dy = Math.floor(random() * (2 * maxShift + 1)) - maxShift;
    shiftedDigit(train.images.subarray(j * px, (j + 1) * px), pixels.subarray(b * px, (b + 1) * px), dx, dy);
    labels[b] = train.labels[j];
  }
  const loss = optimizer.minimize(() => {
    const x = tf.tensor3d(pixels, [batchSize, MNIST_SIZE, MNIST_SIZE], 'int32'); // [batch, 28, 28]
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10); // [batch, 10]
    return tf.losses.softmaxCrossEntropy(y, model.logits(x)) as tf.Scalar;
  }, true)!;
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}
