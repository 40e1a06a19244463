// Reading a GPT's internals: the attention patterns of every head, the logit lens (what the model
// would predict if it stopped after each block), and scores that name what a head does
// (attend to the previous token, to the first position, to itself, to the start of the word).
// Numbers only; the pictures are in src/viz/gpt-views.ts.
//
// Only types are imported from gpt.ts: the hooks modules display GPT traces and caches through
// the views, which come here, and a value import of gpt.ts would close an import cycle.
import { tf, type Tensor } from '../engine/tf';
import type { ActivationCache } from '../hooks/activation-cache';
import type { GPT } from '../models/gpt';

/** Every head's attention weights for one input (batch item 0), with the text of each position. */
export interface AttentionPatterns {
  /** The text of each position (tokenizer pieces). */
  tokens: string[];
  /** [layer][head][query_pos][key_pos]; row q sums to 1 over keys 0..q, keys after q are 0. */
  patterns: number[][][][];
}

/** Ids of batch item 0 from text, an id list, or a [1, pos] tensor. */
function idsOf(model: GPT, input: string | number[]): number[] {
  const ids = typeof input === 'string' ? model.tokenizer.encode(input) : input;
  if (ids.length === 0) throw new Error(`${model.name}: the input is empty; give at least one token.`);
  return ids;
}

/** Patterns of every block from a cache that holds `blocks.{i}.attn.hook_pattern` (batch item 0). */
export function attentionFromCache(cache: ActivationCache, tokens: string[]): AttentionPatterns {
  const names = cache.names.filter((n) => /^blocks\.\d+\.attn\.hook_pattern$/.test(n)).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
  if (names.length === 0) throw new Error(`This cache holds no attention patterns (blocks.{i}.attn.hook_pattern). Cached names: ${cache.names.join(', ') || '(none)'}.`);
  const patterns = names.map((name) => {
    const value = cache.get(name);
    if (value.rank !== 4 || value.shape[2] !== value.shape[3]) throw new Error(`${name} should be [batch, head, query_pos, key_pos], got [${value.shape}].`);
    return patternRows(value); // [head, query_pos, key_pos]
  });
  const positions = patterns[0][0].length;
  if (tokens.length !== positions) throw new Error(`The patterns cover ${positions} positions but ${tokens.length} tokens were given.`);
  return { tokens, patterns };
}

/** Run the model once and keep only the attention patterns. */
export function attentionPatterns(model: GPT, input: string | number[]): AttentionPatterns {
  const ids = idsOf(model, input);
  const names = Array.from({ length: model.config.nLayers }, (_, i) => `blocks.${i}.attn.hook_pattern`);
  const tokens = tf.tensor2d(ids, [1, ids.length], 'int32'); // [1, pos]
  try {
    const [logits, cache] = model.runWithCache(tokens, { names });
    logits.dispose();
    try {
      return attentionFromCache(cache, model.tokenizer.pieces(ids));
    } finally {
      cache.dispose();
    }
  } finally {
    tokens.dispose();
  }
}

// ---- logit lens -----------------------------------------------------------------------------

export interface LensPrediction {
  id: number;
  token: string;
  p: number;
}

/** What the model would predict at each position if the residual stream went straight to the unembedding after each block. */
export interface LogitLens {
  ids: number[];
  tokens: string[];
  /** One per row: "embed" (the residual stream before block 0), then "block 0" ... "block n-1" (after each block). */
  stages: string[];
  /** The hook each stage reads: blocks.0.hook_resid_pre, blocks.{i}.hook_resid_post. */
  hookNames: string[];
  /** [stage][pos]: the k most likely next tokens, most likely first. */
  top: LensPrediction[][][];
  /** [stage][pos]: probability of the token that really comes next (ids[pos + 1]); NaN at the last position. */
  nextTokenProb: number[][];
}

/**
 * The logit lens (nostalgebraist, 2020): apply the final LayerNorm and the unembedding to the
 * residual stream after every block, softmax, and read the top tokens. The last stage is exactly
 * the model's own output. The LayerNorm is ln_final's: (x - mean) / sqrt(biased var + eps) * w + b.
 */
export function logitLens(model: GPT, input: string | number[], options: { topK?: number } = {}): LogitLens {
  const ids = idsOf(model, input);
  const k = Math.max(1, Math.min(options.topK ?? 5, model.config.vocabSize));
  const { nLayers, dModel, vocabSize, layerNormEps } = model.config;
  const hookNames = ['blocks.0.hook_resid_pre', ...Array.from({ length: nLayers }, (_, i) => `blocks.${i}.hook_resid_post`)];
  const stages = ['embed', ...Array.from({ length: nLayers }, (_, i) => `block ${i}`)];
  const pos = ids.length;
  const input2d = tf.tensor2d(ids, [1, pos], 'int32'); // [1, pos]
  const [logits, cache] = model.runWithCache(input2d, { names: hookNames });
  try {
    const [values, indices, probs] = tf.tidy(() => {
      const stream = tf.concat(hookNames.map((n) => tf.reshape(cache.get(n), [pos, dModel])), 0); // [stage*pos, d_model]
      const mean = tf.mean(stream, -1, true); // [stage*pos, 1]
      const centered = tf.sub(stream, mean); // [stage*pos, d_model]
      const variance = tf.mean(tf.square(centered), -1, true); // [stage*pos, 1]
      const normalized = tf.add(tf.mul(tf.div(centered, tf.sqrt(tf.add(variance, layerNormEps))), model.weights['ln_final.w']), model.weights['ln_final.b']); // [stage*pos, d_model]
      const p = tf.softmax(model.unembed(normalized)); // [stage*pos, vocab]
      const best = tf.topk(p, k); // [stage*pos, k]
      const next = ids.slice(1).concat([0]); // the token after each position (a placeholder at the end)
      const picked = tf.sum(tf.mul(p, tf.oneHot(tf.tensor1d(hookNames.flatMap(() => next), 'int32'), vocabSize)), 1); // [stage*pos]
      return [best.values, best.indices, picked];
    });
    const topValues = values.dataSync();
    const topIndices = indices.dataSync();
    const nextP = probs.dataSync();
    tf.dispose([values, indices, probs]);
    const top = stages.map((_, s) =>
      Array.from({ length: pos }, (_, p) =>
        Array.from({ length: k }, (_, j) => {
          const id = topIndices[(s * pos + p) * k + j];
          return { id, token: model.tokenizer.pieces([id])[0], p: topValues[(s * pos + p) * k + j] };
        }),
      ),
    );
    const nextTokenProb = stages.map((_, s) => Array.from({ length: pos }, (_, p) => (p < pos - 1 ? nextP[s * pos + p] : NaN)));
    return { ids, tokens: model.tokenizer.pieces(ids), stages, hookNames, top, nextTokenProb };
  } finally {
    tf.dispose([input2d, logits]);
    cache.dispose();
  }
}

// ---- what a head does -----------------------------------------------------------------------

/** How much of its attention a head puts on a few recognisable targets (each a mean over query positions, 0..1). */
export interface HeadScores {
  layer: number;
  head: number;
  /** Weight on the key just before the query (q - 1), over queries 1..n-1. */
  previous: number;
  /** Weight on position 0, over queries 1..n-1 (a "resting place" when nothing else is relevant). */
  first: number;
  /** Weight on the query's own position, over queries 1..n-1. */
  self: number;
  /**
   * Weight on the first token of the word the query is in, over queries at least two tokens into
   * a word (so it does not double as the previous token; needs tokens).
   */
  wordStart: number;
  /**
   * Weight on the most recent whitespace token before the query, over queries at least two
   * tokens past it (so it does not double as the previous token; needs tokens).
   */
  lastSpace: number;
  /**
   * Weight on earlier copies of the query's own token (at least two back), over queries that
   * have one (a "duplicate token" head; needs tokens).
   */
  duplicate: number;
  /**
   * Weight on the tokens that followed earlier copies of the query's token, over queries that
   * have one: the induction pattern "…A B … A → look at B" that lets a model continue a repeat
   * (TransformerLens's induction heads; needs tokens).
   */
  induction: number;
  /** The same scores for a head that spreads its weight evenly over keys 0..q, on the same text. */
  uniform: Record<HeadPattern, number>;
  /** The score furthest above the uniform head's (what this head does more than chance), and its value. */
  best: { pattern: HeadPattern; score: number };
}

export type HeadPattern = 'previous' | 'first' | 'self' | 'wordStart' | 'lastSpace' | 'duplicate' | 'induction';
export const HEAD_PATTERNS: HeadPattern[] = ['previous', 'first', 'self', 'wordStart', 'lastSpace', 'duplicate', 'induction'];

function bestOf(scores: Record<HeadPattern, number>, uniform: Record<HeadPattern, number>): { pattern: HeadPattern; score: number } {
  const lift = (key: HeadPattern) => scores[key] - uniform[key];
  const ranked = HEAD_PATTERNS.filter((key) => Number.isFinite(scores[key])).sort((a, b) => lift(b) - lift(a));
  return ranked.length ? { pattern: ranked[0], score: scores[ranked[0]] } : { pattern: 'previous', score: NaN };
}

const isWhitespace = (token: string) => token.length > 0 && token.trim() === '';
/** A token starts a word when it begins with whitespace (GPT-2's " the") or follows a whitespace token (characters). */
const startsWord = (tokens: string[], i: number) => i === 0 || /^\s/.test(tokens[i]) || isWhitespace(tokens[i - 1]);

/**
 * Score every head of every layer for the patterns above, on one input's attention patterns
 * ([layer][head][query][key], as `attentionPatterns` returns). Without tokens, the scores that
 * read the text (wordStart, lastSpace, duplicate, induction) are NaN; a mean is NaN when no query
 * qualifies (e.g. a one-token input). `best` is judged against a uniform head on the same text,
 * because chance levels differ: in English characters, earlier copies of a letter hold ~9% of
 * the keys, the previous position only 1/(q+1).
 */
export function headPatternScores(attention: AttentionPatterns | { patterns: number[][][][]; tokens?: string[] }): HeadScores[] {
  const { patterns, tokens } = attention;
  const n = patterns[0]?.[0]?.length ?? 0;
  if (tokens && tokens.length !== n) throw new Error(`headPatternScores: ${n} positions but ${tokens.length} tokens.`);
  const targets = patternTargets(n, tokens);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  // A score: the weight a head puts on the pattern's keys, averaged over the queries that have any.
  const score = (rows: number[][]): Record<HeadPattern, number> =>
    Object.fromEntries(HEAD_PATTERNS.map((pattern) => [pattern, mean(rows.flatMap((r, q) => (targets[pattern][q].length ? [targets[pattern][q].reduce((sum, k) => sum + r[k], 0)] : [])))])) as Record<HeadPattern, number>;
  const uniform = score(Array.from({ length: n }, (_, q) => Array.from({ length: n }, (_, k) => (k <= q ? 1 / (q + 1) : 0))));
  const results: HeadScores[] = [];
  patterns.forEach((heads, layer) =>
    heads.forEach((rows, head) => {
      if (rows.length !== n || rows.some((r) => r.length !== n)) throw new Error(`headPatternScores: layer ${layer} head ${head} is not ${n} x ${n}.`);
      const scores = score(rows);
      results.push({ layer, head, ...scores, uniform, best: bestOf(scores, uniform) });
    }),
  );
  return results;
}

/**
 * For each pattern and each query position, the keys the pattern points at (empty when the query
 * does not qualify, e.g. position 0 has no previous token). Without tokens, the patterns that
 * read the text have no targets.
 */
export function patternTargets(n: number, tokens?: string[]): Record<HeadPattern, number[][]> {
  const none = () => Array.from({ length: n }, (): number[] => []);
  const targets: Record<HeadPattern, number[][]> = {
    previous: Array.from({ length: n }, (_, q) => (q >= 1 ? [q - 1] : [])),
    first: Array.from({ length: n }, (_, q) => (q >= 1 ? [0] : [])),
    self: Array.from({ length: n }, (_, q) => (q >= 1 ? [q] : [])),
    wordStart: none(),
    lastSpace: none(),
    duplicate: none(),
    induction: none(),
  };
  if (!tokens) return targets;
  let start = 0;
  let space = -1;
  for (let q = 0; q < n; q++) {
    const blank = isWhitespace(tokens[q]);
    if (!blank && startsWord(tokens, q)) start = q;
    // Two or more tokens into a word / past a space, so neither doubles as the previous token.
    if (!blank && q >= start + 2) targets.wordStart[q] = [start];
    if (!blank && space >= 0 && q >= space + 2) targets.lastSpace[q] = [space];
    if (blank) space = q;
    const copies = [...Array(Math.max(0, q - 1)).keys()].filter((k) => tokens[k] === tokens[q]); // earlier copies, at least two back
    targets.duplicate[q] = copies;
    targets.induction[q] = copies.map((k) => k + 1);
  }
  return targets;
}

/**
 * headPatternScores averaged over several texts, each run on its own: what a head habitually
 * does rather than what it did on one sentence. NaN scores (no qualifying query) are skipped.
 */
export function headScoresOver(model: GPT, texts: string[]): HeadScores[] {
  if (texts.length === 0) throw new Error('headScoresOver: give at least one text.');
  const runs = texts.map((t) => headPatternScores(attentionPatterns(model, t)));
  const average = (pick: (r: HeadScores) => Record<HeadPattern, number>, i: number) =>
    Object.fromEntries(HEAD_PATTERNS.map((key) => {
      const known = runs.map((r) => pick(r[i])[key]).filter((v) => Number.isFinite(v));
      return [key, known.length ? known.reduce((a, b) => a + b, 0) / known.length : NaN];
    })) as Record<HeadPattern, number>;
  return runs[0].map((first, i) => {
    const scores = average((r) => r, i);
    const uniform = average((r) => r.uniform, i);
    return { layer: first.layer, head: first.head, ...scores, uniform, best: bestOf(scores, uniform) };
  });
}

/** The tensor of one layer's pattern for batch item 0 as nested arrays (for views that take a tensor). */
export function patternRows(pattern: Tensor): number[][][] {
  if (pattern.rank !== 4) throw new Error(`An attention pattern is [batch, head, query_pos, key_pos]; got [${pattern.shape}].`);
  return tf.tidy(() => tf.squeeze(tf.slice(pattern, [0, 0, 0, 0], [1, -1, -1, -1]), [0]).arraySync() as number[][][]); // [head, query_pos, key_pos]
}
