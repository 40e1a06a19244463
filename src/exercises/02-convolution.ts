// Notebook 02 (convolutional networks): exercises 02.1-02.2. Weight sharing counted (how many times
// a shared weight is used: the multiply-adds of a wider filter), and the receptive-field recurrence carried one layer
// further than the notebook's table. Both by hand from the layer shapes.
import type { ExerciseSpec } from './exercise';

export const CONVOLUTION_EXERCISES: ExerciseSpec[] = [
  {
    id: '02.1',
    title: 'How often a shared weight is used',
    question:
      '`conv.1` reads the pooled `[13, 13, 8]` maps with 16 filters of 3x3x8 (valid padding, stride 1). Suppose its filters were 5x5x8 ' +
      'instead. How many multiply-adds would the layer do for one digit (biases left out)?',
    answerForm: 'a number (multiply-adds)',
    expected: (13 - 5 + 1) * (13 - 5 + 1) * 16 * (5 * 5 * 8), // 9x9 positions x 16 filters x 200 weights each
    tolerance: { rel: 0.001 },
    mistakes: [
      { answer: 11 * 11 * 16 * (5 * 5 * 8), hint: 'a 5x5 window fits in fewer positions than a 3x3 one: with valid padding the output is 13 - 5 + 1 wide.' },
      { answer: 2 * 9 * 9 * 16 * (5 * 5 * 8), hint: 'that counts FLOPs (a multiply and an add each); the question asks for multiply-adds.' },
      { answer: 5 * 5 * 8 * 16, hint: 'that is the number of weights; each weight is used once at every output position.' },
      { answer: 9 * 9 * 16 * (5 * 5), hint: 'each filter reads all 8 input channels: 5x5x8 values per output.' },
    ],
    hint: 'multiply-adds = output positions x filters x weights per filter; find the output size first.',
    explanation:
      'the output is 9x9x16 = 1,296 values, each a sum over 5·5·8 = 200 products: 259,200 multiply-adds from 3,200 weights, each ' +
      'weight used 81 times per digit. The 3x3 layer does 121 x 16 x 72 = 139,392 with 1,152 weights: a larger filter costs more per ' +
      'position but fits fewer positions. Weight reuse is why a convolution has few parameters and much arithmetic.',
  },
  {
    id: '02.2',
    title: 'One more convolution: its receptive field',
    question:
      'The notebook\'s table ends at `conv.1.hook_pool` with a receptive field of 10x10 pixels and a jump of 4. ' +
      'Add a third 3x3 convolution (stride 1) after it. How many input pixels wide is the receptive field of one of its units?',
    answerForm: 'a number (pixels, the side of the square)',
    expected: 10 + (3 - 1) * 4, // rf += (kernel - 1) * jump
    tolerance: { rel: 0, abs: 1e-9 },
    mistakes: [
      { answer: 12, hint: 'neighbouring units of conv.1.hook_pool are 4 input pixels apart (the jump), not 1: each extra kernel step widens the field by the jump.' },
      { answer: 30, hint: 'a 3x3 window over units that are 4 pixels apart adds 2 steps of 4 pixels; it does not multiply the field by 3.' },
      { answer: 40, hint: 'the field grows by (kernel - 1) x jump, added to the field so far, not multiplied.' },
      { answer: 14, hint: 'the window spans kernel - 1 = 2 extra units, not 1.' },
    ],
    hint: 'use the recurrence from the notebook: rf += (kernel - 1) x jump, with the jump that conv.1.hook_pool has.',
    explanation:
      'rf = 10 + (3 - 1) x 4 = 18 pixels: most of the 28x28 digit. Every pooling doubles the jump, so each layer after it widens ' +
      'the field faster; that is how a few small filters come to see the whole input.',
  },
];
