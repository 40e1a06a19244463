// Notebook 07 (quantization): exercises 07.1-07.3. The int8 step of a symmetric grid, the 6 dB per
// bit rule, and what one outlier costs a per-tensor grid: all by hand (the tests check the first
// two against the library's quantize functions).
import type { ExerciseSpec } from './exercise';

export const QUANTIZATION_EXERCISES: ExerciseSpec[] = [
  {
    id: '07.1',
    title: 'The int8 step',
    question:
      'A weight tensor holds values from -0.2 to 0.6. Quantized to int8 symmetrically (zero maps to 0, the grid is -127..127 times one ' +
      'scale), what is the scale: the distance between two neighbouring representable values?',
    answerForm: 'a number (the scale)',
    expected: 0.6 / 127,
    tolerance: { rel: 0.002 },
    mistakes: [
      { answer: 0.8 / 255, hint: 'that is the asymmetric grid (min to max over 256 levels); the symmetric one spans -max|w|..max|w|.' },
      { answer: 0.6 / 128, hint: 'symmetric int8 uses -127..127, so that zero sits in the middle: 127 steps each side.' },
      { answer: 0.6 / 255, hint: 'the 255 levels span -0.6..0.6, not 0..0.6.' },
      { answer: 1.2 / 256, hint: 'symmetric int8 uses -127..127 (255 levels, 254 steps).' },
    ],
    hint: 'the symmetric grid must reach the largest magnitude, max|w|, with 127 steps.',
    explanation:
      'max|w| = 0.6 and 127 steps give 0.6 / 127 = 0.00472, so any weight is off by at most 0.00236. The asymmetric grid (0.8 / 255 = 0.00314) ' +
      'is finer here, because the symmetric one wastes the codes between -0.6 and -0.2.',
  },
  {
    id: '07.2',
    title: 'Four bits fewer',
    question:
      'A layer\'s weights quantized to 8 bits have an SQNR of 38 dB. With the same grid rule at 4 bits, about what SQNR do you expect?',
    answerForm: 'a number (dB)',
    // A symmetric grid has 127 steps each side at 8 bits and 7 at 4: the step grows 127/7 = 18.1x (25.2 dB); the
    // 6.02-dB-per-bit rule (16x, 24.1 dB) is within the tolerance.
    expected: 38 - 20 * Math.log10(127 / 7),
    tolerance: { abs: 1.2, rel: 0 },
    mistakes: [
      { answer: 19, hint: 'dB do not scale with the number of bits; each bit removed doubles the step.' },
      { answer: 34, hint: 'each bit is worth about 6 dB, not 1.' },
      { answer: 38 - 4 * 3.01, hint: 'halving the step halves the noise amplitude, which is 6 dB of power (20 log10 2), not 3.' },
      { answer: 38 / 16, hint: 'the noise grows 16-fold in amplitude, but SQNR is in dB: subtract, do not divide.' },
    ],
    hint: 'removing one bit doubles the quantization step, so the noise RMS doubles: how many dB is that?',
    explanation:
      'about 13-14 dB. Each bit halves the step (6.02 dB per bit: 24.1 dB for 4 bits, 13.9 dB left); exactly, a symmetric grid ' +
      'has 127 steps each side at 8 bits and 7 at 4, a step 18.1 times larger: 20 log10(127/7) = 25.2 dB, so 12.8 dB, as notebook 07\'s ' +
      'weights lose 25.2-25.7 dB. The rule holds while the noise stays uniform over the step; at very few bits, rounding to zero makes it worse.',
  },
  {
    id: '07.3',
    title: 'What one outlier costs',
    question:
      'In a per-tensor int8 grid, one output channel\'s weights lie within ±0.05 while the tensor\'s largest weight (an outlier in another channel) ' +
      'is 0.5. Compared with quantizing that channel with its own scale (per channel), how many dB of SQNR does it lose?',
    answerForm: 'a number (dB lost)',
    expected: 20 * Math.log10(0.5 / 0.05),
    tolerance: { abs: 0.3, rel: 0 },
    mistakes: [
      { answer: 10, hint: 'a 10 times larger step is 10 times more noise amplitude: SQNR is a power ratio, so that is 20 log10 10.' },
      { answer: 0, hint: 'per-tensor quantization uses one scale for all channels, set by the largest weight anywhere in the tensor.' },
      { answer: 40, hint: 'the step is 10 times larger, i.e. the noise power is 100 times larger: 20 dB, not 40.' },
    ],
    hint: 'the step is set by the largest weight: compare the per-tensor step with the channel\'s own step.',
    explanation:
      'the step is 0.5/127 instead of 0.05/127, ten times coarser: 20 log10 10 = 20 dB less for that channel, while the signal is ' +
      'unchanged. That is the case for per-channel scales, and why layers with outliers suffer most from per-tensor quantization.',
  },
];
