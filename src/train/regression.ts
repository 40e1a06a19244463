// Fit a TabularRegressor to rows and targets: full-batch Adam on the mean squared error of the
// standardised target (the loss a least-squares fit minimises), plus an optional L2 penalty on the
// weight matrices. Every step sees all training rows: 354 patients fit in one batch.
import { tf } from '../engine/tf';
import type { TabularRegressor } from '../models/regression';
import type { TabularSet } from '../data/diabetes';
import { mse } from './losses';

export interface RegressionFitOptions {
  /** Full-batch Adam steps. */
  steps: number;
  /** Adam's step size at the start. */
  learningRate: number;
  /** Step size at the end (cosine decay from learningRate); a small one settles on the minimum. */
  finalLearningRate?: number;
  /** Weight of the L2 penalty on weight matrices (not biases); 0 = plain least squares. */
  l2?: number;
  /** Called every `every` steps with the training loss (standardised MSE, without the penalty). */
  onProgress?: (step: number, loss: number) => void;
  every?: number;
}

/** Train in place; returns the final training loss (standardised MSE) and how many steps ran. */
export function fitRegressor(model: TabularRegressor, train: TabularSet, options: RegressionFitOptions): { loss: number; steps: number } {
  const { targetMean, targetStd } = model.config;
  const x = tf.tensor2d(train.rows, [train.rows.length, train.features.length], 'float32'); // [n, features]
  const y = tf.tidy(() => tf.div(tf.sub(tf.tensor2d(train.targets, [train.targets.length, 1]), targetMean), targetStd)); // [n, 1] standardised
  const l2 = options.l2 ?? 0;
  const final = options.finalLearningRate ?? options.learningRate;
  const optimizer = tf.train.adam(options.learningRate);
  const matrices = Object.entries(model.weights).filter(([n]) => n.endsWith('.weight')).map(([, w]) => w);
  let loss = NaN;
  try {
    for (let step = 0; step < options.steps; step++) {
      // Cosine decay: large steps first, then small ones that settle instead of jittering around the minimum.
      (optimizer as unknown as { learningRate: number }).learningRate = final + 0.5 * (options.learningRate - final) * (1 + Math.cos((Math.PI * step) / options.steps));
      const report = options.onProgress && (step % (options.every ?? 100) === 0 || step === options.steps - 1);
      const cost = optimizer.minimize(() => {
        const fit = mse(y, model.standardizedOutput(x));
        return l2 > 0 ? (tf.add(fit, tf.mul(l2, tf.addN(matrices.map((w) => tf.sum(tf.square(w)))))) as tf.Scalar) : fit;
      }, true);
      if (report || step === options.steps - 1) {
        loss = tf.tidy(() => mse(y, model.standardizedOutput(x)).dataSync()[0]);
        if (report) options.onProgress!(step, loss);
      }
      cost?.dispose();
    }
  } finally {
    optimizer.dispose();
    tf.dispose([x, y]);
  }
  return { loss, steps: options.steps };
}
