// Which layers can take low precision? Quantize one layer at a time and rank the damage; then
// keep the fewest layers in float32 that brings the whole model within an accuracy budget.
import { quantize, quantizableWeights, type Quantizable, type QuantizeConfig } from './quantize-model';

export interface LayerSensitivity {
  /** The weight quantized alone, e.g. `conv.1.weight`. */
  weight: string;
  metric: number;
  /** Metric lost against the float model (positive = worse). */
  drop: number;
}

/** Quantize each weight alone (weights only) and rank by the metric lost, worst first. */
export function layerSensitivity<M extends Quantizable>(model: M, config: QuantizeConfig, evaluate: (m: M) => number): LayerSensitivity[] {
  const base = evaluate(model);
  return quantizableWeights(model)
    .map((weight) => {
      const q = quantize(model, { ...config, activations: 'none', weights: [weight] });
      const metric = evaluate(q);
      q.dispose();
      return { weight, metric, drop: base - metric };
    })
    .sort((a, b) => b.drop - a.drop);
}

export interface MixedPrecisionResult {
  /** Weights left in float32 (most sensitive first). */
  floatWeights: string[];
  metric: number;
  drop: number;
  byteSize: number;
  /** Every configuration tried, in order. */
  steps: { floatWeights: string[]; metric: number; drop: number; byteSize: number }[];
}

/**
 * Greedy mixed precision: start with every weight quantized; while the drop exceeds `maxDrop`,
 * return the most sensitive remaining weight to float32. Cheap, and usually close to the best.
 */
export function mixedPrecision<M extends Quantizable>(model: M, config: QuantizeConfig, evaluate: (m: M) => number, maxDrop: number): MixedPrecisionResult {
  const base = evaluate(model);
  const ranking = layerSensitivity(model, config, evaluate).map((r) => r.weight);
  const steps: MixedPrecisionResult['steps'] = [];
  for (let kept = 0; kept <= ranking.length; kept++) {
    const floatWeights = ranking.slice(0, kept);
    const weights = ranking.filter((w) => !floatWeights.includes(w));
    const q = quantize(model, { ...config, weights, progress: false });
    const metric = evaluate(q);
    const step = { floatWeights, metric, drop: base - metric, byteSize: q.quantization.byteSize };
    q.dispose();
    steps.push(step);
    if (step.drop <= maxDrop) return { ...step, steps };
  }
  const last = steps[steps.length - 1];
  return { ...last, steps };
}
