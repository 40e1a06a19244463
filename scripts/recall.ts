// Long-range recall: can a model answer with a character it saw N positions earlier?
//
// Each example is  [key] [N characters of real text] [?]  and the answer is the key.
//   key:    a lowercase letter a-z, drawn uniformly (26 classes; chance = 1/26 = 3.8%)
//   filler: N consecutive characters of King James text (newlines as spaces), from a random
//           place; it is full of lowercase letters too, so "the last letter" or "the commonest
//           letter" does not answer it: only remembering position 0 does
//   query:  one extra token '#' (not in the text's alphabet) that asks "what was the key?"
// Training fillers come from assets/tiny-gpt/validation.txt, test fillers from heldout.txt (other
// chapters), so no test example's text was trained on.
//
// The same data, loss and budget for two models built from scratch at each N:
//   LSTM: embedding 32 -> LSTM 66 units -> dense over the 26 letters (CharRNN, read after '#')
//   GPT:  d_model 32, 2 blocks of 2 heads, d_mlp 128, context 66 (= the longest example, for
//         every N, so its size does not change with N); the logits of the '#' position,
//         restricted to the 26 letters (its unembedding is W_E transposed)
// Both: cross-entropy over the 26 letters at the query only, Adam 3e-3 (constant), the same
// steps, batch, examples (the same batches, seeded) and seeds. Nothing was tuned per model.
// Writes docs/measured/recall.json (notebook 04 loads it).
// `nice node dist/scripts/recall.js [--steps 300] [--batch 32] [--lengths 4,16,64] [--seeds 1,2] [--test 1000]`
import * as fs from 'fs';
import * as path from 'path';
import { backend, initBackend } from '../src/engine/backend';
import { tf, type Tensor } from '../src/engine/tf';
import { CharRNN } from '../src/models/rnn';
import { GPT } from '../src/models/gpt';
import { readHeldOutText, readValidationText } from '../src/data/corpus';
import { seededRandom } from '../src/data/random';
import { fit, countCorrect } from '../src/train/loop';
import { crossEntropy } from '../src/train/losses';
import { assetsDir, packageRoot } from '../src/io/paths';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const QUERY = '#';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** `count` examples of distance `n`: ids `[count, n + 2]` over `alphabet` (key, filler, query) and the key's letter index. */
function makeExamples(text: string, alphabet: string, n: number, count: number, random: () => number): { ids: Int32Array; keys: Int32Array } {
  const idOf = new Map([...alphabet].map((c, i) => [c, i]));
  const ids = new Int32Array(count * (n + 2));
  const keys = new Int32Array(count);
  for (let b = 0; b < count; b++) {
    const key = Math.floor(random() * LETTERS.length);
    const start = Math.floor(random() * (text.length - n));
    const row = [LETTERS[key], ...text.slice(start, start + n), QUERY].map((c) => idOf.get(c)!);
    ids.set(row, b * (n + 2));
    keys[b] = key;
  }
  return { ids, keys };
}

/** Logits over the 26 letters at the last position `[batch, 26]`, for either model. */
type Classifier = { weights: Record<string, tf.Variable>; letterLogits: (ids: Tensor) => Tensor; parameterCount: number; dispose: () => void };

function lstmClassifier(alphabet: string, seed: number): Classifier {
  const model = new CharRNN({ cell: 'lstm', alphabet: [...alphabet], embedDim: 32, units: 66, labels: [...LETTERS], maxLength: 66 }, 'recall-lstm', 100 * seed);
  return {
    weights: model.weights,
    letterLogits: (ids) => tf.tidy(() => model.logits(tf.add(ids, tf.scalar(2, 'int32')))), // CharRNN ids are alphabet index + 2 (0 pads, 1 unknown)
    parameterCount: model.parameterCount,
    dispose: () => model.dispose(),
  };
}

function gptClassifier(alphabet: string, seed: number, context: number): Classifier {
  const model = new GPT({ vocabSize: alphabet.length, contextLength: context, dModel: 32, nLayers: 2, nHeads: 2, dMlp: 128, layerNormEps: 1e-5, tiedEmbeddings: true, activation: 'gelu_new', tokenizer: { kind: 'char', alphabet } }, 'recall-gpt', 100 * seed);
  // A 0/1 matrix picking the letters' columns (a matMul, because gather's gradient does not run on WASM).
  const pickLetters = tf.keep(tf.tidy(() => tf.transpose(tf.oneHot(tf.tensor1d([...LETTERS].map((c) => alphabet.indexOf(c)), 'int32'), alphabet.length)))); // [vocab, 26]
  return {
    weights: model.weights,
    letterLogits: (ids) => {
      const [batch, pos] = ids.shape;
      const logits = model.forward(ids); // [batch, pos, vocab]
      const last = tf.reshape(tf.slice(logits, [0, pos - 1, 0], [batch, 1, alphabet.length]), [batch, alphabet.length]); // [batch, vocab] at the query
      return tf.matMul(last, pickLetters); // [batch, 26]
    },
    parameterCount: model.parameterCount,
    dispose: () => { model.dispose(); pickLetters.dispose(); },
  };
}

async function main(): Promise<void> {
  await initBackend();
  const steps = Number(arg('steps', '300'));
  const batchSize = Number(arg('batch', '32'));
  const lengths = arg('lengths', '4,16,64').split(',').map(Number);
  const seeds = arg('seeds', '1,2').split(',').map(Number);
  const testCount = Number(arg('test', '1000'));
  const dir = path.join(assetsDir(), 'tiny-gpt');
  const clean = (t: string) => t.replace(/\n/g, ' ');
  const trainText = clean(readValidationText(dir));
  const testText = clean(readHeldOutText(dir));
  const textAlphabet = [...new Set(trainText + testText)].sort().join('');
  if (textAlphabet.includes(QUERY)) throw new Error(`The query token ${QUERY} occurs in the text.`);
  const alphabet = textAlphabet + QUERY;
  const context = Math.max(...lengths) + 2;

  const runs: Record<string, unknown>[] = [];
  const cpuStart = process.cpuUsage();
  for (const n of lengths) {
    const test = makeExamples(testText, alphabet, n, testCount, seededRandom(999)); // the same test set for every model and seed
    for (const seed of seeds) {
      for (const kind of ['lstm', 'gpt'] as const) {
        const model = kind === 'lstm' ? lstmClassifier(alphabet, seed) : gptClassifier(alphabet, seed, context);
        const random = seededRandom(seed); // the same batches for both models at this seed
        const wallStart = performance.now();
        const cpu = process.cpuUsage();
        const optimizer = tf.train.adam(3e-3);
        const result = await fit({
          weights: model.weights,
          optimizer,
          epochs: 1,
          stepsPerEpoch: steps,
          live: false,
          progress: false,
          step: () => {
            const { ids, keys } = makeExamples(trainText, alphabet, n, batchSize, random);
            const input = tf.tensor2d(ids, [batchSize, n + 2], 'int32');
            const logits = model.letterLogits(input); // [batch, 26]
            return { loss: crossEntropy(tf.tensor1d(keys, 'int32'), logits), correct: countCorrect(logits, keys), size: batchSize };
          },
        });
        optimizer.dispose();
        const cpuUsed = process.cpuUsage(cpu);
        const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
        const trainSeconds = (performance.now() - wallStart) / 1000;
        let correct = 0;
        for (let first = 0; first < testCount; first += 250) {
          const count = Math.min(250, testCount - first);
          const ids = tf.tensor2d(test.ids.subarray(first * (n + 2), (first + count) * (n + 2)), [count, n + 2], 'int32');
          const logits = model.letterLogits(ids);
          correct += countCorrect(logits, test.keys.subarray(first, first + count));
          tf.dispose([ids, logits]);
        }
        const row = { model: kind, distance: n, seed, parameters: model.parameterCount, testAccuracy: correct / testCount, meanTrainLoss: result.history[0].trainLoss, trainSeconds, cpuSeconds };
        console.log(`N=${String(n).padStart(3)}  ${kind.padEnd(4)}  seed ${seed}  params ${model.parameterCount}  test accuracy ${(100 * row.testAccuracy).toFixed(1)}%  mean train loss ${row.meanTrainLoss.toFixed(3)}  ${trainSeconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU`);
        runs.push(row);
        model.dispose();
      }
    }
  }
  const cpuTotal = process.cpuUsage(cpuStart);
  const summary = lengths.flatMap((n) =>
    (['lstm', 'gpt'] as const).map((kind) => {
      const acc = runs.filter((r) => r.model === kind && r.distance === n).map((r) => r.testAccuracy as number);
      return { model: kind, distance: n, meanAccuracy: acc.reduce((a, b) => a + b, 0) / acc.length, minAccuracy: Math.min(...acc), maxAccuracy: Math.max(...acc), seeds: acc.length };
    }),
  );
  const out = {
    task: `[key letter a-z] [N characters of King James text] [${QUERY}] -> the key; 26 classes, chance 1/26; training text assets/tiny-gpt/validation.txt, test text heldout.txt`,
    note: 'Each model trained from scratch at each N on the same seeded batches; accuracy on the same test examples. Wall and CPU seconds depend on the machine and its load; accuracies depend on the backend only through floating-point order.',
    models: {
      lstm: 'CharRNN LSTM: embedding 32, 66 units, dense head over 26 letters, read after the query',
      gpt: `GPT: d_model 32, 2 blocks x 2 heads, d_mlp 128, context ${context} (the same for every N), tied unembedding, logits of the query position restricted to the 26 letters`,
    },
    training: { steps, batchSize, examplesPerRun: steps * batchSize, optimizer: 'Adam, learning rate 3e-3 constant, no clipping', loss: 'cross-entropy over 26 letters at the query position only', seeds, testExamples: testCount, testSeed: 999 },
    chance: 1 / LETTERS.length,
    backend: backend(),
    measuredAt: new Date().toISOString(),
    totalCpuSeconds: (cpuTotal.user + cpuTotal.system) / 1e6,
    summary,
    runs,
  };
  const outDir = path.join(packageRoot(), 'docs', 'measured');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'recall.json'), JSON.stringify(out, null, 2) + '\n');
  for (const s of summary) console.log(`N=${String(s.distance).padStart(3)}  ${s.model.padEnd(4)}  mean ${(100 * s.meanAccuracy).toFixed(1)}%  (${(100 * s.minAccuracy).toFixed(1)}-${(100 * s.maxAccuracy).toFixed(1)}%)`);
  console.log(`total CPU ${out.totalCpuSeconds.toFixed(0)} s`);
}

main().catch((e) => { console.error(e); process.exit(1); });
