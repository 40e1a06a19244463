// Induction heads, tested the way the TransformerLens tutorials do: feed a sequence of `period`
// random tokens followed by the same tokens again. In the second copy, the token after the
// previous occurrence of the current token is the next one, so a model with an induction head
// ("... A B ... A -> look at B, predict B") predicts the repeat far better than the first copy,
// and that head's attention from query i sits on key i - (period - 1): a stripe period - 1 below
// the diagonal. Random tokens take away every other cue (no words, no grammar), so the stripe and
// the loss drop can only come from matching earlier copies.
//
// headPatternScores' `induction` score (gpt-analysis.ts) measures the same idea on any text
// (weight on what followed every earlier copy of the query's token); this is the controlled test
// with one exact target per query.
//
// Only types are imported from gpt.ts (see gpt-analysis.ts for why).
import { tf } from '../engine/tf';
import { seededRandom } from '../data/random';
import type { GPT } from '../models/gpt';
import { patternRows } from './gpt-analysis';

/**
 * Each head's mean attention on the induction target, over the second copy of a sequence made of
 * `period` tokens repeated: for queries q = period .. 2*period - 1, the weight on key
 * q - (period - 1) (the token after the previous occurrence of the query's token).
 * `patterns` is [layer][head][query_pos][key_pos] of one sequence of at least 2*period positions.
 * Returns [layer][head], each 0..1.
 */
export function inductionStripeScores(patterns: number[][][][], period: number): number[][] {
  if (!Number.isInteger(period) || period < 2) throw new Error(`inductionStripeScores: period must be an integer >= 2, got ${period}.`);
  return patterns.map((heads, layer) =>
    heads.map((rows, head) => {
      if (rows.length < 2 * period) throw new Error(`inductionStripeScores: layer ${layer} head ${head} has ${rows.length} query positions; a sequence repeated once needs ${2 * period}.`);
      let sum = 0;
      for (let q = period; q < 2 * period; q++) sum += rows[q][q - period + 1];
      return sum / period;
    }),
  );
}

/** A uniform head's stripe score (weight 1/(q+1) on each key 0..q): the chance level of inductionStripeScores. */
export function uniformStripeScore(period: number): number {
  let sum = 0;
  for (let q = period; q < 2 * period; q++) sum += 1 / (q + 1);
  return sum / period;
}

/** `count` sequences of `period` random ids in 0..vocabSize-1 (uniform, seeded), each followed by itself: [count][2*period]. */
export function repeatedRandomTokens(vocabSize: number, period: number, count: number, seed = 0): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const half = Array.from({ length: period }, () => Math.floor(random() * vocabSize));
    return [...half, ...half];
  });
}

export interface InductionHead {
  layer: number;
  head: number;
  /** Mean weight on key q - (period - 1) over the second copy's queries, averaged over the sequences. */
  score: number;
}

export interface InductionTest {
  model: string;
  /** 'random' tokens, or 'given' halves (options.halves). */
  source: 'random' | 'given';
  /** Random tokens in each half; the sequence is 2 x period long. */
  period: number;
  sequences: number;
  /** Seed of the random tokens (unused for given halves). */
  seed: number;
  /** Every head, in layer then head order. */
  heads: InductionHead[];
  /** The head with the highest score. */
  best: InductionHead;
  /** What a head spreading its weight evenly would score (uniformStripeScore). */
  uniformScore: number;
  /** The best head's attention on the first sequence, [query_pos][key_pos]. */
  bestPattern: number[][];
  /** Mean loss of predicting the token at position p (nats), p = 1 .. 2*period - 1 (index 0 is p = 1). */
  lossByPosition: number[];
  /** Mean loss over predicting tokens 1 .. period - 1 (the first copy: nothing to copy from). */
  lossFirstHalf: number;
  /** Mean loss over predicting tokens period + 1 .. 2*period - 1 (the second copy, each with its earlier occurrence and the token before it in view). */
  lossSecondHalf: number;
  /** ln(vocab size): the loss of a uniform guess over the vocabulary. */
  uniformLoss: number;
}

export interface InductionTestOptions {
  /** Random tokens in each half (default 50, as in the TransformerLens tutorial). */
  period?: number;
  /** How many repeated sequences (default 8). */
  sequences?: number;
  /** Seed of the random tokens (default 0). */
  seed?: number;
  /** First halves to repeat instead of random tokens (e.g. passages of real text): equal-length id lists; period and sequences follow from them. */
  halves?: number[][];
}

/**
 * Run the repeated-random-tokens test on a GPT: `sequences` sequences (default 8) of `period`
 * random tokens (default 50, as in the TransformerLens tutorial) repeated once, or the given
 * halves (real text, say) repeated once. Returns every head's stripe score, the loss per
 * position, and the losses of each half.
 */
export function inductionTest(model: GPT, options: InductionTestOptions = {}): InductionTest {
  const { vocabSize, contextLength, nLayers } = model.config;
  const given = options.halves;
  if (given && (given.length === 0 || given.some((h) => h.length !== given[0].length))) throw new Error('inductionTest: halves must be one or more id lists of the same length.');
  const period = given ? given[0].length : options.period ?? 50;
  const count = given ? given.length : options.sequences ?? 8;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(count) || count < 1) throw new Error(`inductionTest: sequences must be a positive integer, got ${count}.`);
  if (!Number.isInteger(period) || period < 2 || 2 * period > contextLength) throw new Error(`inductionTest: period must be an integer from 2 to ${Math.floor(contextLength / 2)} (twice it must fit ${model.name}'s context of ${contextLength}), got ${period}.`);
  const bad = given?.flat().find((id) => !(Number.isInteger(id) && id >= 0 && id < vocabSize));
  if (bad !== undefined) throw new Error(`inductionTest: token id ${bad} is outside ${model.name}'s vocabulary 0..${vocabSize - 1}.`);
  const rows = given ? given.map((h) => [...h, ...h]) : repeatedRandomTokens(vocabSize, period, count, seed);
  const length = 2 * period;
  const ids = tf.tensor2d(rows.flat(), [count, length], 'int32'); // [seq, 2*period]
  const names = Array.from({ length: nLayers }, (_, i) => `blocks.${i}.attn.hook_pattern`);
  const [logits, cache] = model.runWithCache(ids, { names });
  try {
    const sums = Array.from({ length: nLayers }, (_, l) => new Array<number>(model.headsIn(l)).fill(0));
    let firstPattern: number[][][][] = [];
    for (let s = 0; s < count; s++) {
      const patterns = names.map((name) => {
        const one = tf.slice(cache.get(name), [s, 0, 0, 0], [1, -1, -1, -1]); // [1, head, query_pos, key_pos]
        try {
          return patternRows(one); // [head][query][key] of sequence s
        } finally {
          one.dispose();
        }
      });
      if (s === 0) firstPattern = patterns;
      inductionStripeScores(patterns, period).forEach((heads, l) => heads.forEach((v, h) => (sums[l][h] += v / count)));
    }
    const heads = sums.flatMap((row, layer) => row.map((score, head) => ({ layer, head, score })));
    const best = heads.reduce((a, b) => (b.score > a.score ? b : a));
    const lossByPosition = tf.tidy(() => {
      const logProbs = tf.logSoftmax(tf.slice(logits, [0, 0, 0], [count, length - 1, vocabSize])); // [seq, 2*period-1, vocab]: predictions of tokens 1..
      const targets = tf.oneHot(tf.slice(ids, [0, 1], [count, length - 1]), vocabSize); // [seq, 2*period-1, vocab]
      return Array.from(tf.neg(tf.mean(tf.sum(tf.mul(logProbs, targets), -1), 0)).dataSync()); // [2*period-1]
    });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      model: model.name,
      source: given ? 'given' : 'random',
      period,
      sequences: count,
      seed,
      heads,
      best,
      uniformScore: uniformStripeScore(period),
      bestPattern: firstPattern[best.layer][best.head],
      lossByPosition,
      lossFirstHalf: mean(lossByPosition.slice(0, period - 1)), // tokens 1 .. period-1
      lossSecondHalf: mean(lossByPosition.slice(period)), // tokens period+1 .. 2*period-1
      uniformLoss: Math.log(vocabSize),
    };
  } finally {
    tf.dispose([ids, logits]);
    cache.dispose();
  }
}
