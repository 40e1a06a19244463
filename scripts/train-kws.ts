// Trains the shipped keyword spotter on the espeak-ng clips made by `npm run data:kws` and writes
// assets/kws-cnn/ (config.json + weights.safetensors). `npm run train:kws [-- --epochs N --seed S]`.
// Every epoch sees new augmentation: each word at a random position in its one-second window,
// a random gain, and (4 times in 5) white, pink, brown or babble noise at a random SNR. The
// validation speakers (other variant families) choose the epoch kept; the held-out speakers are
// only evaluated at the end.
import * as path from 'path';
import { tf } from '../src/engine/tf';
import { tensorValues } from '../src/engine/ops';
import { initBackend } from '../src/engine/backend';
import { LOG_MEL_DEFAULTS, frameCount, logMelSpectrogram } from '../src/preprocess/log-mel';
import { KWS_CLIP_SAMPLES, KWS_TEST_SNRS, NOISE_TYPES, babbleSourcesFor, makeNoise, mixAtSnr, noisyWindows, placeInWindow, readClipSet, type KeywordClipSet } from '../src/data/speech';
import { seededPermutation, seededRandom } from '../src/data/random';
import { KeywordCNN, KWS_CNN_DEFAULTS, evaluateKeywords } from '../src/models/speech';
import { assetsDir, packageRoot } from '../src/models/registry';
import { fit, countCorrect } from '../src/train/loop';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const FRAMES = frameCount(KWS_CLIP_SAMPLES, LOG_MEL_DEFAULTS);
const MELS = LOG_MEL_DEFAULTS.melBins;

/** Log-mel features of `n` one-second windows (row-major audio), in chunks: [n * frames * mels]. */
function features(audio: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * FRAMES * MELS);
  const chunk = 200;
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    const values = tensorValues(() => logMelSpectrogram(tf.tensor2d(audio.subarray(start * KWS_CLIP_SAMPLES, (start + m) * KWS_CLIP_SAMPLES), [m, KWS_CLIP_SAMPLES]))); // [m, frames, mels]
    out.set(values, start * FRAMES * MELS);
  }
  return out;
}

/** One epoch of augmented training audio, clips in a fresh order: [n * 16000] and the labels. */
function augmentedEpoch(set: KeywordClipSet, epoch: number, seed: number): { audio: Float32Array; labels: Int32Array } {
  const n = set.clips.length;
  const order = seededPermutation(n, seed * 1000 + epoch);
  const random = seededRandom(seed * 7919 + epoch);
  const audio = new Float32Array(n * KWS_CLIP_SAMPLES);
  const labels = new Int32Array(n);
  order.forEach((i, row) => {
    const clip = set.clips[i];
    const window = audio.subarray(row * KWS_CLIP_SAMPLES, (row + 1) * KWS_CLIP_SAMPLES);
    placeInWindow(clip, window, Math.floor(random() * Math.max(1, KWS_CLIP_SAMPLES - clip.length))); // anywhere in the second
    const gain = 10 ** ((random() * 16 - 10) / 20); // -10..+6 dB: people speak softly and loudly
    for (let j = 0; j < window.length; j++) window[j] *= gain;
    if (random() < 0.8) {
      const type = NOISE_TYPES[Math.floor(random() * NOISE_TYPES.length)];
      const snr = -5 + random() * 30; // -5..25 dB: a little beyond the hardest test level
      const noiseSeed = Math.floor(random() * 2 ** 31);
      const scaledWord = clip.map((v) => v * gain);
      mixAtSnr(window, scaledWord, makeNoise(type, KWS_CLIP_SAMPLES, noiseSeed, type === 'babble' ? babbleSourcesFor(set, i, noiseSeed) : []), snr);
    }
    labels[row] = set.labels[i];
  });
  return { audio, labels };
}

async function main(): Promise<void> {
  const epochs = arg('epochs', 10);
  const seed = arg('seed', 5);
  const batchSize = 64;
  const backendName = await initBackend();
  const cache = path.join(packageRoot(), '.cache', 'kws');
  const train = readClipSet(path.join(cache, 'train'));
  const validation = readClipSet(path.join(cache, 'validation'));
  const heldOut = readClipSet(path.join(assetsDir(), 'kws-cnn', 'heldout'));
  const started = Date.now();

  let epochData = augmentedEpoch(train, 0, seed);
  let epochFeatures = features(epochData.audio, train.clips.length);
  console.log(`features of epoch 1: ${((Date.now() - started) / 1000).toFixed(0)} s`);

  // Normalisation constants: per mel band, over the (augmented) training features only.
  const mean = new Array(MELS).fill(0);
  const sq = new Array(MELS).fill(0);
  const rows = epochFeatures.length / MELS;
  for (let r = 0; r < rows; r++) {
    for (let m = 0; m < MELS; m++) {
      const v = epochFeatures[r * MELS + m];
      mean[m] += v;
      sq[m] += v * v;
    }
  }
  const featureMean = mean.map((s) => s / rows);
  const featureStd = sq.map((s, m) => Math.sqrt(Math.max(1e-8, s / rows - featureMean[m] ** 2)));
  const model = new KeywordCNN({ ...KWS_CNN_DEFAULTS, featureMean, featureStd }, 'kws-cnn', seed);
  model.convKernel = 'im2col'; // trainable on WASM

  // Validation: each clip at one of the test SNRs (clean, 20, 10, 5, 0 dB), fixed for all epochs.
  const valAudio = new Float32Array(validation.clips.length * KWS_CLIP_SAMPLES);
  validation.clips.forEach((_, i) => {
    const level = i % KWS_TEST_SNRS.length;
    valAudio.set(noisyWindows(validation, [i], KWS_TEST_SNRS[level], level), i * KWS_CLIP_SAMPLES);
  });
  const valFeatures = features(valAudio, validation.clips.length);
  const valLabels = Int32Array.from(validation.labels);

  const stepsPerEpoch = Math.floor(train.clips.length / batchSize);
  const optimizer = tf.train.adam(3e-3);
  console.log(`backend ${backendName}; ${train.clips.length} training clips, ${validation.clips.length} validation, ${heldOut.clips.length} held out; ${model.parameterCount} parameters`);
  const batch = (feats: Float32Array, labels: Int32Array, start: number, n: number) => ({
    x: tf.tensor3d(feats.subarray(start * FRAMES * MELS, (start + n) * FRAMES * MELS), [n, FRAMES, MELS]), // [n, 98, 40]
    labels: labels.subarray(start, start + n),
  });
  const result = await fit({
    weights: model.weights,
    optimizer,
    epochs,
    stepsPerEpoch,
    patience: 4,
    live: false,
    progress: false,
    title: 'kws-cnn',
    step: (_epoch, i) => {
      const { x, labels } = batch(epochFeatures, epochData.labels, i * batchSize, batchSize);
      const logits = model.logitsFromLogMel(x); // [batch, 10]
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), logits) as tf.Scalar;
      return { loss, correct: countCorrect(logits, labels), size: batchSize };
    },
    validate: () => {
      let lossSum = 0;
      let correct = 0;
      for (let start = 0; start < validation.clips.length; start += 200) {
        const n = Math.min(200, validation.clips.length - start);
        const { x, labels } = batch(valFeatures, valLabels, start, n);
        const logits = model.logitsFromLogMel(x);
        lossSum += tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), logits).dataSync()[0]) * n;
        correct += countCorrect(logits, labels);
        tf.dispose([x, logits]);
      }
      return { loss: lossSum / validation.clips.length, accuracy: correct / validation.clips.length };
    },
    onEpoch: (r) => {
      console.log(`epoch ${r.epoch}/${epochs}  train loss ${r.trainLoss.toFixed(4)} acc ${r.trainAccuracy?.toFixed(4)}  validation loss ${r.valLoss?.toFixed(4)} acc ${r.valAccuracy?.toFixed(4)}  ${r.seconds.toFixed(0)} s`);
      if (r.epoch === Math.floor(epochs * 0.6)) (optimizer as unknown as { learningRate: number }).learningRate = 5e-4; // anneal for the last epochs
      if (r.epoch < epochs) {
        epochData = augmentedEpoch(train, r.epoch, seed); // fresh positions, gains and noise
        epochFeatures = features(epochData.audio, train.clips.length);
      }
    },
  });
  model.convKernel = 'native';
  const seconds = Math.round((Date.now() - started) / 1000);
  const evaluation = evaluateKeywords(model, heldOut);
  const bySnr = evaluation.results.map((r) => ({ snr: Number.isFinite(r.snrDb) ? r.snrDb : 'clean', accuracy: Number(r.accuracy.toFixed(4)), n: r.n }));
  const clean = evaluation.results[0];
  const distinct = (xs: string[]) => [...new Set(xs)].sort();
  model.save(path.join(assetsDir(), 'kws-cnn'), {
    task: 'keyword spotting: 10 words, 1 s of 16 kHz audio',
    trainedBy: 'scripts/train-kws.ts (data: scripts/make-kws-data.ts, espeak-ng voices)',
    training: {
      epochs: result.history.length, bestEpoch: result.bestEpoch, seed, batchSize, optimizer: 'adam 3e-3 then 5e-4', backend: backendName, seconds,
      trainClips: train.clips.length, validationClips: validation.clips.length,
      augmentation: 'random position in the 1 s window, gain -10..+6 dB, p=0.8 noise (white/pink/brown/babble) at SNR -5..25 dB',
      trainSpeakers: distinct(train.info.map((c) => c.speaker)), trainLanguages: distinct(train.info.map((c) => c.language)),
      validationSpeakers: distinct(validation.info.map((c) => c.speaker)),
    },
    heldOut: { metric: 'accuracy (clean, held-out speakers)', value: Number(clean.accuracy.toFixed(4)), n: clean.n },
    heldOutBySnr: bySnr,
  });
  console.log(`held-out accuracy by SNR: ${bySnr.map((r) => `${r.snr}: ${r.accuracy}`).join(', ')} (n=${clean.n}); ${seconds} s; best epoch ${result.bestEpoch}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
