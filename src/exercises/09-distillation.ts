// Notebook 09 (knowledge distillation): exercises 09.1-09.2. Softened teacher probabilities at a
// temperature, and the T^2 factor that keeps the soft loss's gradients in scale (as
// src/optimize/distill.ts applies it).
import type { ExerciseSpec } from './exercise';

const softmax = (z: number[]) => {
  const e = z.map((v) => Math.exp(v - Math.max(...z)));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

export const DISTILLATION_EXERCISES: ExerciseSpec[] = [
  {
    id: '09.1',
    title: 'Dark knowledge at T = 2',
    question:
      'A teacher gives logits [4, 2, 0] for three classes. Softened at temperature T = 2, what probability does it give the second class?',
    answerForm: 'a number (a probability)',
    expected: softmax([4, 2, 0].map((z) => z / 2))[1],
    mistakes: [
      { answer: softmax([4, 2, 0])[1], hint: 'that is T = 1; divide the logits by T before the softmax.' },
      { answer: softmax([4, 2, 0].map((z) => z * 2))[1], hint: 'divide by the temperature: a higher T softens the distribution.' },
      { answer: softmax([4, 2, 0].map((z) => z / 2))[0], hint: 'that is the first class; the question asks about the second.' },
    ],
    hint: 'soft targets are softmax(logits / T).',
    explanation:
      'softmax([2, 1, 0]) = [0.665, 0.245, 0.090]: at T = 1 the second class has only 0.117. The softened targets show the student how the ' +
      'teacher ranks the wrong classes, which a one-hot label cannot.',
  },
  {
    id: '09.2',
    title: 'Why the soft loss is multiplied by T²',
    question:
      'The distillation loss is alpha x T² x KL(teacher_T || student_T) + (1 - alpha) x cross-entropy. The gradients of the KL term on the ' +
      'student\'s logits shrink like 1/T². At T = 4, by what factor does the T² multiply the soft term?',
    answerForm: 'a number (the factor)',
    expected: 4 * 4,
    tolerance: { rel: 0, abs: 1e-9 },
    mistakes: [
      { answer: 4, hint: 'the gradient shrinks like 1/T², so the correction is T², not T.' },
      { answer: 1 / 16, hint: 'that is how much the gradients shrink; the factor undoes it.' },
      { answer: 8, hint: 'T² is T times T.' },
    ],
    hint: 'the factor undoes the 1/T² shrinking of the gradients.',
    explanation:
      'T² = 16. Each softmax at temperature T divides the logits by T (one 1/T in the gradient), and the softened probabilities differ ' +
      'by about 1/T (a second 1/T): without the factor, raising T would silently turn the soft term off.',
  },
];
