// Notebook 08 (pruning): exercises 08.1-08.2. What a sparse format costs per kept weight, and what
// removing channels from conv.0 removes downstream (checked in the tests against pruneChannels).
import type { ExerciseSpec } from './exercise';

export const PRUNING_EXERCISES: ExerciseSpec[] = [
  {
    id: '08.1',
    title: 'When does a sparse file pay?',
    question:
      'A float32 weight matrix is stored sparsely as (int32 position, float32 value) pairs for the non-zero weights. Above what sparsity ' +
      '(fraction of weights set to zero) is the sparse file smaller than the dense one?',
    answerForm: 'a number (a fraction between 0 and 1)',
    expected: 1 - 4 / 8, // dense: 4 bytes per weight; sparse: 8 bytes per kept weight
    tolerance: { abs: 0.005, rel: 0 },
    mistakes: [
      { answer: 0, hint: 'every kept weight costs its position as well as its value.' },
      { answer: 0.75, hint: 'a position and a value cost 8 bytes against the dense 4: count the fraction kept, then the fraction zeroed.' },
      { answer: 2, hint: 'that is the cost ratio per kept weight (8 / 4 bytes); the question asks for the sparsity at which the sizes cross.' },
    ],
    hint: 'dense costs 4 bytes per weight; sparse costs 8 bytes per kept weight. Find the kept fraction where they are equal.',
    explanation:
      'with a fraction k kept, sparse costs 8k bytes per weight against 4: smaller once k < 1/2, a sparsity above 50%. At the notebook\'s 70% ' +
      'it is 8 x 0.3 = 2.4 bytes per weight; formats with 16-bit or relative positions do better.',
  },
  {
    id: '08.2',
    title: 'Half of conv.0',
    question:
      'The digits CNN has conv.0 (8 filters of 3x3x1), conv.1 (16 filters of 3x3x8), and a dense layer on 5·5·16 features to 10 classes; ' +
      '5,258 parameters with biases. Remove 4 of conv.0\'s 8 filters (structured pruning). How many parameters are left?',
    answerForm: 'a number (parameters)',
    expected: (3 * 3 * 1 * 4 + 4) + (3 * 3 * 4 * 16 + 16) + (5 * 5 * 16 * 10 + 10),
    tolerance: { rel: 0, abs: 1e-9 },
    mistakes: [
      { answer: 5258 - 40, hint: 'conv.1\'s filters read conv.0\'s maps: with 4 maps gone, each of its filters loses their weights too.' },
      { answer: 5258 / 2, hint: 'only conv.0 and conv.1\'s input side shrink; the dense layer still reads 16 maps.' },
      { answer: 2674, hint: 'that is halving conv.1 (the notebook\'s case), which also shrinks the dense layer.' },
    ],
    hint: 'count each layer again: conv.0 has fewer filters, and conv.1 has fewer input channels.',
    explanation:
      'conv.0: 3·3·1·4 + 4 = 40; conv.1: 3·3·4·16 + 16 = 592; dense: 400·10 + 10 = 4,010; total 4,642. Removing a filter removes ' +
      'its map from every filter of the next layer: structured pruning shrinks two layers at once.',
  },
];
