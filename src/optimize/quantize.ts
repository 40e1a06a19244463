// Linear quantization: real values <-> small integers through a scale and a zero point.
//   q = saturate(round_half_even(x / scale) + zero_point)      (ONNX QuantizeLinear)
//   x' = (q - zero_point) * scale                               (ONNX DequantizeLinear)
// Symmetric schemes use signed integers and zero_point 0; asymmetric ones use unsigned
// integers and a zero point chosen so that 0.0 is exactly representable.
import { tf, type Tensor } from '../engine/tf';
import { fakeQuantizeWith } from '../hooks/transforms';
import type { Bits, PackedTensor, QuantParams, QuantScheme } from '../hooks/optimization-info';

export type { Bits, PackedTensor, QuantParams, QuantScheme } from '../hooks/optimization-info';

/** The integer range of a scheme: int8 [-128, 127], uint8 [0, 255], int4 [-8, 7], uint4 [0, 15]. */
export function integerRange(bits: Bits, signed: boolean): [number, number] {
  return signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}

/** Round to nearest, ties to even (ONNX and numpy rounding; Math.round rounds ties up). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Parameters that map the real range [lo, hi] onto the integer grid.
 * Symmetric: scale = max(|lo|, |hi|) / qmax (the grid is -qmax..qmax; -128 stays unused, as in
 * PyTorch's and ONNX Runtime's symmetric weights). Asymmetric: scale = (hi - lo) / (qmax - qmin),
 * zero point = qmin - round(lo / scale), with the range widened to include 0.
 */
export function paramsForRange(lo: number, hi: number, bits: Bits, symmetric: boolean): { scale: number; zeroPoint: number } {
  const [qmin, qmax] = integerRange(bits, symmetric);
  if (symmetric) {
    const amax = Math.max(Math.abs(lo), Math.abs(hi));
    return { scale: amax > 0 ? amax / qmax : 1, zeroPoint: 0 };
  }
  const low = Math.min(lo, 0);
  const high = Math.max(hi, 0);
  const scale = high > low ? (high - low) / (qmax - qmin) : 1;
  const zeroPoint = Math.min(qmax, Math.max(qmin, qmin - roundHalfEven(low / scale)));
  return { scale, zeroPoint };
}

/** Min and max per channel along `axis` (the last axis here), or over the whole tensor. */
function ranges(values: Float32Array, shape: number[], perChannel: boolean): { lo: number[]; hi: number[] } {
  const channels = perChannel ? shape[shape.length - 1] : 1;
  const lo = new Array(channels).fill(Infinity);
  const hi = new Array(channels).fill(-Infinity);
  for (let i = 0; i < values.length; i++) {
    const c = perChannel ? i % channels : 0;
    if (values[i] < lo[c]) lo[c] = values[i];
    if (values[i] > hi[c]) hi[c] = values[i];
  }
  return { lo, hi };
}

/** Quantization parameters for a weight tensor from its own min/max (per tensor or per channel). */
export function weightParams(values: Float32Array, shape: number[], scheme: QuantScheme): QuantParams {
  const { lo, hi } = ranges(values, shape, scheme.perChannel);
  const p = lo.map((l, c) => paramsForRange(l, hi[c], scheme.bits, scheme.symmetric));
  const [qmin, qmax] = integerRange(scheme.bits, scheme.symmetric);
  return {
    bits: scheme.bits,
    signed: scheme.symmetric,
    scale: Float32Array.from(p, (x) => x.scale),
    zeroPoint: Int32Array.from(p, (x) => x.zeroPoint),
    axis: scheme.perChannel ? shape.length - 1 : null,
    qmin,
    qmax,
  };
}

/** Per-tensor parameters for an activation range found by calibration. */
export function activationParams(lo: number, hi: number, bits: Bits, symmetric: boolean): QuantParams {
  const { scale, zeroPoint } = paramsForRange(lo, hi, bits, symmetric);
  const [qmin, qmax] = integerRange(bits, symmetric);
  return { bits, signed: symmetric, scale: Float32Array.of(scale), zeroPoint: Int32Array.of(zeroPoint), axis: null, qmin, qmax };
}

/** QuantizeLinear on plain arrays: the integers, channel = index modulo the last dimension. */
export function quantizeValues(values: Float32Array, params: QuantParams): Int32Array {
  const channels = params.scale.length;
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = channels === 1 ? 0 : i % channels;
    const q = roundHalfEven(Math.fround(values[i] / params.scale[c])) + params.zeroPoint[c]; // divide in float32, as ONNX Runtime does
    out[i] = Math.min(params.qmax, Math.max(params.qmin, q));
  }
  return out;
}

/** DequantizeLinear on plain arrays. */
export function dequantizeValues(q: Int32Array, params: QuantParams): Float32Array {
  const channels = params.scale.length;
  return Float32Array.from(q, (v, i) => {
    const c = channels === 1 ? 0 : i % channels;
    return (v - params.zeroPoint[c]) * params.scale[c];
  });
}

/**
 * Store integers in their real width: 8-bit as one byte each, 4-bit two per byte (the first
 * value in the low nibble, as ONNX INT4/UINT4). Signed values are stored in two's complement.
 */
export function packIntegers(q: Int32Array, bits: Bits): Uint8Array {
  if (bits === 8) return Uint8Array.from(q, (v) => v & 0xff);
  const out = new Uint8Array(Math.ceil(q.length / 2));
  for (let i = 0; i < q.length; i++) out[i >> 1] |= (q[i] & 0x0f) << ((i & 1) * 4);
  return out;
}

export function unpackIntegers(bytes: Uint8Array, count: number, bits: Bits, signed: boolean): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const raw = bits === 8 ? bytes[i] : (bytes[i >> 1] >> ((i & 1) * 4)) & 0x0f;
    const sign = 1 << (bits - 1);
    out[i] = signed && raw & sign ? raw - (1 << bits) : raw;
  }
  return out;
}

/** Bytes on disk: the packed integers, a float32 scale and (asymmetric) an integer zero point per channel. */
export function packedBytes(p: PackedTensor): number {
  const zeroPointBytes = p.params.signed ? 0 : p.params.scale.length * (p.params.bits === 8 ? 1 : 0.5);
  return p.data.length + p.params.scale.length * 4 + Math.ceil(zeroPointBytes);
}

export function packTensor(t: Tensor, scheme: QuantScheme): PackedTensor {
  const values = t.dataSync() as Float32Array;
  const params = weightParams(values, t.shape, scheme);
  return { shape: t.shape.slice(), params, data: packIntegers(quantizeValues(values, params), scheme.bits) };
}

export function unpackTensor(p: PackedTensor): Tensor {
  const count = p.shape.reduce((a, b) => a * b, 1);
  return tf.tensor(dequantizeValues(unpackIntegers(p.data, count, p.params.bits, p.params.signed), p.params), p.shape, 'float32');
}

/**
 * Fake quantization on the backend: quantize and immediately dequantize, so the value carries
 * exactly the rounding and clipping error of the integer format while staying float32.
 * tf.round rounds ties to even, as QuantizeLinear does.
 */
export function fakeQuantize(x: Tensor, params: QuantParams): Tensor {
  return fakeQuantizeWith(x, params); // one implementation, in hooks/transforms (what a model's fake-quant transform runs)
}

/**
 * Symmetric int8 per channel along `axis` (one scale per channel, zero point 0), as ONNX's
 * per-axis DequantizeLinear reads it. `qmax` 63 is 7-bit: x86 u8s8 kernels (VPMADDUBSW) add
 * pairs of products in int16 and saturate with full 8-bit weights (ONNX Runtime's reduce_range).
 */
export function quantizePerChannel(values: ArrayLike<number>, dims: number[], axis: number, qmax = 63): { q: Int8Array; scale: Float32Array } {
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const amax = new Float32Array(channels);
  for (let i = 0; i < values.length; i++) amax[channelOf(i)] = Math.max(amax[channelOf(i)], Math.abs(values[i]));
  const scale = Float32Array.from(amax, (a) => (a > 0 ? a / qmax : 1));
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.max(-qmax - 1, Math.min(qmax, roundHalfEven(Math.fround(values[i] / scale[channelOf(i)]))));
  return { q, scale };
}
