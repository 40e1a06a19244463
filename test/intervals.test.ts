/**
 * The paired bootstrap, checked against cases whose answer is known without the code:
 * a constant difference, a two-example case enumerated by hand, and the normal approximation
 * for a large sample of 0/1 scores.
 */
import { describe, expect, it } from 'vitest';
import { correctnessVector, formatInterval, pairedBootstrap } from '../src/analysis/intervals';

describe('pairedBootstrap', () => {
  it('gives a zero-width interval when every pair differs by the same amount', () => {
    const a = [3, 5, 7, 9, 11];
    const b = a.map((v) => v - 2);
    const r = pairedBootstrap(a, b, { resamples: 500, seed: 1 });
    expect(r.diff).toBeCloseTo(2, 12);
    expect(r.lo).toBeCloseTo(2, 12);
    expect(r.hi).toBeCloseTo(2, 12);
    expect(r.excludesZero).toBe(true);
  });

  it('matches the hand enumeration for two examples with differences 0 and 1', () => {
    // A resample of two examples has mean difference 0 (p 1/4), 0.5 (p 1/2) or 1 (p 1/4):
    // the 2.5th percentile is 0 and the 97.5th is 1, and the interval contains 0.
    const r = pairedBootstrap([1, 1], [1, 0], { resamples: 4000, seed: 7 });
    expect(r.diff).toBe(0.5);
    expect(r.lo).toBe(0);
    expect(r.hi).toBe(1);
    expect(r.discordant).toBe(1);
    expect(r.excludesZero).toBe(false);
  });

  it('agrees with the normal approximation for 0/1 scores on many examples', () => {
    // 2000 paired examples: a right and b wrong on 60, b right and a wrong on 40, equal elsewhere.
    const n = 2000;
    const a = new Uint8Array(n);
    const b = new Uint8Array(n);
    for (let i = 0; i < 60; i++) a[i] = 1;
    for (let i = 60; i < 100; i++) b[i] = 1;
    for (let i = 100; i < 1800; i++) { a[i] = 1; b[i] = 1; }
    const r = pairedBootstrap(a, b, { resamples: 4000, seed: 3 });
    expect(r.diff).toBeCloseTo(0.01, 12); // (60 - 40) / 2000
    // Variance of one difference d in {-1, 0, 1}: E[d^2] - E[d]^2 = 100/2000 - 0.01^2.
    const se = Math.sqrt((100 / n - 0.01 ** 2) / n);
    expect(r.lo).toBeCloseTo(0.01 - 1.96 * se, 3);
    expect(r.hi).toBeCloseTo(0.01 + 1.96 * se, 3);
  });

  it('is reproducible with a seed and rejects unpaired inputs', () => {
    const a = [1, 0, 1, 1, 0, 1, 0, 1];
    const b = [0, 0, 1, 0, 1, 1, 0, 0];
    expect(pairedBootstrap(a, b, { seed: 5 })).toEqual(pairedBootstrap(a, b, { seed: 5 }));
    expect(() => pairedBootstrap([1, 2], [1])).toThrow(/same examples/);
  });

  it('builds correctness from mistakes and formats a verdict', () => {
    expect(Array.from(correctnessVector({ n: 4, mistakes: [{ index: 1 }, { index: 3 }] }))).toEqual([1, 0, 1, 0]);
    const text = formatInterval(pairedBootstrap([1, 1], [1, 0], { resamples: 1000 }));
    expect(text).toMatch(/^\+50\.00 points \[95% \+0\.00, \+100\.00\]/);
    expect(text).toMatch(/not distinguishable/);
  });
});
