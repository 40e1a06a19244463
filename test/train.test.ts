import { describe, it, expect, beforeAll } from 'vitest';
import { tf, initBackend, DigitsCNN, DIGITS_CNN_DEFAULTS, conv2dViaMatmul, type Tensor } from '../src/index';
import { mse, mae, huber, crossEntropy, binaryCrossEntropy, hinge, klDivergence, numericGradient, lossCurve, linspace } from '../src/train/losses';
import { BOWL, ROSENBROCK, SADDLE, optimizerPath, comparePaths, SUGGESTED_RATES, type OptimizerName, type Surface } from '../src/train/surfaces';
import { fit, countCorrect } from '../src/train/loop';

const value = (t: Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

beforeAll(async () => {
  await initBackend();
});

describe('loss functions against tf.losses (reference implementation)', () => {
  it('MSE, MAE and Huber equal tf.losses with mean reduction', () => {
    const y = tf.tensor2d([[0.5, -1.2, 2.0], [3.0, 0.1, -0.4]]);
    const p = tf.tensor2d([[0.9, -0.2, 4.5], [2.2, 0.1, 0.3]]);
    expect(value(mse(y, p))).toBeCloseTo(value(tf.losses.meanSquaredError(y, p)), 6);
    expect(value(mae(y, p))).toBeCloseTo(value(tf.losses.absoluteDifference(y, p)), 6);
    for (const delta of [0.5, 1, 2]) expect(value(huber(y, p, delta))).toBeCloseTo(value(tf.losses.huberLoss(y, p, undefined, delta)), 6);
  });

  it('cross-entropy of integer labels against logits equals tf.losses.softmaxCrossEntropy', () => {
    const logits = tf.tensor2d([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [-2, 4, 1]]);
    const labels = tf.tensor1d([0, 2, 0], 'int32');
    const expected = value(tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 3), logits));
    expect(value(crossEntropy(labels, logits))).toBeCloseTo(expected, 5);
    expect(value(crossEntropy(tf.oneHot(labels, 3).toFloat(), logits))).toBeCloseTo(expected, 5); // one-hot targets too
  });

  it('binary cross-entropy equals tf.losses.logLoss; hinge equals tf.losses.hingeLoss (labels ±1 vs 0/1)', () => {
    const t = tf.tensor1d([1, 0, 1, 0]);
    const q = tf.tensor1d([0.9, 0.2, 0.4, 0.7]);
    expect(value(binaryCrossEntropy(t, q))).toBeCloseTo(value(tf.losses.logLoss(t, q, undefined, 1e-7)), 5);
    const signs = tf.tensor1d([1, -1, 1, -1]);
    const scores = tf.tensor1d([2.0, -0.3, 0.4, 1.5]);
    expect(value(hinge(signs, scores))).toBeCloseTo(value(tf.losses.hingeLoss(t, scores)), 6); // tf converts 0/1 to ±1
  });

  it('KL divergence equals the textbook sum, is 0 for equal distributions and not symmetric', () => {
    const a = [0.7, 0.2, 0.1];
    const b = [0.3, 0.3, 0.4];
    const textbook = a.reduce((s, pi, i) => s + pi * Math.log(pi / b[i]), 0);
    expect(value(klDivergence(tf.tensor1d(a), tf.tensor1d(b)))).toBeCloseTo(textbook, 5);
    expect(value(klDivergence(tf.tensor1d(a), tf.tensor1d(a)))).toBeCloseTo(0, 6);
    expect(value(klDivergence(tf.tensor1d(b), tf.tensor1d(a)))).not.toBeCloseTo(textbook, 2);
    // KL(one-hot || softmax) is the cross-entropy.
    const logits = tf.tensor2d([[1, 2, 0.5]]);
    expect(value(klDivergence(tf.tensor2d([[0, 1, 0]]), tf.softmax(logits)))).toBeCloseTo(value(crossEntropy(tf.tensor1d([1], 'int32'), logits)), 5);
  });

  it('loss curves have their minimum at the target', () => {
    const xs = linspace(-3, 3, 61);
    for (const fn of [mse, mae, (a: Tensor, b: Tensor) => huber(a, b, 1)]) {
      const curve = lossCurve(fn, 0.6, xs);
      const best = curve.reduce((m, c) => (c.loss < m.loss ? c : m));
      expect(best.prediction).toBeCloseTo(0.6, 6);
    }
  });
});

describe('gradients against finite differences', () => {
  // Away from kinks (|error| = delta for Huber, 0 for MAE, margin 1 for hinge), where the derivative exists.
  const target = () => tf.tensor2d([[0.5, -1.2, 2.0], [3.0, 0.1, -0.4]]);
  const start = () => tf.tensor2d([[0.9, -0.2, 4.5], [2.2, 0.7, 0.3]]);
  const check = (f: (x: Tensor) => tf.Scalar, x: Tensor) => {
    const analytic = tf.grad(f)(x).dataSync();
    const numeric = numericGradient(f, x, 1e-2);
    numeric.forEach((n, i) => expect(Math.abs(analytic[i] - n)).toBeLessThan(1e-3 + 0.01 * Math.abs(n)));
  };
  it('MSE', () => check((x) => mse(target(), x), start()));
  it('MAE', () => check((x) => mae(target(), x), start()));
  it('Huber', () => check((x) => huber(target(), x, 1), start()));
  it('cross-entropy (with respect to the logits)', () => check((x) => crossEntropy(tf.tensor1d([2, 0], 'int32'), x), start()));
  it('binary cross-entropy', () => check((x) => binaryCrossEntropy(tf.tensor1d([1, 0, 1]), x), tf.tensor1d([0.8, 0.3, 0.45])));
  it('hinge', () => check((x) => hinge(tf.tensor1d([1, -1, 1, -1]), x), tf.tensor1d([0.5, 0.2, -0.4, -2.0])));
  it('KL divergence (with respect to q)', () => check((q) => klDivergence(tf.tensor1d([0.6, 0.3, 0.1]), q), tf.tensor1d([0.2, 0.5, 0.3])));

  it('one layer of the digits CNN (the trainable im2col convolution): gradient wrt its kernel', () => {
    const x = tf.randomNormal([2, 9, 8, 3], 0, 1, 'float32', 5); // [batch, h, w, in]
    const kernel = tf.randomNormal([3, 3, 3, 4], 0, 0.5, 'float32', 6); // [kh, kw, in, out]
    const readout = tf.randomNormal([2, 7, 6, 4], 0, 1, 'float32', 7); // a fixed linear read-out makes a scalar
    const f = (k: Tensor) => tf.tidy(() => tf.sum(tf.mul(conv2dViaMatmul(x, k), readout)) as tf.Scalar);
    const analytic = tf.grad(f)(kernel).dataSync();
    const indices = [0, 5, 17, 40, 77, 107];
    const numeric = numericGradient(f, kernel, 1e-2, indices);
    indices.forEach((idx, k) => expect(Math.abs(analytic[idx] - numeric[k])).toBeLessThan(2e-3 + 0.01 * Math.abs(numeric[k])));
    tf.dispose([x, kernel, readout]);
  });

  it('the digits CNN trained through that layer: a gradient step on conv.0 lowers the loss', () => {
    const model = new DigitsCNN({ ...DIGITS_CNN_DEFAULTS, channels: [2, 3] }, 'grad', 4);
    model.convKernel = 'im2col';
    const pixels = tf.randomUniform([4, 28, 28], 0, 255, 'float32', 5);
    const labels = tf.tensor1d([3, 7, 1, 0], 'int32');
    const loss = () => crossEntropy(labels, model.logits(pixels));
    const before = value(loss());
    const g = tf.grad(() => loss())(model.weights['conv.0.weight']);
    model.weights['conv.0.weight'].assign(tf.sub(model.weights['conv.0.weight'], tf.mul(0.01, g)) as tf.Tensor4D);
    expect(value(loss())).toBeLessThan(before);
    tf.dispose([pixels, labels, g]);
    model.dispose();
  });
});

describe('optimizers on 2-D surfaces', () => {
  /** The same path computed by tf.train's optimizer on tf.variables (the reference). */
  function tfPath(surface: Surface, method: OptimizerName, lr: number, steps: number): number[][] {
    const f = (x: Tensor, y: Tensor): tf.Scalar => {
      if (surface === BOWL) return tf.add(tf.mul(0.5, tf.square(x)), tf.mul(5, tf.square(y))) as tf.Scalar;
      if (surface === ROSENBROCK) return tf.add(tf.square(tf.sub(1, x)), tf.mul(100, tf.square(tf.sub(y, tf.square(x))))) as tf.Scalar;
      return tf.add(tf.sub(tf.square(x), tf.square(y)), tf.div(tf.pow(y, 4), 4)) as tf.Scalar;
    };
    const x = tf.variable(tf.scalar(surface.start[0]));
    const y = tf.variable(tf.scalar(surface.start[1]));
    const opt = { sgd: () => tf.train.sgd(lr), momentum: () => tf.train.momentum(lr, 0.9), rmsprop: () => tf.train.rmsprop(lr, 0.9, 0, 1e-7), adam: () => tf.train.adam(lr, 0.9, 0.999, 1e-7) }[method]();
    const out = [[surface.start[0], surface.start[1]]];
    for (let i = 0; i < steps; i++) {
      opt.minimize(() => f(x, y), false, [x, y]);
      out.push([x.dataSync()[0], y.dataSync()[0]]);
    }
    opt.dispose();
    tf.dispose([x, y]);
    return out;
  }

  for (const method of ['sgd', 'momentum', 'rmsprop', 'adam'] as OptimizerName[]) {
    it(`${method}: the plain-number update rule follows tf.train.${method} step by step`, () => {
      for (const [surface, key] of [[BOWL, 'bowl'], [ROSENBROCK, 'rosenbrock'], [SADDLE, 'saddle']] as const) {
        const lr = SUGGESTED_RATES[key][method];
        const ours = optimizerPath(surface, { method, learningRate: lr }, 25).points;
        const ref = tfPath(surface, method, lr, 25);
        ref.forEach((r, i) => {
          expect(Math.abs(ours[i][0] - r[0])).toBeLessThan(1e-3 * Math.max(1, Math.abs(r[0])));
          expect(Math.abs(ours[i][1] - r[1])).toBeLessThan(1e-3 * Math.max(1, Math.abs(r[1])));
        });
      }
    });
  }

  it('the suggested rates reach the bowl’s minimum; too high a rate diverges; too low barely moves', () => {
    for (const p of comparePaths(BOWL, SUGGESTED_RATES.bowl, 200)) expect(p.points[p.points.length - 1][2]).toBeLessThan(1e-2); // RMSProp hovers: its step size does not shrink with the gradient
    expect(optimizerPath(BOWL, { method: 'sgd', learningRate: 0.21 }, 200).diverged).toBe(true); // curvature 10: stable only below 2/10
    const slow = optimizerPath(BOWL, { method: 'sgd', learningRate: 0.001 }, 200);
    expect(Math.abs(slow.points[slow.points.length - 1][0])).toBeGreaterThan(0.75 * Math.abs(BOWL.start[0])); // along the shallow axis it has barely moved
  });

  it('momentum and Adam get further along Rosenbrock’s valley than SGD in the same steps', () => {
    const [sgd, momentum, , adam] = comparePaths(ROSENBROCK, SUGGESTED_RATES.rosenbrock, 500);
    const end = (p: typeof sgd) => p.points[p.points.length - 1][2];
    expect(end(momentum)).toBeLessThan(end(sgd));
    expect(end(adam)).toBeLessThan(end(sgd));
  });

  it('every method leaves the saddle point for one of the two minima', () => {
    for (const p of comparePaths(SADDLE, SUGGESTED_RATES.saddle, 400)) {
      const [x, y] = p.points[p.points.length - 1];
      expect(Math.abs(x)).toBeLessThan(0.05);
      expect(Math.abs(Math.abs(y) - Math.SQRT2)).toBeLessThan(0.05);
    }
  });
});

describe('the training loop', () => {
  it('fits a linear model, stops early when validation stops improving, and restores the best weights', async () => {
    // y = 2x - 1 with noise; validation loss is scripted to get worse after epoch 3.
    const w = tf.variable(tf.zeros([1, 1]));
    const b = tf.variable(tf.zeros([1]));
    const xs = tf.linspace(-1, 1, 64).reshape([64, 1]);
    const ys = tf.sub(tf.mul(2, xs), 1);
    const scripted = [1.0, 0.5, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    let epochSeen = 0;
    const weightsAt: number[] = [];
    const result = await fit({
      weights: [w, b],
      optimizer: tf.train.sgd(0.1),
      epochs: 9,
      stepsPerEpoch: 4,
      patience: 3,
      progress: false,
      step: (_epoch, i) => {
        const x = tf.slice(xs, [i * 16, 0], [16, 1]);
        const y = tf.slice(ys, [i * 16, 0], [16, 1]);
        return { loss: mse(y, tf.add(tf.matMul(x, w), b)), size: 16 };
      },
      validate: () => {
        weightsAt.push(w.dataSync()[0]);
        return { loss: scripted[epochSeen++] };
      },
    });
    expect(result.history.length).toBe(6); // best at 3, then 3 epochs without improvement
    expect(result.stoppedEarly).toBe(true);
    expect(result.bestEpoch).toBe(3);
    expect(w.dataSync()[0]).toBeCloseTo(weightsAt[2], 6);
    expect(result.history[0].trainLoss).toBeGreaterThan(result.history[5].trainLoss);
    tf.dispose([w, b, xs, ys]);
  });

  it('counts correct predictions from logits', () => {
    const logits = tf.tensor2d([[1, 2], [3, 0], [0, 5]]);
    expect(countCorrect(logits, [1, 0, 0])).toBe(2);
    logits.dispose();
  });

  it('a non-finite loss stops training with an explanation', async () => {
    const w = tf.variable(tf.scalar(1));
    await expect(
      fit({ weights: [w], optimizer: tf.train.sgd(1), epochs: 1, stepsPerEpoch: 1, progress: false, step: () => ({ loss: tf.div(w, 0) as tf.Scalar, size: 1 }) }),
    ).rejects.toThrow(/learning rate/);
    w.dispose();
  });
});
