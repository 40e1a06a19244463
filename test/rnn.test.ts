import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as path from 'path';
import { tf, initBackend, type Tensor } from '../src/index';
import { CharRNN, CHAR_RNN_DEFAULTS, runLSTM, runGRU, type RecurrentWeights } from '../src/models/rnn';
import { loadModel, assetsDir } from '../src/models/registry';
import { readWordSet, encodeBatch, cleanWords } from '../src/data/words';
import { charNgrams, NgramNaiveBayes } from '../src/models/ngram';
import { numericGradient } from '../src/train/losses';

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

beforeAll(async () => {
  await initBackend();
});

/** Random weights in tfjs-layers' layout for a layer with `gates` gates. */
function randomWeights(inDim: number, units: number, gates: number, seed: number): RecurrentWeights {
  return {
    kernel: tf.randomUniform([inDim, gates * units], -0.5, 0.5, 'float32', seed),
    recurrentKernel: tf.randomUniform([units, gates * units], -0.5, 0.5, 'float32', seed + 1),
    bias: tf.randomUniform([gates * units], -0.5, 0.5, 'float32', seed + 2),
  };
}

describe('LSTM and GRU math against tfjs-layers (reference implementation)', () => {
  const [batch, time, inDim, units] = [3, 7, 5, 6];

  it('runLSTM equals tf.layers.lstm with the same weights (every step, 1e-5)', () => {
    const w = randomWeights(inDim, units, 4, 10);
    const x = tf.randomNormal([batch, time, inDim], 0, 1, 'float32', 11);
    const layer = tf.sequential({ layers: [tf.layers.lstm({ units, returnSequences: true, recurrentActivation: 'sigmoid', inputShape: [time, inDim] })] });
    layer.setWeights([w.kernel, w.recurrentKernel, w.bias]);
    const expected = layer.predict(x) as Tensor; // [batch, time, units]
    const ours = runLSTM(x, w);
    expect(ours.hidden.shape).toEqual([batch, time, units]);
    const diff = maxAbsDiff(ours.hidden, expected);
    console.log(`LSTM vs tf.layers.lstm: max |difference| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([x, expected, ours.hidden, ours.cell!, ...Object.values(ours.gates), w.kernel, w.recurrentKernel, w.bias]);
    layer.dispose();
  });

  it('runGRU equals tf.layers.gru with the same weights (reset before the matmul, 1e-5)', () => {
    const w = randomWeights(inDim, units, 3, 20);
    const x = tf.randomNormal([batch, time, inDim], 0, 1, 'float32', 21);
    const layer = tf.sequential({ layers: [tf.layers.gru({ units, returnSequences: true, recurrentActivation: 'sigmoid', inputShape: [time, inDim] })] });
    layer.setWeights([w.kernel, w.recurrentKernel, w.bias]);
    const expected = layer.predict(x) as Tensor;
    const ours = runGRU(x, w);
    const diff = maxAbsDiff(ours.hidden, expected);
    console.log(`GRU vs tf.layers.gru: max |difference| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([x, expected, ours.hidden, ...Object.values(ours.gates), w.kernel, w.recurrentKernel, w.bias]);
    layer.dispose();
  });

  for (const cell of ['lstm', 'gru'] as const) {
    it(`the whole ${cell.toUpperCase()} classifier equals embedding + tf.layers.${cell} + dense on the same weights`, () => {
      const model = new CharRNN({ ...CHAR_RNN_DEFAULTS, cell, units: 12, embedDim: 5 }, 'ref', 3);
      const words = ['hund', 'chat'];
      const ids = model.encode(words);
      const T = ids.shape[1];
      const reference = tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: model.vocabSize, outputDim: 5, inputLength: T }),
          cell === 'lstm' ? tf.layers.lstm({ units: 12, recurrentActivation: 'sigmoid' }) : tf.layers.gru({ units: 12, recurrentActivation: 'sigmoid' }),
          tf.layers.dense({ units: model.config.labels.length }),
        ],
      });
      const w = model.weights;
      reference.setWeights([w['embed.weight'], w[`${cell}.kernel`], w[`${cell}.recurrent_kernel`], w[`${cell}.bias`], w['head.weight'], w['head.bias']]);
      const expected = reference.predict(tf.cast(ids, 'float32')) as Tensor;
      const ours = model.logits(ids);
      const diff = maxAbsDiff(ours, expected);
      console.log(`${cell} classifier vs tf.layers: max |difference| of logits ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
      tf.dispose([ids, expected, ours]);
      reference.dispose();
      model.dispose();
    });
  }
});

describe('the recurrent classifier', () => {
  it('padding does not change a word’s prediction (the state is carried over padded steps)', () => {
    for (const cell of ['lstm', 'gru'] as const) {
      const model = new CharRNN({ ...CHAR_RNN_DEFAULTS, cell }, 'pad', 5);
      const alone = model.forward(model.encode(['ab']));
      const padded = model.forward(model.encode(['ab', 'abcdefghij'])); // 'ab' padded to 10 steps
      expect(maxAbsDiff(tf.slice(padded, [0, 0], [1, -1]), alone)).toBeLessThan(1e-6);
      tf.dispose([alone, padded]);
      model.dispose();
    }
  });

  it('records every time step: gates in (0, 1), hidden [batch, time, units], per-step probabilities ending at the output', () => {
    const model = new CharRNN(CHAR_RNN_DEFAULTS, 'hooks', 1);
    const ids = model.encode(['haus']);
    const [probs, cache] = model.runWithCache(ids);
    expect(cache.names).toEqual(model.hookNames);
    expect(model.hookNames).toEqual([
      'embed.hook_out', 'lstm.hook_gates_input', 'lstm.hook_gates_forget', 'lstm.hook_gates_candidate', 'lstm.hook_gates_output',
      'lstm.hook_cell', 'lstm.hook_hidden', 'head.hook_step_logits', 'post.hook_step_probs', 'hook_logits', 'post.hook_probs',
    ]);
    expect(cache.get('lstm.hook_hidden').shape).toEqual([1, 4, 64]);
    for (const g of ['input', 'forget', 'output']) {
      const v = cache.get(`lstm.hook_gates_${g}`);
      expect(tf.min(v).dataSync()[0]).toBeGreaterThan(0);
      expect(tf.max(v).dataSync()[0]).toBeLessThan(1);
    }
    const steps = cache.get('post.hook_step_probs'); // [1, 4, classes]
    const lastStep = tf.reshape(tf.slice(steps, [0, 3, 0], [1, 1, -1]), [1, -1]);
    expect(maxAbsDiff(lastStep, probs)).toBeLessThan(1e-6);
    const rowSums = tf.sum(steps, -1).dataSync();
    for (const s of rowSums) expect(s).toBeCloseTo(1, 5);
    tf.dispose([ids, probs, lastStep]);
    cache.dispose();
    model.dispose();
  });

  it('patching the hidden state changes the prediction (zero h -> the head bias alone)', () => {
    const model = new CharRNN({ ...CHAR_RNN_DEFAULTS, cell: 'gru' }, 'patch', 2);
    const ids = model.encode(['casa']);
    const patched = model.runWithHooks(ids, [['gru.hook_hidden', (v) => tf.zerosLike(v)]]);
    const expected = tf.softmax(tf.expandDims(model.weights['head.bias'], 0));
    expect(maxAbsDiff(patched, expected)).toBeLessThan(1e-6);
    tf.dispose([ids, patched, expected]);
    model.dispose();
  });

  it('leaks no tensors in forward, runWithCache and trace', () => {
    const model = new CharRNN(CHAR_RNN_DEFAULTS, 'leak', 1);
    const ids = model.encode(['wasser', 'eau']);
    model.forward(ids).dispose(); // warm-up: lazily created constants
    const before = tf.memory().numTensors;
    model.forward(ids).dispose();
    const [out, cache] = model.runWithCache(ids);
    out.dispose();
    cache.dispose();
    model.trace(ids).dispose();
    model.probabilitiesPerCharacter('agua');
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
    model.dispose();
  });

  it('rejects inputs that are not int32 character ids, saying what it expects', () => {
    const model = new CharRNN(CHAR_RNN_DEFAULTS, 'bad', 1);
    const floats = tf.zeros([1, 4]);
    expect(() => model.forward(floats)).toThrow(/character ids shaped \[batch, time\] \(int32/);
    floats.dispose();
    model.dispose();
  });

  for (const cell of ['lstm', 'gru'] as const) {
    it(`the ${cell.toUpperCase()} layer's gradient matches finite differences`, () => {
      const units = 4;
      const w = randomWeights(3, units, cell === 'lstm' ? 4 : 3, 30);
      const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 31);
      const readout = tf.randomNormal([2, 5, units], 0, 1, 'float32', 32);
      const run = cell === 'lstm' ? runLSTM : runGRU;
      // A scalar of the whole sequence of hidden states, as a function of the input kernel.
      const f = (kernel: Tensor) => tf.tidy(() => tf.sum(tf.mul(run(x, { ...w, kernel }).hidden, readout)) as tf.Scalar);
      const analytic = tf.grad(f)(w.kernel).dataSync();
      const indices = [0, 3, 7, 10, 15, w.kernel.size - 1];
      const numeric = numericGradient(f, w.kernel, 1e-2, indices);
      indices.forEach((idx, k) => expect(Math.abs(analytic[idx] - numeric[k])).toBeLessThan(2e-3 + 0.02 * Math.abs(numeric[k])));
      tf.dispose([x, readout, w.kernel, w.recurrentKernel, w.bias]);
    });
  }
});

describe('language-ID data and the n-gram baseline', () => {
  it('cleans word lists: lowercase, letters only, 2..20 long, deduplicated', () => {
    expect(cleanWords(['Haus', 'haus', "dog's", 'a', 'Straße', 'x-ray', 'été', 'abcdefghijklmnopqrstu'])).toEqual(['haus', 'straße', 'été']);
  });

  it('encodes words right-padded, with 0 for padding and 1 for unknown characters', () => {
    const { ids, lengths, time } = encodeBatch(['ab', 'a?c'], ['a', 'b', 'c']);
    expect(time).toBe(3);
    expect(lengths).toEqual([2, 3]);
    expect(Array.from(ids)).toEqual([2, 3, 0, 2, 1, 4]);
  });

  it('refuses a word longer than the models read (20) instead of cutting it to another word', () => {
    const model = loadModel('langid-lstm') as CharRNN;
    try {
      const twenty = 'donaudampfschifffahr'; // 20 letters: read whole
      expect([...twenty]).toHaveLength(20);
      const ids = model.encode([twenty]);
      expect(ids.shape).toEqual([1, 20]);
      ids.dispose();
      // 21 letters: before, its first 20 were classified silently as if they were the word.
      expect(() => model.encode(['ab', `${twenty}t`])).toThrow(/^"donaudampfschifffahrt" has 21 characters; the word models read words of at most 20 .*give a shorter word\.$/);
      expect(() => encodeBatch(['abc'], ['a', 'b', 'c'], 2)).toThrow(/"abc" has 3 characters; .* at most 2 /);
    } finally {
      model.dispose();
    }
  });

  it('counts character n-grams with word boundaries', () => {
    expect(charNgrams('ab', 2)).toEqual(['a', 'b', '^a', 'ab', 'b$']);
    const nb = new NgramNaiveBayes(['x', 'y']).fit(['aaa', 'aab', 'bbb', 'bba'], [0, 0, 1, 1]);
    expect(nb.predict('aaaa')).toBe(0);
    expect(nb.predict('bbbb')).toBe(1);
    const p = nb.probabilities('ab');
    expect(p[0] + p[1]).toBeCloseTo(1, 10);
  });
});

describe('the shipped language-ID models', () => {
  const held = readWordSet(path.join(assetsDir(), 'langid-lstm', 'heldout.json'));
  const models: Record<string, CharRNN> = {};
  beforeAll(() => {
    for (const name of ['langid-lstm', 'langid-gru']) models[name] = loadModel(name) as CharRNN;
  });
  afterAll(() => Object.values(models).forEach((m) => m.dispose()));

  for (const name of ['langid-lstm', 'langid-gru']) {
    it(`${name} beats the n-gram naive Bayes baseline on ${held.words.length} held-out words, and reproduces its recorded accuracy`, () => {
      const model = models[name];
      const config = require(path.join(assetsDir(), name, 'config.json'));
      expect(model.config.labels).toEqual(held.languages);
      const guesses = model.classifyWords(held.words);
      const accuracy = guesses.filter((g, i) => g.label === held.languages[held.labels[i]]).length / held.words.length;
      expect(held.words.length).toBeGreaterThanOrEqual(6000);
      expect(accuracy).toBeCloseTo(config.heldOut.value, 3);
      expect(accuracy).toBeGreaterThan(config.baseline.accuracy);
      expect(accuracy).toBeGreaterThan(0.85);
    });
  }

  it('held-out words are unique and balanced across the six languages', () => {
    expect(new Set(held.words).size).toBe(held.words.length);
    const perLanguage = held.languages.map((_, c) => held.labels.filter((l) => l === c).length);
    expect(new Set(perLanguage).size).toBe(1);
  });
});
