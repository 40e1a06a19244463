// Notebook 00 (the primer): exercises 00.1-00.3. Each answer is a number the learner computes by
// hand; the expected values are written as the formula that gives them, and each known slip
// (the probability for the logit, the wrong logarithm, power for amplitude) has its own hint.
import type { ExerciseSpec } from './exercise';

const LN2 = Math.log(2);

export const PRIMER_EXERCISES: ExerciseSpec[] = [
  {
    id: '00.1',
    title: 'Which logit gives a loss of ln 2?',
    question:
      'A classifier has three classes a, b, c. Its logits are [z, 1, -1] and the true class is a. ' +
      'For which value of z is the cross-entropy loss exactly ln 2 = 0.693 nats?',
    answerForm: 'a number (the logit z)',
    expected: Math.log(Math.E + Math.exp(-1)), // softmax(z)_a = 1/2  <=>  e^z = e^1 + e^-1
    mistakes: [
      { answer: 0.5, hint: 'that is the probability of class a the loss asks for; the question wants the logit z that produces it.' },
      { answer: LN2, hint: 'that is the loss itself; the question wants the logit z that gives that loss.' },
      { answer: 1, hint: 'with z = 1 the logits of a and b tie, but class c still takes a share: every class is in the softmax denominator.' },
      { answer: Math.log10(Math.E + Math.exp(-1)), hint: 'close in form, but the base is wrong: softmax uses e^z, so undo it with the natural logarithm.' },
    ],
    hint: 'a loss of ln 2 means softmax gives class a probability 1/2, so e^z must equal the sum of the other two exponentials.',
    explanation:
      'a loss of ln 2 needs p(a) = 1/2, i.e. e^z = e^1 + e^-1 = 3.086, so z = ln 3.086 = 1.127. ' +
      'The logit of the true class has to beat the others by enough to take half of the total.',
  },
  {
    id: '00.2',
    title: 'Bits per character to perplexity',
    question:
      'Notebook 04\'s tiny GPT scores 1.193 nats per character on its held-out text (perplexity 3.30). ' +
      'Another model reports 1.6 bits per character on the same text. What is its perplexity?',
    answerForm: 'a number (the perplexity)',
    expected: 2 ** 1.6, // e^(1.6 ln 2)
    mistakes: [
      { answer: Math.exp(1.6), hint: 'e^x turns nats into a perplexity, but 1.6 is in bits: convert it to nats first (x ln 2), or raise 2 to it.' },
      { answer: 1.6 * LN2, hint: 'that is the loss in nats per character. Perplexity is e to the power of the loss in nats.' },
      { answer: 1.6 / LN2, hint: 'that divides by ln 2, which turns nats into bits; here the 1.6 is already bits.' },
      { answer: 10 ** 1.6, hint: 'a perplexity is base^loss with the base of the loss\'s own logarithm: bits go with 2.' },
    ],
    hint: 'perplexity is e^(loss in nats), which is the same number as 2^(loss in bits).',
    explanation:
      '2^1.6 = e^(1.6 x 0.693) = e^1.109 = 3.03. That is below the tiny GPT\'s 3.30: the other model is better, ' +
      'although 1.6 looks larger than 1.193 (1.193 nats are 1.72 bits). Compare losses only in the same unit.',
  },
  {
    id: '00.3',
    title: 'What 40 dB means for the error',
    question:
      'Quantizing a layer to int8 leaves its output with an SQNR of 40 dB against the float32 output. ' +
      'How large is the typical error compared with the typical value: the RMS (root mean square) of the noise divided by the RMS of the signal?',
    answerForm: 'a number (noise RMS / signal RMS)',
    expected: 10 ** (-40 / 20), // power ratio 10^-4, amplitudes are its square root
    mistakes: [
      { answer: 1e-4, hint: 'that is the ratio of the powers (mean squares). RMS is the square root of a power.' },
      { answer: 100, hint: 'that is signal over noise; the question asks for noise over signal.' },
      { answer: 1e4, hint: 'that is signal power over noise power; the question asks for noise RMS over signal RMS.' },
      { answer: 0.4, hint: 'decibels are logarithmic: 40 dB is not 40 parts in a hundred.' },
    ],
    hint: 'SQNR in dB is 10 log10(signal power / noise power); undo the logarithm, then remember that power is RMS squared.',
    explanation:
      '40 dB is a power ratio of 10^4; RMS is the square root of power, so the noise RMS is 10^-2 = 1% of the signal RMS. ' +
      'Every 20 dB is another factor of 10 in amplitude.',
  },
];
