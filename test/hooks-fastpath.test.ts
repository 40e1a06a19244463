// One hook implementation: the fast path (ONNX Runtime) implements only the forward pass and
// routes each value through HookedModel's machinery. The same hook list, run on tfjs and on the
// fast path, gives the same calls in the same (forward) order, each once, and the same results.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tf, initBackend, loadModel, loadMnist, MNIST_SIZE, type DigitsCNN, type HookedModel, type HookSpec, type Tensor } from '../src/index';
import { GPT, GPT_PRESETS, type GPTConfig } from '../src/models/gpt';
import { CharRNN, CHAR_RNN_DEFAULTS } from '../src/models/rnn';

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const ALPHABET = ' abcdefghijklmnopqrstuvwxyz.\n';

let cnn: DigitsCNN;
let gpt: GPT;
let digits: Tensor;
let ids: Tensor;

beforeAll(async () => {
  await initBackend();
  cnn = loadModel('digits-cnn') as DigitsCNN;
  digits = tf.tensor3d(loadMnist().heldOut.images.subarray(0, 8 * MNIST_SIZE * MNIST_SIZE), [8, 28, 28], 'int32');
  const config: GPTConfig = { ...GPT_PRESETS.tiny, vocabSize: ALPHABET.length, contextLength: 16, dModel: 16, nLayers: 2, nHeads: 4, dMlp: 32, tokenizer: { kind: 'char', alphabet: ALPHABET } };
  gpt = new GPT(config, 'hooks-gpt', 3);
  let s = 10;
  for (const w of Object.values(gpt.weights)) w.assign(tf.tidy(() => tf.randomNormal(w.shape, 0, 0.4, 'float32', ++s)));
  ids = tf.tensor2d([[1, 5, 9, 2, 7, 3, 8, 4], [2, 2, 6, 1, 0, 9, 11, 12]], [2, 8], 'int32');
  gpt.forward(ids).dispose(); // the tied unembedding is transposed once and kept (not a leak of a run)
});
afterAll(() => {
  tf.dispose([digits, ids]);
  cnn.dispose();
  gpt.dispose();
});

interface Call {
  name: string;
  /** Sum of the value the hook saw, to compare across engines. */
  sum: number;
}

/** A hook list (deliberately not in forward order) that reads some values and patches one. */
function hookList(calls: Call[], reads: string[], patch: [string, (v: Tensor) => Tensor] | null): HookSpec[] {
  const record = (v: Tensor, name: string) => calls.push({ name, sum: tf.tidy(() => tf.sum(v).dataSync()[0]) });
  const specs: HookSpec[] = reads.map((name): HookSpec => [name, (v) => void record(v, name)]);
  if (patch) {
    const [name, fn] = patch;
    specs.push([name, (v) => (record(v, name), fn(v))]);
    specs.push([name, (v) => void record(v, `${name} (after the patch)`)]); // a second hook on the same point sees the patched value
  }
  return specs;
}

function runBoth(source: HookedModel, compiled: HookedModel, input: Tensor, reads: string[], patch: [string, (v: Tensor) => Tensor] | null) {
  const tfjsCalls: Call[] = [];
  const fastCalls: Call[] = [];
  const before = tf.memory().numTensors;
  const a = source.runWithHooks(input, hookList(tfjsCalls, reads, patch));
  const b = compiled.runWithHooks(input, hookList(fastCalls, reads, patch));
  const diff = maxAbsDiff(a, b);
  tf.dispose([a, b]);
  expect(tf.memory().numTensors).toBe(before); // no leaks on either engine
  return { tfjsCalls, fastCalls, diff };
}

function expectSameCalls(tfjsCalls: Call[], fastCalls: Call[], expectedOrder: string[]) {
  expect(tfjsCalls.map((c) => c.name)).toEqual(expectedOrder);
  expect(fastCalls.map((c) => c.name)).toEqual(expectedOrder); // same order, each once
  tfjsCalls.forEach((c, i) => expect(Math.abs(c.sum - fastCalls[i].sum)).toBeLessThan(1e-3 * Math.max(1, Math.abs(c.sum))));
}

describe('the same hook list on tfjs and on the fast path', () => {
  it('digits CNN, read-only hooks: forward order, each once, same values', () => {
    const compiled = cnn.compile('onnx', { threads: 1 });
    try {
      const { tfjsCalls, fastCalls, diff } = runBoth(cnn, compiled, digits, ['hook_logits', 'conv.1.hook_pool', 'pre.hook_normalized'], null);
      expectSameCalls(tfjsCalls, fastCalls, ['pre.hook_normalized', 'conv.1.hook_pool', 'hook_logits']);
      expect(diff).toBeLessThan(1e-5);
    } finally {
      compiled.dispose();
    }
  });

  it('digits CNN, a patch in the middle: the read-only hooks still run once, downstream values follow the patch', () => {
    const compiled = cnn.compile('onnx', { threads: 1 });
    const keep = tf.tensor1d(Array.from({ length: 8 }, (_, c) => (c === 3 || c === 5 ? 0 : 1))); // ablate two channels
    try {
      const patch: [string, (v: Tensor) => Tensor] = ['conv.0.hook_relu', (v) => tf.mul(v, keep)];
      const { tfjsCalls, fastCalls, diff } = runBoth(cnn, compiled, digits, ['hook_logits', 'conv.1.hook_pool', 'pre.hook_normalized'], patch);
      expectSameCalls(tfjsCalls, fastCalls, ['pre.hook_normalized', 'conv.0.hook_relu', 'conv.0.hook_relu (after the patch)', 'conv.1.hook_pool', 'hook_logits']);
      expect(diff).toBeLessThan(1e-5);
      // The patch really changed the output (on both): compare with the unpatched run.
      const [plain, patched] = [compiled.forward(digits), compiled.runWithHooks(digits, [patch])];
      expect(maxAbsDiff(plain, patched)).toBeGreaterThan(1e-3);
      tf.dispose([plain, patched]);
    } finally {
      keep.dispose();
      compiled.dispose();
    }
  });

  it('setTransform works on the fast path as on tfjs (a declarative ablation)', () => {
    const compiled = cnn.compile('onnx', { threads: 1 });
    const copy = cnn.clone('ablated');
    try {
      for (const m of [compiled, copy]) m.setTransform('conv.1.hook_conv', { kind: 'ablate', value: 0 });
      const [a, b, plain] = [copy.forward(digits), compiled.forward(digits), cnn.forward(digits)];
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
      expect(maxAbsDiff(a, plain)).toBeGreaterThan(1e-2); // the transform did something
      // With conv.1 ablated, every image gets the same probabilities (they come from the biases alone).
      expect(maxAbsDiff(tf.slice(b, 0, 1), tf.slice(b, 1, 1))).toBeLessThan(1e-6);
      tf.dispose([a, b, plain]);
    } finally {
      compiled.dispose();
      copy.dispose();
    }
  });

  it('caches and traces come from the same machinery: same names, order and values', () => {
    const compiled = cnn.compile('onnx', { threads: 1 });
    try {
      const before = tf.memory().numTensors;
      const [t1, t2] = [cnn.trace(digits), compiled.trace(digits)];
      expect(t2.steps.map((s) => s.name)).toEqual(t1.steps.map((s) => s.name));
      t1.steps.forEach((s, i) => s.tensor && expect(maxAbsDiff(s.tensor, t2.steps[i].tensor!)).toBeLessThan(1e-3));
      t1.dispose();
      t2.dispose();
      const [o1, c1] = cnn.runWithCache(digits, { names: ['conv.0.hook_conv', 'hook_logits'] });
      const [o2, c2] = compiled.runWithCache(digits, { names: ['conv.0.hook_conv', 'hook_logits'] });
      expect(maxAbsDiff(c1.get('conv.0.hook_conv'), c2.get('conv.0.hook_conv'))).toBeLessThan(1e-4);
      tf.dispose([o1, o2]);
      c1.dispose();
      c2.dispose();
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      compiled.dispose();
    }
  });

  it('GPT: a head ablated at attn.hook_z, reads before and after it, on both engines', () => {
    const compiled = gpt.compile('onnx', { threads: 1 });
    const keep = tf.tensor4d([1, 0, 1, 1], [1, 1, 4, 1]); // zero head 1 of block 0
    try {
      const reads = ['hook_logits', 'blocks.1.attn.hook_pattern', 'blocks.0.attn.hook_q', 'blocks.0.hook_resid_mid'];
      const { tfjsCalls, fastCalls, diff } = runBoth(gpt, compiled, ids, reads, ['blocks.0.attn.hook_z', (z) => tf.mul(z, keep)]);
      expectSameCalls(tfjsCalls, fastCalls, ['blocks.0.attn.hook_q', 'blocks.0.attn.hook_z', 'blocks.0.attn.hook_z (after the patch)', 'blocks.0.hook_resid_mid', 'blocks.1.attn.hook_pattern', 'hook_logits']);
      expect(diff).toBeLessThan(1e-4);
      const ro = runBoth(gpt, compiled, ids, reads, null);
      expectSameCalls(ro.tfjsCalls, ro.fastCalls, ['blocks.0.attn.hook_q', 'blocks.0.hook_resid_mid', 'blocks.1.attn.hook_pattern', 'hook_logits']);
    } finally {
      keep.dispose();
      compiled.dispose();
    }
  });
});

describe('RNN gate hooks are read-only and say so', () => {
  it('a patch at a gate is refused, naming what to patch instead; a patch at hook_hidden changes the output', () => {
    const rnn = new CharRNN({ ...CHAR_RNN_DEFAULTS, cell: 'lstm', units: 8, embedDim: 4 }, 'gates', 1);
    const input = rnn.encode(['hello', 'mundo']);
    try {
      expect(rnn.getHookPoint('lstm.hook_gates_forget').readOnly).toMatch(/after the LSTM loop/);
      expect(() => rnn.runWithHooks(input, [['lstm.hook_gates_forget', (g) => tf.mul(g, 0)]])).toThrow(/"lstm.hook_gates_forget" returned a replacement, but this hook point is read-only: .*patch lstm.hook_hidden instead/);
      expect(() => rnn.setTransform('lstm.hook_cell', { kind: 'ablate', value: 0 })).toThrow(/read-only/);
      // Reading a gate still works, and the failed run left no hook behind.
      let seen = 0;
      rnn.runWithHooks(input, [['lstm.hook_gates_forget', (g) => void (seen = g.shape[2]!)]]).dispose();
      expect(seen).toBe(8);
      const [plain, ablated] = [rnn.forward(input), rnn.runWithHooks(input, [['lstm.hook_hidden', (h) => tf.mul(h, 0)]])];
      expect(maxAbsDiff(plain, ablated)).toBeGreaterThan(1e-4);
      tf.dispose([plain, ablated]);
    } finally {
      input.dispose();
      rnn.dispose();
    }
  });
});
