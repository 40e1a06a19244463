// Gradient descent you can watch: 2-D loss surfaces (two weights, one loss) and the paths that
// SGD, momentum, RMSProp and Adam take on them. Plain numbers, no tensors: each update rule is a
// few lines you can read, written as tf.train's optimizers compute them (tested against them).

/** A loss over two weights, with its gradient and the region worth drawing. */
export interface Surface {
  name: string;
  /** The formula, for titles. */
  formula: string;
  f(x: number, y: number): number;
  grad(x: number, y: number): [number, number];
  /** [[xMin, xMax], [yMin, yMax]] */
  domain: [[number, number], [number, number]];
  /** Where the minimum is, if it has one (a saddle's floor is elsewhere). */
  minimum?: [number, number];
  /** A start point that shows the surface's difficulty. */
  start: [number, number];
}

/** A convex bowl, 10x steeper along w2 than along w1: plain SGD zig-zags across the valley. */
export const BOWL: Surface = {
  name: 'convex bowl',
  formula: 'L = 0.5·w1² + 5·w2²',
  f: (x, y) => 0.5 * x * x + 5 * y * y,
  grad: (x, y) => [x, 10 * y],
  domain: [[-4, 4], [-2.5, 2.5]],
  minimum: [0, 0],
  start: [-3.5, 2],
};

/** Rosenbrock's banana valley: easy to find the valley, slow to walk along its curved floor. */
export const ROSENBROCK: Surface = {
  name: 'Rosenbrock',
  formula: 'L = (1 - w1)² + 100·(w2 - w1²)²',
  f: (x, y) => (1 - x) ** 2 + 100 * (y - x * x) ** 2,
  grad: (x, y) => [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
  domain: [[-2, 2], [-1, 3]],
  minimum: [1, 1],
  start: [-1.5, 2],
};

/**
 * A saddle at the origin (a minimum along w1, a maximum along w2) with two real minima at
 * (0, ±√2). Starting almost on the ridge, the gradient across it is tiny: escaping takes time.
 */
export const SADDLE: Surface = {
  name: 'saddle',
  formula: 'L = w1² - w2² + w2⁴/4',
  f: (x, y) => x * x - y * y + (y ** 4) / 4,
  grad: (x, y) => [2 * x, -2 * y + y ** 3],
  domain: [[-2, 2], [-2.2, 2.2]],
  minimum: [0, Math.SQRT2],
  start: [-1.8, 0.01],
};

export const SURFACES = { bowl: BOWL, rosenbrock: ROSENBROCK, saddle: SADDLE } as const;

export type OptimizerName = 'sgd' | 'momentum' | 'rmsprop' | 'adam';

export interface OptimizerSettings {
  method: OptimizerName;
  learningRate: number;
  /** Momentum coefficient (momentum; default 0.9). */
  momentum?: number;
  /** RMSProp's decay of the mean square (default 0.9). */
  decay?: number;
  /** Adam's moment decays (defaults 0.9, 0.999). */
  beta1?: number;
  beta2?: number;
  /** Added for numerical safety (tfjs's float32 default 1e-7). */
  epsilon?: number;
}

/** Where an optimizer went: [w1, w2, loss] after each step, the start first. */
export interface OptimizerPath {
  label: string;
  settings: OptimizerSettings;
  points: [number, number, number][];
  /** True when the weights blew up (loss not finite or far outside the picture). */
  diverged: boolean;
}

/**
 * One optimizer's path from `start`, `steps` updates. The update rules are tf.train's:
 *   sgd       w -= lr·g
 *   momentum  v = μ·v + g;                  w -= lr·v
 *   rmsprop   s = ρ·s + (1-ρ)·g²;           w -= lr·g / sqrt(s + ε)
 *   adam      m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;  w -= lr·m̂ / (sqrt(v̂) + ε), m̂ = m/(1-β1^t), v̂ = v/(1-β2^t)
 */
export function optimizerPath(surface: Surface, settings: OptimizerSettings, steps: number, start: [number, number] = surface.start, label?: string): OptimizerPath {
  const { method, learningRate: lr } = settings;
  const mu = settings.momentum ?? 0.9;
  const rho = settings.decay ?? 0.9;
  const b1 = settings.beta1 ?? 0.9;
  const b2 = settings.beta2 ?? 0.999;
  const eps = settings.epsilon ?? 1e-7;
  let w = [start[0], start[1]];
  const v = [0, 0]; // momentum velocity / Adam's first moment
  const s = [0, 0]; // RMSProp's / Adam's mean square
  const points: [number, number, number][] = [[w[0], w[1], surface.f(w[0], w[1])]];
  let diverged = false;
  for (let t = 1; t <= steps; t++) {
    const g = surface.grad(w[0], w[1]);
    const next = [0, 1].map((k) => {
      switch (method) {
        case 'sgd':
          return w[k] - lr * g[k];
        case 'momentum':
          v[k] = mu * v[k] + g[k];
          return w[k] - lr * v[k];
        case 'rmsprop':
          s[k] = rho * s[k] + (1 - rho) * g[k] * g[k];
          return w[k] - (lr * g[k]) / Math.sqrt(s[k] + eps);
        case 'adam': {
          v[k] = b1 * v[k] + (1 - b1) * g[k];
          s[k] = b2 * s[k] + (1 - b2) * g[k] * g[k];
          const mHat = v[k] / (1 - b1 ** t);
          const sHat = s[k] / (1 - b2 ** t);
          return w[k] - (lr * mHat) / (Math.sqrt(sHat) + eps);
        }
      }
    });
    w = next;
    const loss = surface.f(w[0], w[1]);
    const [[x0, x1], [y0, y1]] = surface.domain;
    const far = Math.abs(w[0]) > 100 * Math.max(Math.abs(x0), Math.abs(x1)) || Math.abs(w[1]) > 100 * Math.max(Math.abs(y0), Math.abs(y1));
    if (!Number.isFinite(loss) || far) {
      diverged = true;
      points.push([w[0], w[1], Number.isFinite(loss) ? loss : Infinity]);
      break;
    }
    points.push([w[0], w[1], loss]);
  }
  return { label: label ?? `${method} lr=${lr}`, settings, points, diverged };
}

/** Learning rates that work for each optimizer on each surface (found by trying; see the notebook). */
export const SUGGESTED_RATES: Record<keyof typeof SURFACES, Record<OptimizerName, number>> = {
  bowl: { sgd: 0.15, momentum: 0.04, rmsprop: 0.03, adam: 0.3 },
  rosenbrock: { sgd: 0.001, momentum: 0.0005, rmsprop: 0.005, adam: 0.1 },
  saddle: { sgd: 0.05, momentum: 0.02, rmsprop: 0.05, adam: 0.1 },
};

/** The four optimizers on one surface from the same start, each at its own learning rate. */
export function comparePaths(surface: Surface, rates: Record<OptimizerName, number>, steps: number, start: [number, number] = surface.start): OptimizerPath[] {
  return (['sgd', 'momentum', 'rmsprop', 'adam'] as OptimizerName[]).map((method) => optimizerPath(surface, { method, learningRate: rates[method] }, steps, start));
}
