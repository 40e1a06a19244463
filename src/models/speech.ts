// The keyword spotter: one second of 16 kHz audio -> pre-emphasis -> Hann-windowed frames ->
// power spectrum -> mel filterbank -> log -> normalisation -> conv/relu/pool x3 -> max over
// time -> dense -> softmax -> top-k. The max over time makes the answer the same wherever the
// word sits in the second (a word is ~0.3 s of it). Preprocessing is part of the model, so every step is a hook point of the
// same trace (as the digits CNN's pixels are), and a patch at `pre.hook_mel` reaches the logits.
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { conv2dViaMatmul, variableFrom } from '../engine/ops';
import { HookedModel } from '../hooks/hooked-model';
import type { Trace } from '../hooks/trace';
import { appendTopKStep, layerTable, topK, type Prediction } from './predictions';
import {
  LOG_MEL_DEFAULTS, checkLogMelConfig, dftBasis, filterbankTensor, frameCount, frequencyBins, melEnergies, powerSpectrum, preEmphasize, windowedFrames,
  type LogMelConfig,
} from '../preprocess/log-mel';
import { KEYWORDS, KWS_CLIP_SAMPLES, KWS_SAMPLE_RATE, KWS_TEST_SNRS, NOISE_TYPES, heldOutNoise, noisyWindows, placeInWindow, readClipSet, type KeywordClipSet, type NoiseType } from '../data/speech';
import { assetsDir } from '../io/paths';
import type { MimeBundle } from '../engine/mime';
import { viewOf } from '../engine/display';

export interface KeywordCNNConfig {
  /** How audio becomes log-mel features (frame, FFT and filterbank sizes; see preprocess/log-mel.ts). */
  features: LogMelConfig;
  /** Samples of one input (16000 = one second at 16 kHz). */
  clipSamples: number;
  /** Filters of conv.0, conv.1 and conv.2 (conv.2's filters, max-pooled over time, feed the dense layer). */
  channels: [number, number, number];
  /** Side of each square conv kernel (over frames x mel bands). */
  kernelSize: number;
  /** Class names, one per output logit. */
  labels: string[];
  /** Mean and std of each mel band's log energy over the training features (noise included). */
  featureMean: number[];
  featureStd: number[];
}

/** The shipped configuration (assets/kws-cnn/config.json stores the trained mean and std). */
export const KWS_CNN_DEFAULTS: KeywordCNNConfig = {
  features: LOG_MEL_DEFAULTS,
  clipSamples: KWS_CLIP_SAMPLES,
  channels: [16, 32, 64],
  kernelSize: 3,
  labels: [...KEYWORDS],
  featureMean: new Array(LOG_MEL_DEFAULTS.melBins).fill(0), // training overwrites these with the data's
  featureStd: new Array(LOG_MEL_DEFAULTS.melBins).fill(1),
};

const CONVS = [0, 1, 2] as const;

export class KeywordCNN extends HookedModel {
  readonly name: string;
  readonly config: KeywordCNNConfig;
  /** 'native' runs tf.conv2d; 'im2col' is the trainable path on WASM (see engine/ops). */
  convKernel: 'native' | 'im2col' = 'native';
  readonly weights: Record<string, tf.Variable>;
  /** Fixed tables of the preprocessing (not learned, not saved): DFT basis, filterbank, mean, std. */
  private readonly constants: Record<'basis' | 'filterbank' | 'mean' | 'std', tf.Variable>;

  constructor(config: KeywordCNNConfig = KWS_CNN_DEFAULTS, name = 'kws-cnn', seed = 0) {
    super();
    checkLogMelConfig(config.features);
    if (config.featureMean.length !== config.features.melBins || config.featureStd.length !== config.features.melBins) {
      throw new Error(`${name}: featureMean and featureStd need ${config.features.melBins} values (one per mel band); got ${config.featureMean.length} and ${config.featureStd.length}.`);
    }
    this.name = name;
    this.config = config;
    const [c0, c1, c2] = config.channels;
    const k = config.kernelSize;
    const classes = config.labels.length;
    // tf.variable shares the initial tensor's data; free the initial tensor itself. Variables also survive an enclosing tf.tidy.
    const heInit = (shape: number[], fanIn: number, s: number) => variableFrom(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed + s)); // He init for ReLU
    this.weights = {
      'conv.0.weight': heInit([k, k, 1, c0], k * k, 1), // [kh, kw, in, out]
      'conv.0.bias': variableFrom(tf.zeros([c0])),
      'conv.1.weight': heInit([k, k, c0, c1], k * k * c0, 2),
      'conv.1.bias': variableFrom(tf.zeros([c1])),
      'conv.2.weight': heInit([k, k, c1, c2], k * k * c1, 3),
      'conv.2.bias': variableFrom(tf.zeros([c2])),
      'dense.weight': heInit([this.flatSize, classes], this.flatSize, 4), // [features, classes]
      'dense.bias': variableFrom(tf.zeros([classes])),
    };
    const f = config.features;
    this.constants = {
      basis: variableFrom(tf.tensor2d(dftBasis(f), [f.frameLength, 2 * frequencyBins(f)]), false), // [frame_length, 2*bins]
      filterbank: variableFrom(filterbankTensor(f), false), // [bins, mels]
      mean: variableFrom(tf.tensor1d(config.featureMean), false), // [mels]
      std: variableFrom(tf.tensor1d(config.featureStd), false), // [mels]
    };

    this.hookPoint('pre.hook_waveform', 'input', '[batch, samples] audio in [-1, 1] at 16 kHz');
    this.hookPoint('pre.hook_preemphasis', 'preemphasis', '[batch, samples] x[n] - 0.97 x[n-1]');
    this.hookPoint('pre.hook_frames', 'window', '[batch, frames, frame_length] Hann-windowed 25 ms frames every 10 ms');
    this.hookPoint('pre.hook_power', 'fft', '[batch, frames, freq_bins] |DFT|^2 per frame');
    this.hookPoint('pre.hook_mel', 'mel', '[batch, frames, mels] energy in each mel band');
    this.hookPoint('pre.hook_log_mel', 'log', '[batch, frames, mels] natural log of the energy');
    this.hookPoint('pre.hook_normalized', 'normalize', '[batch, frames, mels, 1] zero mean, unit std per band');
    for (const i of CONVS) {
      this.hookPoint(`conv.${i}.hook_conv`, 'conv2d', '[batch, frames, mels, ch]');
      this.hookPoint(`conv.${i}.hook_relu`, 'relu', '[batch, frames, mels, ch]');
      this.hookPoint(`conv.${i}.hook_pool`, 'maxpool', '[batch, frames/2, mels/2, ch]');
    }
    this.hookPoint('pool.hook_time_max', 'time_max', '[batch, mels/8, ch] strongest response anywhere in the second');
    this.hookPoint('flatten.hook_out', 'flatten', '[batch, features]');
    this.hookPoint('hook_logits', 'dense', '[batch, classes]');
    this.hookPoint('post.hook_probs', 'softmax', '[batch, classes]');
  }

  /** Frames of one input: 98 for one second with 25 ms frames every 10 ms. */
  get frames(): number {
    return frameCount(this.config.clipSamples, this.config.features);
  }

  /** Features entering the dense layer: three valid convs, each followed by a 2x2 pool, then the max over time. */
  get flatSize(): number {
    const { kernelSize: k, channels, features } = this.config;
    let [h, w] = [frameCount(this.config.clipSamples, features), features.melBins];
    for (const _ of CONVS) [h, w] = [Math.floor((h - k + 1) / 2), Math.floor((w - k + 1) / 2)];
    if (h < 1 || w < 1) throw new Error(`kws-cnn: ${this.config.clipSamples} samples and ${features.melBins} mel bands are too few for three ${k}x${k} conv + pool blocks.`);
    return w * channels[2];
  }

  get parameterCount(): number {
    return Object.values(this.weights).reduce((n, w) => n + w.size, 0);
  }


  get byteSize(): number {
    return this.storedBytes ?? this.parameterCount * 4;
  }

  /** Where a fully integer engine would quantize activations: each weighted layer's input and output. */
  readonly activationQuantPoints = ['pre.hook_normalized', 'conv.0.hook_conv', 'conv.0.hook_pool', 'conv.1.hook_conv', 'conv.1.hook_pool', 'conv.2.hook_conv', 'conv.2.hook_pool', 'hook_logits'];

  /** A copy with its own weights (same config and hook names). */
  clone(name = `${this.name}-copy`): this {
    return this.copyInto(() => new KeywordCNN(this.config, name) as this);
  }

  protected validateInput(input: Tensor): void {
    const ok = input.rank === 2 && input.shape[0] > 0 && input.shape[1] === this.config.clipSamples && input.dtype === 'float32';
    if (!ok) {
      throw new Error(
        `${this.name} expects waveforms shaped [batch, ${this.config.clipSamples}] float32: ${this.config.clipSamples / this.config.features.sampleRate} s ` +
          `at ${this.config.features.sampleRate} Hz, samples in [-1, 1]; got [${input.shape}] ${input.dtype}. ` +
          `keywordWaveform(samples, sampleRate) checks the rate and pads a shorter clip.`,
      );
    }
  }

  private conv(x: Tensor, i: number): Tensor {
    const w = this.weights[`conv.${i}.weight`];
    const y = this.convKernel === 'im2col' ? conv2dViaMatmul(x, w) : tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid');
    return tf.add(y, this.weights[`conv.${i}.bias`]);
  }

  /** Audio to log-mel features: the pre.* steps up to pre.hook_log_mel. */
  private logMelImpl(waveform: Tensor): Tensor {
    const f = this.config.features;
    let x = this.hook('pre.hook_waveform', waveform); // [batch, 16000]
    x = this.hook('pre.hook_preemphasis', preEmphasize(x, f.preEmphasis)); // [batch, 16000]
    x = this.hook('pre.hook_frames', windowedFrames(x, f)); // [batch, 98, 400]
    x = this.hook('pre.hook_power', powerSpectrum(x, this.constants.basis)); // [batch, 98, 257]
    x = this.hook('pre.hook_mel', melEnergies(x, this.constants.filterbank)); // [batch, 98, 40]
    return this.hook('pre.hook_log_mel', tf.log(tf.add(x, f.logFloor))); // [batch, 98, 40]
  }

  /** Log-mel features to logits: normalisation, three conv blocks, the dense layer. */
  private classifierImpl(logMel: Tensor): Tensor {
    const normalized = tf.div(tf.sub(logMel, this.constants.mean), this.constants.std); // [batch, 98, 40]
    let x = this.hook('pre.hook_normalized', tf.expandDims(normalized, 3)); // [batch, 98, 40, 1]
    for (const i of CONVS) {
      x = this.hook(`conv.${i}.hook_conv`, this.conv(x, i)); // [batch, h-2, w-2, ch]
      x = this.hook(`conv.${i}.hook_relu`, tf.relu(x)); // [batch, h-2, w-2, ch]
      x = this.hook(`conv.${i}.hook_pool`, tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')); // [batch, (h-2)/2, (w-2)/2, ch]
    }
    x = this.hook('pool.hook_time_max', tf.max(x, 1)); // [batch, 3, 64]: over the 10 time steps left
    x = this.hook('flatten.hook_out', tf.reshape(x, [x.shape[0], -1])); // [batch, 192], band-major as tf.layers.flatten
    return this.hook('hook_logits', tf.add(tf.matMul(x, this.weights['dense.weight']), this.weights['dense.bias'])); // [batch, 10]
  }

  protected forwardImpl(input: Tensor): Tensor {
    return this.hook('post.hook_probs', tf.softmax(this.classifierImpl(this.logMelImpl(input)))); // [batch, 10]
  }

  /** Log-mel features [batch, frames, mels] of waveforms [batch, samples] (no gradient needed: nothing is learned there). */
  logMel(waveform: Tensor): Tensor {
    this.validateInput(waveform);
    return tf.tidy(() => this.logMelImpl(waveform));
  }

  /**
   * Logits from log-mel features (what training differentiates: the features are computed once
   * per batch outside the gradient tape). Safe inside tf.tidy or an optimizer's minimize.
   */
  logitsFromLogMel(logMel: Tensor): Tensor {
    const expected = [this.frames, this.config.features.melBins];
    if (logMel.rank !== 3 || logMel.shape[1] !== expected[0] || logMel.shape[2] !== expected[1]) {
      throw new Error(`${this.name}.logitsFromLogMel expects log-mel features [batch, ${expected.join(', ')}]; got [${logMel.shape}].`);
    }
    return tf.tidy(() => this.classifierImpl(logMel));
  }

  /** Logits without the softmax, from waveforms. */
  logits(input: Tensor): Tensor {
    this.validateInput(input);
    return tf.tidy(() => this.classifierImpl(this.logMelImpl(input)));
  }

  /** Top-k keywords with probabilities for each clip in the batch. */
  classify(input: Tensor, k = 3): Prediction[][] {
    const probs = this.forward(input); // [batch, classes]
    const result = topK(probs, this.config.labels, k);
    probs.dispose();
    return result;
  }

  /** The trace ends with the post-processing step that turns probabilities into keywords. */
  protected override extendTrace(trace: Trace): Trace {
    return appendTopKStep(trace, 'post.hook_probs', this.config.labels);
  }

  /** Layer table: hook name, kind, output shape for one clip, parameters owned by that layer. */
  summary(): { name: string; kind: string; outputShape: number[]; params: number }[] {
    const example = tf.zeros([1, this.config.clipSamples]);
    const trace = this.trace(example, { keepTensors: false });
    example.dispose();
    return layerTable(trace, this.weights);
  }

  override toString(): string {
    const rows = this.summary().map(
      (r) => `  ${r.name.padEnd(22)} ${r.kind.padEnd(12)} ${`[${r.outputShape.join(', ')}]`.padEnd(18)} ${r.params || ''}`,
    );
    return `KeywordCNN "${this.name}": ${this.parameterCount.toLocaleString('en-US')} parameters, ${this.byteSize.toLocaleString('en-US')} bytes (float32)\n${rows.join('\n')}`;
  }

  /** Shown as a summary table when the model is a cell's last value. */
  async toMimeBundle(): Promise<MimeBundle> {
    return viewOf('model-summary', { rows: this.summary(), title: `${this.name}: ${this.parameterCount.toLocaleString('en-US')} parameters` }, () => this.toString());
  }

  /** Write weights.safetensors + config.json into `dir`. */
  save(dir: string, extra: Record<string, unknown> = {}): void {
    this.saveFiles(dir, 'kws-cnn', this.config, extra); // throws on a function transform, naming its hook
  }

  /** Load a model saved by `save` (or the shipped one). Errors name the file and tensor. */
  static load(dir: string, name = path.basename(dir)): KeywordCNN {
    return HookedModel.loadFiles<KeywordCNNConfig, KeywordCNN>(dir, 'kws-cnn', (config) => new KeywordCNN(config, name)); // quantization, pruning, transforms; other format versions refused
  }

  dispose(): void {
    for (const w of Object.values(this.weights)) w.dispose();
    for (const c of Object.values(this.constants)) c.dispose();
  }
}

/**
 * A model input from raw samples: checks the sample rate (the filterbank is laid out for 16 kHz)
 * and centres a clip shorter than one second in silence. Returns [1, 16000].
 */
export function keywordWaveform(samples: ArrayLike<number>, sampleRate: number, clipSamples = KWS_CLIP_SAMPLES): Tensor {
  if (sampleRate !== KWS_SAMPLE_RATE) {
    throw new Error(`The keyword spotter reads ${KWS_SAMPLE_RATE} Hz audio; got ${sampleRate} Hz. Resample first (e.g. \`sox in.wav -r ${KWS_SAMPLE_RATE} out.wav\`).`);
  }
  if (samples.length === 0 || samples.length > clipSamples) {
    throw new Error(`The keyword spotter reads one word of at most ${clipSamples} samples (${clipSamples / KWS_SAMPLE_RATE} s); got ${samples.length}. Cut out the word first.`);
  }
  const window = new Float32Array(clipSamples);
  placeInWindow(Float32Array.from(samples), window);
  return tf.tensor2d(window, [1, clipSamples]);
}

/** The committed held-out clips of the shipped keyword spotter (speakers it never heard). */
export function loadKeywordHeldOut(dir = path.join(assetsDir(), 'kws-cnn')): KeywordClipSet {
  return readClipSet(path.join(dir, 'heldout'));
}

/** Held-out accuracy at one SNR, with its confusion matrix and accuracy per noise type. */
export interface KeywordSnrResult {
  /** Infinity for the clean clips. */
  snrDb: number;
  accuracy: number;
  n: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  /** Accuracy on the clips that got each noise type (empty for clean). */
  byNoise: Partial<Record<NoiseType, { accuracy: number; n: number }>>;
}

export interface KeywordEvaluation {
  labels: string[];
  results: KeywordSnrResult[];
  /** Predicted label of every clip at every SNR: predictions[snrIndex][clip]. */
  predictions: number[][];
}

/**
 * Accuracy of the keyword spotter over a clip set at each SNR (noise mixed deterministically,
 * see data/speech.ts heldOutNoise): the number the tests assert and the views draw.
 */
export function evaluateKeywords(model: KeywordCNN, set: KeywordClipSet, options: { snrs?: readonly number[]; batchSize?: number } = {}): KeywordEvaluation {
  const snrs = options.snrs ?? KWS_TEST_SNRS;
  const batchSize = options.batchSize ?? 64;
  const labels = model.config.labels;
  const n = set.clips.length;
  const results: KeywordSnrResult[] = [];
  const predictions: number[][] = [];
  snrs.forEach((snrDb) => {
    const level = KWS_TEST_SNRS.indexOf(snrDb as never) >= 0 ? KWS_TEST_SNRS.indexOf(snrDb as never) : snrs.indexOf(snrDb);
    const predicted: number[] = [];
    for (let start = 0; start < n; start += batchSize) {
      const indices = Array.from({ length: Math.min(batchSize, n - start) }, (_, j) => start + j);
      const audio = noisyWindows(set, indices, snrDb, level);
      const ids = tf.tidy(() => tf.argMax(model.forward(tf.tensor2d(audio, [indices.length, model.config.clipSamples])), 1).dataSync()); // [batch]
      predicted.push(...Array.from(ids));
    }
    const confusion = labels.map(() => new Array(labels.length).fill(0));
    const byType = new Map<NoiseType, { right: number; n: number }>();
    let right = 0;
    predicted.forEach((p, i) => {
      confusion[set.labels[i]][p]++;
      const ok = p === set.labels[i];
      if (ok) right++;
      if (Number.isFinite(snrDb)) {
        const type = heldOutNoise(i, level).type;
        const t = byType.get(type) ?? { right: 0, n: 0 };
        t.n++;
        if (ok) t.right++;
        byType.set(type, t);
      }
    });
    const byNoise: KeywordSnrResult['byNoise'] = {};
    for (const type of NOISE_TYPES) {
      const t = byType.get(type);
      if (t) byNoise[type] = { accuracy: t.right / t.n, n: t.n };
    }
    results.push({ snrDb, accuracy: right / n, n, confusion, byNoise });
    predictions.push(predicted);
  });
  return { labels, results, predictions };
}
