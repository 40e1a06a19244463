// Notebook 06 (training): exercises 06.1-06.2. The stability limit of SGD on a different bowl than
// the notebook's (lr < 2 / largest curvature), and the cross-entropy gradient on a logit
// (softmax minus one-hot), both by hand.
import type { ExerciseSpec } from './exercise';

export const TRAINING_EXERCISES: ExerciseSpec[] = [
  {
    id: '06.1',
    title: 'The largest stable learning rate',
    question:
      'Plain SGD on the bowl L = 2·w1² + 0.5·w2² (not the notebook\'s). Above what learning rate does it diverge?',
    answerForm: 'a number (the learning rate at the limit)',
    expected: 2 / 4, // curvatures d2L/dw1^2 = 4, d2L/dw2^2 = 1; stable iff |1 - lr * 4| < 1
    mistakes: [
      { answer: 2 / 1, hint: 'that is the limit along w2; the steepest direction (largest curvature) diverges first.' },
      { answer: 1, hint: 'the curvature along w1 is the second derivative of 2·w1², which is 4, not 2.' },
      { answer: 0.2, hint: 'that is the notebook\'s bowl (curvature 10); this one is gentler.' },
      { answer: 1 / 4, hint: 'at lr = 1/4 the step lands exactly on the minimum along w1; divergence starts at twice that.' },
    ],
    hint: 'each step multiplies w1 by (1 - lr x curvature); it diverges when that factor goes below -1.',
    explanation:
      'along w1 the update is w1 <- (1 - 4 lr) w1, which grows in size once 4 lr > 2: lr > 0.5. Along w2 the limit is 2, but the steepest ' +
      'direction sets the rate for all of them: why badly scaled problems train slowly with plain SGD.',
  },
  {
    id: '06.2',
    title: 'The gradient of cross-entropy on a logit',
    question:
      'A 3-class model outputs logits [2, 0, 0] and the true class is the first. What is d(loss)/d(logit of the true class) for the ' +
      'cross-entropy loss?',
    answerForm: 'a number (the derivative)',
    expected: Math.exp(2) / (Math.exp(2) + 2) - 1, // d/dz_i of -log softmax_y = p_i - [i = y]
    mistakes: [
      { answer: 1 - Math.exp(2) / (Math.exp(2) + 2), hint: 'check the sign: raising the true class\'s logit lowers the loss.' },
      { answer: Math.exp(2) / (Math.exp(2) + 2), hint: 'that is the probability p; the gradient subtracts the one-hot target from it.' },
      { answer: -1 / (Math.exp(2) / (Math.exp(2) + 2)), hint: 'that is the derivative with respect to the probability; the chain rule through softmax gives a simpler result for the logit.' },
    ],
    hint: 'for softmax followed by cross-entropy, the gradient on each logit is (its probability) - (1 if it is the true class, else 0).',
    explanation:
      'p = e^2 / (e^2 + 2) = 0.787, so the gradient is 0.787 - 1 = -0.213; the two other logits get +0.107 each. The push is ' +
      'proportional to how wrong the model is: a confident right answer gets almost none, a confident mistake nearly -1.',
  },
];
