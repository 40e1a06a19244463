// Notebook 01 (the inference process): exercises 01.1-01.2. 01.1 is preprocessing (the model's own
// normalisation constants, read from its config.json); 01.2 is post-processing (softmax odds from
// two logits, by hand).
import * as fs from 'fs';
import * as path from 'path';
import { assetsDir } from '../io/paths';
import type { ExerciseSpec } from './exercise';

/** The digits CNN's normalisation constants, from the config its training script wrote. */
function digitsNormalisation(): { pixelMean: number; pixelStd: number } {
  const card = JSON.parse(fs.readFileSync(path.join(assetsDir(), 'digits-cnn', 'config.json'), 'utf8'));
  return { pixelMean: card.config.pixelMean, pixelStd: card.config.pixelStd };
}

/** Whether a typed number is within 1% of a value computed from the normalisation constants. */
function near(given: unknown, value: (n: { pixelMean: number; pixelStd: number }) => number): boolean {
  const v = value(digitsNormalisation());
  return typeof given === 'number' && Math.abs(given - v) <= 0.01 * Math.abs(v);
}

export const INFERENCE_EXERCISES: ExerciseSpec[] = [
  {
    id: '01.1',
    title: 'A grey pixel after preprocessing',
    question:
      'The digits CNN normalises with `(x / 255 - pixelMean) / pixelStd` (`model.config` holds both). ' +
      'A raw pixel of 128 (mid grey) reaches `pre.hook_normalized` as what number?',
    answerForm: 'a number (the normalised value)',
    expected: () => {
      const { pixelMean, pixelStd } = digitsNormalisation();
      return (128 / 255 - pixelMean) / pixelStd;
    },
    mistakes: [
      { answer: (g) => near(g, (n) => (128 - n.pixelMean) / n.pixelStd), hint: 'the mean and std are of pixels scaled to [0, 1]: divide by 255 first.' },
      { answer: (g) => near(g, (n) => 128 / 255 - n.pixelMean), hint: 'you subtracted the mean; now divide by the standard deviation too.' },
      { answer: (g) => near(g, () => 128 / 255), hint: 'that is only the scaling step (pre.hook_scaled); normalising comes after it.' },
      { answer: (g) => near(g, (n) => (128 / 255) / n.pixelStd - n.pixelMean), hint: 'the order matters: subtract the mean first, then divide by the std.' },
    ],
    hint: 'three steps in order: divide by 255, subtract the mean, divide by the standard deviation.',
    explanation:
      '128 / 255 = 0.502; minus the mean 0.1315 is 0.371; divided by the std 0.3092 is 1.199. Ink brighter than mid grey ' +
      'sits more than one standard deviation above the training mean, because most MNIST pixels are black background.',
  },
  {
    id: '01.2',
    title: 'How many times more likely?',
    question:
      'For held-out digit #0 the dense layer gives logit 6.61 to class 1 and 0.19 to class 7. ' +
      'After softmax, how many times more probable is "1" than "7"? (Work from the two logits alone.)',
    answerForm: 'a number (the ratio p(1) / p(7))',
    expected: Math.exp(6.61 - 0.19), // softmax: p_i / p_j = e^(z_i - z_j); the denominator cancels
    tolerance: { rel: 0.02 }, // the printed logits are rounded to 0.01: e^0.01 is 1% either way
    mistakes: [
      { answer: 6.61 / 0.19, hint: 'logits are not probabilities: softmax exponentiates them, so ratios of probabilities come from differences of logits.' },
      { answer: 6.61 - 0.19, hint: 'that is the difference of the logits; softmax turns it into a ratio through e^x.' },
      { answer: 10 ** (6.61 - 0.19), hint: 'right idea, wrong base: softmax uses e^z, not 10^z.' },
    ],
    hint: 'write p(1) / p(7) with the softmax formula: the shared denominator cancels.',
    explanation:
      'p(1) / p(7) = e^6.61 / e^0.19 = e^6.42 = 614. The notebook shows 99.65% and 0.16% (ratio 623 from the rounded figures). ' +
      'Adding the same number to every logit changes nothing: only differences matter.',
  },
];
