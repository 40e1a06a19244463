import { describe, it, expect, beforeAll } from 'vitest';
import { tf, initBackend, DigitsCNN, DIGITS_CNN_DEFAULTS } from '../src/index';
import { MNIST_SIZE } from '../src/data/mnist';
import { shiftedDigit, digitsTrainingStep } from '../src/train/digits';

beforeAll(async () => {
  await initBackend();
});

const px = MNIST_SIZE * MNIST_SIZE;
const at = (y: number, x: number) => y * MNIST_SIZE + x;

describe('the digits training step (npm run train:digits and the benchmark)', () => {
  it('shiftedDigit moves every pixel by (dx, dy) and fills with black', () => {
    const src = new Uint8Array(px);
    src[at(5, 7)] = 200;
    src[at(10, 27)] = 90; // on the right edge: shifted right, it leaves the image
    const dst = new Uint8Array(px).fill(33); // stale values must be cleared
    shiftedDigit(src, dst, 1, -2);
    expect(dst[at(3, 8)]).toBe(200);
    expect(Array.from(dst).filter((v) => v !== 0)).toEqual([200]);
    shiftedDigit(src, dst, 0, 0);
    expect(Array.from(dst)).toEqual(Array.from(src));
  });

  it('returns the cross-entropy of the batch before the update (computed by hand from the logits), then changes the weights', () => {
    const count = 6;
    const images = new Uint8Array(count * px);
    for (let i = 0; i < images.length; i++) images[i] = (i * 37 + (i >> 5) * 11) % 256;
    const labels = Uint8Array.from([3, 0, 9, 1, 7, 3]);
    const model = new DigitsCNN(DIGITS_CNN_DEFAULTS, 'digits-step-test', 5);
    model.convKernel = 'im2col';
    const optimizer = tf.train.adam(1e-2);
    const indices = [4, 1, 2];
    const x = tf.tensor3d(Uint8Array.from(indices.flatMap((j) => Array.from(images.subarray(j * px, (j + 1) * px)))), [3, MNIST_SIZE, MNIST_SIZE], 'int32'); // [3, 28, 28]
    const logits = model.logits(x); // [3, 10]
    const rows = logits.arraySync() as number[][];
    const expected = rows.map((row, b) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[labels[indices[b]]]).reduce((a, v) => a + v, 0) / rows.length;
    const before = model.weights['dense.weight'].dataSync().slice();
    const loss = digitsTrainingStep(model, optimizer, { images, labels }, indices, () => 0.5, 0); // no shift
    expect(loss).toBeCloseTo(expected, 5);
    const after = model.weights['dense.weight'].dataSync();
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    tf.dispose([x, logits]);
    optimizer.dispose();
    model.dispose();
  });
});
