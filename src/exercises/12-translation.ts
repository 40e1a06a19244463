// Notebook 12 (translation): exercises 12.1-12.3. The brevity penalty of BLEU, the alignment
// error rate of a small alignment, and how many candidates one step of beam search scores.
import type { ExerciseSpec } from './exercise';

export const TRANSLATION_EXERCISES: ExerciseSpec[] = [
  {
    id: '12.1',
    title: 'The brevity penalty',
    question:
      'BLEU multiplies the geometric mean of the n-gram precisions by a brevity penalty, exp(1 - r/c), when the output has c tokens and ' +
      'the reference r > c (else 1). A translation of 8 tokens is scored against a reference of 10 tokens. What is its brevity penalty?',
    answerForm: 'a number between 0 and 1',
    expected: Math.exp(1 - 10 / 8),
    mistakes: [
      { answer: 8 / 10, hint: 'that is the length ratio itself; the penalty is an exponential of it.' },
      { answer: Math.exp(1 - 8 / 10), hint: 'r is the reference length and c the output length: r/c, not c/r (the penalty is below 1).' },
      { answer: 1, hint: 'the penalty is 1 only when the output is at least as long as the reference.' },
      { answer: Math.exp(-10 / 8), hint: 'exp(1 - r/c): the 1 inside the exponent is missing.' },
    ],
    hint: 'r/c = 10/8; the penalty is exp(1 - r/c).',
    explanation:
      'exp(1 - 10/8) = exp(-0.25) = 0.779: an output 20% shorter than its reference loses 22% of its BLEU, whatever its precision. ' +
      'Without it, a one-word output that is right would score a perfect precision.',
  },
  {
    id: '12.2',
    title: 'Alignment error rate',
    question:
      'The translators\' gold alignment of a verse has 6 links. An aligner proposes 5 links, of which 4 are among the gold ones. ' +
      'With every gold link counted as sure, AER = 1 - 2|A ∩ G| / (|A| + |G|). What is the AER?',
    answerForm: 'a number between 0 and 1',
    expected: 1 - (2 * 4) / (5 + 6),
    mistakes: [
      { answer: 1 - 4 / 5, hint: 'that is 1 - precision; AER also counts the gold links the aligner missed.' },
      { answer: 1 - 4 / 6, hint: 'that is 1 - recall; AER also counts the proposed links that are wrong.' },
      { answer: (2 * 4) / (5 + 6), hint: 'that is the agreement (F1); the error rate is 1 minus it.' },
    ],
    hint: '|A ∩ G| = 4, |A| = 5, |G| = 6.',
    explanation:
      '1 - 8/11 = 0.273. With sure links only, AER is 1 - F1 (the harmonic mean of precision 4/5 and recall 4/6): trading ' +
      'precision for recall alone does not game it; only proposing more right links and fewer wrong ones lowers it.',
  },
  {
    id: '12.3',
    title: 'One step of beam search',
    question:
      'The translator\'s English vocabulary has 4,000 tokens. With a beam of width 4, each step extends the 4 kept prefixes by every ' +
      'possible next token and keeps the 4 best of the results. How many (prefix, next token) candidates are scored at each step after the first?',
    answerForm: 'a number (candidates)',
    expected: 4 * 4000,
    tolerance: { rel: 0, abs: 1e-9 },
    mistakes: [
      { answer: 4000, hint: 'that is one prefix; the beam keeps 4 of them, each extended by every token.' },
      { answer: 16, hint: 'each prefix keeps its 4 best tokens before the comparison, but all 4,000 of each are scored to find them.' },
      { answer: 4, hint: 'that is how many survive the step, not how many are compared.' },
      { answer: 4000 ** 4, hint: 'that would be every 4-token sentence; the beam keeps only 4 prefixes from one step to the next.' },
    ],
    hint: 'width x vocabulary.',
    explanation:
      '4 x 4,000 = 16,000 scores, from one decoder pass over 4 prefixes (a batch of 4): a beam costs about width times greedy decoding, ' +
      'against 4,000^n for every sentence of n tokens. Greedy decoding is the beam of width 1.',
  },
];
