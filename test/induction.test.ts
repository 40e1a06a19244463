import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tf, initBackend, GPT, GPT_PRESETS, type GPTConfig, inductionStripeScores, uniformStripeScore, repeatedRandomTokens, inductionTest, inductionView, attentionPatterns } from '../src/index';
import { checkBundle } from './helpers/bundle';

/** A [q][k] causal pattern for `n` positions whose row q is built by `row(q)` (weights on keys 0..q). */
const patternOf = (n: number, row: (q: number) => number[]): number[][] =>
  Array.from({ length: n }, (_, q) => {
    const weights = row(q);
    return Array.from({ length: n }, (_, k) => (k <= q ? weights[k] : 0));
  });
const oneHotRow = (q: number, key: number) => Array.from({ length: q + 1 }, (_, k) => (k === key ? 1 : 0));
const uniformRow = (q: number) => Array.from({ length: q + 1 }, () => 1 / (q + 1));

describe('inductionStripeScores on hand-built patterns (period 3, 6 positions)', () => {
  // The second copy's queries are 3, 4, 5; an induction head reads keys 1, 2, 3 (q - 2).
  const induction = patternOf(6, (q) => (q >= 3 ? oneHotRow(q, q - 2) : uniformRow(q)));
  const previous = patternOf(6, (q) => (q >= 1 ? oneHotRow(q, q - 1) : [1]));
  const uniform = patternOf(6, uniformRow);
  const half = patternOf(6, (q) => (q >= 3 ? uniformRow(q).map((_, k) => (k === q - 2 ? 0.5 : k === q ? 0.5 : 0)) : uniformRow(q)));

  it('scores a perfect induction head 1, a previous-token head 0, a half-weight head 0.5', () => {
    const scores = inductionStripeScores([[induction, previous], [half, uniform]], 3);
    expect(scores[0][0]).toBeCloseTo(1, 12);
    expect(scores[0][1]).toBeCloseTo(0, 12);
    expect(scores[1][0]).toBeCloseTo(0.5, 12);
  });

  it('scores a uniform head (1/4 + 1/5 + 1/6) / 3 = 37/180, and uniformStripeScore agrees', () => {
    const byHand = (1 / 4 + 1 / 5 + 1 / 6) / 3; // 0.20555...
    expect(byHand).toBeCloseTo(37 / 180, 12);
    expect(inductionStripeScores([[uniform]], 3)[0][0]).toBeCloseTo(byHand, 12);
    expect(uniformStripeScore(3)).toBeCloseTo(byHand, 12);
  });

  it('only reads the second copy: changing first-copy rows changes nothing', () => {
    const other = patternOf(6, (q) => (q >= 3 ? oneHotRow(q, q - 2) : oneHotRow(q, 0)));
    expect(inductionStripeScores([[other]], 3)[0][0]).toBeCloseTo(1, 12);
  });

  it('refuses a pattern too short for the period, or a bad period, in one line', () => {
    expect(() => inductionStripeScores([[uniform]], 4)).toThrow(/needs 8/);
    expect(() => inductionStripeScores([[uniform]], 1)).toThrow(/period must be an integer >= 2/);
  });
});

describe('repeatedRandomTokens', () => {
  it('repeats each half exactly, stays in the vocabulary and follows its seed', () => {
    const rows = repeatedRandomTokens(7, 20, 3, 5);
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r).toHaveLength(40);
      expect(r.slice(20)).toEqual(r.slice(0, 20));
      expect(r.every((id) => Number.isInteger(id) && id >= 0 && id < 7)).toBe(true);
    }
    expect(repeatedRandomTokens(7, 20, 3, 5)).toEqual(rows);
    expect(repeatedRandomTokens(7, 20, 3, 6)).not.toEqual(rows);
    expect(new Set(rows[0]).size).toBeGreaterThan(3); // not a constant sequence
  });
});

describe('inductionTest on a small random GPT', () => {
  const ALPHABET = 'abcdefghij';
  let model: GPT;
  beforeAll(async () => {
    await initBackend();
    const config: GPTConfig = { ...GPT_PRESETS.tiny, vocabSize: ALPHABET.length, contextLength: 24, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 32, tokenizer: { kind: 'char', alphabet: ALPHABET } };
    model = new GPT(config, 'induction-gpt', 7);
    let seed = 70;
    for (const w of Object.values(model.weights)) w.assign(tf.tidy(() => tf.randomNormal(w.shape, 0, 0.5, 'float32', ++seed))); // far from uniform attention
    model.forward(model.encode('a')).dispose(); // builds the cached W_E transpose before any tensor count
  });
  afterAll(() => model.dispose());

  it('scores heads from the same patterns attentionPatterns reads, and the loss from the logits by hand', () => {
    const before = tf.memory().numTensors;
    const result = inductionTest(model, { period: 8, sequences: 1, seed: 3 });
    expect(tf.memory().numTensors).toBe(before);
    const ids = repeatedRandomTokens(ALPHABET.length, 8, 1, 3)[0];
    const reference = inductionStripeScores(attentionPatterns(model, ids).patterns, 8);
    expect(result.heads.map((h) => h.score)).toEqual(reference.flat().map((v) => expect.closeTo(v, 6)));
    expect(result.best.score).toBeCloseTo(Math.max(...reference.flat()), 6);

    // Loss at each position: -log softmax(logits at p - 1)[token p], in plain JavaScript.
    const logits = tf.tidy(() => model.forward(tf.tensor2d(ids, [1, 16], 'int32')).arraySync() as number[][][])[0];
    const byHand = ids.slice(1).map((target, i) => {
      const row = logits[i];
      const top = Math.max(...row);
      const logSum = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
      return logSum - row[target];
    });
    expect(result.lossByPosition).toHaveLength(15);
    result.lossByPosition.forEach((v, i) => expect(v).toBeCloseTo(byHand[i], 4));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(result.lossFirstHalf).toBeCloseTo(mean(byHand.slice(0, 7)), 4); // tokens 1..7
    expect(result.lossSecondHalf).toBeCloseTo(mean(byHand.slice(8)), 4); // tokens 9..15
    expect(result.uniformLoss).toBeCloseTo(Math.log(10), 12);
    expect(result.bestPattern).toHaveLength(16);
  });

  it('repeats given halves (real text) and checks them', () => {
    const halves = [model.tokenizer.encode('abcdefgh'), model.tokenizer.encode('jihgfedc')];
    const result = inductionTest(model, { halves });
    expect(result.source).toBe('given');
    expect(result.period).toBe(8);
    expect(result.sequences).toBe(2);
    expect(() => inductionTest(model, { halves: [[1, 2, 3], [1, 2]] })).toThrow(/same length/);
    expect(() => inductionTest(model, { halves: [[1, 2, 99]] })).toThrow(/token id 99 is outside/);
  });

  it('refuses a period whose repeat does not fit the context, in one line', () => {
    expect(() => inductionTest(model, { period: 13 })).toThrow(/period must be an integer from 2 to 12/);
  });

  it('draws a four-part bundle at most 900 px wide', async () => {
    const bundle = await inductionView(inductionTest(model, { period: 8, sequences: 2 }));
    checkBundle(bundle);
    const width = Number(/^<svg [^>]*width="([\d.]+)"/.exec(bundle['image/svg+xml']!)![1]);
    expect(width).toBeLessThanOrEqual(900);
    expect(bundle['text/plain']).toMatch(/stripe score = mean attention from query q to key q - 7/);
  });
});
