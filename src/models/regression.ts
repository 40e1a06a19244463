// A regression model on rows of measurements: raw row -> standardise each feature -> dense layers
// (ReLU between them; none = a linear model) -> ONE standardised number -> de-standardise -> the
// prediction in the target's own units. The raw output of the network is a number in standard
// deviations of the training targets; `post.hook_value` turns it into units of the target:
//   value = output * targetStd + targetMean.
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { variableFrom } from '../engine/ops';
import { HookedModel } from '../hooks/hooked-model';
import type { MimeBundle } from '../engine/mime';
import { viewOf } from '../engine/display';

export interface TabularRegressorConfig {
  /** Feature names, one per input column, in order. */
  features: string[];
  /** Units of each hidden layer; [] is a linear model (one dense layer). */
  hidden: number[];
  /** Mean and standard deviation of each training feature: standardisation puts every feature on one scale. */
  featureMean: number[];
  featureStd: number[];
  /** Mean and standard deviation of the training targets: the network predicts (target - mean) / std. */
  targetMean: number;
  targetStd: number;
  /** What the prediction measures, in words. */
  target: string;
}

/** One row or many: [batch, features] of finite numbers. */
export function checkRows(name: string, features: string[], input: Tensor): void {
  const shape = input.shape;
  if (shape.length !== 2 || shape[1] !== features.length || shape[0] < 1 || input.dtype === 'string' || input.dtype === 'bool' || input.dtype === 'complex64') {
    throw new Error(`${name} expects rows of ${features.length} numbers (${features.join(', ')}) shaped [batch, ${features.length}]; got [${shape}] ${input.dtype}.`);
  }
  const values = input.dataSync() as Float32Array;
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const row = Math.floor(bad / features.length);
    throw new Error(`${name}: row ${row}, feature ${features[bad % features.length]} is ${values[bad]}; expected finite numbers.`);
  }
}

/** Rows from JSON: one row [n numbers] or several [[n numbers], ...]. Caller disposes. */
export function rowsFromJson(value: unknown, features: string[], where: string): Tensor {
  const rows = Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number') ? [value] : value;
  const expected = `a row of ${features.length} numbers (${features.join(', ')}), or a list of such rows`;
  if (!Array.isArray(rows) || rows.length === 0) throw new Error(`${where}: expected ${expected}.`);
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== features.length) throw new Error(`${where}: row ${i} has ${Array.isArray(row) ? row.length : 'no'} values; expected ${expected}.`);
    const j = row.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
    if (j >= 0) throw new Error(`${where}: row ${i}, feature ${features[j]} is ${JSON.stringify(row[j])}; expected a finite number.`);
  });
  return tf.tensor2d(rows as number[][], [rows.length, features.length], 'float32'); // [batch, features]
}

export class TabularRegressor extends HookedModel {
  readonly name: string;
  readonly config: TabularRegressorConfig;
  readonly weights: Record<string, tf.Variable>;

  constructor(config: TabularRegressorConfig, name = 'tabular-regressor', seed = 0) {
    super();
    this.name = name;
    this.config = config;
    const widths = [config.features.length, ...config.hidden, 1];
    // tf.variable shares the initial tensor's data; free the initial tensor itself.
    this.weights = {};
    for (let i = 0; i + 1 < widths.length; i++) {
      const relu = i + 2 < widths.length; // He init before a ReLU, Glorot-like for the last layer
      const scale = Math.sqrt((relu ? 2 : 1) / widths[i]);
      this.weights[`layers.${i}.weight`] = variableFrom(tf.randomNormal([widths[i], widths[i + 1]], 0, scale, 'float32', seed + i + 1)); // [in, out]
      this.weights[`layers.${i}.bias`] = variableFrom(tf.zeros([widths[i + 1]]));
    }
    this.hookPoint('pre.hook_raw', 'input', '[batch, features] raw measurements');
    this.hookPoint('pre.hook_standardized', 'standardize', '[batch, features] (x - mean) / std of the training rows');
    config.hidden.forEach((_, i) => {
      this.hookPoint(`layers.${i}.hook_pre`, 'dense', '[batch, units]');
      this.hookPoint(`layers.${i}.hook_relu`, 'relu', '[batch, units]');
    });
    this.hookPoint('hook_output', 'dense', '[batch, 1] standardised prediction (training-target standard deviations from their mean)');
    this.hookPoint('post.hook_value', 'destandardize', '[batch, 1] prediction in the target\'s units');
  }

  /** How many dense layers (1: linear). */
  get depth(): number {
    return this.config.hidden.length + 1;
  }

  get parameterCount(): number {
    return Object.values(this.weights).reduce((n, w) => n + w.size, 0);
  }

  get byteSize(): number {
    return this.parameterCount * 4;
  }

  protected validateInput(input: Tensor): void {
    checkRows(this.name, this.config.features, input);
  }

  /** Raw rows -> the network's standardised output [batch, 1]. */
  private outputImpl(input: Tensor): Tensor {
    const { featureMean, featureStd } = this.config;
    let x = this.hook('pre.hook_raw', tf.cast(input, 'float32')); // [batch, features]
    x = this.hook('pre.hook_standardized', tf.div(tf.sub(x, tf.tensor1d(featureMean)), tf.tensor1d(featureStd))); // [batch, features]
    for (let i = 0; i < this.config.hidden.length; i++) {
      x = this.hook(`layers.${i}.hook_pre`, tf.add(tf.matMul(x, this.weights[`layers.${i}.weight`]), this.weights[`layers.${i}.bias`])); // [batch, units]
      x = this.hook(`layers.${i}.hook_relu`, tf.relu(x)); // [batch, units]
    }
    const last = this.config.hidden.length;
    return this.hook('hook_output', tf.add(tf.matMul(x, this.weights[`layers.${last}.weight`]), this.weights[`layers.${last}.bias`])); // [batch, 1]
  }

  protected forwardImpl(input: Tensor): Tensor {
    const { targetMean, targetStd } = this.config;
    return this.hook('post.hook_value', tf.add(tf.mul(this.outputImpl(input), targetStd), targetMean)); // [batch, 1] in target units
  }

  /** The standardised output [batch, 1] (what training fits), differentiable and safe inside tf.tidy or minimize. */
  standardizedOutput(input: Tensor): Tensor {
    this.validateInput(input);
    return tf.tidy(() => this.outputImpl(input));
  }

  /** Predictions in the target's units, one per row. */
  predict(rows: number[][]): number[] {
    const input = rowsFromJson(rows, this.config.features, `${this.name}.predict`); // [batch, features]
    try {
      const out = this.forward(input); // [batch, 1]
      const values = Array.from(out.dataSync());
      out.dispose();
      return values;
    } finally {
      input.dispose();
    }
  }

  /** A copy with its own weights (same config and hook names). */
  clone(name = `${this.name}-copy`): this {
    return this.copyInto(() => new TabularRegressor(this.config, name) as this);
  }

  /** Layer table: hook name, kind, output shape for one row, parameters owned by that layer. */
  summary(): { name: string; kind: string; outputShape: number[]; params: number }[] {
    const example = tf.tensor2d([this.config.featureMean], [1, this.config.features.length]); // [1, features]: the average patient
    const trace = this.trace(example, { keepTensors: false });
    example.dispose();
    const owner = (step: string) => (step === 'hook_output' ? `layers.${this.config.hidden.length}` : /^layers\.\d+\.hook_pre$/.test(step) ? step.replace('.hook_pre', '') : null);
    return trace.steps.map((s) => {
      const layer = owner(s.name);
      const params = layer ? this.weights[`${layer}.weight`].size + this.weights[`${layer}.bias`].size : 0;
      return { name: s.name, kind: s.kind, outputShape: s.outputShape, params };
    });
  }

  override toString(): string {
    const kind = this.config.hidden.length ? `MLP ${[this.config.features.length, ...this.config.hidden, 1].join('-')}` : `linear model of ${this.config.features.length} features`;
    const rows = this.summary().map((r) => `  ${r.name.padEnd(24)} ${r.kind.padEnd(14)} ${`[${r.outputShape.join(', ')}]`.padEnd(10)} ${r.params || ''}`);
    return `TabularRegressor "${this.name}" (${kind}): ${this.parameterCount} parameters, predicts ${this.config.target}\n${rows.join('\n')}`;
  }

  /** Shown as a summary table when the model is a cell's last value. */
  async toMimeBundle(): Promise<MimeBundle> {
    return viewOf('model-summary', { rows: this.summary(), title: `${this.name}: ${this.parameterCount} parameters` }, () => this.toString());
  }

  /** Write weights.safetensors + config.json into `dir`. */
  save(dir: string, extra: Record<string, unknown> = {}): void {
    this.saveFiles(dir, 'tabular-regressor', this.config, extra);
  }

  /** Load a model saved by `save` (or a shipped one). Errors name the file and tensor. */
  static load(dir: string, name = path.basename(dir)): TabularRegressor {
    return HookedModel.loadFiles<TabularRegressorConfig, TabularRegressor>(dir, 'tabular-regressor', (config) => new TabularRegressor(config, name));
  }

  dispose(): void {
    for (const w of Object.values(this.weights)) w.dispose();
  }
}
