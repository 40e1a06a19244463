// How good a word alignment is, and three ways to make one (a model's attention, the diagonal,
// IBM Model 1). BLEU, how good a translation is, lives with the models (src/models/bleu.ts): the
// registry scores the translator with it.
//
// Alignment: a set of links (Spanish position i, English position j). Against gold links G, a
// predicted set A has precision |A n G| / |A|, recall |A n G| / |G| and alignment error rate
// AER = 1 - 2|A n G| / (|A| + |G|) (Och and Ney 2003 with every gold link "sure").
import { isWordToken } from '../data/translation';

// ---- alignment -------------------------------------------------------------------------------

/** A link: (Spanish position, English position). */
export type Link = [number, number];

export interface AlignmentScore {
  precision: number;
  recall: number;
  aer: number;
  predicted: number;
  gold: number;
  correct: number;
}

/** Precision, recall and AER of predicted links against gold links (all gold links sure). */
export function alignmentScore(predicted: Link[], gold: Link[]): AlignmentScore {
  const goldSet = new Set(gold.map(([i, j]) => `${i},${j}`));
  const predictedSet = new Set(predicted.map(([i, j]) => `${i},${j}`));
  let correct = 0;
  for (const link of predictedSet) if (goldSet.has(link)) correct++;
  const a = predictedSet.size;
  const g = goldSet.size;
  return { precision: a ? correct / a : 0, recall: g ? correct / g : 0, aer: a + g ? 1 - (2 * correct) / (a + g) : 0, predicted: a, gold: g, correct };
}

/** Corpus scores: links of every verse pooled (AER of the pooled counts), and the per-verse AER of each verse. */
export function corpusAlignmentScore(predicted: Link[][], gold: Link[][]): AlignmentScore & { perVerseAer: Float64Array } {
  let a = 0;
  let g = 0;
  let correct = 0;
  const perVerseAer = new Float64Array(predicted.length);
  predicted.forEach((p, v) => {
    const s = alignmentScore(p, gold[v]);
    a += s.predicted;
    g += s.gold;
    correct += s.correct;
    perVerseAer[v] = s.aer;
  });
  return { precision: a ? correct / a : 0, recall: g ? correct / g : 0, aer: a + g ? 1 - (2 * correct) / (a + g) : 0, predicted: a, gold: g, correct, perVerseAer };
}

/** English positions that have at least one gold link: the words the translators tagged, which every aligner is asked to link. */
export function goldTargets(gold: Link[]): number[] {
  return [...new Set(gold.map(([, j]) => j))].sort((a, b) => a - b);
}

/**
 * One link per asked English position j: to the Spanish position with the largest weight in
 * `weights[j]` (rows: English positions, columns: Spanish positions). No link when that
 * position is punctuation or </s> (outside `spanish`, which has no </s>).
 */
export function argmaxLinks(weights: number[][], spanish: string[], targets: number[]): Link[] {
  const links: Link[] = [];
  for (const j of targets) {
    const row = weights[j];
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    if (best < spanish.length && isWordToken(spanish[best])) links.push([best, j]);
  }
  return links;
}

/** The diagonal baseline: English position j of m tokens links to Spanish position round(j (n-1) / (m-1)) of n tokens. */
export function diagonalLinks(spanish: string[], english: string[], targets: number[]): Link[] {
  const n = spanish.length;
  const m = english.length;
  const links: Link[] = [];
  for (const j of targets) {
    const i = m > 1 ? Math.round((j * (n - 1)) / (m - 1)) : 0;
    if (isWordToken(spanish[i])) links.push([i, j]);
  }
  return links;
}

/**
 * IBM Model 1 (Brown et al. 1993): t(english word | spanish word or NULL), learned by EM from
 * sentence pairs alone (no positions, no attention). Each English word then links to the Spanish
 * word that most likely produced it (none when NULL wins).
 */
export class IbmModel1 {
  /** t(e | f) as nested maps: f -> e -> probability. */
  private readonly t = new Map<string, Map<string, number>>();
  static readonly NULL = '<null>';

  /** Learn from pairs of word-token sentences with `iterations` rounds of EM, starting uniform. */
  static train(pairs: { spanish: string[]; english: string[] }[], iterations = 5): IbmModel1 {
    const model = new IbmModel1();
    const words = (s: string[]) => s.filter(isWordToken);
    const data = pairs.map((p) => ({ f: [IbmModel1.NULL, ...words(p.spanish)], e: words(p.english) }));
    const englishVocab = new Set(data.flatMap((d) => d.e));
    const uniform = 1 / englishVocab.size;
    for (const d of data) for (const f of d.f) {
      let row = model.t.get(f);
      if (!row) model.t.set(f, (row = new Map()));
      for (const e of d.e) row.set(e, uniform);
    }
    for (let it = 0; it < iterations; it++) {
      const counts = new Map<string, Map<string, number>>();
      const totals = new Map<string, number>();
      for (const d of data) {
        for (const e of d.e) {
          let z = 0;
          for (const f of d.f) z += model.t.get(f)!.get(e)!;
          for (const f of d.f) {
            const c = model.t.get(f)!.get(e)! / z; // E step: the share of e explained by f
            let row = counts.get(f);
            if (!row) counts.set(f, (row = new Map()));
            row.set(e, (row.get(e) ?? 0) + c);
            totals.set(f, (totals.get(f) ?? 0) + c);
          }
        }
      }
      for (const [f, row] of counts) {
        const total = totals.get(f)!;
        const tRow = model.t.get(f)!;
        for (const [e, c] of row) tRow.set(e, c / total); // M step: renormalise per Spanish word
      }
    }
    return model;
  }

  /** t(e | f), 0 for a pair never seen together. */
  probability(english: string, spanish: string): number {
    return this.t.get(spanish)?.get(english) ?? 0;
  }

  /** Links for the asked English positions: each to its most likely Spanish word (ties: nearest the diagonal); none when NULL is likelier. */
  align(spanish: string[], english: string[], targets: number[]): Link[] {
    const links: Link[] = [];
    const n = spanish.length;
    const m = english.length;
    for (const j of targets) {
      let best = -1;
      let bestP = this.probability(english[j], IbmModel1.NULL);
      const diagonal = m > 1 ? (j * (n - 1)) / (m - 1) : 0;
      for (let i = 0; i < n; i++) {
        if (!isWordToken(spanish[i])) continue;
        const p = this.probability(english[j], spanish[i]);
        if (p > bestP || (p === bestP && best >= 0 && Math.abs(i - diagonal) < Math.abs(best - diagonal))) {
          best = i;
          bestP = p;
        }
      }
      if (best >= 0) links.push([best, j]);
    }
    return links;
  }
}
