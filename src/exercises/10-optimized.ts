// Notebook 10 (optimized vs original): exercises 10.1-10.2. How two independent errors combine
// (powers add, not dBs), and how much a faster kernel speeds up the whole (Amdahl's law).
import type { ExerciseSpec } from './exercise';

const db = (ratio: number) => 10 * Math.log10(ratio);

export const OPTIMIZED_EXERCISES: ExerciseSpec[] = [
  {
    id: '10.1',
    title: 'Pruned, then quantized: do the errors add?',
    question:
      'Pruning alone leaves the logits with an SQNR of 30 dB; int8 quantization alone 40 dB. If the two errors are independent, what SQNR ' +
      'do you expect with both?',
    answerForm: 'a number (dB)',
    expected: -db(10 ** (-30 / 10) + 10 ** (-40 / 10)), // independent noises add their powers
    tolerance: { abs: 0.1, rel: 0 },
    mistakes: [
      { answer: 70, hint: 'adding dB multiplies the ratios; independent noises add their powers.' },
      { answer: 35, hint: 'the noise powers add; the average of two dB values has no meaning here.' },
      { answer: 30, hint: 'close: the 40 dB noise is a tenth of the 30 dB one, so it costs a little, not nothing.' },
      { answer: 10, hint: 'subtracting dB values divides the ratios; add the noise powers instead.' },
    ],
    hint: 'turn each SQNR into a noise-to-signal power ratio, add them, turn the sum back into dB.',
    explanation:
      'noise powers 10^-3 + 10^-4 = 1.1 x 10^-3 of the signal: 29.6 dB. The larger error dominates; a second optimization that is 10 dB ' +
      'cleaner costs only 0.4 dB. (Errors that interact, such as quantizing weights that pruning made larger, can do worse.)',
  },
  {
    id: '10.2',
    title: 'A faster kernel, a slower whole',
    question:
      'A model spends 70% of its time in matrix multiplications. int8 kernels make the matmuls 1.6x faster (ONNX Runtime on this machine) ' +
      'and leave the rest unchanged. How much faster is the whole model?',
    answerForm: 'a number (the overall speed-up, e.g. 1.2)',
    expected: 1 / (0.3 + 0.7 / 1.6),
    tolerance: { rel: 0.005 },
    mistakes: [
      { answer: 1.6, hint: 'only 70% of the time gets faster; the other 30% takes as long as before.' },
      { answer: 0.3 + 0.7 * 1.6, hint: 'work in time: the matmul time is divided by 1.6, then add the unchanged 30%.' },
      { answer: 1 + 0.7 * 0.6, hint: 'speed-ups do not scale linearly with the share: add up the new times, then invert.' },
    ],
    hint: 'new time = 0.3 + 0.7 / 1.6 of the old; the speed-up is old time / new time.',
    explanation:
      '0.3 + 0.4375 = 0.7375 of the old time: 1.36x (Amdahl\'s law). Notebook 10\'s speed-ups are smaller than the kernel\'s for this reason: ' +
      'everything that is not a matmul (dispatch, activations, softmax) stays.',
  },
];
