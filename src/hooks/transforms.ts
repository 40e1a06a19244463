// Declarative hook transforms: what an optimization fixes at a hook point (fake quantization, a
// mask, an ablation), written as data so that clone, save/load and compile can carry it. A plain
// function is accepted by setTransform too, but it cannot be copied, saved or exported: those
// refuse, naming the hook (see HookedModel.optimizationState).
import { tf, type Tensor } from '../engine/tf';

/** Per-tensor or per-last-axis quantization parameters of an activation (ONNX QuantizeLinear's). */
export interface FakeQuantParams {
  bits: 8 | 4;
  signed: boolean;
  /** One scale (per tensor) or one per channel of the last axis. */
  scale: Float32Array;
  zeroPoint: Int32Array;
  qmin: number;
  qmax: number;
}

export type TransformSpec =
  /** Quantize then dequantize with fixed (calibrated) parameters: static activation quantization. */
  | { kind: 'fake-quant'; params: FakeQuantParams }
  /** Quantize then dequantize with parameters from the value's own range, per call (uint8, range widened to 0). */
  | { kind: 'dynamic-quant'; bits: 8 | 4 }
  /** Multiply by a fixed 0/1 (or any) mask that broadcasts against the value (e.g. [1, 1, head, 1]). */
  | { kind: 'mask'; mask: Float32Array; shape: number[] }
  /** Replace the value by a constant (0: zero ablation). */
  | { kind: 'ablate'; value: number };

/** A transform as setTransform takes it: declarative (carried everywhere) or a function (refused by clone/save/compile). */
export type Transform = TransformSpec | ((value: Tensor) => Tensor);

export const TRANSFORM_KINDS = ['fake-quant', 'dynamic-quant', 'mask', 'ablate'] as const;

/** Fake quantization with fixed parameters; tf.round rounds ties to even, as QuantizeLinear does. */
export function fakeQuantizeWith(x: Tensor, params: FakeQuantParams): Tensor {
  return tf.tidy(() => {
    const scale = params.scale.length === 1 ? tf.scalar(params.scale[0]) : tf.tensor1d(params.scale); // broadcasts over the last axis
    const zero = params.zeroPoint.length === 1 ? tf.scalar(params.zeroPoint[0]) : tf.tensor1d(Float32Array.from(params.zeroPoint));
    const q = tf.clipByValue(tf.add(tf.round(tf.div(x, scale)), zero), params.qmin, params.qmax); // integers, as float32
    return tf.mul(tf.sub(q, zero), scale);
  });
}

/**
 * Per-call fake quantization from the tensor's own range (ONNX DynamicQuantizeLinear for 8 bits:
 * unsigned, range widened to include 0, zero point rounded and clipped), all on the backend.
 */
export function dynamicFakeQuantize(x: Tensor, bits: 8 | 4): Tensor {
  return tf.tidy(() => {
    const qmin = 0;
    const qmax = 2 ** bits - 1;
    const lo = tf.minimum(tf.min(x), 0);
    const hi = tf.maximum(tf.max(x), 0);
    const scale = tf.maximum(tf.div(tf.sub(hi, lo), qmax - qmin), 1e-12);
    const zero = tf.clipByValue(tf.round(tf.sub(qmin, tf.div(lo, scale))), qmin, qmax);
    const q = tf.clipByValue(tf.add(tf.round(tf.div(x, scale)), zero), qmin, qmax);
    return tf.mul(tf.sub(q, zero), scale);
  });
}

/** Apply a transform to a value. */
export function applyTransformSpec(spec: Transform, value: Tensor): Tensor {
  if (typeof spec === 'function') return spec(value);
  switch (spec.kind) {
    case 'fake-quant':
      return fakeQuantizeWith(value, spec.params);
    case 'dynamic-quant':
      return dynamicFakeQuantize(value, spec.bits);
    case 'mask':
      return tf.tidy(() => tf.mul(value, tf.tensor(spec.mask, spec.shape, 'float32')));
    case 'ablate':
      return tf.tidy(() => tf.fill(value.shape, spec.value, value.dtype as 'float32'));
    default:
      throw new Error(`Unknown transform kind ${JSON.stringify((spec as { kind: unknown }).kind)}; expected one of ${TRANSFORM_KINDS.join(', ')}.`);
  }
}

/** Check a declarative transform read from a file or given by a caller; throws naming the hook. */
export function checkTransformSpec(hook: string, spec: unknown): TransformSpec {
  const s = spec as TransformSpec;
  const ok =
    !!s &&
    typeof s === 'object' &&
    ((s.kind === 'fake-quant' && !!s.params && s.params.scale instanceof Float32Array && s.params.zeroPoint instanceof Int32Array) ||
      (s.kind === 'dynamic-quant' && (s.bits === 8 || s.bits === 4)) ||
      (s.kind === 'mask' && s.mask instanceof Float32Array && Array.isArray(s.shape) && s.shape.reduce((a, b) => a * b, 1) === s.mask.length) ||
      (s.kind === 'ablate' && typeof s.value === 'number'));
  if (!ok) throw new Error(`Transform at "${hook}" is not a valid ${TRANSFORM_KINDS.join(' / ')} transform: ${JSON.stringify(spec)?.slice(0, 120)}.`);
  return s;
}
