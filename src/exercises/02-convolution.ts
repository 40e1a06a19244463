// Notebook 02 (convolutional networks): exercises 02.1-02.2. Weight sharing counted (what a dense
// layer of the same connectivity would cost), and the receptive-field recurrence carried one layer
// further than the notebook's table. Both by hand from the layer shapes.
import type { ExerciseSpec } from './exercise';

export const CONVOLUTION_EXERCISES: ExerciseSpec[] = [
  {
    id: '02.1',
    title: 'What weight sharing saves',
    question:
      '`conv.1` maps the pooled `[13, 13, 8]` maps to `[11, 11, 16]` with 3·3·8·16 = 1,152 shared weights. ' +
      'A fully connected layer from every one of the 13·13·8 inputs to every one of the 11·11·16 outputs would need how many weights (no biases)?',
    answerForm: 'a number (weights)',
    expected: 13 * 13 * 8 * (11 * 11 * 16), // 1,352 inputs x 1,936 outputs
    tolerance: { rel: 0.001 },
    mistakes: [
      { answer: 3 * 3 * 8 * 16, hint: 'that is the convolution\'s own count, with the weights shared; the question asks for a layer where every input-output pair has its own weight.' },
      { answer: 11 * 11 * 16 * 3 * 3 * 8, hint: 'that gives each output its own 3x3x8 window of weights (a locally connected layer); fully connected means every output sees all inputs.' },
      { answer: 28 * 28 * (11 * 11 * 16), hint: 'conv.1 reads the pooled maps of conv.0, not the image.' },
    ],
    hint: 'count inputs (height x width x channels of conv.0.hook_pool) and outputs (of conv.1.hook_conv); a dense layer has one weight per pair.',
    explanation:
      '1,352 inputs x 1,936 outputs = 2,617,472 weights, 2,272 times the 1,152 the convolution uses. Sharing one small filter across ' +
      'all positions is what keeps a CNN small, and it is also why a shifted digit gives shifted feature maps.',
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
