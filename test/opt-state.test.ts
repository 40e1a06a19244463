// The optimization state belongs to the model: clone, save + load and compile('onnx') carry it
// exactly (or refuse, saying why). Issue 15 §2 measured on the digits CNN before this: a clone of
// a statically quantized model differed by 2.3-3.9 in the logits and reported 21,032 bytes; save +
// load dropped the same state; compile('onnx') ran float activations under the quantized name.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, initBackend, loadModel, loadMnist, quantize, prune, pruningMasks, MNIST_SIZE, type DigitsCNN, type QuantizeConfig } from '../src/index';
import { OrtSession } from '../src/engine/ort-session';
import { exportDigitsCnnToOnnx } from '../src/fastpath/export-cnn';

const px = MNIST_SIZE * MNIST_SIZE;
let model: DigitsCNN;
let calibration: tf.Tensor;
let heldOut: tf.Tensor;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opt-state-'));

beforeAll(async () => {
  await initBackend();
  model = loadModel('digits-cnn') as DigitsCNN;
  const mnist = loadMnist();
  calibration = tf.tensor3d(mnist.train.images.subarray(0, 256 * px), [256, 28, 28], 'int32'); // training digits
  heldOut = tf.tensor3d(mnist.heldOut.images.subarray(0, 512 * px), [512, 28, 28], 'int32'); // 512 held-out digits
});
afterAll(() => {
  model.dispose();
  tf.dispose([calibration, heldOut]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

function agreement(reference: tf.Tensor, other: tf.Tensor): { argmax: number; maxDp: number } {
  const argmax = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(reference, 1), tf.argMax(other, 1)), 'float32')).dataSync()[0]);
  return { argmax, maxDp: maxAbsDiff(reference, other) };
}

const STATIC_W8: QuantizeConfig = { bits: 8, symmetric: true, perChannel: false, activations: 'static', progress: false };

describe('clone and save + load carry the optimization state exactly', () => {
  it('a statically quantized digits CNN: clone and reload give the same logits and the same packed size', () => {
    const q = quantize(model, { ...STATIC_W8, calibrationInputs: calibration });
    const before = tf.memory().numTensors;
    const copy = q.clone('copy');
    const dir = path.join(tmp, 'q-static');
    q.save(dir);
    const loaded = loadModel(dir) as DigitsCNN;
    try {
      // The packed size: 5,372-5,496 bytes in the measurement (not 21,032 float32 bytes).
      expect(q.byteSize).toBeGreaterThan(5000);
      expect(q.byteSize).toBeLessThan(5600);
      for (const other of [copy, loaded]) {
        expect(other.byteSize).toBe(q.byteSize);
        expect(Object.keys(other.transformKinds)).toEqual(model.activationQuantPoints);
        const [a, b] = [q.logits(heldOut), other.logits(heldOut)];
        expect(maxAbsDiff(a, b)).toBe(0); // same weights, same quantizers, same ops: bit for bit
        tf.dispose([a, b]);
        expect(other.quantization!.packed['conv.0.weight'].data).toEqual(q.quantization!.packed['conv.0.weight'].data);
        expect(other.quantization!.activationRanges['conv.0.hook_conv'].params.scale).toEqual(q.quantization!.activationRanges['conv.0.hook_conv'].params.scale);
      }
      const saved = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      expect(saved.optimization.format).toBe(1);
    } finally {
      copy.dispose();
      loaded.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    q.dispose();
  });

  it('pruning masks travel with the model: a reloaded pruned model gives the masks pruning made', () => {
    const p = prune(model, { sparsity: 0.5, scope: 'global' });
    const dir = path.join(tmp, 'pruned');
    p.save(dir);
    const loaded = loadModel(dir) as typeof p;
    try {
      expect(loaded.pruning!.sparsity).toEqual(p.pruning.sparsity);
      const [m1, m2] = [pruningMasks(p), pruningMasks(loaded)];
      for (const name of Object.keys(p.pruning.sparsity)) {
        expect(maxAbsDiff(m1[name], m2[name])).toBe(0);
        // The mask is where the weights are non-zero (computed here independently).
        const nonZero = tf.tidy(() => tf.cast(tf.notEqual(p.weights[name], 0), 'float32'));
        expect(maxAbsDiff(m2[name], nonZero)).toBe(0);
        nonZero.dispose();
      }
      tf.dispose([...Object.values(m1), ...Object.values(m2)]);
    } finally {
      loaded.dispose();
      p.dispose();
    }
  });

  it('a file of an older or a newer format is refused, saying which', () => {
    const q = quantize(model, { bits: 8, symmetric: true, perChannel: true, activations: 'dynamic', progress: false });
    const dir = path.join(tmp, 'versions');
    q.save(dir);
    q.dispose();
    const file = path.join(dir, 'config.json');
    const original = JSON.parse(fs.readFileSync(file, 'utf8'));
    const write = (format: number | undefined) => fs.writeFileSync(file, JSON.stringify({ ...original, optimization: { ...original.optimization, format } }));
    write(2);
    expect(() => loadModel(dir)).toThrow(/format 2, newer than this inference-lab's format 1/);
    write(0);
    expect(() => loadModel(dir)).toThrow(/format 0, older than this inference-lab's format 1/);
    write(undefined);
    expect(() => loadModel(dir)).toThrow(/no format version; it was written by an older inference-lab/);
  });

  it('a function transform makes clone, save and compile refuse, naming the hook', () => {
    const copy = model.clone('with-fn');
    copy.setTransform('conv.1.hook_relu', (v) => tf.mul(v, 0.5));
    try {
      expect(() => copy.clone()).toThrow(/clone: hook point "conv.1.hook_relu" has a function transform/);
      expect(() => copy.save(path.join(tmp, 'fn'))).toThrow(/save: hook point "conv.1.hook_relu" has a function transform/);
      expect(() => copy.compile('onnx')).toThrow(/compile: hook point "conv.1.hook_relu" has a function transform/);
      // The same edit written declaratively is carried.
      copy.setTransform('conv.1.hook_relu', { kind: 'mask', mask: new Float32Array(16).fill(0.5), shape: [16] });
      const again = copy.clone();
      const [a, b] = [copy.logits(heldOut), again.logits(heldOut)];
      expect(maxAbsDiff(a, b)).toBe(0);
      tf.dispose([a, b]);
      again.dispose();
      // ... but the CNN exporter has no mask node there: compile says so.
      expect(() => copy.compile('onnx')).toThrow(/cannot carry the mask transform at "conv.1.hook_relu"/);
    } finally {
      copy.dispose();
    }
  });
});

describe("compile('onnx') carries the state: agreement with the tfjs simulation on 512 held-out digits", () => {
  const schemes: [string, Omit<QuantizeConfig, 'calibrationInputs'>][] = [
    ['w8 static a8', STATIC_W8],
    ['w4 per-channel static a8', { bits: 4, symmetric: true, perChannel: true, activations: 'static', progress: false }],
    ['w8 asymmetric per-channel dynamic a8', { bits: 8, symmetric: false, perChannel: true, activations: 'dynamic', progress: false }],
    ['w4 asymmetric weight-only', { bits: 4, symmetric: false, perChannel: false, activations: 'none', progress: false }],
  ];
  for (const [label, config] of schemes) {
    it(label, () => {
      const q = quantize(model, { ...config, calibrationInputs: config.activations === 'static' ? calibration : undefined });
      const compiled = q.compile('onnx');
      try {
        const graph = Buffer.from(exportDigitsCnnToOnnx(q, undefined, { carryState: true }).bytes);
        expect(graph.includes('DequantizeLinear')).toBe(true); // packed weights behind DequantizeLinear
        if (config.activations === 'static') expect(graph.includes('QuantizeLinear')).toBe(true);
        if (config.activations === 'dynamic') expect(graph.includes('DynamicQuantizeLinear')).toBe(true);
        expect(compiled.quantization!.byteSize).toBe(q.byteSize);
        const reference = q.forward(heldOut);
        // Without graph optimisations ONNX Runtime runs each QDQ node as written: the same arithmetic as tfjs.
        const exact = new OrtSession(graph, { optimization: 'disabled', threads: 1 });
        const run = exact.run({ pixels: exact.tensor('float32', Float32Array.from(heldOut.dataSync()), [512, 28, 28]) }, ['probs']);
        const unfused = tf.tensor(run.probs.data as Float32Array, [512, 10]);
        exact.dispose();
        // With them (compile's default) it fuses QDQ into integer kernels, which round differently.
        const fused = compiled.forward(heldOut);
        const a = agreement(reference, unfused);
        const b = agreement(reference, fused);
        console.log(`${label}: ONNX Runtime vs tfjs simulation on 512 held-out digits: unfused argmax ${(a.argmax * 100).toFixed(2)}% max|dp| ${a.maxDp.toExponential(2)}; fused (compile default) argmax ${(b.argmax * 100).toFixed(2)}% max|dp| ${b.maxDp.toExponential(2)}`);
        expect(a.argmax).toBeGreaterThanOrEqual(0.998);
        // On the native backend (tfjs-node) the convolutions sum in another order: the float model's
        // probabilities differ from WASM's by 9e-7, but per-tensor dynamic quantization turns such a
        // difference at a bucket edge (or in the batch's min/max, which sets every value's scale) into
        // whole quanta. Measured 2026-12-06: WASM vs ORT unfused 2.4e-7; native vs ORT unfused 5.09e-2
        // (1 of 512 digits flips; the native and WASM simulations differ from each other by the same
        // 5.09e-2). So on native the unfused graph is held to the fused graph's bound below.
        expect(a.maxDp).toBeLessThan(tf.getBackend() === 'tensorflow' && config.activations === 'dynamic' ? 0.15 : 0.02);
        expect(b.argmax).toBeGreaterThanOrEqual(0.99);
        expect(b.maxDp).toBeLessThan(0.15); // measured 0.02-0.09
        tf.dispose([reference, unfused, fused]);
      } finally {
        compiled.dispose();
        q.dispose();
      }
    });
  }

  it('the unquantized model compiles to the same probabilities (1e-5)', () => {
    const compiled = model.compile('onnx');
    const [a, b] = [model.forward(heldOut), compiled.forward(heldOut)];
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    tf.dispose([a, b]);
    compiled.dispose();
  });
});
