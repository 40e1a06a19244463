// Trains the shipped language-ID models (a character LSTM and a character GRU) on single words
// from the Debian word lists and writes assets/langid-lstm/ and assets/langid-gru/, plus the
// held-out words (assets/langid-lstm/heldout.json) so tests and notebooks need no Debian packages.
// `npm run train:langid [-- --cell lstm|gru|both --epochs N --seed S --train WORDS_PER_LANGUAGE --out DIR]`.
// Needs: apt-get install -y wamerican wngerman wfrench wspanish witalian wdutch
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../src/engine/tf';
import { initBackend } from '../src/engine/backend';
import { loadWordSplit, buildAlphabet, encodeBatch, WORD_LISTS, type WordSet } from '../src/data/words';
import { seededPermutation } from '../src/data/random';
import { CharRNN, CHAR_RNN_DEFAULTS, type CellType } from '../src/models/rnn';
import { NgramNaiveBayes, accuracyReport } from '../src/models/ngram';
import { fit, countCorrect } from '../src/train/loop';
import { crossEntropy } from '../src/train/losses';
import { assetsDir } from '../src/models/registry';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** Mean loss and accuracy of a model over a word set (no gradients). */
export function evaluateWords(model: CharRNN, set: WordSet, batchSize = 500): { loss: number; accuracy: number; predicted: number[] } {
  let lossSum = 0;
  const predicted: number[] = [];
  for (let start = 0; start < set.words.length; start += batchSize) {
    const words = set.words.slice(start, start + batchSize);
    const labels = set.labels.slice(start, start + batchSize);
    const [loss, pred] = tf.tidy(() => {
      const logits = model.logits(model.encode(words));
      return [crossEntropy(tf.tensor1d(labels, 'int32'), logits).dataSync()[0], Array.from(tf.argMax(logits, 1).dataSync())];
    });
    lossSum += (loss as number) * words.length;
    predicted.push(...(pred as number[]));
  }
  const correct = predicted.filter((p, i) => p === set.labels[i]).length;
  return { loss: lossSum / set.words.length, accuracy: correct / set.words.length, predicted };
}

async function trainOne(cell: CellType, split: ReturnType<typeof loadWordSplit>, alphabet: string[], epochs: number, seed: number, baseline: object): Promise<void> {
  const batchSize = 64;
  const config = { ...CHAR_RNN_DEFAULTS, cell, alphabet, labels: split.train.languages };
  const model = new CharRNN(config, `langid-${cell}`, seed);
  const optimizer = tf.train.adam(3e-3);
  const steps = Math.floor(split.train.words.length / batchSize);
  let order: number[] = [];
  console.log(`\n${cell.toUpperCase()}: ${model.parameterCount} parameters; ${split.train.words.length} training words, ${steps} batches of ${batchSize} per epoch`);
  const epochTimes: number[] = [];
  let last = Date.now();
  const result = await fit({
    weights: model.weights,
    optimizer,
    epochs,
    stepsPerEpoch: steps,
    patience: 3,
    title: `langid-${cell}`,
    step: (epoch, i) => {
      if (i === 0) {
        // Shuffle, then sort within chunks of 8 batches by length: batches of similar lengths waste fewer padded steps.
        const shuffled = seededPermutation(split.train.words.length, seed * 1000 + epoch);
        order = [];
        for (let c = 0; c < shuffled.length; c += 8 * batchSize) order.push(...shuffled.slice(c, c + 8 * batchSize).sort((a, b) => split.train.words[a].length - split.train.words[b].length));
        const batchOrder = seededPermutation(steps, seed * 1000 + epoch + 1); // then shuffle the batches
        order = batchOrder.flatMap((b) => order.slice(b * batchSize, (b + 1) * batchSize));
      }
      const idx = order.slice(i * batchSize, (i + 1) * batchSize);
      const words = idx.map((j) => split.train.words[j]);
      const labels = idx.map((j) => split.train.labels[j]);
      const { ids, time } = encodeBatch(words, alphabet, config.maxLength);
      const logits = model.logits(tf.tensor2d(ids, [words.length, time], 'int32')); // [batch, classes]
      return { loss: crossEntropy(tf.tensor1d(labels, 'int32'), logits), correct: countCorrect(logits, labels), size: words.length };
    },
    validate: () => {
      const v = evaluateWords(model, split.validation);
      return { loss: v.loss, accuracy: v.accuracy };
    },
    onEpoch: (r) => {
      epochTimes.push((Date.now() - last) / 1000);
      last = Date.now();
      console.log(`epoch ${r.epoch}  train loss ${r.trainLoss.toFixed(4)} acc ${((r.trainAccuracy ?? 0) * 100).toFixed(1)}%  val loss ${r.valLoss?.toFixed(4)} acc ${((r.valAccuracy ?? 0) * 100).toFixed(1)}%  ${epochTimes[epochTimes.length - 1].toFixed(1)} s`);
      if (r.epoch === Math.floor(epochs * 0.6)) (optimizer as unknown as { learningRate: number }).learningRate = 1e-3; // anneal
    },
  });
  const held = evaluateWords(model, split.heldOut);
  const report = accuracyReport(held.predicted, split.heldOut.labels, split.heldOut.languages);
  const dir = path.join(arg('out', assetsDir()), `langid-${cell}`);
  model.save(dir, {
    task: `language of a single word (${split.train.languages.join(', ')})`,
    trainedBy: 'scripts/train-langid.ts',
    heldOut: { metric: 'accuracy', value: report.accuracy, n: report.n },
    heldOutWords: 'assets/langid-lstm/heldout.json',
    heldOutPerLanguage: report.perClass,
    baseline,
    training: {
      epochs: result.history.length,
      bestEpoch: result.bestEpoch,
      stoppedEarly: result.stoppedEarly,
      seed,
      batchSize,
      optimizer: 'adam 3e-3, then 1e-3',
      backend: tf.getBackend(),
      secondsPerEpoch: Number((epochTimes.reduce((a, b) => a + b, 0) / epochTimes.length).toFixed(1)),
      seconds: Math.round(result.seconds),
      history: result.history,
      data: { lists: WORD_LISTS.map((l) => `${l.pkg} (/usr/share/dict/${l.file})`), split: split.report },
    },
  });
  console.log(`${cell.toUpperCase()} held-out accuracy ${(report.accuracy * 100).toFixed(2)}% on ${report.n} words (best epoch ${result.bestEpoch}); per language: ${Object.entries(report.perClass).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(', ')}; wrote ${dir}`);
  model.dispose();
}

async function main(): Promise<void> {
  const cells = arg('cell', 'both') === 'both' ? (['lstm', 'gru'] as CellType[]) : [arg('cell', 'lstm') as CellType];
  const epochs = Number(arg('epochs', '6'));
  const seed = Number(arg('seed', '7'));
  const backendName = await initBackend();
  const split = loadWordSplit({ seed, perLanguage: { train: Number(arg('train', '10000')), validation: 500, heldOut: 1000 } });
  const alphabet = buildAlphabet(split.train.words);
  console.log(`backend ${backendName}; alphabet of ${alphabet.length} characters: ${alphabet.join('')}`);
  for (const r of split.report) console.log(`  ${r.language.padEnd(8)} ${r.raw} lines, ${r.clean} clean words, ${r.shared} also in another list (dropped); ${r.train}/${r.validation}/${r.heldOut} train/validation/held-out`);

  const heldFile = path.join(arg('out', assetsDir()), 'langid-lstm', 'heldout.json');
  fs.mkdirSync(path.dirname(heldFile), { recursive: true });
  fs.writeFileSync(heldFile, JSON.stringify({ languages: split.heldOut.languages, source: 'Debian word lists, see scripts/train-langid.ts', seed, words: split.heldOut.words, labels: split.heldOut.labels }) + '\n');

  const t0 = Date.now();
  const nb = new NgramNaiveBayes(split.train.languages).fit(split.train.words, split.train.labels);
  const nbReport = accuracyReport(split.heldOut.words.map((w) => nb.predict(w)), split.heldOut.labels, split.heldOut.languages);
  const baseline = { model: 'character 1-3-gram multinomial naive Bayes (alpha 0.5), same training words', accuracy: nbReport.accuracy, n: nbReport.n, perLanguage: nbReport.perClass, seconds: (Date.now() - t0) / 1000 };
  console.log(`baseline n-gram naive Bayes: held-out accuracy ${(nbReport.accuracy * 100).toFixed(2)}%; ${Object.entries(nbReport.perClass).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(', ')}`);
  for (const cell of cells) await trainOne(cell, split, alphabet, epochs, seed, baseline);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
