import { describe, it, expect, beforeAll } from 'vitest';
import { tf, initBackend, loadModel, loadMnist, evaluateDigits, prune, distillationLoss, trainCnn, type DigitsCNN } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

describe('knowledge distillation', () => {
  it('the loss matches a hand computation of alpha*T^2*KL + (1-alpha)*CE', () => {
    const student = tf.tensor2d([[1, 0, -1]]);
    const teacher = tf.tensor2d([[2, 1, 0]]);
    const labels = tf.tensor1d([0], 'int32');
    const T = 2;
    const alpha = 0.25;
    const softmax = (z: number[]) => z.map((v) => Math.exp(v)).map((e, _, all) => e / all.reduce((a, b) => a + b, 0));
    const p = softmax([2 / T, 1 / T, 0]); // teacher, softened
    const q = softmax([1 / T, 0, -1 / T]); // student, softened
    const kl = p.reduce((sum, pi, i) => sum + pi * Math.log(pi / q[i]), 0);
    const ce = -Math.log(softmax([1, 0, -1])[0]);
    const loss = distillationLoss(student, teacher, labels, { alpha, temperature: T });
    expect(loss.dataSync()[0]).toBeCloseTo(alpha * T * T * kl + (1 - alpha) * ce, 5);
    tf.dispose([student, teacher, labels, loss]);
  });

  it('the distilled student beats the same student trained on labels alone (same data, steps, seed)', () => {
    const { heldOut } = loadMnist();
    const distilled = loadModel('digits-student-distilled') as DigitsCNN;
    const scratch = loadModel('digits-student-scratch') as DigitsCNN;
    expect(distilled.config.channels).toEqual(scratch.config.channels);
    expect(distilled.parameterCount).toBeLessThan(0.5 * (loadModel('digits-cnn') as DigitsCNN).parameterCount);
    expect(evaluateDigits(distilled, heldOut).value).toBeGreaterThan(evaluateDigits(scratch, heldOut).value);
    distilled.dispose();
    scratch.dispose();
  });

  it('fine-tuning a pruned model with masks keeps the pruned weights at zero', () => {
    const model = loadModel('digits-cnn') as DigitsCNN;
    const pruned = prune(model, { sparsity: 0.6, scope: 'layer' });
    const masks = Object.fromEntries(Object.keys(pruned.pruning.sparsity).map((n) => [n, tf.cast(tf.notEqual(pruned.weights[n], 0), 'float32')]));
    const { train } = loadMnist();
    const small = { images: train.images.subarray(0, 256 * 784), labels: train.labels.subarray(0, 256), count: 256 };
    const losses = trainCnn(pruned, small, { epochs: 2, seed: 1, masks, progress: false });
    expect(losses[1]).toBeLessThan(losses[0]);
    for (const [name, mask] of Object.entries(masks)) {
      const zeros = tf.tidy(() => tf.sum(tf.mul(tf.abs(pruned.weights[name]), tf.sub(1, mask))).dataSync()[0]);
      expect(zeros, name).toBe(0);
    }
    tf.dispose(Object.values(masks));
    pruned.dispose();
    model.dispose();
  });
});
