import { describe, it, expect, beforeAll } from 'vitest';
import { tf, initBackend, loadModel, loadMnist, digitBatch, showImage, featureMaps, activationHistogram, classProbabilities, traceStepper, barChart, DIGIT_LABELS, type DigitsCNN } from '../src/index';
import { colorAt, toMosaic } from '../src/viz/heatmap';
import { MAX_CHART_WIDTH, svgSize } from '../src/viz/render';
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

  it('the stepper names the classes under the logits and probabilities strips, with their values', async () => {
    const trace = model.trace(pixels);
    const spec = (await trace.toMimeBundle())['application/vnd.vegalite.v5+json'] as { datasets: { cellLabels: { i: number; label: string; value: string }[] } };
    const at = (name: string) => spec.datasets.cellLabels.filter((c) => c.i === trace.step(name).index);
    expect(at('hook_logits').map((c) => c.label)).toEqual(DIGIT_LABELS);
    expect(at('post.hook_probs').map((c) => c.label)).toEqual(DIGIT_LABELS);
    // Probabilities as printed: a softmax of the logits computed here by hand.
    const z = Array.from(trace.step('hook_logits').tensor!.dataSync());
    const e = z.map((v) => Math.exp(v - Math.max(...z)));
    const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    expect(at('post.hook_probs').map((c) => c.value)).toEqual(p.map((v) => `${Math.round(100 * v)}%`));
    expect(at('hook_logits').map((c) => Number(c.value))).toEqual(z.map((v) => Number(v.toFixed(1))));
    const best = p.indexOf(Math.max(...p));
    expect(at('post.top_k')[0].label).toBe(DIGIT_LABELS[best]);
    expect(at('conv.0.hook_relu')).toEqual([]); // feature maps are no strip of classes
    trace.dispose();
  });

  it('the stepper can put every step on one colour scale, and says which', async () => {
    const trace = model.trace(pixels);
    const shared = await traceStepper(trace, { colorScale: 'shared' });
    checkBundle(shared);
    const lo = Math.min(...trace.steps.map((s) => s.stats.min));
    const hi = Math.max(...trace.steps.map((s) => s.stats.max));
    expect(hi).toBe(255); // raw pixels
    const subtitle = [(shared['application/vnd.vegalite.v5+json'] as { title: { subtitle: string | string[] } }).title.subtitle].flat().join(' '); // wrapped into lines
    expect(subtitle).toContain(`${lo.toPrecision(3)} (dark) to 255 (bright)`);
    expect(JSON.stringify((await traceStepper(trace))['application/vnd.vegalite.v5+json'])).toContain('colours are scaled per step');
    await expect(traceStepper(trace, { colorScale: 'global' as 'shared' })).rejects.toThrow(/colorScale must be 'per step' or 'shared'/);
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

  it('bar charts of values spanning more than 100x use a log axis, named as such', async () => {
    const x = async (values: number[]) => ((await barChart(values.map((value, i) => ({ label: `row ${i}`, value })), { title: 't', xTitle: 'ms' }))['application/vnd.vegalite.v5+json'] as { encoding: { x: { title: string; scale: { type?: string } } } }).encoding.x;
    expect(await x([0.4, 0.6, 420])).toMatchObject({ title: 'ms (log scale)', scale: { type: 'log' } });
    expect((await x([2, 150])).scale.type).toBeUndefined(); // 75x: linear
    expect((await x([0, 5, 1000])).scale.type).toBeUndefined(); // a zero has no place on a log axis
    // Long labels and values (notebook 02's parameter counts: 905 px before) leave the chart inside the column.
    const long = await barChart([
      { label: 'the CNN (local windows, shared weights)', value: 5258 },
      { label: 'locally connected (local windows, no sharing)', value: 199418 },
      { label: 'dense (every input to every output)', value: 6868698 },
    ], { title: 'Parameters for the same layer shapes', xTitle: 'parameters', format: ',.0f' });
    expect(svgSize(long['image/svg+xml'] as string)!.width).toBeLessThanOrEqual(MAX_CHART_WIDTH);
    expect(long['image/svg+xml']).toContain('locally connected (local windows, no sharing)'); // whole, not cut
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
