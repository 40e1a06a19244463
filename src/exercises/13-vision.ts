// Notebook 13 (vision in practice): exercises 13.1-13.3. A standardised output turned back into
// the target's units, RMSE against MAE on five errors, and a CT value through the rescale and a
// window.
import type { ExerciseSpec } from './exercise';

export const VISION_EXERCISES: ExerciseSpec[] = [
  {
    id: '13.1',
    title: 'From a standardised output to a prediction',
    question:
      'A regression network was trained on targets standardised with the training mean 150 and standard deviation 75. For one ' +
      'patient its raw output is 0.4. What disease progression does it predict, in the target\'s units?',
    answerForm: 'a number (progression units)',
    expected: 0.4 * 75 + 150,
    mistakes: [
      { answer: 0.4, hint: 'that is the raw output: it counts standard deviations from the mean, not progression units.' },
      { answer: 150.4, hint: 'the output is in standard deviations: multiply by 75 before adding the mean.' },
      { answer: 30, hint: 'that is how far above the mean; add the mean back.' },
      { answer: (0.4 - 150) / 75, hint: 'that standardises; the prediction needs the opposite: output * std + mean.' },
    ],
    hint: 'value = output * std + mean.',
    explanation: '0.4 * 75 + 150 = 180: the prediction is 0.4 standard deviations of the training targets above their mean.',
  },
  {
    id: '13.2',
    title: 'RMSE of five errors',
    question:
      'A model misses five patients by +3, -4, 0, +12 and -1 progression units (prediction minus truth). Its MAE is 4. What is its ' +
      'root mean squared error (RMSE)?',
    answerForm: 'a number (progression units)',
    expected: Math.sqrt((9 + 16 + 0 + 144 + 1) / 5),
    mistakes: [
      { answer: 4, hint: 'that is the MAE; square each error first, average, then take the square root.' },
      { answer: 34, hint: 'that is the mean squared error; take its square root to get back to progression units.' },
      { answer: 2, hint: 'that averages the signed errors, which cancel; square them first.' },
      { answer: Math.sqrt(170), hint: 'divide the sum of squares by the number of patients (5) before the square root.' },
    ],
    hint: 'square each error, take the mean, then the square root.',
    explanation:
      'sqrt((9 + 16 + 0 + 144 + 1) / 5) = sqrt(34) = 5.83 against an MAE of 4: the one large miss (12) weighs more in the RMSE. ' +
      'RMSE >= MAE always; the gap says how uneven the errors are.',
  },
  {
    id: '13.3',
    title: 'A CT value through the rescale and a window',
    question:
      'A CT pixel stores the value 1000; the file\'s rescale slope is 1 and intercept -1024. Shown with a soft-tissue window (centre 40 HU, ' +
      'width 400 HU: 40 - 200 = -160 HU is black (0), 40 + 200 = 240 HU is white (255), linear between), what grey level does it get?',
    answerForm: 'a number (grey level 0..255)',
    expected: ((1000 - 1024 - (40 - 200)) / 400) * 255,
    mistakes: [
      { answer: -24, hint: 'that is the pixel in Hounsfield units; the window then maps -160..240 HU onto 0..255.' },
      { answer: 255, hint: 'the stored value is not HU yet: apply the rescale (stored * slope + intercept) first.' },
      { answer: (-24 / 400) * 255, hint: 'measure from the bottom of the window (-160 HU), not from 0 HU.' },
    ],
    hint: 'HU = 1000 * 1 - 1024; grey = (HU - (-160)) / 400 * 255.',
    explanation: 'HU = 1000 - 1024 = -24, a little below water (0 HU, grey 102 in this window); (-24 + 160) / 400 * 255 = 86.7.',
  },
];
