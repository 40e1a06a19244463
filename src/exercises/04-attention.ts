// Notebook 04 (transformers and attention): exercises 04.1-04.3. One attention weight by hand (the
// 1/sqrt(d_head) scaling), the number of scores a causal head computes, and sampling temperature.
import type { ExerciseSpec } from './exercise';

const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

export const ATTENTION_EXERCISES: ExerciseSpec[] = [
  {
    id: '04.1',
    title: 'One attention weight',
    question:
      'A head of the tiny GPT has d_head = 32. At one query the dot products q·k with the three keys it may see are [8, 4, 0]. ' +
      'What attention weight does it give the first key?',
    answerForm: 'a number (a weight between 0 and 1)',
    expected: softmax([8, 4, 0].map((s) => s / Math.sqrt(32)))[0],
    mistakes: [
      { answer: softmax([8, 4, 0])[0], hint: 'the scores are divided by sqrt(d_head) before the softmax.' },
      { answer: softmax([8, 4, 0].map((s) => s / 32))[0], hint: 'the scaling is by the square root of d_head, not d_head itself.' },
      { answer: 8 / 12, hint: 'attention weights are a softmax of the scores, not the scores divided by their sum.' },
      { answer: softmax([8, 4, 0].map((s) => s * Math.sqrt(32)))[0], hint: 'divide by sqrt(d_head), do not multiply.' },
    ],
    hint: 'score = q·k / sqrt(d_head), then softmax over the three scores.',
    explanation:
      'scores [8, 4, 0] / 5.657 = [1.414, 0.707, 0]; e^x = [4.11, 2.03, 1]; 4.11 / 7.14 = 0.576. Without the scaling the weight would ' +
      'be 0.98: large dot products (they grow with d_head) would make every head nearly one-hot and its gradients vanish.',
  },
  {
    id: '04.2',
    title: 'How many scores does one head compute?',
    question:
      'The notebook runs a 54-character text. With the causal mask, how many query-key pairs get a (non-masked) score in one head of one block?',
    answerForm: 'a number (pairs)',
    expected: (54 * 55) / 2, // query i sees keys 0..i: 1 + 2 + ... + 54
    tolerance: { rel: 0, abs: 1e-9 },
    mistakes: [
      { answer: 54 * 54, hint: 'that counts every pair; the causal mask hides the keys after each query.' },
      { answer: (54 * 53) / 2, hint: 'each query also attends to itself (the diagonal).' },
      { answer: 54, hint: 'every query scores all keys it may see, not only one.' },
    ],
    hint: 'query i may see keys 0..i: add up 1 + 2 + ... + 54.',
    explanation:
      '54 x 55 / 2 = 1,485 pairs: all computed in one parallel pass, which is why attention costs grow with the square of the length ' +
      'while any position reaches any earlier one in one step.',
  },
  {
    id: '04.3',
    title: 'Sampling temperature',
    question:
      'The model gives three next characters logits [2, 1, 0]. Sampling at temperature 0.5, with what probability is the first one chosen?',
    answerForm: 'a number (a probability)',
    expected: softmax([2, 1, 0].map((z) => z / 0.5))[0],
    mistakes: [
      { answer: softmax([2, 1, 0])[0], hint: 'that is temperature 1; the logits are divided by the temperature before the softmax.' },
      { answer: softmax([2, 1, 0].map((z) => z * 0.5))[0], hint: 'divide by the temperature: a low temperature sharpens the distribution.' },
      { answer: 1, hint: 'only temperature 0 (greedy) always picks the top character.' },
    ],
    hint: 'divide each logit by the temperature, then take the softmax.',
    explanation:
      'logits / 0.5 = [4, 2, 0]; e^x = [54.6, 7.39, 1]; 54.6 / 63.0 = 0.867, against 0.665 at temperature 1. Below 1 the likely gets likelier; ' +
      'above 1 the distribution flattens towards uniform.',
  },
];
