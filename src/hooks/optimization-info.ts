// The records optimization leaves in a model: what quantization and pruning did, with the packed
// weights, ranges and masks they need to be carried by clone, save and compile. They are types
// only; optimize/ fills them and re-exports them, and hooks/ stores them without importing optimize/.
import type { Tensor } from '../engine/tf';

export type Bits = 8 | 4;

export interface QuantScheme {
  /** Integer width: 8 (int8 / uint8) or 4 (int4 / uint4, packed two per byte). */
  bits: Bits;
  /** Symmetric: signed range, zero point 0. Asymmetric: unsigned range with a zero point. */
  symmetric: boolean;
  /** One scale per output channel (the last axis of tfjs kernels) instead of one per tensor. */
  perChannel: boolean;
}

/** Scale and zero point(s) of a quantized tensor; one entry per channel along `axis`, or one. */
export interface QuantParams {
  bits: Bits;
  signed: boolean;
  scale: Float32Array;
  zeroPoint: Int32Array;
  /** Channel axis for per-channel parameters; null for per-tensor. */
  axis: number | null;
  qmin: number;
  qmax: number;
}

/** A weight tensor as it is really stored: packed integers plus parameters. */
export interface PackedTensor {
  shape: number[];
  params: QuantParams;
  data: Uint8Array;
}

export type CalibrationMethod = 'minmax' | 'percentile' | 'mse' | 'entropy';

export interface QuantizeConfig extends QuantScheme {
  /** none: weight-only. dynamic: activations quantized per call from their own range. static: ranges from calibration. */
  activations: 'none' | 'dynamic' | 'static';
  /** How static ranges are chosen (default minmax). */
  calibration?: CalibrationMethod;
  /** For percentile calibration, the share of values kept inside the range (default 99.99). */
  percentile?: number;
  /** Raw inputs for calibration (static only); use training data, never the test set. */
  calibrationInputs?: Tensor;
  /** Weights to quantize (default: every matrix and kernel; biases stay float32, as in ONNX QLinearConv). */
  weights?: string[];
  /** Show a progress bar while calibrating (default true). Activations are always asymmetric uint8. */
  progress?: boolean;
}

export interface ActivationRange {
  lo: number;
  hi: number;
  params: QuantParams;
}

/** What quantize did: the packed weights, the float ones, the activation ranges, the real size. */
export interface QuantizationInfo {
  config: Omit<QuantizeConfig, 'calibrationInputs'>;
  packed: Record<string, PackedTensor>;
  floatWeights: string[];
  activationRanges: Record<string, ActivationRange>;
  /** Bytes of the stored model: packed integers + scales + zero points + float32 weights left. */
  byteSize: number;
  /** Bytes of the original float32 weights. */
  originalBytes: number;
}

export interface PruneConfig {
  /** Fraction of the chosen weights to zero, 0..1. */
  sparsity: number;
  /** 'layer': each weight tensor loses `sparsity` of its own entries; 'global': one threshold for all. */
  scope: 'layer' | 'global';
  /** Weights to prune (default: every kernel and matrix of the CNN; a GPT's block matrices; biases are kept). */
  weights?: string[];
}

export interface PruningInfo {
  config: PruneConfig | { structured: Record<string, number> };
  /** Zeroed entries / entries, per pruned weight. */
  sparsity: Record<string, number>;
  /** Bytes with sparse storage: non-zero values as float32 plus a one-bit-per-entry mask (structured: the smaller dense matrices). */
  sparseBytes: number;
  denseBytes: number;
  /** GPT heads removed, as [block, head] (indices in the original's blocks). */
  heads?: [number, number][];
  /** GPT: per block, the indices (into the original's d_mlp) of the MLP neurons kept. */
  keptNeurons?: number[][];
  /** Unstructured pruning: per pruned weight, one bit per entry (1 = kept), entry i at byte i >> 3, bit i & 7. */
  masks?: Record<string, Uint8Array>;
}
