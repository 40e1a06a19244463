// Calibration: choosing each activation's clipping range [lo, hi] from values seen on a
// calibration set. A wider range clips less but rounds more coarsely; the methods trade the two.
import { integerRange, paramsForRange, roundHalfEven, type Bits } from './quantize';

import type { CalibrationMethod } from '../hooks/optimization-info';

export type { CalibrationMethod } from '../hooks/optimization-info';
export const CALIBRATION_METHODS: CalibrationMethod[] = ['minmax', 'percentile', 'mse', 'entropy'];

export interface CalibrationOptions {
  method: CalibrationMethod;
  bits: Bits;
  /**
   * true: a range symmetric around 0 (signed integers). false: an asymmetric range (unsigned
   * integers with a zero point): [0, hi] for non-negative values (after ReLU), else [lo, hi].
   */
  symmetric: boolean;
  /** For 'percentile': the share of values to keep inside the range, e.g. 99.99. */
  percentile?: number;
}

export interface CalibratedRange {
  lo: number;
  hi: number;
  /** Mean squared error of fake-quantizing the calibration values with this range. */
  mse: number;
}

/** Deterministic subsample (every k-th value) so the searches stay fast on large activations. */
function subsample(values: Float32Array, max = 100_000): Float32Array {
  if (values.length <= max) return values;
  const step = values.length / max;
  return Float32Array.from({ length: max }, (_, i) => values[Math.floor(i * step)]);
}

/** MSE of quantize-dequantize with the range [lo, hi]. */
export function quantizationMse(values: Float32Array, lo: number, hi: number, bits: Bits, symmetric: boolean): number {
  const { scale, zeroPoint } = paramsForRange(lo, hi, bits, symmetric);
  const [qmin, qmax] = integerRange(bits, symmetric);
  let sum = 0;
  for (const v of values) {
    const q = Math.min(qmax, Math.max(qmin, roundHalfEven(Math.fround(v / scale)) + zeroPoint));
    const d = (q - zeroPoint) * scale - v;
    sum += d * d;
  }
  return sum / values.length;
}

function sortedCopy(values: Float32Array): Float32Array {
  return Float32Array.from(values).sort();
}

function quantile(sorted: Float32Array, p: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))));
  return sorted[idx];
}

/** The range a scheme uses for a clipping threshold T on |x|: [-T, T], or [lo, hi] clipped to T. */
function rangeFor(threshold: number, lo: number, hi: number, symmetric: boolean): [number, number] {
  return symmetric ? [-threshold, threshold] : [Math.max(Math.min(0, lo), -threshold), Math.min(hi, threshold)];
}

/**
 * KL-divergence calibration (TensorRT's entropy method): histogram |x| in 2048 bins; for each
 * candidate threshold, fold the tail into the last bin (P), requantize P into as many bins as
 * the integer grid has levels (Q), and keep the threshold with the smallest KL(P || Q).
 */
function entropyThreshold(magnitudes: Float32Array, levels: number): number {
  const bins = 2048;
  let max = 0;
  for (const v of magnitudes) if (v > max) max = v;
  if (max === 0) return 1;
  const width = max / bins;
  const hist = new Float64Array(bins);
  for (const v of magnitudes) hist[Math.min(bins - 1, Math.floor(v / width))]++;
  let best = bins;
  let bestKl = Infinity;
  for (let i = Math.max(levels, 16); i <= bins; i += 16) {
    const p = Array.from(hist.subarray(0, i));
    for (let j = i; j < bins; j++) p[i - 1] += hist[j]; // outliers fold into the last kept bin
    const q = new Array(i).fill(0);
    const perLevel = i / levels;
    for (let level = 0; level < levels; level++) {
      const start = Math.floor(level * perLevel);
      const end = level === levels - 1 ? i : Math.floor((level + 1) * perLevel);
      let mass = 0;
      let nonEmpty = 0;
      for (let j = start; j < end; j++) {
        mass += hist[j];
        if (hist[j] > 0) nonEmpty++;
      }
      for (let j = start; j < end; j++) if (hist[j] > 0) q[j] = mass / nonEmpty; // spread over the bins that had mass
    }
    const pSum = p.reduce((a, b) => a + b, 0);
    const qSum = q.reduce((a, b) => a + b, 0);
    let kl = 0;
    for (let j = 0; j < i; j++) {
      if (p[j] === 0) continue;
      const pj = p[j] / pSum;
      const qj = q[j] / qSum;
      kl += qj > 0 ? pj * Math.log(pj / qj) : pj * 20; // a bin Q cannot represent costs a lot
    }
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best * width;
}

/** The clipping range of one activation by the chosen method. */
export function calibrateRange(values: Float32Array, options: CalibrationOptions): CalibratedRange {
  const sample = subsample(values);
  const { bits, symmetric } = options;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const amax = Math.max(Math.abs(lo), Math.abs(hi));
  const magnitudes = Float32Array.from(sample, Math.abs);
  let range: [number, number];
  switch (options.method) {
    case 'minmax':
      range = symmetric ? [-amax, amax] : [Math.min(0, lo), Math.max(0, hi)];
      break;
    case 'percentile': {
      const p = (options.percentile ?? 99.99) / 100;
      range = rangeFor(quantile(sortedCopy(magnitudes), p), lo, hi, symmetric);
      break;
    }
    case 'mse': {
      // Search thresholds from 1% to 100% of the largest |x|; keep the one with the least error.
      const top = amax;
      let bestT = top;
      let bestErr = Infinity;
      for (let k = 1; k <= 100; k++) {
        const t = (top * k) / 100;
        const [a, b] = rangeFor(t, lo, hi, symmetric);
        const err = quantizationMse(sample, a, b, bits, symmetric);
        if (err < bestErr) {
          bestErr = err;
          bestT = t;
        }
      }
      range = rangeFor(bestT, lo, hi, symmetric);
      break;
    }
    case 'entropy': {
      const [qmin, qmax] = integerRange(bits, symmetric);
      // |x| up to T maps onto qmax + 1 levels of a signed grid, or onto all levels of a one-sided one.
      const levels = symmetric ? qmax + 1 : lo < 0 ? (qmax - qmin + 1) / 2 : qmax - qmin + 1;
      range = rangeFor(entropyThreshold(magnitudes, levels), lo, hi, symmetric);
      break;
    }
  }
  return { lo: range[0], hi: range[1], mse: quantizationMse(sample, range[0], range[1], bits, symmetric) };
}
