// quantize(model, config): a model of the same class and hook names whose weights are stored as
// packed integers (int8 or int4) and whose activations are, optionally, fake-quantized at the
// points a real integer engine would quantize them.
import { tf, type Tensor } from '../engine/tf';
import type { HookedModel } from '../hooks/hooked-model';
import { progressBar } from '../engine/display';
import { activationParams, packTensor, packedBytes, unpackTensor, type Bits, type PackedTensor, type QuantParams, type QuantScheme } from './quantize';
import { calibrateRange } from './calibrate';
import type { ActivationRange, QuantizationInfo, QuantizeConfig } from '../hooks/optimization-info';

export type { ActivationRange, QuantizationInfo, QuantizeConfig } from '../hooks/optimization-info';

/** What a model needs to offer to be quantized (the digits CNN does; other models can). */
export interface Quantizable extends HookedModel {
  /** Named float32 weights, e.g. `conv.0.weight`. */
  readonly weights: Record<string, tf.Variable>;
  readonly parameterCount: number;
  /** Set by quantize to the real stored size; the model reports it as its byteSize. */
  storedBytes: number | null;
  /** Hook points where an integer engine would quantize activations. */
  readonly activationQuantPoints: string[];
  /** A copy with its own weights, same config and hook names. */
  clone(name: string): this;
  dispose(): void;
}

export type Quantized<M extends Quantizable> = M & { quantization: QuantizationInfo };

/** Default weights to quantize: every tensor of rank 2 or more (kernels and matrices). */
export function quantizableWeights(model: Quantizable): string[] {
  return Object.entries(model.weights)
    .filter(([, w]) => w.rank >= 2)
    .map(([name]) => name);
}

/** Run the original over the calibration inputs and collect every value seen at each point. */
export function collectActivations(model: HookedModel, inputs: Tensor, points: string[], showProgress = true, batchSize = 128): Map<string, Float32Array> {
  const n = inputs.shape[0];
  const chunks = new Map<string, Float32Array[]>(points.map((p) => [p, []]));
  const bar = showProgress ? progressBar(Math.ceil(n / batchSize), 'calibrating') : null;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const batch = tf.slice(inputs, start, size); // [size, ...]
    const [out, cache] = model.runWithCache(batch, { names: points });
    for (const p of points) chunks.get(p)!.push(Float32Array.from(cache.get(p).dataSync()));
    cache.dispose();
    tf.dispose([out, batch]);
    bar?.tick();
  }
  bar?.done();
  const merged = new Map<string, Float32Array>();
  for (const [p, parts] of chunks) {
    const all = new Float32Array(parts.reduce((a, b) => a + b.length, 0));
    let offset = 0;
    for (const part of parts) {
      all.set(part, offset);
      offset += part.length;
    }
    merged.set(p, all);
  }
  return merged;
}

/**
 * Quantize a model. Returns a copy of the same class, with the same hook names, so every view,
 * cache and trace works on it unchanged. The copy's weights hold the dequantized values of the
 * packed integers (what an integer kernel computes with); `quantization` has the packed bytes.
 */
export function quantize<M extends Quantizable>(model: M, config: QuantizeConfig): Quantized<M> {
  const names = config.weights ?? quantizableWeights(model);
  for (const n of names) {
    if (!(n in model.weights)) throw new Error(`quantize: no weight "${n}" in ${model.name}. Weights: ${Object.keys(model.weights).join(', ')}.`);
  }
  if (config.activations === 'static' && !config.calibrationInputs) {
    throw new Error('quantize: static activation quantization needs calibrationInputs (a batch of raw inputs from the training data).');
  }
  // w8 / w4: weight bits; pc: per channel; a8 / a8dyn: static / dynamic 8-bit activations.
  const tag = `w${config.bits}${config.perChannel ? '-pc' : ''}${config.activations === 'none' ? '' : config.activations === 'static' ? '-a8' : '-a8dyn'}`;
  const copy = model.clone(`${model.name}-${tag}`) as Quantized<M>;
  const packed: Record<string, PackedTensor> = {};
  for (const n of names) {
    packed[n] = packTensor(model.weights[n], config);
    const dequantized = unpackTensor(packed[n]);
    copy.weights[n].assign(dequantized);
    dequantized.dispose();
  }
  const floatWeights = Object.keys(model.weights).filter((n) => !names.includes(n));
  const activationRanges: Record<string, ActivationRange> = {};
  const activationBits: Bits = 8; // activations stay 8-bit even for int4 weights (W4A8), the common choice

  if (config.activations === 'static') {
    const seen = collectActivations(model, config.calibrationInputs!, model.activationQuantPoints, config.progress ?? true);
    for (const [point, values] of seen) {
      const symmetric = false; // activations: uint8 with a zero point, as ONNX Runtime's QDQ default
      const { lo, hi } = calibrateRange(values, { method: config.calibration ?? 'minmax', bits: activationBits, symmetric, percentile: config.percentile });
      const params = activationParams(lo, hi, activationBits, symmetric);
      activationRanges[point] = { lo, hi, params };
      copy.setTransform(point, { kind: 'fake-quant', params: { bits: params.bits, signed: params.signed, scale: params.scale, zeroPoint: params.zeroPoint, qmin: params.qmin, qmax: params.qmax } }); // declarative: clone, save and compile carry it
    }
  } else if (config.activations === 'dynamic') {
    for (const point of model.activationQuantPoints) copy.setTransform(point, { kind: 'dynamic-quant', bits: activationBits });
  }

  const originalBytes = model.parameterCount * 4;
  const byteSize =
    Object.values(packed).reduce((sum, p) => sum + packedBytes(p), 0) + floatWeights.reduce((sum, n) => sum + model.weights[n].size * 4, 0);
  copy.storedBytes = byteSize;
  const { calibrationInputs, ...rest } = config;
  copy.quantization = { config: rest, packed, floatWeights, activationRanges, byteSize, originalBytes };
  return copy;
}
