// The baseline for language ID: multinomial naive Bayes over character n-grams (1..3 by default)
// of the word with boundary marks, "^ab" ... "yz$". Counting, no gradient descent: what an LSTM
// must beat to be worth its training.

export interface NgramConfig {
  /** Longest n-gram counted; every n from 1 to this is used. */
  maxN: number;
  /** Add-alpha (Laplace / Lidstone) smoothing: unseen n-grams get `alpha` pseudo-counts. */
  alpha: number;
}

export const NGRAM_DEFAULTS: NgramConfig = { maxN: 3, alpha: 0.5 };

/** The n-grams of one word, with '^' and '$' marking its start and end. */
export function charNgrams(word: string, maxN: number): string[] {
  const chars = ['^', ...word.normalize('NFC').toLowerCase(), '$'];
  const out: string[] = [];
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + n <= chars.length; i++) {
      const gram = chars.slice(i, i + n).join('');
      if (gram !== '^' && gram !== '$') out.push(gram);
    }
  }
  return out;
}

export class NgramNaiveBayes {
  readonly config: NgramConfig;
  readonly labels: string[];
  private counts: Map<string, number>[] = [];
  private totals: number[] = [];
  private priors: number[] = [];
  private vocabulary = new Set<string>();

  constructor(labels: string[], config: NgramConfig = NGRAM_DEFAULTS) {
    this.labels = labels;
    this.config = config;
  }

  /** Count n-grams per class. `labels[i]` indexes `this.labels`. */
  fit(words: string[], labels: number[]): this {
    const k = this.labels.length;
    this.counts = Array.from({ length: k }, () => new Map<string, number>());
    this.totals = new Array(k).fill(0);
    const perClass = new Array(k).fill(0);
    words.forEach((w, i) => {
      const c = labels[i];
      perClass[c]++;
      for (const g of charNgrams(w, this.config.maxN)) {
        this.counts[c].set(g, (this.counts[c].get(g) ?? 0) + 1);
        this.totals[c]++;
        this.vocabulary.add(g);
      }
    });
    this.priors = perClass.map((n) => Math.log((n + 1) / (words.length + k)));
    return this;
  }

  /** Log P(class) + sum log P(n-gram | class), per class. */
  scores(word: string): number[] {
    const v = this.vocabulary.size + 1;
    const { alpha } = this.config;
    const grams = charNgrams(word, this.config.maxN);
    return this.labels.map((_, c) => {
      const denom = Math.log(this.totals[c] + alpha * v);
      let s = this.priors[c];
      for (const g of grams) s += Math.log((this.counts[c].get(g) ?? 0) + alpha) - denom;
      return s;
    });
  }

  /** Posterior probabilities per class (softmax of the scores). */
  probabilities(word: string): number[] {
    const s = this.scores(word);
    const max = Math.max(...s);
    const e = s.map((x) => Math.exp(x - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / sum);
  }

  predict(word: string): number {
    const s = this.scores(word);
    return s.indexOf(Math.max(...s));
  }

  get ngramCount(): number {
    return this.vocabulary.size;
  }
}

/** Accuracy overall and per class of predictions against labels. */
export function accuracyReport(predicted: number[], labels: number[], classNames: string[]): { accuracy: number; n: number; perClass: Record<string, number> } {
  const correct = new Array(classNames.length).fill(0);
  const total = new Array(classNames.length).fill(0);
  predicted.forEach((p, i) => {
    total[labels[i]]++;
    if (p === labels[i]) correct[labels[i]]++;
  });
  const perClass: Record<string, number> = {};
  classNames.forEach((name, c) => (perClass[name] = total[c] ? correct[c] / total[c] : NaN));
  return { accuracy: correct.reduce((a, b) => a + b, 0) / Math.max(1, predicted.length), n: predicted.length, perClass };
}
