import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as ort from 'onnxruntime-node';
import {
  tf, initBackend, loadModel, loadMnist, evaluateDigits, quantize, fakeQuantize, quantizeValues, dequantizeValues, packIntegers,
  unpackIntegers, activationParams, weightParams, layerErrors, errorMetrics, calibrateRange, MNIST_SIZE, type DigitsCNN, type QuantParams,
} from '../src/index';
import { buildOnnxModel, float32Raw, OnnxType } from '../src/io/onnx-proto';

let model: DigitsCNN;
let calibration: tf.Tensor;
const px = MNIST_SIZE * MNIST_SIZE;

beforeAll(async () => {
  await initBackend();
  model = loadModel('digits-cnn') as DigitsCNN;
  calibration = tf.tensor3d(loadMnist().train.images.subarray(0, 512 * px), [512, 28, 28], 'int32'); // training digits, never the test set
});
afterAll(() => {
  model.dispose();
  calibration.dispose();
});

/** Run QuantizeLinear -> DequantizeLinear in ONNX Runtime on `x` with the given parameters. */
async function onnxQdq(x: Float32Array, dims: number[], p: QuantParams): Promise<{ q: number[]; y: Float32Array }> {
  const qType = p.bits === 8 ? (p.signed ? OnnxType.INT8 : OnnxType.UINT8) : p.signed ? OnnxType.INT4 : OnnxType.UINT4;
  const zp = p.bits === 8 ? Uint8Array.from(p.zeroPoint, (v) => v & 0xff) : packIntegers(p.zeroPoint, 4);
  const perAxis = p.axis !== null;
  const paramDims = perAxis ? [p.scale.length] : [];
  const attributes = perAxis ? { axis: p.axis! } : undefined;
  const bytes = buildOnnxModel({
    nodes: [
      { op: 'QuantizeLinear', inputs: ['x', 'scale', 'zero_point'], outputs: ['q'], attributes },
      { op: 'DequantizeLinear', inputs: ['q', 'scale', 'zero_point'], outputs: ['y'], attributes },
    ],
    initializers: [
      { name: 'scale', type: OnnxType.FLOAT, dims: paramDims, raw: float32Raw(p.scale) },
      { name: 'zero_point', type: qType, dims: paramDims, raw: zp },
    ],
    inputs: [{ name: 'x', type: OnnxType.FLOAT, dims }],
    // onnxruntime-node 1.30 cannot hand an int4 tensor back to JavaScript (it runs out of memory
    // converting it), so for 4 bits only y leaves the graph and q is read back from y exactly.
    outputs: [...(p.bits === 8 ? [{ name: 'q', type: qType, dims }] : []), { name: 'y', type: OnnxType.FLOAT, dims }],
  });
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ x: new ort.Tensor('float32', x, dims) });
  const y = out.y.data as Float32Array;
  const channel = (i: number) => (p.scale.length === 1 ? 0 : i % p.scale.length);
  const q = p.bits === 8 ? Array.from(out.q.data as ArrayLike<number>) : Array.from(y, (v, i) => Math.round(v / p.scale[channel(i)]) + p.zeroPoint[channel(i)]);
  return { q, y };
}

describe('QuantizeLinear / DequantizeLinear semantics match ONNX Runtime', () => {
  // Ties (x / scale ending in .5), saturation on both sides, zero, negatives.
  const x = Float32Array.from([0, 0.05, 0.15, 0.25, -0.05, -0.15, 1.3, -1.3, 12.7, 12.75, 13, -12.85, -20, 20, 0.35, -0.35]);

  const cases: [string, QuantParams][] = [
    ['int8 symmetric per-tensor', { bits: 8, signed: true, scale: Float32Array.of(0.1), zeroPoint: Int32Array.of(0), axis: null, qmin: -128, qmax: 127 }],
    ['uint8 asymmetric per-tensor', { bits: 8, signed: false, scale: Float32Array.of(0.1), zeroPoint: Int32Array.of(128), axis: null, qmin: 0, qmax: 255 }],
    ['int4 symmetric per-tensor', { bits: 4, signed: true, scale: Float32Array.of(0.1), zeroPoint: Int32Array.of(0), axis: null, qmin: -8, qmax: 7 }],
    ['uint4 asymmetric per-tensor', { bits: 4, signed: false, scale: Float32Array.of(0.1), zeroPoint: Int32Array.of(8), axis: null, qmin: 0, qmax: 15 }],
  ];

  for (const [label, p] of cases) {
    it(label, async () => {
      const ref = await onnxQdq(x, [x.length], p);
      expect(Array.from(quantizeValues(x, p))).toEqual(ref.q);
      const ours = dequantizeValues(quantizeValues(x, p), p);
      ours.forEach((v, i) => expect(v).toBeCloseTo(ref.y[i], 6));
      const t = tf.tensor1d(x);
      const fake = fakeQuantize(t, p);
      Array.from(fake.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(ref.y[i], 5));
      tf.dispose([t, fake]);
    });
  }

  it('int8 per-channel along the last axis', async () => {
    const values = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 3))); // [4, 3]
    const p = weightParams(values, [4, 3], { bits: 8, symmetric: true, perChannel: true });
    expect(p.scale.length).toBe(3);
    const ref = await onnxQdq(values, [4, 3], p);
    expect(Array.from(quantizeValues(values, p))).toEqual(ref.q);
  });
});

describe('packing', () => {
  it('int4 packs two values per byte, first in the low nibble (worked by hand)', () => {
    // 1 -> 0x1, -2 -> 0xE: byte 0xE1; 7 -> 0x7, -8 -> 0x8: byte 0x87.
    expect(Array.from(packIntegers(Int32Array.of(1, -2, 7, -8), 4))).toEqual([0xe1, 0x87]);
    expect(Array.from(unpackIntegers(Uint8Array.of(0xe1, 0x87), 4, 4, true))).toEqual([1, -2, 7, -8]);
    expect(Array.from(unpackIntegers(packIntegers(Int32Array.of(3, 15, 0), 4), 3, 4, false))).toEqual([3, 15, 0]);
  });
});

describe('the quantized digits CNN', () => {
  const base = () => evaluateDigits(model, loadMnist().heldOut).value;

  it('int8 per-channel weights + static activations loses at most 0.5 accuracy points', () => {
    const q = quantize(model, { bits: 8, perChannel: true, symmetric: true, activations: 'static', calibration: 'minmax', calibrationInputs: calibration, progress: false });
    const drop = base() - evaluateDigits(q, loadMnist().heldOut).value;
    expect(drop).toBeLessThanOrEqual(0.005);
    q.dispose();
  });

  it('stores real bytes: int8 <= 0.27x and int4 <= 0.15x of float32, scales included', () => {
    const channels = 8 + 16 + 10; // one scale per output channel of conv.0, conv.1, dense
    const biases = 8 + 16 + 10; // stay float32
    const weights = model.parameterCount - biases;
    const int8 = quantize(model, { bits: 8, perChannel: true, symmetric: true, activations: 'none' });
    expect(int8.byteSize).toBe(weights + channels * 4 + biases * 4);
    expect(int8.byteSize / model.byteSize).toBeLessThanOrEqual(0.27);
    const int4 = quantize(model, { bits: 4, perChannel: true, symmetric: true, activations: 'none' });
    const packed4 = [80 - 8, 1168 - 16, 4010 - 10].reduce((n, count) => n + Math.ceil(count / 2), 0); // two per byte, per tensor
    expect(int4.byteSize).toBe(packed4 + channels * 4 + biases * 4);
    expect(int4.byteSize / model.byteSize).toBeLessThanOrEqual(0.15);
    expect(Object.values(int4.quantization.packed).every((p) => p.data.length === Math.ceil(p.shape.reduce((a, b) => a * b, 1) / 2))).toBe(true);
    int8.dispose();
    int4.dispose();
  });

  it('keeps the interface and hook names, so traces and caches work unchanged; no leaks', () => {
    const before = tf.memory().numTensors;
    const q = quantize(model, { bits: 8, perChannel: true, symmetric: true, activations: 'static', calibrationInputs: calibration, progress: false });
    expect(q.hookNames).toEqual(model.hookNames);
    const x = tf.slice(calibration, 0, 4);
    const trace = q.trace(x);
    expect(trace.names.at(-1)).toBe('post.top_k');
    // The static quantizer at conv.0.hook_conv leaves values on its grid: (v / scale) + zp is an integer.
    const { params } = q.quantization.activationRanges['conv.0.hook_conv'];
    const onGrid = Array.from(trace.step('conv.0.hook_conv').tensor!.dataSync()).every((v) => Math.abs(v / params.scale[0] - Math.round(v / params.scale[0])) < 1e-3);
    expect(onGrid).toBe(true);
    trace.dispose();
    x.dispose();
    q.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('bad configurations say what is expected', () => {
    expect(() => quantize(model, { bits: 8, perChannel: true, symmetric: true, activations: 'static' })).toThrow(/needs calibrationInputs/);
    expect(() => quantize(model, { bits: 8, perChannel: true, symmetric: true, activations: 'none', weights: ['conv.9.weight'] })).toThrow(/no weight "conv.9.weight".*conv.0.weight/);
  });
});

describe('error analysis', () => {
  it('metrics match a hand computation', () => {
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([1, 2, 4]);
    const m = errorMetrics(a, b);
    expect(m.sqnrDb).toBeCloseTo(10 * Math.log10(14 / 1), 6); // signal 1+4+9, noise 1
    expect(m.mse).toBeCloseTo(1 / 3, 6);
    expect(m.maxAbs).toBe(1);
    expect(m.cosine).toBeCloseTo((1 + 4 + 12) / Math.sqrt(14 * 21), 6);
    tf.dispose([a, b]);
  });

  it('quantizing only conv.1: no error before it, and isolated equals propagated at its output', () => {
    const q = quantize(model, { bits: 4, perChannel: false, symmetric: true, activations: 'none', weights: ['conv.1.weight'] });
    const x = tf.slice(calibration, 0, 16);
    const propagated = layerErrors(model, q, x, 'propagated');
    const isolated = layerErrors(model, q, x, 'isolated');
    const at = (rows: typeof propagated, name: string) => rows.find((r) => r.name === name)!;
    expect(at(propagated, 'conv.0.hook_pool').sqnrDb).toBe(Infinity);
    expect(at(propagated, 'conv.1.hook_conv').sqnrDb).toBeLessThan(40);
    expect(at(isolated, 'conv.1.hook_conv').sqnrDb).toBeCloseTo(at(propagated, 'conv.1.hook_conv').sqnrDb, 6);
    // After conv.1, isolated steps start from exact inputs and add no error of their own (ReLU, pool, flatten are exact).
    expect(at(isolated, 'flatten.hook_out').sqnrDb).toBe(Infinity);
    expect(at(propagated, 'flatten.hook_out').sqnrDb).toBeLessThan(60);
    x.dispose();
    q.dispose();
  });
});

describe('layerErrors on models of different shapes', () => {
  it('throws a shape error and leaks nothing', async () => {
    const { pruneChannels } = await import('../src/index');
    const small = pruneChannels(model, { 'conv.1': 0.5 });
    const x = tf.slice(calibration, 0, 4);
    const before = tf.memory().numTensors;
    expect(() => layerErrors(model, small, x)).toThrow(/shapes differ/);
    expect(tf.memory().numTensors).toBe(before);
    small.dispose();
    x.dispose();
  });
});

describe('calibration', () => {
  // 10,000 values in [0, 1) and one outlier at 100: the outlier stretches min-max.
  const values = Float32Array.from({ length: 10_001 }, (_, i) => (i === 10_000 ? 100 : (i * 7919) % 10_000 / 10_000));

  it('min-max covers everything; percentile and entropy clip a lone outlier', () => {
    const opts = { bits: 8 as const, symmetric: false };
    const minmax = calibrateRange(values, { ...opts, method: 'minmax' });
    expect([minmax.lo, minmax.hi]).toEqual([0, 100]);
    expect(calibrateRange(values, { ...opts, method: 'percentile', percentile: 99.9 }).hi).toBeLessThan(1.01);
    expect(calibrateRange(values, { ...opts, method: 'entropy' }).hi).toBeLessThan(100);
    // MSE searches thresholds up to the max, so it can never do worse than min-max.
    expect(calibrateRange(values, { ...opts, method: 'mse' }).mse).toBeLessThanOrEqual(minmax.mse);
  });

  it('on a heavy-tailed distribution, the MSE-optimal range clips the tail and beats min-max', () => {
    const exponential = Float32Array.from({ length: 50_000 }, (_, i) => -Math.log(1 - (i + 0.5) / 50_000)); // quantiles of Exp(1), max ~ 11.5
    const opts = { bits: 4 as const, symmetric: false };
    const minmax = calibrateRange(exponential, { ...opts, method: 'minmax' });
    const mse = calibrateRange(exponential, { ...opts, method: 'mse' });
    expect(mse.hi).toBeLessThan(minmax.hi * 0.8);
    expect(mse.mse).toBeLessThan(minmax.mse);
  });

  it('activation parameters put 0 exactly on the grid', () => {
    const p = activationParams(-0.3, 2.5, 8, false);
    expect(Array.from(dequantizeValues(quantizeValues(Float32Array.of(0), p), p))).toEqual([0]);
  });
});
