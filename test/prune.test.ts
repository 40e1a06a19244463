import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tf, initBackend, loadModel, loadMnist, prune, pruneChannels, MNIST_SIZE, type DigitsCNN } from '../src/index';

let model: DigitsCNN;
beforeAll(async () => {
  await initBackend();
  model = loadModel('digits-cnn') as DigitsCNN;
});
afterAll(() => model.dispose());

describe('pruning', () => {
  it('per-layer magnitude pruning zeroes the requested share of each tensor, smallest first', () => {
    const p = prune(model, { sparsity: 0.5, scope: 'layer' });
    for (const [name, s] of Object.entries(p.pruning.sparsity)) expect(s, name).toBeCloseTo(0.5, 2);
    // Every surviving weight is at least as large as every removed one.
    const original = Array.from(model.weights['dense.weight'].dataSync());
    const kept = Array.from(p.weights['dense.weight'].dataSync());
    const removed = original.filter((_, i) => kept[i] === 0).map(Math.abs);
    const survivors = original.filter((_, i) => kept[i] !== 0).map(Math.abs);
    expect(Math.max(...removed)).toBeLessThanOrEqual(Math.min(...survivors));
    // Sparse storage: float32 non-zeros + one bit per entry for pruned tensors; biases dense.
    const biases = 8 + 16 + 10;
    const nonZero = [72, 1152, 4000].reduce((n, size) => n + (size - Math.round(size * 0.5)), 0);
    expect(p.pruning.sparseBytes).toBe(nonZero * 4 + Math.ceil(72 / 8) + Math.ceil(1152 / 8) + Math.ceil(4000 / 8) + biases * 4);
    p.dispose();
  });

  it('global pruning uses one threshold: the big dense layer loses more than the small first conv', () => {
    const p = prune(model, { sparsity: 0.5, scope: 'global' });
    expect(p.pruning.sparsity['dense.weight']).toBeGreaterThan(p.pruning.sparsity['conv.0.weight']);
    const total = (72 * p.pruning.sparsity['conv.0.weight'] + 1152 * p.pruning.sparsity['conv.1.weight'] + 4000 * p.pruning.sparsity['dense.weight']) / 5224;
    expect(total).toBeCloseTo(0.5, 2);
    p.dispose();
  });

  it('structured pruning really shrinks every matrix and computes exactly what the masked original computes', () => {
    const small = pruneChannels(model, { 'conv.1': 0.5 });
    expect(small.config.channels).toEqual([8, 8]);
    expect(small.weights['dense.weight'].shape).toEqual([5 * 5 * 8, 10]);
    // Reference: the original with the removed conv.1 channels zeroed after ReLU must give the same logits.
    const l1 = Array.from(tf.tidy(() => tf.sum(tf.abs(model.weights['conv.1.weight']), [0, 1, 2]).dataSync()));
    const keep = l1.map((v, c) => [v, c]).sort((a, b) => b[0] - a[0]).slice(0, 8).map(([, c]) => c);
    const mask = tf.tensor1d(Array.from({ length: 16 }, (_, c) => (keep.includes(c) ? 1 : 0)));
    const x = tf.tensor3d(loadMnist().heldOut.images.subarray(0, 16 * MNIST_SIZE * MNIST_SIZE), [16, 28, 28], 'int32');
    const masked = model.runWithHooks(x, [['conv.1.hook_relu', (v) => tf.mul(v, mask)]]);
    const ours = small.forward(x);
    expect(tf.max(tf.abs(tf.sub(masked, ours))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([mask, x, masked, ours]);
    small.dispose();
  });

  it('bad arguments say what is expected', () => {
    expect(() => prune(model, { sparsity: 1.5, scope: 'layer' })).toThrow(/sparsity must be in \[0, 1\), got 1.5/);
    expect(() => pruneChannels(model, { 'conv.0': -0.1 })).toThrow(/fraction for conv.0 must be in \[0, 1\)/);
  });
});
