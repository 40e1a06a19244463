import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { SUITE_BACKEND } from './helpers/backend';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, initBackend, type Tensor } from '../src/index';
import { GPT, GPT_PRESETS, type GPTConfig } from '../src/models/gpt';
import { OnnxGPT } from '../src/fastpath/gpt-onnx';
import { exportGptToOnnx } from '../src/fastpath/export-gpt';
import { onnxCheck } from './helpers/python';

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const ALPHABET = ' abcdefghijklmnopqrstuvwxyz.\n';
const config = (over: Partial<GPTConfig> = {}): GPTConfig => ({
  ...GPT_PRESETS.tiny, vocabSize: ALPHABET.length, contextLength: 24, dModel: 16, nLayers: 2, nHeads: 4, dMlp: 32, tokenizer: { kind: 'char', alphabet: ALPHABET }, ...over,
});

let model: GPT;
let fast: OnnxGPT;

beforeAll(async () => {
  await initBackend();
  model = new GPT(config(), 'fast-test', 4);
  let s = 40;
  for (const w of Object.values(model.weights)) w.assign(tf.tidy(() => tf.randomNormal(w.shape, 0, 0.4, 'float32', ++s)));
  fast = model.compile('onnx', { threads: 1 });
});
afterAll(() => {
  fast.dispose();
  model.dispose();
});

describe('GPT on the fast path (ONNX Runtime)', () => {
  it('the exported graphs (float32, with hooks, int8) pass the official ONNX checker', () => {
    for (const options of [{}, { hooks: true }, { quantize: 'int8' as const }]) {
      expect(onnxCheck(exportGptToOnnx(model, options).bytes)).toMatchObject({ status: 0, output: expect.stringContaining('valid') });
    }
  });

  it('forward gives the same logits as tfjs (1e-4), batch 1 and 3', () => {
    for (const text of [['the cat sat.'], ['abc', 'xyz', 'a.b']]) {
      const ids = tf.tensor2d(text.map((t) => model.tokenizer.encode(t)), undefined, 'int32');
      const [a, b] = [model.forward(ids), fast.forward(ids)];
      expect(b.shape).toEqual(a.shape);
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
      tf.dispose([ids, a, b]);
    }
  });

  it('runWithCache: every hook equals the tfjs value (1e-4), and only the names asked for are kept', () => {
    const ids = model.encode('in the beginning');
    const [la, ca] = model.runWithCache(ids);
    const [lb, cb] = fast.runWithCache(ids);
    expect(cb.names.sort()).toEqual(ca.names.sort());
    let worst = 0;
    for (const name of ca.names) {
      expect(cb.get(name).shape).toEqual(ca.get(name).shape);
      worst = Math.max(worst, maxAbsDiff(ca.get(name), cb.get(name)));
    }
    console.log(`fast path vs tfjs, ${ca.size} hook values: max |difference| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
    const [lc, only] = fast.runWithCache(ids, { names: ['blocks.1.attn.hook_pattern'] });
    expect(only.names).toEqual(['blocks.1.attn.hook_pattern']);
    expect(() => fast.runWithCache(ids, { names: ['blocks.9.hook_nothing'] })).toThrow(/Unknown hook point "blocks.9.hook_nothing"/);
    tf.dispose([ids, la, lb, lc]);
    [ca, cb, only].forEach((c) => c.dispose());
  });

  it('a trace has the same steps, shapes and statistics as the tfjs trace', () => {
    const ids = model.encode('trace me');
    const [ta, tb] = [model.trace(ids), fast.trace(ids)];
    expect(tb.names).toEqual(ta.names);
    ta.steps.forEach((s, i) => {
      expect(tb.steps[i].outputShape).toEqual(s.outputShape);
      expect(tb.steps[i].stats.mean).toBeCloseTo(s.stats.mean, 4);
    });
    ta.dispose();
    tb.dispose();
    ids.dispose();
  });

  it('read-only hooks run on the fast path; a patching hook falls back to tfjs and gives the tfjs result', () => {
    const ids = model.encode('patch');
    let seen: number[] | null = null;
    const read = fast.runWithHooks(ids, [['blocks.0.attn.hook_pattern', (v) => void (seen = v.shape.slice())]]);
    expect(seen).toEqual([1, 4, 5, 5]);
    const zeroHead = (z: Tensor) => tf.mul(z, tf.tensor4d([1, 0, 1, 1], [1, 1, 4, 1]));
    const patchedFast = fast.runWithHooks(ids, [['blocks.0.attn.hook_z', zeroHead]]);
    const patchedTfjs = model.runWithHooks(ids, [['blocks.0.attn.hook_z', zeroHead]]);
    const clean = model.forward(ids);
    expect(maxAbsDiff(patchedFast, patchedTfjs)).toBeLessThan(1e-6);
    expect(maxAbsDiff(patchedFast, clean)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(read, clean)).toBeLessThan(1e-4);
    tf.dispose([ids, read, patchedFast, patchedTfjs, clean]);
  });

  it('generation with the ONNX KV cache gives the tfjs greedy tokens, with and without the cache, past the window', () => {
    const reference = model.generate('the ', { maxTokens: 30, temperature: 0 });
    for (const kvCache of [true, false]) {
      expect(fast.generate('the ', { maxTokens: 30, temperature: 0, kvCache }).tokens.map((t) => t.id)).toEqual(reference.tokens.map((t) => t.id));
    }
  });

  it('int8 (dynamic) stays close to float32: same greedy start, logits within a fraction of their spread', () => {
    const int8 = model.compile('onnx', { quantize: 'int8', threads: 1 });
    expect(int8.byteSize).toBeLessThan(fast.byteSize);
    const ids = model.encode('the quick brown fox');
    const [a, b] = [model.forward(ids), int8.forward(ids)];
    const spread = tf.tidy(() => tf.moments(a).variance.sqrt().dataSync()[0]);
    expect(maxAbsDiff(a, b)).toBeLessThan(0.25 * spread);
    expect(int8.backend).toBe('onnxruntime (cpu, 1 thread, int8)');
    tf.dispose([ids, a, b]);
    int8.dispose();
  });

  it('says where it runs; rejects bad input as the tfjs model does; leaks no tensors', () => {
    if (SUITE_BACKEND === 'wasm') expect(model.backend).toBe('tfjs (wasm)');
    else expect(model.backend).toMatch(/^tfjs \(tensorflow: @tensorflow\/tfjs-node(-gpu)? \d+\.\d+\.\d+, TensorFlow 2\.12\.1, (CPU|GPU.*)\)$/);
    expect(fast.backend).toBe('onnxruntime (cpu, 1 thread)');
    expect(fast.toString()).toMatch(/runs in onnxruntime/);
    expect(() => fast.forward(tf.zeros([1, 3]))).toThrow(/token ids shaped \[batch, pos\]/);
    expect(() => fast.forward(tf.tensor2d([[1, 50]], [1, 2], 'int32'))).toThrow(/outside the vocabulary/);
    expect(() => model.compile('webgpu' as 'onnx')).toThrow(/unknown target "webgpu"/);
    const ids = model.encode('leak');
    fast.forward(ids).dispose(); // warm: the instrumented session is made on first use
    const before = tf.memory().numTensors;
    fast.forward(ids).dispose();
    const [out, cache] = fast.runWithCache(ids);
    out.dispose();
    cache.dispose();
    fast.trace(ids).dispose();
    fast.generate('ab', { maxTokens: 4 });
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
  });
});

describe('digits CNN on the fast path', () => {
  it('probabilities, every hook (NHWC) and the trace equal tfjs (1e-4); other image sizes run on tfjs', async () => {
    const { loadModel, loadMnist, MNIST_SIZE } = await import('../src/index');
    const cnn = loadModel('digits-cnn') as import('../src/models/cnn').DigitsCNN;
    const fastCnn = cnn.compile('onnx', { threads: 1 });
    const px = MNIST_SIZE * MNIST_SIZE;
    const x = tf.tensor3d(loadMnist().heldOut.images.subarray(0, 8 * px), [8, MNIST_SIZE, MNIST_SIZE], 'int32');
    const [pa, ca] = cnn.runWithCache(x);
    const [pb, cb] = fastCnn.runWithCache(x);
    expect(maxAbsDiff(pa, pb)).toBeLessThan(1e-5);
    for (const name of ca.names) {
      expect(cb.get(name).shape).toEqual(ca.get(name).shape);
      expect(maxAbsDiff(ca.get(name), cb.get(name))).toBeLessThan(1e-4);
    }
    const [ta, tb] = [cnn.trace(x), fastCnn.trace(x)];
    expect(tb.names).toEqual(ta.names); // post.top_k included
    expect(tb.steps[tb.steps.length - 1].note).toBe(ta.steps[ta.steps.length - 1].note);
    const big = tf.image.resizeBilinear(tf.expandDims(tf.cast(x, 'float32'), 3) as tf.Tensor4D, [40, 40]); // not what the graph takes
    expect(maxAbsDiff(cnn.forward(big), fastCnn.forward(big))).toBe(0);
    expect(() => cnn.compile('onnx', { quantize: 'int8' })).toThrow(/needs calibrated activations/);
    tf.dispose([x, pa, pb, big]);
    [ca, cb, ta, tb].forEach((c) => c.dispose());
    fastCnn.dispose();
    cnn.dispose();
  });
});

describe('a model the exporter cannot write', () => {
  it('names the layer and op, and the tfjs model keeps working', async () => {
    const { loadModel } = await import('../src/index');
    const rnn = loadModel('langid-lstm') as import('../src/models/rnn').CharRNN;
    expect(() => rnn.compile('onnx')).toThrow(/cannot export layer "lstm.hook_hidden" \(op: LSTM recurrence/);
    expect(rnn.classifyWords(['haus'])[0].label).toBeTypeOf('string');
    rnn.dispose();
  });
});

describe('GPT-2 from Hugging Face files on the fast path', () => {
  it('logits, hooks and greedy tokens equal the tfjs path (itself checked against transformers)', async () => {
    const { loadGPT2 } = await import('../src/models/gpt2-loader');
    const gpt2 = loadGPT2(path.join(__dirname, 'fixtures', 'gpt2-tiny'));
    const fastGpt2 = gpt2.compile('onnx', { threads: 1 });
    const ids = tf.tensor2d([[464, 329, 318, 257, 922, 13, 383, 640]], [1, 8], "int32"); // the fixture has 1,000 token rows
    const [la, ca] = gpt2.runWithCache(ids, { names: (n) => n.endsWith('hook_pattern') || n.endsWith('hook_resid_post') });
    const [lb, cb] = fastGpt2.runWithCache(ids, { names: (n) => n.endsWith('hook_pattern') || n.endsWith('hook_resid_post') });
    expect(maxAbsDiff(la, lb)).toBeLessThan(1e-4);
    for (const n of ca.names) expect(maxAbsDiff(ca.get(n), cb.get(n))).toBeLessThan(1e-4);
    const prompt = [464, 329, 318];
    expect(fastGpt2.generate(prompt, { maxTokens: 12, temperature: 0 }).tokens.map((t) => t.id)).toEqual(gpt2.generate(prompt, { maxTokens: 12, temperature: 0 }).tokens.map((t) => t.id));
    tf.dispose([ids, la, lb]);
    ca.dispose();
    cb.dispose();
    fastGpt2.dispose();
    gpt2.dispose();
  });
});

describe('a GPT with heads removed (different head counts per block)', () => {
  it('runs on the fast path with the tfjs numbers, generates the same tokens, and round-trips through its files', async () => {
    const { pruneHeads } = await import('../src/optimize/prune');
    const small = pruneHeads(model, [[0, 1], [1, 0], [1, 2]]); // blocks keep 3 and 2 of 4 heads
    expect(small.config.headsPerBlock).toEqual([3, 2]);
    const fastSmall = small.compile('onnx', { threads: 1 });
    const ids = model.encode('fewer heads');
    const [la, ca] = small.runWithCache(ids, { names: ['blocks.1.attn.hook_pattern', 'blocks.0.attn.hook_z'] });
    const [lb, cb] = fastSmall.runWithCache(ids, { names: ['blocks.1.attn.hook_pattern', 'blocks.0.attn.hook_z'] });
    expect(cb.get('blocks.1.attn.hook_pattern').shape).toEqual([1, 2, 11, 11]);
    expect(cb.get('blocks.0.attn.hook_z').shape).toEqual([1, 11, 3, 4]);
    expect(maxAbsDiff(la, lb)).toBeLessThan(1e-4);
    for (const n of ca.names) expect(maxAbsDiff(ca.get(n), cb.get(n))).toBeLessThan(1e-4);
    expect(fastSmall.generate('the ', { maxTokens: 30, temperature: 0 }).tokens.map((t) => t.id)).toEqual(small.generate('the ', { maxTokens: 30, temperature: 0 }).tokens.map((t) => t.id));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pruned-gpt-'));
    small.save(dir);
    const loaded = GPT.load(dir);
    const lc = loaded.forward(ids);
    expect(maxAbsDiff(la, lc)).toBe(0);
    expect(() => new GPT({ ...small.config, headsPerBlock: [3, 5] })).toThrow(/headsPerBlock must list 2 head counts, each 1\.\.4/);
    tf.dispose([ids, la, lb, lc]);
    [ca, cb].forEach((c) => c.dispose());
    [fastSmall, small, loaded].forEach((m) => m.dispose());
  });
});
