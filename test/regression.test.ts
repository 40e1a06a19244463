// The regression models of notebook 13 (assets/diabetes-linear, assets/diabetes-mlp) against an
// independent reference: numpy (test/python/regression_reference.py) fits ordinary least squares
// with numpy.linalg.lstsq, runs each shipped model's forward pass by hand from its
// weights.safetensors, and computes MAE and RMSE. Plus: training recovers a known line, no tensor
// leaks, and bad input is refused in one line.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, initBackend, TabularRegressor, fitRegressor, regressionErrors, compareRegression, readDiabetes, splitDiabetes, diabetesFile, loadModel, entryOf, rowsFromJson, assetsDir, heldOutFigure } from '../src/index';
import { findPython, requirePythonModules } from './helpers/python';

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

interface Reference {
  n_train: number;
  n_held_out: number;
  train_mean: number;
  held_out_targets: number[];
  lstsq: { intercept: number; coefficients: number[]; held_out_predictions: number[]; train_mse: number };
  forward: Record<string, number[]>;
  metrics?: { mae: number; rmse: number };
}

function reference(extra: string[] = []): Reference {
  const python = findPython();
  requirePythonModules(python, ['numpy']);
  const dirs = ['diabetes-linear', 'diabetes-mlp'].map((n) => path.join(assetsDir(), n));
  const r = spawnSync(python, [path.join(root, 'test', 'python', 'regression_reference.py'), diabetesFile(), ...dirs, ...extra], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`regression_reference.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));

let ref: Reference;
beforeAll(async () => {
  await initBackend();
  ref = reference();
});

describe('the diabetes data and its split', () => {
  it('442 patients, 10 raw features, every 5th held out: 354 + 88, as numpy splits them', () => {
    const data = readDiabetes(diabetesFile());
    expect(data.rows.length).toBe(442);
    expect(data.features).toEqual(['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6']);
    expect(data.rows[0][0]).toBe(59); // raw, not standardised: the first patient is 59 years old
    const { train, heldOut } = splitDiabetes(data);
    expect(train.rows.length).toBe(ref.n_train);
    expect(heldOut.rows.length).toBe(ref.n_held_out);
    expect(heldOut.targets).toEqual(ref.held_out_targets);
  });
});

describe('the shipped models against numpy', () => {
  it('the linear model is ordinary least squares: its held-out predictions match numpy.linalg.lstsq', () => {
    const model = loadModel('diabetes-linear') as TabularRegressor;
    const heldOut = splitDiabetes(readDiabetes(diabetesFile())).heldOut;
    const ours = model.predict(heldOut.rows);
    // Measured 1.2e-5 progression units at most (targets are 25..346): gradient descent in float32 reached the least-squares minimum.
    expect(maxAbsDiff(ours, ref.lstsq.held_out_predictions)).toBeLessThan(1e-3);
    // Its weights, turned back into per-feature coefficients of the raw measurements, are numpy's.
    const { featureStd, featureMean, targetStd, targetMean } = model.config;
    const w = Array.from(model.weights['layers.0.weight'].dataSync());
    const b = model.weights['layers.0.bias'].dataSync()[0];
    const coefficients = w.map((wj, j) => (wj * targetStd) / featureStd[j]);
    const intercept = targetMean + targetStd * b - coefficients.reduce((s, c, j) => s + c * featureMean[j], 0);
    coefficients.forEach((c, j) => expect(Math.abs(c - ref.lstsq.coefficients[j]), `coefficient of ${model.config.features[j]}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(ref.lstsq.coefficients[j]))));
    expect(Math.abs(intercept - ref.lstsq.intercept)).toBeLessThan(1e-2 * Math.max(1, Math.abs(ref.lstsq.intercept)));
    model.dispose();
  });

  it.each(['diabetes-linear', 'diabetes-mlp'])('%s: the forward pass matches a numpy forward pass from its safetensors by hand', (name) => {
    const model = loadModel(name) as TabularRegressor;
    const heldOut = splitDiabetes(readDiabetes(diabetesFile())).heldOut;
    expect(maxAbsDiff(model.predict(heldOut.rows), ref.forward[path.join(assetsDir(), name)])).toBeLessThan(1e-3); // float32 against float64
    model.dispose();
  });

  it('the registry figure (config.json heldOut) is the MAE numpy computes from its own forward pass', () => {
    for (const name of ['diabetes-linear', 'diabetes-mlp']) {
      const predicted = ref.forward[path.join(assetsDir(), name)];
      const mae = predicted.reduce((s, p, i) => s + Math.abs(p - ref.held_out_targets[i]), 0) / predicted.length;
      const figure = heldOutFigure(name)!;
      expect(figure.metric).toBe('mean absolute error');
      expect(figure.n).toBe(88);
      expect(Math.abs(figure.value - mae), name).toBeLessThan(1e-3);
    }
  });

  it('regressionErrors gives the MAE and RMSE numpy computes on the same predictions', () => {
    const model = loadModel('diabetes-mlp') as TabularRegressor;
    const heldOut = splitDiabetes(readDiabetes(diabetesFile())).heldOut;
    const predicted = model.predict(heldOut.rows);
    model.dispose();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'regression-')), 'p.json');
    fs.writeFileSync(file, JSON.stringify({ predicted, actual: heldOut.targets }));
    const numpy = reference(['--metrics', file]).metrics!;
    const ours = regressionErrors(predicted, heldOut.targets);
    expect(ours.mae).toBeCloseTo(numpy.mae, 10);
    expect(ours.rmse).toBeCloseTo(numpy.rmse, 10);
    expect(ours.n).toBe(88);
  });

  it('the two yardsticks by hand: predicting the training mean, and a paired interval that says which model is better', () => {
    const actual = [10, 20, 30, 40];
    const mean = regressionErrors([25, 25, 25, 25], actual); // |e| = 15, 5, 5, 15; e^2 = 225, 25, 25, 225
    expect(mean.mae).toBe(10);
    expect(mean.rmse).toBeCloseTo(Math.sqrt(125), 12);
    const perfect = regressionErrors(actual, actual);
    const c = compareRegression(perfect, mean, { resamples: 500 });
    expect(c.mae.diff).toBe(-10);
    expect(c.mse.diff).toBe(-125);
    expect(c.mae.hi).toBeLessThan(0); // every resample of 4 examples has error 5..15 for the mean and 0 for the truth
  });
});

describe('training and the model class', () => {
  it('fitRegressor recovers a known line y = 3 a - 2 b + 5 from exact data', () => {
    const rows = Array.from({ length: 50 }, (_, i) => [i % 7, (i * 3) % 11]);
    const targets = rows.map(([a, b]) => 3 * a - 2 * b + 5);
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const std = (v: number[]) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
    const cols = [0, 1].map((j) => rows.map((r) => r[j]));
    const model = new TabularRegressor({ features: ['a', 'b'], hidden: [], featureMean: cols.map(mean), featureStd: cols.map(std), targetMean: mean(targets), targetStd: std(targets), target: 'y' }, 'line');
    const before = tf.memory().numTensors;
    fitRegressor(model, { features: ['a', 'b'], rows, targets, target: 'y' }, { steps: 1500, learningRate: 0.05, finalLearningRate: 1e-4 });
    expect(tf.memory().numTensors).toBe(before); // training leaks nothing
    const [p0, p1] = model.predict([[0, 0], [10, 1]]);
    expect(p0).toBeCloseTo(5, 2);
    expect(p1).toBeCloseTo(33, 2);
    model.dispose();
  });

  it('no tensor leaks: forward, trace, cache, predict and the registry estimate', () => {
    const model = loadModel('diabetes-mlp') as TabularRegressor;
    const input = rowsFromJson([59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87], model.config.features, 'test'); // [1, 10]
    const before = tf.memory().numTensors;
    model.forward(input).dispose();
    model.trace(input).dispose();
    const [out, cache] = model.runWithCache(input);
    expect(cache.get('hook_output').shape).toEqual([1, 1]);
    out.dispose();
    cache.dispose();
    model.predict([[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]]);
    entryOf('diabetes-mlp').estimate!(model, input);
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
    model.dispose();
  });

  it('the raw output is standardised; post.hook_value is output * targetStd + targetMean', () => {
    const model = loadModel('diabetes-mlp') as TabularRegressor;
    const input = rowsFromJson([48, 1, 21.6, 87, 183, 103.2, 70, 3, 3.8918, 69], model.config.features, 'test');
    const trace = model.trace(input);
    const raw = trace.step('hook_output').tensor!.dataSync()[0];
    const value = trace.step('post.hook_value').tensor!.dataSync()[0];
    expect(value).toBeCloseTo(raw * model.config.targetStd + model.config.targetMean, 3);
    trace.dispose();
    input.dispose();
    model.dispose();
  });

  it('bad input is refused in one line that says what was expected, and leaks nothing', () => {
    const model = loadModel('diabetes-linear') as TabularRegressor;
    const before = tf.memory().numTensors;
    const nine = tf.zeros([1, 9]);
    expect(() => model.forward(nine)).toThrow(/^diabetes-linear expects rows of 10 numbers \(age, sex, bmi, bp, s1, s2, s3, s4, s5, s6\) shaped \[batch, 10\]; got \[1,9\] float32\.$/);
    nine.dispose();
    const nan = tf.tensor2d([[59, 2, NaN, 101, 157, 93.2, 38, 4, 4.8598, 87]]);
    expect(() => model.forward(nan)).toThrow(/^diabetes-linear: row 0, feature bmi is NaN; expected finite numbers\.$/);
    nan.dispose();
    expect(() => model.predict([[1, 2, 3]])).toThrow(/row 0 has 3 values; expected a row of 10 numbers/);
    expect(() => model.predict([[59, 2, '32', 101, 157, 93.2, 38, 4, 4.8598, 87] as unknown as number[]])).toThrow(/feature bmi is "32"; expected a finite number/);
    expect(tf.memory().numTensors).toBe(before);
    for (const bad of [() => model.forward(tf.zeros([1, 9])), () => model.predict([[NaN, 2, 3, 4, 5, 6, 7, 8, 9, 10]])]) {
      try {
        bad();
      } catch (err) {
        expect((err as Error).message).not.toContain('\n');
      }
    }
    model.dispose();
  });
});

describe('the CLI', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

  it('run predicts a number for a JSON row, in the target\'s units', () => {
    const r = run('run', 'diabetes-linear', '--input', '[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const row = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87];
    const byHand = ref.lstsq.intercept + ref.lstsq.coefficients.reduce((s, c, j) => s + c * row[j], 0); // numpy's least squares
    expect(out.values).toHaveLength(1);
    expect(Math.abs(out.values[0] - byHand)).toBeLessThan(1e-2);
    expect(out.target).toBe('disease progression one year after baseline');
  });

  it('run with a wrong row, and compare, refuse in one clear line', () => {
    const bad = run('run', 'diabetes-mlp', '--input', '[1, 2, 3]');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/row 0 has 3 values; expected a row of 10 numbers/);
    const compare = run('compare', 'diabetes-mlp', '--quantize', 'int8');
    expect(compare.status).not.toBe(0);
    expect(compare.stderr.trim().split('\n')).toHaveLength(1);
    expect(compare.stderr).toMatch(/compare diabetes-mlp: diabetes-mlp is a regression model/);
  });
});
