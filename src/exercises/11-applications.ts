// Notebook 11 (applications): exercises 11.1-11.2. How many spectrogram frames a clip makes (the
// library's LOG_MEL_DEFAULTS: 25 ms windows every 10 ms), and the IoU that non-maximum suppression
// compares with its threshold.
import { LOG_MEL_DEFAULTS, frameCount } from '../preprocess/log-mel';
import type { ExerciseSpec } from './exercise';

export const APPLICATIONS_EXERCISES: ExerciseSpec[] = [
  {
    id: '11.1',
    title: 'Frames in 1.5 seconds of audio',
    question:
      'The keyword spotter\'s log-mel front end cuts 16 kHz audio into windows of 400 samples (25 ms) every 160 samples (10 ms), keeping ' +
      'only windows wholly inside the clip. How many frames does a 1.5-second clip give?',
    answerForm: 'a number (frames)',
    expected: () => frameCount(1.5 * LOG_MEL_DEFAULTS.sampleRate, LOG_MEL_DEFAULTS),
    tolerance: { rel: 0, abs: 1e-9 },
    mistakes: [
      { answer: 150, hint: 'a window needs 400 samples; the last ones near the end do not fit wholly inside.' },
      { answer: 147, hint: 'count the first window too: 1 + (the number of hops that still fit).' },
      { answer: 60, hint: 'windows overlap: a new one starts every 160 samples, not every 400.' },
      { answer: 149, hint: 'close: count how many whole hops of 160 fit in 24,000 - 400 samples (round down).' },
    ],
    hint: 'frames = 1 + floor((samples - window) / hop).',
    explanation:
      '24,000 samples: 1 + floor((24,000 - 400) / 160) = 1 + 147 = 148 frames of 40 mel bands, against 98 for the one-second clips ' +
      'the model was trained on.',
  },
  {
    id: '11.2',
    title: 'Overlap of two boxes',
    question:
      'A detector finds two boxes of the same class: (x1, y1, x2, y2) = (0, 0, 10, 10) and (5, 5, 15, 15). What is their intersection over union ' +
      '(IoU)? Non-maximum suppression drops the weaker box when IoU > 0.5.',
    answerForm: 'a number (the IoU)',
    expected: 25 / (100 + 100 - 25),
    mistakes: [
      { answer: 25 / 100, hint: 'that divides by one box; the union is both areas minus the overlap counted twice.' },
      { answer: 25 / 200, hint: 'the union counts the overlap once: subtract it from the sum of the areas.' },
      { answer: 0.5, hint: 'the boxes are offset by half their side in both directions: the overlap is a quarter of each box.' },
    ],
    hint: 'the intersection is a 5x5 square; the union is the two areas minus the intersection.',
    explanation:
      '25 / 175 = 0.143: both boxes are kept (0.143 < 0.5). Boxes offset by half their width in x and y overlap far less than ' +
      'they seem to.',
  },
];
