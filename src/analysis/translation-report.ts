// The measurements notebook 12 shows, computed once by scripts/train-translator.ts and saved to
// docs/measured/translation.json: BLEU of greedy decoding and of beam search on the held-out
// verses, and how well cross-attention aligns words compared with the translators' Strong's
// tagging, beside two aligners that never saw the model (diagonal, IBM Model 1).
import type { ParallelVerse } from '../data/translation';
import type { Translator } from '../models/translator';
import { pairedBootstrap, type PairedInterval } from './intervals';
import { corpusBleu, type BleuScore } from '../models/bleu';
import { argmaxLinks, corpusAlignmentScore, diagonalLinks, goldTargets, IbmModel1, type Link } from './translation';

/** Beam width of the "beam search" figures. */
export const BEAM_WIDTH = 4;

export interface AlignmentRow {
  /** e.g. "layer 1 head 2 (predicting)", "diagonal", "IBM Model 1". */
  method: string;
  kind: 'head' | 'layer-mean' | 'all-mean' | 'baseline';
  layer?: number;
  head?: number;
  /** 'predicting': the query whose output is English word j; 'reading': the query whose input is word j. */
  query?: 'predicting' | 'reading';
  precision: number;
  recall: number;
  /** AER of the pooled links of every verse. */
  aer: number;
  /** Mean over verses of each verse's AER (what the intervals compare). */
  meanVerseAer: number;
  /** Per-verse AER of this method minus the diagonal's, and minus IBM Model 1's (negative: better). */
  vsDiagonal?: PairedInterval;
  vsIbm1?: PairedInterval;
}

export interface TranslationMeasurements {
  bleu: { greedy: BleuScore; beam: BleuScore; beamWidth: number; n: number };
  /** The first verses' translations, for the notebook's examples. */
  examples: { ref: string; es: string[]; en: string[]; greedy: string[]; beam: string[] }[];
  alignment: { verses: number; goldLinks: number; rows: AlignmentRow[] };
}

/** Translate every held-out verse greedily and with a beam; score alignments per head against the gold links. */
export function measureTranslation(model: Translator, verses: ParallelVerse[], trainPairs: { spanish: string[]; english: string[] }[], onProgress: (done: number) => void = () => {}): TranslationMeasurements {
  const greedy = model.translateAll(verses.map((v) => v.es));
  const beam: string[][] = [];
  verses.forEach((v, i) => {
    beam.push(model.translate(v.es, { beamWidth: BEAM_WIDTH }).tokens);
    onProgress(i + 1);
  });
  const references = verses.map((v) => v.en);
  const bleu = { greedy: corpusBleu(greedy, references), beam: corpusBleu(beam, references), beamWidth: BEAM_WIDTH, n: verses.length };

  const aligned = verses.filter((v) => v.gold.length > 0);
  const ibm = IbmModel1.train(trainPairs);
  const { decoderLayers, nHeads } = model.config;
  const methods = new Map<string, { row: Omit<AlignmentRow, 'precision' | 'recall' | 'aer' | 'meanVerseAer'>; links: Link[][] }>();
  const add = (row: Omit<AlignmentRow, 'precision' | 'recall' | 'aer' | 'meanVerseAer'>, links: Link[]) => {
    if (!methods.has(row.method)) methods.set(row.method, { row, links: [] });
    methods.get(row.method)!.links.push(links);
  };
  for (const v of aligned) {
    const targets = goldTargets(v.gold);
    add({ method: 'diagonal', kind: 'baseline' }, diagonalLinks(v.es, v.en, targets));
    add({ method: 'IBM Model 1', kind: 'baseline' }, ibm.align(v.es, v.en, targets));
    const pattern = model.crossAttention(v.es, v.en); // [layer][head][English position + 1][Spanish position + 1]
    for (const query of ['predicting', 'reading'] as const) {
      const shift = query === 'predicting' ? 0 : 1; // row j predicts word j; row j + 1 reads it
      const rows = (weights: number[][]) => v.en.map((_, j) => weights[j + shift]);
      const mean = (grids: number[][][]) => grids[0].map((row, r) => row.map((_, c) => grids.reduce((s, g) => s + g[r][c], 0) / grids.length));
      for (let l = 0; l < decoderLayers; l++) {
        for (let h = 0; h < nHeads; h++) add({ method: `layer ${l} head ${h} (${query})`, kind: 'head', layer: l, head: h, query }, argmaxLinks(rows(pattern[l][h]), v.es, targets));
        add({ method: `layer ${l} mean of heads (${query})`, kind: 'layer-mean', layer: l, query }, argmaxLinks(rows(mean(pattern[l])), v.es, targets));
      }
      add({ method: `all layers and heads (${query})`, kind: 'all-mean', query }, argmaxLinks(rows(mean(pattern.flat())), v.es, targets));
    }
  }
  const gold = aligned.map((v) => v.gold);
  const scored = new Map([...methods].map(([name, m]) => [name, { row: m.row, score: corpusAlignmentScore(m.links, gold) }]));
  const diagonal = scored.get('diagonal')!.score.perVerseAer;
  const ibm1 = scored.get('IBM Model 1')!.score.perVerseAer;
  const mean = (a: Float64Array) => a.reduce((s, x) => s + x, 0) / a.length;
  const rows: AlignmentRow[] = [...scored.values()].map(({ row, score }) => ({
    ...row,
    precision: score.precision,
    recall: score.recall,
    aer: score.aer,
    meanVerseAer: mean(score.perVerseAer),
    ...(row.kind === 'baseline' && row.method === 'diagonal' ? {} : { vsDiagonal: pairedBootstrap(score.perVerseAer, diagonal) }),
    ...(row.method === 'IBM Model 1' ? {} : { vsIbm1: pairedBootstrap(score.perVerseAer, ibm1) }),
  }));
  const examples = verses.slice(0, 40).map((v, i) => ({ ref: v.ref, es: v.es, en: v.en, greedy: greedy[i], beam: beam[i] }));
  return { bleu, examples, alignment: { verses: aligned.length, goldLinks: gold.reduce((n, g) => n + g.length, 0), rows } };
}
