import { describe, it, expect, beforeAll } from 'vitest';
import { tf, initBackend, loadModel, loadMnist, digitBatch, showImage, featureMaps, activationHistogram, classProbabilities, DIGIT_LABELS, type DigitsCNN } from '../src/index';
import { colorAt, toMosaic } from '../src/viz/heatmap';
import { checkBundle } from './helpers/bundle';

let model: DigitsCNN;
let pixels: tf.Tensor;

beforeAll(async () => {
  await initBackend();
  model = loadModel('digits-cnn') as DigitsCNN;
  pixels = tf.tensor3d(digitBatch(loadMnist().heldOut, 0, 1).pixels, [1, 28, 28], 'int32');
});


describe('charts', () => {
  it('the stepper is one chart with a slider over every step, and a filmstrip as its picture', async () => {
    const trace = model.trace(pixels);
    const b = await trace.toMimeBundle();
    checkBundle(b);
    const spec = b['application/vnd.vegalite.v5+json'] as { params: { name: string; bind: { input: string; max: number } }[]; datasets: { steps: { i: number; url: string }[] } };
    expect(spec.params[0].bind).toMatchObject({ input: 'range', max: trace.steps.length - 1 });
    expect(spec.datasets.steps.map((s) => s.i)).toEqual(trace.steps.map((s) => s.index));
    expect(spec.datasets.steps.every((s) => s.url.startsWith('data:image/png;base64,'))).toBe(true);
    expect(b['image/svg+xml']).toContain('conv.1.hook_pool'); // the still picture names every step
    expect(b['text/plain']).toContain('post.top_k');
    trace.dispose();
  });

  it('model summary, cache table, image, feature maps, histogram and probabilities render', async () => {
    const before = tf.memory().numTensors;
    checkBundle(await model.toMimeBundle());
    const [out, cache] = model.runWithCache(pixels, { names: ['conv.0.hook_relu', 'hook_logits'] });
    const table = await cache.toMimeBundle();
    checkBundle(table);
    expect(table['image/svg+xml']).toContain('conv.0.hook_relu');
    const maps = cache.get('relu', 0);
    checkBundle(await featureMaps(maps, 'conv.0'));
    checkBundle(await activationHistogram(maps, 'conv.0 relu'));
    checkBundle(await showImage(pixels, 'digit'));
    checkBundle(await classProbabilities(DIGIT_LABELS, out, 'p'));
    tf.dispose([out]);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before); // views keep no tensors
  });

  it('the histogram counts every value', async () => {
    const t = tf.tensor1d([0, 0, 0, 1, 2, 3, 3, 10]);
    const b = await activationHistogram(t, 'h');
    const bins = (b['application/vnd.vegalite.v5+json'] as { data: { values: { count: number }[] } }).data.values;
    expect(bins.reduce((n, bin) => n + bin.count, 0)).toBe(8);
    expect(bins[0].count).toBe(3); // the three zeros
    expect(bins.at(-1)!.count).toBe(1); // the 10
    t.dispose();
  });

  it('a view given the wrong shape says what it expects', async () => {
    const t = tf.zeros([2, 3, 4]);
    await expect(showImage(t)).rejects.toThrow(/expects one grey image shaped \[h, w\]/);
    await expect(classProbabilities(['a', 'b'], [0.5, 0.3, 0.2])).rejects.toThrow(/2 labels but 3 probabilities/);
    t.dispose();
  });
});

describe('heatmap helpers', () => {
  it('tiles channels into a mosaic with gutters, keeping each value in place', () => {
    // [h=2, w=2, ch=2] in HWC order: channel 0 holds 0..3, channel 1 holds 10..13.
    const values = [0, 10, 1, 11, 2, 12, 3, 13];
    const m = toMosaic(values, [2, 2, 2]);
    expect([m.height, m.width]).toEqual([2, 5]); // two 2x2 tiles side by side + a 1-px gutter
    expect(Array.from(m.values.subarray(0, 5))).toEqual([0, 1, NaN, 10, 11]);
  });

  it('viridis runs from dark purple to yellow, grey from black to white', () => {
    expect(colorAt(0, 'viridis')).toEqual([0x44, 0x01, 0x54]);
    expect(colorAt(1, 'viridis')).toEqual([0xfd, 0xe7, 0x25]);
    expect(colorAt(0.5, 'grey')).toEqual([128, 128, 128]);
  });
});
