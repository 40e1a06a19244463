// Trains the shipped digits CNN on the fixed MNIST split and writes assets/digits-cnn/.
// `npm run train:digits [-- --epochs N --seed S]`. Deterministic for a given seed and backend.
import * as path from 'path';
import { tf } from '../src/engine/tf';
import { initBackend } from '../src/engine/backend';
import { loadMnist } from '../src/data/mnist';
import { seededPermutation, seededRandom } from '../src/data/random';
import { DigitsCNN, DIGITS_CNN_DEFAULTS } from '../src/models/cnn';
import { evaluateDigits } from '../src/models/evaluate';
import { assetsDir } from '../src/models/registry';
import { digitsTrainingStep } from '../src/train/digits';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const epochs = arg('epochs', 15);
  const seed = arg('seed', 42);
  const batchSize = 64;
  const backendName = await initBackend();
  const { train, heldOut } = loadMnist();

  // Normalisation constants come from the training pixels only.
  let sum = 0;
  let sumSq = 0;
  for (const v of train.images) {
    sum += v / 255;
    sumSq += (v / 255) ** 2;
  }
  const pixelMean = sum / train.images.length;
  const pixelStd = Math.sqrt(sumSq / train.images.length - pixelMean ** 2);
  const model = new DigitsCNN({ ...DIGITS_CNN_DEFAULTS, pixelMean, pixelStd }, 'digits-cnn', seed);
  model.convKernel = 'im2col'; // trainable on WASM

  const optimizer = tf.train.adam(2e-3);
  const random = seededRandom(seed);
  const maxShift = 2; // pixels; digits in MNIST are centred by mass, small shifts are realistic
  const started = Date.now();
  console.log(`backend ${backendName}; ${train.count} training digits, ${heldOut.count} held out; ${model.parameterCount} parameters`);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = seededPermutation(train.count, seed * 1000 + epoch);
    let lossSum = 0;
    let batches = 0;
    if (epoch === Math.floor(epochs * 0.7)) (optimizer as unknown as { learningRate: number }).learningRate = 5e-4; // anneal for the last epochs
    for (let start = 0; start + batchSize <= train.count; start += batchSize) {
      lossSum += digitsTrainingStep(model, optimizer, train, order.slice(start, start + batchSize), random, maxShift);
      batches++;
    }
    model.convKernel = 'native';
    const acc = evaluateDigits(model, heldOut).value;
    model.convKernel = 'im2col';
    console.log(`epoch ${epoch + 1}/${epochs}  loss ${(lossSum / batches).toFixed(4)}  held-out accuracy ${acc.toFixed(4)}  ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  model.convKernel = 'native';
  const final = evaluateDigits(model, heldOut);
  const dir = path.join(assetsDir(), 'digits-cnn');
  model.save(dir, {
    task: 'handwritten digit classification (MNIST, 28x28 grey)',
    trainedBy: 'scripts/train-digits.ts',
    training: { epochs, seed, batchSize, augmentation: `random shifts up to ${maxShift} px`, optimizer: 'adam 2e-3 then 5e-4', backend: backendName, trainDigits: train.count, seconds: Math.round((Date.now() - started) / 1000) },
    heldOut: { metric: 'accuracy', value: final.value, n: final.n },
  });
  console.log(`held-out accuracy ${final.value.toFixed(4)} on ${final.n} digits; wrote ${dir}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
