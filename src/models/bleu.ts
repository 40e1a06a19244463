// BLEU (Papineni et al. 2002), how good a translation is, as sacreBLEU computes corpus_bleu on
// already-tokenised text (tokenize='none', smooth_method='exp'): clipped n-gram matches for
// n = 1..4 summed over the corpus, precision p_n = matches_n / total_n, geometric mean of the
// four, times the brevity penalty exp(1 - r/c) when the output (c tokens) is shorter than the
// references (r tokens). The registry's figure of the translator.

/** N-gram statistics of one sentence pair: matches and totals for n = 1..4, and the two lengths. */
export interface BleuStats {
  matches: number[];
  totals: number[];
  hypothesisLength: number;
  referenceLength: number;
}

function ngramCounts(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0001');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Clipped n-gram matches of a hypothesis against one reference (n = 1..4). */
export function bleuStats(hypothesis: string[], reference: string[]): BleuStats {
  const matches: number[] = [];
  const totals: number[] = [];
  for (let n = 1; n <= 4; n++) {
    const hyp = ngramCounts(hypothesis, n);
    const ref = ngramCounts(reference, n);
    let match = 0;
    for (const [gram, count] of hyp) match += Math.min(count, ref.get(gram) ?? 0); // clipped: a reference n-gram counts at most as often as it occurs
    matches.push(match);
    totals.push(Math.max(0, hypothesis.length - n + 1));
  }
  return { matches, totals, hypothesisLength: hypothesis.length, referenceLength: reference.length };
}

export interface BleuScore {
  /** 0..100, as sacreBLEU prints it. */
  bleu: number;
  /** p_1..p_4 in percent. */
  precisions: number[];
  brevityPenalty: number;
  hypothesisLength: number;
  referenceLength: number;
}

/** Corpus BLEU from summed statistics (sacreBLEU's compute_bleu with 'exp' smoothing, order 4). */
export function bleuFromStats(stats: BleuStats[]): BleuScore {
  const matches = [0, 0, 0, 0];
  const totals = [0, 0, 0, 0];
  let c = 0;
  let r = 0;
  for (const s of stats) {
    for (let n = 0; n < 4; n++) {
      matches[n] += s.matches[n];
      totals[n] += s.totals[n];
    }
    c += s.hypothesisLength;
    r += s.referenceLength;
  }
  const precisions = [0, 0, 0, 0];
  let smooth = 1;
  for (let n = 0; n < 4; n++) {
    if (totals[n] === 0) break; // no n-grams of this order at all: the score is 0
    if (matches[n] === 0) {
      smooth *= 2; // 'exp' smoothing: 1 / (2^k total) for the k-th order without a match
      precisions[n] = 100 / (smooth * totals[n]);
    } else precisions[n] = (100 * matches[n]) / totals[n];
  }
  const brevityPenalty = c < r ? (c > 0 ? Math.exp(1 - r / c) : 0) : 1;
  const logMean = precisions.reduce((sum, p) => sum + (p > 0 ? Math.log(p) : -9999999999), 0) / 4;
  return { bleu: brevityPenalty * Math.exp(logMean), precisions, brevityPenalty, hypothesisLength: c, referenceLength: r };
}

/** Corpus BLEU of tokenised hypotheses against one tokenised reference each. */
export function corpusBleu(hypotheses: string[][], references: string[][]): BleuScore {
  if (hypotheses.length !== references.length) throw new Error(`corpusBleu: ${hypotheses.length} hypotheses but ${references.length} references; give one reference per hypothesis.`);
  if (hypotheses.length === 0) throw new Error('corpusBleu: no sentences.');
  return bleuFromStats(hypotheses.map((h, i) => bleuStats(h, references[i])));
}
