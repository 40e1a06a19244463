// Notebook 03 (recurrent networks): exercises 03.1-03.2. The LSTM's parameter count from its four
// gates (checked in the tests against the shipped 64-unit model), and how fast a forget gate below
// 1 erases the cell: the reason distant characters fade in an RNN.
import type { ExerciseSpec } from './exercise';

/** Weights of an LSTM layer: four gates, each with an input kernel, a recurrent kernel and a bias. */
export function lstmLayerParameters(inputSize: number, units: number): number {
  return 4 * (units * (inputSize + units) + units);
}

export const RECURRENT_EXERCISES: ExerciseSpec[] = [
  {
    id: '03.1',
    title: 'A wider LSTM',
    question:
      'The language-ID LSTM has 64 units on 16-number character embeddings. Its recurrent layer alone would have how many ' +
      'parameters with 128 units instead (same embeddings)?',
    answerForm: 'a number (parameters of the LSTM layer)',
    expected: lstmLayerParameters(16, 128),
    tolerance: { rel: 0.0001 },
    mistakes: [
      { answer: 4 * 128 * (16 + 128), hint: 'close: each of the four gates also has one bias per unit.' },
      { answer: 128 * (16 + 128) + 128, hint: 'that is one gate; an LSTM computes four (input, forget, candidate, output) from the same x and h.' },
      { answer: 3 * (128 * (16 + 128) + 128), hint: 'three gate blocks is a GRU; the LSTM has four.' },
      { answer: 4 * (128 * 16 + 128), hint: 'each gate also reads the previous hidden state h (128 numbers): the recurrent kernel U.' },
      { answer: 2 * lstmLayerParameters(16, 64), hint: 'the recurrent kernel is units x units, so doubling the units does more than double the count.' },
    ],
    hint: 'each of the 4 gates has a kernel for x (input size x units), one for h (units x units) and a bias (units).',
    explanation:
      '4 x (128 x (16 + 128) + 128) = 74,240, 3.6 times the 20,736 of 64 units: the recurrent kernel grows with the square of the width. ' +
      'The same formula gives the shipped model\'s 20,736.',
  },
  {
    id: '03.2',
    title: 'How long does the cell remember?',
    question:
      'The LSTM\'s forget gate averages about 0.745 after "s" in "schmetterling". Suppose one unit\'s forget gate stays at 0.745 ' +
      'and its input gate at 0 for the next 10 characters. What fraction of its cell value c is left after those 10 steps?',
    answerForm: 'a number (between 0 and 1)',
    expected: 0.745 ** 10, // c_t = f * c_{t-1} + i * g with i = 0
    mistakes: [
      { answer: 1 - 10 * (1 - 0.745), hint: 'the forget gate multiplies the cell at every step; the losses compound rather than add.' },
      { answer: 0.255 ** 10, hint: 'the forget gate is the fraction kept, not the fraction forgotten.' },
      { answer: 0.745, hint: 'that is one step; the gate applies at each of the 10 characters.' },
      { answer: 0.745 ** 11, hint: 'count the steps again: 10 characters, 10 multiplications.' },
    ],
    hint: 'with the input gate at 0, c_t = f x c_(t-1): write it out for 10 steps.',
    explanation:
      '0.745^10 = 0.053: about 5% is left. To carry something 50 characters a unit needs a forget gate very close to 1 (0.99^50 = 0.6), ' +
      'and every step squeezes the whole past through the same small state: what notebook 04\'s attention avoids.',
  },
];
