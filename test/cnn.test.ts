import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, initBackend, loadModel, loadMnist, evaluateDigits, DigitsCNN, conv2dViaMatmul, assetsDir, MNIST_SIZE, type Tensor } from '../src/index';

let model: DigitsCNN;
const heldOutBatch = (start: number, n: number): Tensor => {
  const px = MNIST_SIZE * MNIST_SIZE;
  return tf.tensor3d(loadMnist().heldOut.images.subarray(start * px, (start + n) * px), [n, MNIST_SIZE, MNIST_SIZE], 'int32');
};

beforeAll(async () => {
  await initBackend();
  model = loadModel('digits-cnn') as DigitsCNN;
});
afterAll(() => model.dispose());

describe('the shipped digits CNN', () => {
  it('reaches at least 97% held-out accuracy on real MNIST digits', () => {
    const result = evaluateDigits(model, loadMnist().heldOut);
    expect(result.n).toBeGreaterThanOrEqual(1900);
    expect(result.value).toBeGreaterThanOrEqual(0.97);
  });

  it('the held-out set never overlaps the training set', () => {
    const { train, heldOut } = loadMnist();
    const px = MNIST_SIZE * MNIST_SIZE;
    const key = (images: Uint8Array, i: number) => Buffer.from(images.subarray(i * px, (i + 1) * px)).toString('base64');
    const seen = new Set(Array.from({ length: train.count }, (_, i) => key(train.images, i)));
    const overlap = Array.from({ length: heldOut.count }, (_, i) => key(heldOut.images, i)).filter((k) => seen.has(k));
    expect(overlap.length).toBeLessThan(5); // MNIST has a handful of exact duplicates across writers
  });

  it('gives the same logits as an equivalent tfjs-layers model with the same weights (1e-4)', () => {
    const { channels, kernelSize: k, labels, pixelMean, pixelStd } = model.config;
    const reference = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: channels[0], kernelSize: k, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: channels[1], kernelSize: k, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: labels.length }),
      ],
    });
    const w = model.weights;
    reference.setWeights([w['conv.0.weight'], w['conv.0.bias'], w['conv.1.weight'], w['conv.1.bias'], w['dense.weight'], w['dense.bias']]);
    const pixels = heldOutBatch(0, 32);
    const normalized = tf.div(tf.sub(tf.div(tf.expandDims(tf.cast(pixels, 'float32'), 3), 255), pixelMean), pixelStd); // [32, 28, 28, 1]
    const expected = reference.predict(normalized) as Tensor;
    const ours = model.logits(pixels);
    const maxDiff = tf.max(tf.abs(tf.sub(expected, ours))).dataSync()[0];
    expect(maxDiff).toBeLessThan(1e-4);
    tf.dispose([pixels, normalized, expected, ours]);
    reference.dispose();
  });

  it('the trainable im2col convolution equals tf.conv2d', () => {
    const x = tf.randomNormal([2, 9, 7, 3], 0, 1, 'float32', 1);
    const kernel = tf.randomNormal([3, 3, 3, 5], 0, 1, 'float32', 2);
    const diff = tf.max(tf.abs(tf.sub(conv2dViaMatmul(x, kernel), tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'valid')))).dataSync()[0];
    expect(diff).toBeLessThan(1e-4);
    tf.dispose([x, kernel]);
  });

  it('traces preprocessing, every layer and post-processing in order', () => {
    const pixels = heldOutBatch(0, 1);
    const trace = model.trace(pixels);
    expect(trace.names).toEqual([
      'pre.hook_raw', 'pre.hook_grayscale', 'pre.hook_resized', 'pre.hook_scaled', 'pre.hook_normalized',
      'conv.0.hook_conv', 'conv.0.hook_relu', 'conv.0.hook_pool',
      'conv.1.hook_conv', 'conv.1.hook_relu', 'conv.1.hook_pool',
      'flatten.hook_out', 'hook_logits', 'post.hook_probs', 'post.top_k',
    ]);
    expect(trace.step('conv.0.hook_pool').outputShape).toEqual([1, 13, 13, model.config.channels[0]]);
    expect(trace.step('pre.hook_scaled').stats.max).toBeLessThanOrEqual(1);
    expect(trace.step('conv.0.hook_relu').stats.min).toBe(0);
    expect(trace.step('post.hook_probs').stats.mean).toBeCloseTo(0.1, 5); // ten probabilities summing to 1
    const label = String(loadMnist().heldOut.labels[0]);
    expect(trace.step('post.top_k').note).toContain(`${label}:`);
    trace.dispose();
    pixels.dispose();
  });

  it('zeroing the last conv block changes the prediction to a constant (ablation)', () => {
    const pixels = heldOutBatch(0, 8);
    const clean = model.forward(pixels);
    const ablated = model.runWithHooks(pixels, [['conv.1.hook_relu', (v) => tf.zerosLike(v)]]);
    const rows = ablated.arraySync() as number[][];
    expect(rows.every((r) => r.every((p, j) => Math.abs(p - rows[0][j]) < 1e-6))).toBe(true); // input no longer matters
    expect(tf.max(tf.abs(tf.sub(clean, ablated))).dataSync()[0]).toBeGreaterThan(0.1);
    tf.dispose([pixels, clean, ablated]);
  });

  it('accepts RGBA images of another size by converting and resizing them', () => {
    const image = tf.tidy(() => {
      const grey = tf.image.resizeBilinear(tf.expandDims(heldOutBatch(0, 1), 3) as tf.Tensor4D, [56, 56]); // [1, 56, 56, 1]
      return tf.concat([grey, grey, grey, tf.fill([1, 56, 56, 1], 255)], 3); // [1, 56, 56, 4] RGBA, opaque
    });
    const [top] = model.classify(image, 1);
    expect(top[0].label).toBe(String(loadMnist().heldOut.labels[0]));
    image.dispose();
  });

  it('rejects a wrong input shape or dtype, saying what it expects', () => {
    const flat = tf.zeros([1, 784]);
    expect(() => model.forward(flat)).toThrow(/expects raw pixels shaped \[batch, height, width\].*got \[1,784\]/);
    const twoChannel = tf.zeros([1, 28, 28, 2]);
    expect(() => model.forward(twoChannel)).toThrow(/\[batch, height, width, 1\|3\|4\]/);
    const bool = tf.zeros([1, 28, 28], 'bool');
    expect(() => model.forward(bool)).toThrow(/numeric dtype.*bool/);
    tf.dispose([flat, twoChannel, bool]);
  });

  it('a model owns exactly its weight tensors, and dispose frees them', () => {
    const before = tf.memory().numTensors;
    const fresh = new DigitsCNN();
    expect(tf.memory().numTensors - before).toBe(Object.keys(fresh.weights).length);
    fresh.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaks no tensors across forward, cache, hooks and trace', () => {
    const pixels = heldOutBatch(0, 4);
    const before = tf.memory().numTensors;
    model.forward(pixels).dispose();
    const [out, cache] = model.runWithCache(pixels);
    out.dispose();
    cache.dispose();
    model.trace(pixels).dispose();
    model.classify(pixels);
    model.logits(pixels).dispose();
    expect(tf.memory().numTensors).toBe(before);
    pixels.dispose();
  });
});

describe('loading weights', () => {
  const shipped = path.join(assetsDir(), 'digits-cnn');
  const copy = (mutate: (bytes: Buffer) => Buffer): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-'));
    fs.copyFileSync(path.join(shipped, 'config.json'), path.join(dir, 'config.json'));
    fs.writeFileSync(path.join(dir, 'weights.safetensors'), mutate(fs.readFileSync(path.join(shipped, 'weights.safetensors'))));
    return dir;
  };

  it('a truncated file names the tensor that does not fit', () => {
    const dir = copy((b) => b.subarray(0, b.length - 100));
    expect(() => DigitsCNN.load(dir)).toThrow(/tensor ".*" ends at byte \d+ but the data section has \d+ bytes \(file truncated\)/);
  });

  it('a corrupt header says the file is corrupt', () => {
    const dir = copy((b) => Buffer.concat([b.subarray(0, 8), Buffer.from('{{{{'), b.subarray(12)]));
    expect(() => DigitsCNN.load(dir)).toThrow(/JSON header does not parse.*corrupt/);
  });

  it('a mismatched config names the tensor and both shapes', () => {
    const dir = copy((b) => b);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    config.config.channels = [4, 16];
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    expect(() => DigitsCNN.load(dir)).toThrow(/tensor "conv.0.weight" has shape \[3,3,1,8\], expected \[3,3,1,4\]/);
  });

  it('an unknown model name lists the known ones', () => {
    expect(() => loadModel('resnet-9000')).toThrow(/Unknown model "resnet-9000". Known models: .*digits-cnn/);
  });
});
