// How far a regression model's numbers are from the truth, in the target's own units: the mean
// absolute error (MAE: the typical miss) and the root mean squared error (RMSE: large misses weigh
// more), with each example's error kept so two models can be compared with a paired bootstrap
// (src/analysis/intervals.ts) on the same held-out rows.
import { pairedBootstrap, type PairedBootstrapOptions, type PairedInterval } from './intervals';

export interface RegressionErrors {
  /** Mean |predicted - actual|. */
  mae: number;
  /** sqrt(mean (predicted - actual)^2). */
  rmse: number;
  /** How many examples. */
  n: number;
  /** |predicted - actual| per example (MAE is their mean). */
  absolute: Float64Array;
  /** (predicted - actual)^2 per example (RMSE^2 is their mean). */
  squared: Float64Array;
}

/** MAE and RMSE of `predicted` against `actual`, with the per-example errors. */
export function regressionErrors(predicted: ArrayLike<number>, actual: ArrayLike<number>): RegressionErrors {
  const n = actual.length;
  if (predicted.length !== n) throw new Error(`regressionErrors: ${predicted.length} predictions for ${n} targets; expected one each.`);
  if (n === 0) throw new Error('regressionErrors: no examples.');
  const absolute = new Float64Array(n);
  const squared = new Float64Array(n);
  let sumAbs = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const e = predicted[i] - actual[i];
    if (!Number.isFinite(e)) throw new Error(`regressionErrors: example ${i} has prediction ${predicted[i]} and target ${actual[i]}; expected finite numbers.`);
    absolute[i] = Math.abs(e);
    squared[i] = e * e;
    sumAbs += absolute[i];
    sumSq += squared[i];
  }
  return { mae: sumAbs / n, rmse: Math.sqrt(sumSq / n), n, absolute, squared };
}

/** Paired intervals of model a against model b on the same examples: MAE difference and MSE difference (units^2). */
export function compareRegression(a: RegressionErrors, b: RegressionErrors, options: PairedBootstrapOptions = {}): { mae: PairedInterval; mse: PairedInterval } {
  return { mae: pairedBootstrap(a.absolute, b.absolute, options), mse: pairedBootstrap(a.squared, b.squared, options) };
}
