/**
 * The paired bootstrap, checked against cases whose answer is known without the code:
 * a constant difference, a two-example case enumerated by hand, and the normal approximation
 * for a large sample of 0/1 scores.
 */
import { describe, expect, it } from 'vitest';
import { formatInterval, pairedBootstrap } from '../src/analysis/intervals';
import { correctnessVector } from '../src/models/evaluate';

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

describe('compare of two language models: a paired interval on the loss difference over windows', () => {
  it('equals the hand computation from each window\'s logits: the mean difference, and with 3 windows the smallest and largest window difference as the 95% bounds', async () => {
    const lab = await import('../src/index');
    await lab.initBackend();
    const original = lab.loadModel('tiny-gpt-student-scratch') as InstanceType<typeof lab.GPT>;
    const variant = lab.loadModel('tiny-gpt-student-distilled') as InstanceType<typeof lab.GPT>;
    try {
      const context = original.config.contextLength;
      const text = [...lab.readHeldOutText(lab.assetsDir() + '/tiny-gpt')].slice(0, 3 * context + 1).join('');
      const report = await lab.compare(original, [{ label: 'distilled', model: variant }], { data: { kind: 'text', text, source: 'three windows' } });
      // By hand: each window's mean of -log softmax(logits)[target], from the model's own logits.
      const ids = original.tokenizer.encode(text);
      const windowLoss = (model: typeof original, w: number) => {
        const input = lab.tf.tensor2d(ids.slice(w * context, (w + 1) * context), [1, context], 'int32'); // [1, pos]
        const logits = model.forward(input); // [1, pos, vocab]
        const rows = (logits.arraySync() as number[][][])[0];
        lab.tf.dispose([input, logits]);
        let sum = 0;
        rows.forEach((row, p) => {
          const max = Math.max(...row);
          sum += max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - row[ids[w * context + p + 1]];
        });
        return sum / context;
      };
      const d = [0, 1, 2].map((w) => windowLoss(variant, w) - windowLoss(original, w));
      const diff = report.variants[0].difference!;
      expect(report.original.difference).toBeNull();
      expect(diff.n).toBe(3);
      expect(diff.diff).toBeCloseTo((d[0] + d[1] + d[2]) / 3, 4);
      expect(diff.diff).toBeCloseTo(report.variants[0].metric - report.original.metric, 5);
      // 3 windows resampled: all three the same window has probability 1/27 = 3.7% each, above 2.5%,
      // so the 2.5th and 97.5th percentiles are the smallest and largest single-window difference.
      expect(diff.lo).toBeCloseTo(Math.min(...d), 4);
      expect(diff.hi).toBeCloseTo(Math.max(...d), 4);
      expect(diff.excludesZero).toBe(Math.min(...d) > 0 || Math.max(...d) < 0);
    } finally {
      original.dispose();
      variant.dispose();
    }
  }, 300_000);
});
