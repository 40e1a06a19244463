// Trains the Spanish -> English translator of notebook 12 on the training verses written by
// scripts/make-translation-data.ts (.cache/translation/train.json), keeps the epoch with the
// lowest validation loss, and writes assets/translator-es-en/ (config.json + weights.safetensors).
//   node dist/scripts/train-translator.js [--minutes 20 --epochs 60 --seed 1] [--resume DIR --out DIR]
// uses the native backend when `npm run setup:native` built it (about 4x faster than WASM here).
// Then, on WASM (the backend the registry's figure is checked on):
//   INFERENCE_LAB_BACKEND=wasm node dist/scripts/train-translator.js --measure
// translates the held-out verses (assets/translator-es-en/heldout.json) greedily and with a beam
// of 4, scores them with BLEU, reads each decoder head's cross-attention links and scores them
// against the Strong's gold links (precision, recall, AER) beside a diagonal aligner and IBM
// Model 1 trained on the same training verses, with paired bootstrap intervals; writes the
// greedy BLEU into config.json's heldOut and everything into docs/measured/translation.json.
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../src/engine/tf';
import { initBackend } from '../src/engine/backend';
import { BOS, EOS, readTranslationHeldOut, Vocabulary, type ParallelVerse } from '../src/data/translation';
import { seededPermutation } from '../src/data/random';
import { Translator, type TranslatorConfig } from '../src/models/translator';
import { assetsDir, packageRoot } from '../src/io/paths';
import { measureTranslation } from '../src/analysis/translation-report';
import { evaluateModel } from '../src/models/registry';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const seed = Number(arg('seed', '1'));
  const minutes = Number(arg('minutes', '20'));
  const maxEpochs = Number(arg('epochs', '60'));
  const cacheFile = path.join(packageRoot(), '.cache', 'translation', 'train.json');
  if (!fs.existsSync(cacheFile)) throw new Error(`${cacheFile} is missing; run node dist/scripts/make-translation-data.js first.`);
  const data = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as { train: ParallelVerse[]; validation: ParallelVerse[] };
  const sourceVocab = Vocabulary.fromSentences(data.train.map((v) => v.es), Number(arg('source-vocab', '6000')));
  const targetVocab = Vocabulary.fromSentences(data.train.map((v) => v.en), Number(arg('target-vocab', '4000')));
  const heldOut = readTranslationHeldOut(path.join(assetsDir(), 'translator-es-en'));
  const longest = Math.max(...[...data.train, ...data.validation, ...heldOut.verses].flatMap((v) => [v.es.length, v.en.length])) + 2; // + </s> or <s>, and one to spare
  const config: TranslatorConfig = { sourceVocab: sourceVocab.tokens, targetVocab: targetVocab.tokens, maxLength: longest, dModel: 128, nHeads: 4, encoderLayers: 2, decoderLayers: 2, dMlp: 256, layerNormEps: 1e-5 };
  const resume = arg('resume', ''); // continue from a saved model (same data and vocabulary), with a fresh optimizer
  const model = resume ? Translator.load(resume, 'translator-es-en') : new Translator(config, 'translator-es-en', seed);
  const previous = resume ? (JSON.parse(fs.readFileSync(path.join(resume, 'config.json'), 'utf8')).training as { history: { epoch: number; trainLoss: number; valLoss: number; seconds: number }[]; seconds: number }) : null;
  if (resume && model.source.tokens.join('\n') !== sourceVocab.tokens.join('\n')) throw new Error(`${resume} has another Spanish vocabulary than the training data gives; train from scratch.`);
  const unknownRate = (vocab: Vocabulary, sentences: string[][]) => {
    const all = sentences.flat();
    return all.filter((t) => !vocab.has(t)).length / all.length;
  };
  console.log(`backend ${backend}; ${data.train.length} training verses, ${data.validation.length} validation; vocabulary ${sourceVocab.size} Spanish (validation <unk> ${(100 * unknownRate(sourceVocab, data.validation.map((v) => v.es))).toFixed(1)}%), ${targetVocab.size} English (<unk> ${(100 * unknownRate(targetVocab, data.validation.map((v) => v.en))).toFixed(1)}%); ${model.parameterCount} parameters; max length ${longest}`);

  const pairOf = (v: ParallelVerse) => ({ source: [...sourceVocab.encode(v.es), EOS], target: [BOS, ...targetVocab.encode(v.en), EOS] });
  const train = data.train.map(pairOf);
  const validation = data.validation.map(pairOf);
  const batchSize = 64;
  const batchesOf = (pairs: typeof train, order: number[]) => {
    // Sort within chunks of 16 batches by length: batches of similar lengths waste fewer padded positions.
    const sorted: number[] = [];
    for (let c = 0; c < order.length; c += 16 * batchSize) sorted.push(...order.slice(c, c + 16 * batchSize).sort((a, b) => pairs[a].target.length - pairs[b].target.length));
    const batches: number[][] = [];
    for (let b = 0; b < sorted.length; b += batchSize) batches.push(sorted.slice(b, b + batchSize));
    return batches;
  };
  const validationLoss = () => {
    let sum = 0;
    let tokens = 0;
    for (const batch of batchesOf(validation, validation.map((_, i) => i))) {
      const input = model.pack(batch.map((i) => validation[i]));
      const loss = model.loss(input);
      const n = batch.reduce((s, i) => s + validation[i].target.length - 1, 0);
      sum += loss.dataSync()[0] * n;
      tokens += n;
      tf.dispose([input, loss]);
    }
    return sum / tokens;
  };

  const optimizer = tf.train.adam(2e-3, 0.9, 0.98, 1e-9);
  const started = Date.now();
  let best = { loss: Infinity, epoch: -1, weights: null as Record<string, Float32Array> | null };
  if (resume) best = { loss: validationLoss(), epoch: (previous?.history.length ?? 0) - 1, weights: Object.fromEntries(Object.entries(model.weights).map(([k, w]) => [k, w.dataSync().slice() as Float32Array])) };
  const history: { epoch: number; trainLoss: number; valLoss: number; seconds: number }[] = [];
  if (previous) history.push(...previous.history);
  let epoch = history.length;
  const firstEpoch = epoch;
  for (; epoch < firstEpoch + maxEpochs && (Date.now() - started) / 60000 < minutes; epoch++) {
    const batches = batchesOf(train, seededPermutation(train.length, seed * 1000 + epoch));
    const batchOrder = seededPermutation(batches.length, seed * 1000 + epoch + 1);
    let sum = 0;
    for (const b of batchOrder) {
      const input = model.pack(batches[b].map((i) => train[i]));
      const loss = optimizer.minimize(() => model.loss(input), true, Object.values(model.weights))!;
      sum += loss.dataSync()[0];
      tf.dispose([input, loss]);
    }
    const valLoss = validationLoss();
    const seconds = (Date.now() - started) / 1000;
    history.push({ epoch, trainLoss: sum / batches.length, valLoss, seconds: Math.round(seconds + (previous?.seconds ?? 0)) });
    console.log(`epoch ${epoch}  train loss ${(sum / batches.length).toFixed(3)}  validation loss ${valLoss.toFixed(3)}  ${seconds.toFixed(0)} s`);
    if (valLoss < best.loss) best = { loss: valLoss, epoch, weights: Object.fromEntries(Object.entries(model.weights).map(([k, w]) => [k, w.dataSync().slice() as Float32Array])) };
    else if (epoch - best.epoch >= 4) break; // four epochs without improvement
  }
  const trainSeconds = (Date.now() - started) / 1000 + (previous?.seconds ?? 0);
  for (const [k, w] of Object.entries(model.weights)) w.assign(tf.tensor(best.weights![k], w.shape));

  const dir = arg('out', path.join(assetsDir(), 'translator-es-en'));
  model.save(dir, {
    task: 'translate a Spanish sentence (Reina-Valera 1909 style) into English (World English Bible style), word by word',
    trainedBy: 'scripts/train-translator.ts (data: scripts/make-translation-data.ts)',
    heldOutVerses: 'assets/translator-es-en/heldout.json',
    training: { backend: tf.getBackend(), seed, epochs: history.length, bestEpoch: best.epoch, bestValidationLoss: best.loss, seconds: Math.round(trainSeconds), batchSize, optimizer: 'adam 2e-3 (0.9, 0.98)', trainVerses: data.train.length, validationVerses: data.validation.length, history },
  });
  console.log(`trained ${history.length} epochs in ${trainSeconds.toFixed(0)} s (best ${best.epoch}); wrote ${dir}. Now measure on WASM: INFERENCE_LAB_BACKEND=wasm node dist/scripts/train-translator.js --measure`);
}

/** The held-out figures, on WASM (what the registry and the notebook reproduce): written into config.json and docs/measured/translation.json. */
async function measure(): Promise<void> {
  const backend = await initBackend();
  if (backend !== 'wasm') throw new Error(`--measure runs on WASM (the backend the registry's figure is checked on); got ${backend}. Set INFERENCE_LAB_BACKEND=wasm.`);
  const dir = path.join(assetsDir(), 'translator-es-en');
  const model = Translator.load(dir);
  const data = JSON.parse(fs.readFileSync(path.join(packageRoot(), '.cache', 'translation', 'train.json'), 'utf8')) as { train: ParallelVerse[] };
  const heldOut = readTranslationHeldOut(dir);
  const started = Date.now();
  const measured = measureTranslation(model, heldOut.verses, data.train.map((v) => ({ spanish: v.es, english: v.en })), (done) => {
    if (done % 100 === 0) console.log(`  ${done} verses translated, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
  const figure = evaluateModel('translator-es-en', model);
  if (Math.abs(figure.value - measured.bleu.greedy.bleu) > 1e-9) throw new Error(`the registry's greedy BLEU ${figure.value} differs from the report's ${measured.bleu.greedy.bleu}`);
  const configFile = path.join(dir, 'config.json');
  const saved = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  saved.heldOut = { metric: figure.metric, value: figure.value, n: figure.n, backend: 'wasm' };
  fs.writeFileSync(configFile, JSON.stringify(saved, null, 2) + '\n');
  const out = path.join(packageRoot(), 'docs', 'measured', 'translation.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ madeBy: 'scripts/train-translator.ts --measure', backend, parameters: model.parameterCount, training: saved.training && { backend: saved.training.backend, seconds: saved.training.seconds, epochs: saved.training.epochs, bestEpoch: saved.training.bestEpoch }, ...measured }, null, 1) + '\n');
  console.log(`BLEU greedy ${measured.bleu.greedy.bleu.toFixed(2)}, beam ${measured.bleu.beam.bleu.toFixed(2)} on ${heldOut.verses.length} verses (${((Date.now() - started) / 1000).toFixed(0)} s); wrote ${configFile} and ${out}`);
  for (const row of measured.alignment.rows) console.log(`  ${row.method.padEnd(34)} precision ${row.precision.toFixed(3)} recall ${row.recall.toFixed(3)} AER ${row.aer.toFixed(3)} mean per-verse AER ${row.meanVerseAer.toFixed(3)}`);
  model.dispose();
}

(process.argv.includes('--measure') ? measure() : main()).catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
