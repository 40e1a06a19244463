/**
 * Uncertainty of a difference between two models measured on the same held-out examples.
 *
 * Two models scored on the same n examples give two paired vectors (1/0 for right/wrong, or a
 * per-example loss). Their difference in mean is a number; whether it is more than the luck of
 * which examples happened to be held out is what the paired bootstrap answers: resample the n
 * examples with replacement (the same indices for both models, which keeps the pairing),
 * recompute the mean difference, repeat, and read the 2.5th and 97.5th percentiles of those
 * resampled differences. An interval that contains 0 means the data cannot tell the two apart.
 */
import { seededRandom } from '../data/random';

export interface PairedBootstrapOptions {
  /** How many resamples of the n examples (default 2000). */
  resamples?: number;
  /** Seed of the resampling (default 0): the same inputs and seed give the same interval. */
  seed?: number;
  /** Coverage of the interval (default 0.95: the 2.5th to 97.5th percentile). */
  level?: number;
}

export interface PairedInterval {
  /** Mean of a, mean of b, and mean(a) - mean(b) on all n examples. */
  meanA: number;
  meanB: number;
  diff: number;
  /** Percentile interval of the resampled mean differences. */
  lo: number;
  hi: number;
  level: number;
  n: number;
  resamples: number;
  /** Examples where a and b differ (for 0/1 scores: the discordant pairs, what drives the width). */
  discordant: number;
  /** True when the interval excludes 0: the difference is larger than resampling noise. */
  excludesZero: boolean;
}

/** The q-quantile (0..1) of sorted values, linear between order statistics (R's type 7). */
function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Paired bootstrap of mean(a) - mean(b), where a[i] and b[i] are two models' scores on the same
 * example i. Returns the difference on all examples and its percentile interval.
 */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, options: PairedBootstrapOptions = {}): PairedInterval {
  const n = a.length;
  if (n !== b.length) throw new Error(`pairedBootstrap: a has ${n} examples and b has ${b.length}; they must be the same examples`);
  if (n === 0) throw new Error('pairedBootstrap: no examples');
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new Error(`pairedBootstrap: level must be in (0, 1), got ${level}`);
  const d = new Float64Array(n);
  let sumA = 0;
  let sumB = 0;
  let discordant = 0;
  for (let i = 0; i < n; i++) {
    d[i] = a[i] - b[i];
    sumA += a[i];
    sumB += b[i];
    if (d[i] !== 0) discordant++;
  }
  const random = seededRandom(options.seed ?? 0);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += d[Math.floor(random() * n)];
    means[r] = s / n;
  }
  means.sort();
  const lo = quantileSorted(means, (1 - level) / 2);
  const hi = quantileSorted(means, 1 - (1 - level) / 2);
  return {
    meanA: sumA / n,
    meanB: sumB / n,
    diff: (sumA - sumB) / n,
    lo,
    hi,
    level,
    n,
    resamples,
    discordant,
    excludesZero: lo > 0 || hi < 0,
  };
}

/** One line for a notebook: "+0.35 points [95% -0.10, +0.80] (n = 2000, 27 discordant): not distinguishable". Scores in 0..1 print as points (x100) unless `scale` says otherwise; `digits` after the point. */
export function formatInterval(r: PairedInterval, scale = 100, unit = 'points', digits = 2): string {
  const f = (v: number) => `${v * scale >= 0 ? '+' : ''}${(v * scale).toFixed(digits)}`;
  const verdict = r.excludesZero ? 'the interval excludes 0' : 'the interval contains 0: not distinguishable';
  return `${f(r.diff)} ${unit} [${Math.round(r.level * 100)}% ${f(r.lo)}, ${f(r.hi)}] (n = ${r.n}, ${r.discordant} differ): ${verdict}`;
}
