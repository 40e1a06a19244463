// "Isolated" layer error means the same for a GPT as for a chain: the optimized model's op at that
// point, fed the ORIGINAL's values at every input of the point (as the model declares them), each
// through the optimized model's own transform there. Checked against the op computed by hand.
// Before: isolated at blocks.0.attn.hook_k patched the point before it (attn.hook_q), which is not
// its input, so it gave the propagated figure (17.6 dB both, issue 15 §3).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tf, initBackend, loadModel, loadMnist, quantize, layerErrors, errorMetrics, MNIST_SIZE, type DigitsCNN, type Tensor } from '../src/index';
import { GPT, GPT_PRESETS, gptHookLayout, type GPTConfig } from '../src/models/gpt';

const ALPHABET = ' abcdefghijklmnopqrstuvwxyz.\n';
let gpt: GPT;
let ids: Tensor;

beforeAll(async () => {
  await initBackend();
  const config: GPTConfig = { ...GPT_PRESETS.tiny, vocabSize: ALPHABET.length, contextLength: 16, dModel: 16, nLayers: 2, nHeads: 4, dMlp: 32, tokenizer: { kind: 'char', alphabet: ALPHABET } };
  gpt = new GPT(config, 'iso-gpt', 5);
  let s = 70;
  for (const w of Object.values(gpt.weights)) w.assign(tf.tidy(() => tf.randomNormal(w.shape, 0, 0.4, 'float32', ++s)));
  ids = tf.tensor2d([[1, 5, 9, 2, 7, 3, 8, 4, 10, 11], [2, 2, 6, 1, 0, 9, 11, 12, 3, 3]], [2, 10], 'int32');
  gpt.forward(ids).dispose(); // the tied unembedding is transposed once and kept
});
afterAll(() => {
  ids.dispose();
  gpt.dispose();
});

describe('isolated layer error', () => {
  it('GPT: at attn.hook_k it is the optimized W_K applied to the clean ln1 output, and differs from propagated', () => {
    // 4-bit weights everywhere (the embedding too), so error flows into block 0 before W_K.
    const q = quantize(gpt, { bits: 4, symmetric: true, perChannel: false, activations: 'none', progress: false });
    q.forward(ids).dispose(); // its tied unembedding, transposed once and kept
    const before = tf.memory().numTensors;
    const name = 'blocks.0.attn.hook_k';
    const isolated = layerErrors(gpt, q, ids, 'isolated').find((e) => e.name === name)!;
    const propagated = layerErrors(gpt, q, ids, 'propagated').find((e) => e.name === name)!;
    // By hand: the original's ln1 output times the quantized W_K plus b_K, split into heads.
    const [out, cache] = gpt.runWithCache(ids, { names: ['blocks.0.ln1.hook_normalized', name] });
    const byHand = tf.tidy(() => {
      const x = cache.get('blocks.0.ln1.hook_normalized'); // [batch, pos, d_model]
      const k = tf.add(tf.matMul(tf.reshape(x, [-1, 16]), q.weights['blocks.0.attn.W_K']), q.weights['blocks.0.attn.b_K']); // [batch*pos, d_model]
      return tf.reshape(k, [2, 10, 4, 4]); // [batch, pos, heads, d_head]
    });
    const expected = errorMetrics(cache.get(name), byHand);
    byHand.dispose();
    out.dispose();
    cache.dispose();
    expect(Math.abs(isolated.sqnrDb - expected.sqnrDb)).toBeLessThan(0.01);
    expect(isolated.maxAbs).toBeCloseTo(expected.maxAbs, 5);
    expect(propagated.sqnrDb).toBeLessThan(isolated.sqnrDb - 1); // propagated carries the embedding's and ln1's error too
    console.log(`${name}: isolated ${isolated.sqnrDb.toFixed(1)} dB (by hand ${expected.sqnrDb.toFixed(1)} dB), propagated ${propagated.sqnrDb.toFixed(1)} dB`);
    expect(tf.memory().numTensors).toBe(before);
    q.dispose();
  });

  it("GPT: every point's declared inputs are points before it (the structure is declared once)", () => {
    const layout = gptHookLayout(2);
    expect(layout.map((p) => p.name)).toEqual(gpt.hookNames);
    const seen = new Set<string>();
    for (const p of layout) {
      for (const input of p.inputs) expect(seen.has(input), `${p.name} <- ${input}`).toBe(true);
      seen.add(p.name);
      expect(gpt.getHookPoint(p.name).inputs).toEqual(p.inputs);
    }
    expect(gpt.getHookPoint('blocks.1.hook_resid_pre').inputs).toEqual(['blocks.0.hook_resid_post']);
    expect(gpt.getHookPoint('blocks.0.attn.hook_z').inputs).toEqual(['blocks.0.attn.hook_pattern', 'blocks.0.attn.hook_v']);
  });

  it('digits CNN (a chain): at conv.1.hook_conv it is the quantized conv on the clean, fake-quantized pool output', async () => {
    const model = loadModel('digits-cnn') as DigitsCNN;
    const px = MNIST_SIZE * MNIST_SIZE;
    const mnist = loadMnist();
    const calibration = tf.tensor3d(mnist.train.images.subarray(0, 128 * px), [128, 28, 28], 'int32');
    const input = tf.tensor3d(mnist.heldOut.images.subarray(0, 16 * px), [16, 28, 28], 'int32');
    const q = quantize(model, { bits: 4, symmetric: true, perChannel: true, activations: 'static', calibrationInputs: calibration, progress: false });
    try {
      const name = 'conv.1.hook_conv';
      const isolated = layerErrors(model, q, input, 'isolated').find((e) => e.name === name)!;
      const [out, cache] = model.runWithCache(input, { names: ['conv.0.hook_pool', name] });
      const byHand = tf.tidy(() => {
        const x = q.applyTransform('conv.0.hook_pool', cache.get('conv.0.hook_pool')); // the clean input through the quantized model's activation quantizer
        const y = tf.add(tf.conv2d(x as tf.Tensor4D, q.weights['conv.1.weight'] as tf.Tensor4D, 1, 'valid'), q.weights['conv.1.bias']);
        return q.applyTransform(name, y); // and its own output quantizer
      });
      const expected = errorMetrics(cache.get(name), byHand);
      byHand.dispose();
      out.dispose();
      cache.dispose();
      expect(Math.abs(isolated.sqnrDb - expected.sqnrDb)).toBeLessThan(0.01);
    } finally {
      tf.dispose([calibration, input]);
      q.dispose();
      model.dispose();
    }
  });
});
