// Trains the shipped tiny GPT on the King James Bible, one character per token, and writes
// assets/tiny-gpt/ (config.json, weights.safetensors, heldout.txt = the test chapters,
// validation.txt = the validation chapters).
// `npm run train:gpt [-- --steps N --batch B --seed S --out DIR]`; needs Debian's bible-kjv (the corpus).
// Checkpoints whenever the validation loss improves, so a long run can be stopped early.
//
// Why characters and not GPT-2's BPE: in GPT-2 tokens the corpus is 1.0 M tokens over 10,006
// distinct ids, 5,728 of them seen fewer than 10 times, so most of a 1 M-parameter model would be
// embedding rows that barely train; with its 63 characters the embedding is 8 K parameters, the
// blocks get the rest, and every token in the views is a letter a reader can follow.
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../src/engine/backend';
import { characterCounts, kjvChapters, splitChapters, unigramCrossEntropy } from '../src/data/corpus';
import { CharTokenizer } from '../src/data/tokenizers';
import { GPT, GPT_PRESETS } from '../src/models/gpt';
import { evaluateLanguageModel, trainLanguageModel } from '../src/train/language-model';
import { assetsDir } from '../src/models/registry';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const steps = arg('steps', 4000);
  const batchSize = arg('batch', 8);
  const seed = arg('seed', 1);
  const outAt = process.argv.indexOf('--out');
  const out = outAt >= 0 ? path.resolve(process.argv[outAt + 1]) : path.join(assetsDir(), 'tiny-gpt');
  const backendName = await initBackend();

  const chapters = kjvChapters();
  const split = splitChapters(chapters);
  const tokenizer = CharTokenizer.fromText(chapters.map((c) => c.text).join(''));
  const encode = (text: string) => Int32Array.from(tokenizer.encode(text));
  const train = encode(split.train);
  const validation = encode(split.validation);
  const test = encode(split.test);
  const model = new GPT({ ...GPT_PRESETS.tiny, vocabSize: tokenizer.vocabSize, tokenizer: tokenizer.spec }, 'tiny-gpt', seed);
  console.log(`backend ${backendName}; ${train.length.toLocaleString()} training characters, ${validation.length.toLocaleString()} validation, ${test.length.toLocaleString()} test; alphabet of ${tokenizer.vocabSize}; ${model.parameterCount.toLocaleString()} parameters`);

  const trainCounts = characterCounts(split.train);
  const unigram = unigramCrossEntropy(trainCounts, tokenizer.alphabet, split.test);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'heldout.txt'), split.test);
  fs.writeFileSync(path.join(out, 'validation.txt'), split.validation); // for choices made after training (pruning, distillation)

  let best = Infinity;
  const history = trainLanguageModel(model, train, {
    steps,
    batchSize,
    seed,
    learningRate: 3e-3,
    warmupSteps: 100,
    validation,
    evalEvery: 250,
    evalWindows: 32,
    onEval: (r) => {
      const improved = (r.validationLoss ?? Infinity) < best;
      console.log(`step ${r.step}  train ${r.trainLoss.toFixed(3)}  validation ${r.validationLoss?.toFixed(3)}  lr ${r.learningRate.toExponential(2)}  ${r.seconds.toFixed(0)} s${improved ? '  (saved)' : ''}`);
      if (!improved) return;
      best = r.validationLoss!;
      model.save(out, { task: 'next character of King James Bible text', trainedBy: 'npm run train:gpt', checkpointStep: r.step });
    },
  });

  // The final report uses the best checkpoint, as saved.
  model.dispose();
  const saved = GPT.load(out, 'tiny-gpt');
  const testLoss = evaluateLanguageModel(saved, test);
  const sample = saved.generate('And God said', { maxTokens: 200, temperature: 0.8, seed: 1 });
  const report = {
    task: 'next character of King James Bible text',
    trainedBy: 'npm run train:gpt',
    corpus: 'King James Bible (Debian bible-kjv-text); whole chapters held out: i % 25 == 6 validation, i % 25 == 12 test (heldout.txt)',
    tokenizer: `characters (${tokenizer.vocabSize})`,
    heldOut: { metric: 'cross-entropy (nats/char)', value: testLoss, n: test.length - 1, perplexity: Math.exp(testLoss) },
    baseline: { metric: 'unigram cross-entropy (nats/char)', value: unigram, perplexity: Math.exp(unigram) },
    trainCharacterCounts: trainCounts,
    training: { steps, batchSize, seed, backend: backendName, tokensSeen: steps * batchSize * GPT_PRESETS.tiny.contextLength, history },
    sample: sample.text,
  };
  saved.save(out, report);
  console.log(`test cross-entropy ${testLoss.toFixed(3)} nats/char (perplexity ${Math.exp(testLoss).toFixed(2)}); unigram baseline ${unigram.toFixed(3)} (perplexity ${Math.exp(unigram).toFixed(2)})`);
  console.log(`sample: ${sample.text}`);
  saved.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
