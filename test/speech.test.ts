import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  tf, initBackend, loadModel, modelNames, listModels, assetsDir, type Tensor,
  KeywordCNN, KWS_CNN_DEFAULTS, keywordWaveform, evaluateKeywords, type KeywordEvaluation,
  LOG_MEL_DEFAULTS, logMelSpectrogram, melFilterbank, hzToMel, melToHz, hannWindow, dftBasis, preEmphasize, windowedFrames, powerSpectrum, type LogMelConfig,
  KEYWORDS, KWS_TEST_SNRS, loadKeywordHeldOut, readClipSet, makeNoise, mixAtSnr, meanPower, noisyWindows, placeInWindow, speakerFamily, type KeywordClipSet,
  waveformView, spectrogramView, melView, speechPreprocessingView, confusionMatrixView, snrAccuracyView,
} from '../src/index';

// Made by test/fixtures/make-speech-reference.py (numpy/scipy); see its docstring for the conventions.
const reference = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'speech-reference.json'), 'utf8')) as {
  config: LogMelConfig; signal: number[]; preEmphasis: number[]; window: number[]; power: number[][]; filterbank: number[][]; logMel: number[][]; melEdgesHz: number[];
};

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const peakOf = (xs: number[][]) => Math.max(...xs.flat().map(Math.abs));

let model: KeywordCNN;
let heldOut: KeywordClipSet;
let evaluation: KeywordEvaluation;
let saved: { heldOut: { value: number; n: number }; heldOutBySnr: { snr: number | 'clean'; accuracy: number; n: number }[]; training: { trainSpeakers: string[]; validationSpeakers: string[]; trainLanguages: string[] } };

beforeAll(async () => {
  await initBackend();
  model = loadModel('kws-cnn') as KeywordCNN;
  heldOut = loadKeywordHeldOut();
  saved = JSON.parse(fs.readFileSync(path.join(assetsDir(), 'kws-cnn', 'config.json'), 'utf8'));
});
afterAll(() => model.dispose());

describe('preprocessing against numpy/scipy (test/fixtures/make-speech-reference.py)', () => {
  const config = reference.config;
  const signal = () => tf.tensor2d(reference.signal, [1, reference.signal.length]); // [1, 1600]

  it('uses the same configuration as the shipped model', () => {
    expect(config).toEqual({ ...LOG_MEL_DEFAULTS });
    expect(model.config.features).toEqual(config);
  });

  it('the Slaney mel scale: 1 kHz is mel 15, and the band edges match', () => {
    expect(hzToMel(1000)).toBeCloseTo(15, 12);
    expect(melToHz(hzToMel(5555))).toBeCloseTo(5555, 8);
    const low = hzToMel(config.fMin);
    const high = hzToMel(config.fMax);
    const edges = reference.melEdgesHz.map((_, i) => melToHz(low + ((high - low) * i) / (config.melBins + 1)));
    expect(maxAbs(edges, reference.melEdgesHz)).toBeLessThan(1e-4);
  });

  it('mel filterbank equals librosa-style Slaney filters (1e-4, also relative to the largest weight)', () => {
    const ours = melFilterbank(config);
    expect(ours.length).toBe(config.melBins);
    const diff = Math.max(...ours.map((row, m) => maxAbs(row, reference.filterbank[m])));
    console.log(`mel filterbank: max |ours - numpy| ${diff.toExponential(2)} (largest weight ${peakOf(reference.filterbank).toExponential(3)})`);
    expect(diff).toBeLessThan(1e-4 * peakOf(reference.filterbank));
  });

  it('periodic Hann window and pre-emphasis match scipy (1e-4)', () => {
    expect(maxAbs(hannWindow(config.frameLength), reference.window)).toBeLessThan(1e-6);
    const x = signal();
    const pre = preEmphasize(x, config.preEmphasis);
    expect(maxAbs(pre.dataSync(), reference.preEmphasis)).toBeLessThan(1e-4);
    tf.dispose([x, pre]);
  });

  it('power spectrum |rfft(frame * window, 512)|^2 matches numpy to 1e-4 of its peak', () => {
    const x = signal();
    const basis = tf.tensor2d(dftBasis(config), [config.frameLength, config.fftLength + 2]);
    const power = powerSpectrum(windowedFrames(preEmphasize(x, config.preEmphasis), config), basis);
    expect(power.shape).toEqual([1, reference.power.length, config.fftLength / 2 + 1]);
    const diff = maxAbs(power.dataSync(), reference.power.flat());
    console.log(`power spectrum: max |ours - numpy| ${diff.toExponential(2)} of a peak ${peakOf(reference.power).toFixed(1)}`);
    expect(diff).toBeLessThan(1e-4 * peakOf(reference.power));
    tf.dispose([x, basis, power]);
  });

  it('log-mel features match numpy to 1e-4', () => {
    const x = signal();
    const logMel = logMelSpectrogram(x, config);
    const diff = maxAbs(logMel.dataSync(), reference.logMel.flat());
    console.log(`log-mel: max |ours - numpy| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    tf.dispose([x, logMel]);
  });

  it("the model's own pre.* hook points give the reference numbers (signal padded to 1 s)", () => {
    const padded = new Float32Array(model.config.clipSamples);
    padded.set(reference.signal);
    const x = tf.tensor2d(padded, [1, padded.length]);
    const [out, cache] = model.runWithCache(x, { names: ['pre.hook_power', 'pre.hook_log_mel'] });
    const frames = reference.power.length; // frames wholly inside the reference signal are unaffected by the padding
    const power = tf.tidy(() => tf.slice(cache.get('pre.hook_power'), [0, 0, 0], [1, frames, -1]).dataSync());
    const logMel = tf.tidy(() => tf.slice(cache.get('pre.hook_log_mel'), [0, 0, 0], [1, frames, -1]).dataSync());
    expect(maxAbs(power, reference.power.flat())).toBeLessThan(1e-4 * peakOf(reference.power));
    expect(maxAbs(logMel, reference.logMel.flat())).toBeLessThan(1e-4);
    tf.dispose([x, out]);
    cache.dispose();
  });
});

describe('the shipped keyword spotter on held-out speakers', () => {
  beforeAll(() => {
    evaluation = evaluateKeywords(model, heldOut);
  });

  it('is registered: loadModel, modelNames and listModels know kws-cnn', () => {
    expect(modelNames()).toContain('kws-cnn');
    const info = listModels().find((m) => m.name === 'kws-cnn')!;
    expect(info.architecture).toBe('kws-cnn');
    expect(info.params).toBe(model.parameterCount);
    expect(info.trainedBy).toMatch(/scripts\/train-kws\.ts/);
  });

  it('reaches at least 90% accuracy on clean clips of speakers it never heard, and stays far above chance at 0 dB', () => {
    for (const r of evaluation.results) {
      const types = Object.entries(r.byNoise).map(([t, v]) => `${t} ${(100 * v!.accuracy).toFixed(0)}%`).join(', ');
      console.log(`held-out ${Number.isFinite(r.snrDb) ? `${r.snrDb} dB` : 'clean'}: ${(100 * r.accuracy).toFixed(1)}% of ${r.n}${types ? `  (${types})` : ''}`);
    }
    const [clean, , , , zeroDb] = evaluation.results;
    expect(clean.n).toBe(heldOut.clips.length);
    expect(clean.n).toBeGreaterThanOrEqual(250);
    // 250 clips: a standard error of about 2 points near 90%, so 0.90 fails a model that lost a
    // few points (or a broken pipeline: chance is 10%) without failing on noise of the estimate.
    expect(clean.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(zeroDb.accuracy).toBeGreaterThanOrEqual(0.5);
    expect(zeroDb.accuracy).toBeLessThanOrEqual(clean.accuracy); // noise must not help
  });

  it('gives the same answer wherever the word sits in the second (max over time), for at least 90% of clips', () => {
    const n = heldOut.clips.length;
    const at = (where: 'start' | 'end') => {
      const audio = new Float32Array(n * 16000);
      heldOut.clips.forEach((clip, i) => placeInWindow(clip, audio.subarray(i * 16000, (i + 1) * 16000), where === 'start' ? 800 : 16000 - clip.length - 800)); // 50 ms from either edge
      return tf.tidy(() => Array.from(tf.argMax(model.forward(tf.tensor2d(audio, [n, 16000])), 1).dataSync()));
    };
    const centred = evaluation.predictions[0];
    const [start, end] = [at('start'), at('end')];
    const agree = (p: number[]) => p.filter((v, i) => v === centred[i]).length / n;
    console.log(`same answer as centred: word near the start ${(100 * agree(start)).toFixed(1)}%, near the end ${(100 * agree(end)).toFixed(1)}%`);
    expect(agree(start)).toBeGreaterThanOrEqual(0.9);
    expect(agree(end)).toBeGreaterThanOrEqual(0.9);
  });

  it('config.json reports the accuracies the committed clips and weights give', () => {
    expect(saved.heldOutBySnr.map((r) => r.snr)).toEqual(KWS_TEST_SNRS.map((s) => (Number.isFinite(s) ? s : 'clean')));
    evaluation.results.forEach((r, i) => expect(saved.heldOutBySnr[i].accuracy).toBeCloseTo(r.accuracy, 4));
    expect(saved.heldOut.value).toBeCloseTo(evaluation.results[0].accuracy, 4);
  });

  it('the confusion matrix counts every clip once per SNR', () => {
    for (const r of evaluation.results) {
      expect(r.confusion.flat().reduce((a, b) => a + b, 0)).toBe(heldOut.clips.length);
      const perWord = r.confusion.map((row) => row.reduce((a, b) => a + b, 0));
      expect(perWord).toEqual(KEYWORDS.map((_, label) => heldOut.labels.filter((l) => l === label).length));
    }
  });
});

describe('no leaks: speakers, accents and tensors', () => {
  it('no held-out speaker family was trained on or used for validation', () => {
    const held = new Set(heldOut.info.map((c) => c.speaker));
    for (const c of heldOut.info) expect(c.speaker).toBe(speakerFamily(c.variant)); // the family rule the split used
    expect(saved.training.trainSpeakers.filter((s) => held.has(s))).toEqual([]);
    expect(saved.training.validationSpeakers.filter((s) => held.has(s))).toEqual([]);
    expect(held.size).toBeGreaterThanOrEqual(10);
  });

  it('the held-out set includes accents never trained on, and reports accuracy on them', () => {
    const trained = new Set(saved.training.trainLanguages);
    const unseen = heldOut.info.map((c, i) => i).filter((i) => !trained.has(heldOut.info[i].language));
    expect(unseen.length).toBeGreaterThan(20);
    const clean = evaluation.predictions[0];
    const acc = (idx: number[]) => idx.filter((i) => clean[i] === heldOut.labels[i]).length / idx.length;
    const seen = heldOut.info.map((_, i) => i).filter((i) => trained.has(heldOut.info[i].language));
    console.log(`clean accuracy: trained accents ${(100 * acc(seen)).toFixed(1)}% (n=${seen.length}), unseen accents ${(100 * acc(unseen)).toFixed(1)}% (n=${unseen.length})`);
  });

  it('no clip appears twice in the held-out set', () => {
    const keys = heldOut.clips.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('base64'));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('leaks no tensors across forward, cache, hooks, trace, logits and features', () => {
    const x = tf.tensor2d(noisyWindows(heldOut, [0, 1, 2], 10), [3, 16000]);
    const before = tf.memory().numTensors;
    model.forward(x).dispose();
    const [out, cache] = model.runWithCache(x);
    out.dispose();
    cache.dispose();
    model.trace(x).dispose();
    model.classify(x);
    model.logits(x).dispose();
    const features = model.logMel(x);
    model.logitsFromLogMel(features).dispose();
    features.dispose();
    model.runWithHooks(x, [['pre.hook_mel', (v) => tf.mul(v, 2)]]).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('a model owns its weights and preprocessing tables, and dispose frees them all', () => {
    const before = tf.memory().numTensors;
    const fresh = new KeywordCNN();
    expect(tf.memory().numTensors - before).toBe(Object.keys(fresh.weights).length + 4); // + DFT basis, filterbank, mean, std
    fresh.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the trace, hooks and the CNN against tfjs-layers', () => {
  it('traces every preprocessing step, every layer and the top-k step in order', () => {
    const x = tf.tensor2d(noisyWindows(heldOut, [0], Infinity), [1, 16000]);
    const trace = model.trace(x);
    expect(trace.names).toEqual([
      'pre.hook_waveform', 'pre.hook_preemphasis', 'pre.hook_frames', 'pre.hook_power', 'pre.hook_mel', 'pre.hook_log_mel', 'pre.hook_normalized',
      'conv.0.hook_conv', 'conv.0.hook_relu', 'conv.0.hook_pool',
      'conv.1.hook_conv', 'conv.1.hook_relu', 'conv.1.hook_pool',
      'conv.2.hook_conv', 'conv.2.hook_relu', 'conv.2.hook_pool',
      'pool.hook_time_max', 'flatten.hook_out', 'hook_logits', 'post.hook_probs', 'post.top_k',
    ]);
    expect(trace.step('pre.hook_frames').outputShape).toEqual([1, 98, 400]);
    expect(trace.step('pre.hook_power').outputShape).toEqual([1, 98, 257]);
    expect(trace.step('pre.hook_normalized').outputShape).toEqual([1, 98, 40, 1]);
    expect(trace.step('pre.hook_power').stats.min).toBeGreaterThanOrEqual(0);
    expect(trace.step('post.top_k').note).toContain(`${heldOut.info[0].word}:`);
    trace.dispose();
    x.dispose();
  });

  it('log-mel of the model equals logMelSpectrogram (the function training used)', () => {
    const x = tf.tensor2d(noisyWindows(heldOut, [3, 4], 5), [2, 16000]);
    const a = model.logMel(x);
    const b = logMelSpectrogram(x, model.config.features);
    expect(maxAbs(a.dataSync(), b.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, a, b]);
  });

  it('conv/pool/max-over-time/dense equal a tfjs-layers model with the same weights, and im2col equals tf.conv2d (1e-4)', () => {
    const { channels, kernelSize: k, labels } = model.config;
    const reference = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [98, 40, 1], filters: channels[0], kernelSize: k, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: channels[1], kernelSize: k, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: channels[2], kernelSize: k, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.maxPooling2d({ poolSize: [10, 1] }), // the max over all 10 time steps left
        tf.layers.flatten(),
        tf.layers.dense({ units: labels.length }),
      ],
    });
    const w = model.weights;
    reference.setWeights(['conv.0.weight', 'conv.0.bias', 'conv.1.weight', 'conv.1.bias', 'conv.2.weight', 'conv.2.bias', 'dense.weight', 'dense.bias'].map((n) => w[n]));
    const x = tf.tensor2d(noisyWindows(heldOut, [5, 6, 7, 8], 20), [4, 16000]);
    const [logits, cache] = model.runWithCache(x, { names: ['pre.hook_normalized', 'hook_logits'] });
    const expected = reference.predict(cache.get('pre.hook_normalized')) as Tensor;
    expect(maxAbs(expected.dataSync(), cache.get('hook_logits').dataSync())).toBeLessThan(1e-4);
    model.convKernel = 'im2col';
    const viaMatmul = model.logits(x);
    model.convKernel = 'native';
    expect(maxAbs(viaMatmul.dataSync(), cache.get('hook_logits').dataSync())).toBeLessThan(1e-4);
    tf.dispose([x, logits, expected, viaMatmul]);
    cache.dispose();
    reference.dispose();
  });

  it('silencing the mel energies at their hook makes every clip look the same (patching reaches the logits)', () => {
    const x = tf.tensor2d(noisyWindows(heldOut, [0, 30, 60, 90], Infinity), [4, 16000]);
    const patched = model.runWithHooks(x, [['pre.hook_mel', (v) => tf.zerosLike(v)]]);
    const rows = patched.arraySync() as number[][];
    expect(rows.every((r) => r.every((p, j) => Math.abs(p - rows[0][j]) < 1e-6))).toBe(true);
    tf.dispose([x, patched]);
  });
});

describe('noise and mixing', () => {
  /** Spectral slope in dB per octave between 250 Hz and 4 kHz, from the power spectrum of 1 s of noise. */
  function slope(noise: Float32Array): number {
    const config = LOG_MEL_DEFAULTS;
    const x = tf.tensor2d(noise, [1, noise.length]);
    const basis = tf.tensor2d(dftBasis(config), [config.frameLength, config.fftLength + 2]);
    const mean = tf.tidy(() => tf.mean(powerSpectrum(windowedFrames(x, config), basis), [0, 1]).dataSync()); // [bins]
    tf.dispose([x, basis]);
    const bin = (hz: number) => Math.round((hz * config.fftLength) / config.sampleRate);
    const points: [number, number][] = [];
    for (let k = bin(250); k <= bin(4000); k++) points.push([Math.log2((k * config.sampleRate) / config.fftLength), 10 * Math.log10(mean[k])]);
    const mx = points.reduce((s, p) => s + p[0], 0) / points.length;
    const my = points.reduce((s, p) => s + p[1], 0) / points.length;
    return points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  }

  it('white is flat, pink falls 3 dB and brown 6 dB per octave', () => {
    const long = 4 * 16000; // more frames average out the randomness of one spectrum
    const slopes = { white: slope(makeNoise('white', long, 1)), pink: slope(makeNoise('pink', long, 2)), brown: slope(makeNoise('brown', long, 3)) };
    console.log(`noise slopes (dB/octave): ${Object.entries(slopes).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    expect(Math.abs(slopes.white)).toBeLessThan(0.7);
    expect(Math.abs(slopes.pink + 3)).toBeLessThan(0.7);
    expect(Math.abs(slopes.brown + 6)).toBeLessThan(0.7);
  });

  it('noise is deterministic per seed and has unit power; mixing hits the asked SNR', () => {
    expect(makeNoise('pink', 1000, 9)).toEqual(makeNoise('pink', 1000, 9));
    expect(makeNoise('pink', 1000, 9)).not.toEqual(makeNoise('pink', 1000, 10));
    const babble = makeNoise('babble', 16000, 4, heldOut.clips.slice(0, 5));
    expect(meanPower(babble)).toBeCloseTo(1, 5);
    const word = heldOut.clips[0];
    const window = new Float32Array(16000);
    window.set(word, 1000);
    const clean = window.slice();
    const noise = makeNoise('white', 16000, 5);
    mixAtSnr(window, word, noise, 5);
    const added = window.map((v, i) => v - clean[i]);
    expect(10 * Math.log10(meanPower(word) / meanPower(added))).toBeCloseTo(5, 3);
    expect(() => makeNoise('babble', 100, 1)).toThrow(/babble noise needs other clips/);
  });

  it('the noisy held-out audio is the same on every call (the test set is fixed)', () => {
    expect(noisyWindows(heldOut, [7, 8], 0)).toEqual(noisyWindows(heldOut, [7, 8], 0));
  });
});

describe('bad input says what was expected', () => {
  it('rejects a wrong length, rank or dtype', () => {
    const half = tf.zeros([1, 8000]);
    expect(() => model.forward(half)).toThrow(/expects waveforms shaped \[batch, 16000\] float32.*got \[1,8000\]/);
    const flat = tf.zeros([16000]);
    expect(() => model.forward(flat)).toThrow(/\[batch, 16000\]/);
    const ints = tf.zeros([1, 16000], 'int32');
    expect(() => model.forward(ints)).toThrow(/float32.*int32/);
    expect(() => model.logitsFromLogMel(half)).toThrow(/log-mel features \[batch, 98, 40\]/);
    tf.dispose([half, flat, ints]);
  });

  it('keywordWaveform checks the sample rate and length, and centres a short clip', () => {
    expect(() => keywordWaveform(new Float32Array(8000), 22050)).toThrow(/reads 16000 Hz audio; got 22050 Hz.*Resample/);
    expect(() => keywordWaveform(new Float32Array(20000), 16000)).toThrow(/at most 16000 samples.*got 20000/);
    const x = keywordWaveform(Float32Array.from({ length: 1000 }, () => 0.5), 16000);
    expect(x.shape).toEqual([1, 16000]);
    const values = x.dataSync();
    expect(values[7500]).toBe(0.5);
    expect(values[0]).toBe(0);
    x.dispose();
  });

  it('a truncated or missing clip file, or a mismatched config, names the problem', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kws-'));
    const base = path.join(assetsDir(), 'kws-cnn', 'heldout');
    fs.copyFileSync(`${base}.json`, path.join(dir, 'heldout.json'));
    fs.writeFileSync(path.join(dir, 'heldout.pcm'), fs.readFileSync(`${base}.pcm`).subarray(0, 1000));
    expect(() => readClipSet(path.join(dir, 'heldout'))).toThrow(/has 1000 bytes; its index needs \d+ \(truncated/);
    expect(() => readClipSet(path.join(dir, 'nothing'))).toThrow(/nothing\.json is missing/);
    fs.rmSync(dir, { recursive: true });
    expect(() => new KeywordCNN({ ...KWS_CNN_DEFAULTS, featureMean: [0, 1] })).toThrow(/featureMean and featureStd need 40 values/);
    expect(() => new KeywordCNN({ ...KWS_CNN_DEFAULTS, features: { ...LOG_MEL_DEFAULTS, fftLength: 256 } })).toThrow(/fftLength \(256\) must be an even integer >= frameLength \(400\)/);
  });
});

describe('views are MIME bundles with Vega-Lite v5, SVG and PNG', () => {
  const check = (bundle: Record<string, unknown>) => {
    const spec = bundle['application/vnd.vegalite.v5+json'] as { $schema: string };
    expect(spec.$schema).toMatch(/vega-lite\/v5/);
    expect(String(bundle['image/svg+xml'])).toMatch(/^<svg/);
    expect(Buffer.from(String(bundle['image/png']), 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(String(bundle['text/plain']).length).toBeGreaterThan(10);
  };

  it('waveform, spectrogram, mel and the whole preprocessing chain', async () => {
    const x = tf.tensor2d(noisyWindows(heldOut, [0], 10), [1, 16000]);
    const [out, cache] = model.runWithCache(x, { names: ['pre.hook_power', 'pre.hook_log_mel'] });
    check(await waveformView(x));
    check(await spectrogramView(cache.get('pre.hook_power')));
    check(await melView(cache.get('pre.hook_log_mel')));
    const before = tf.memory().numTensors;
    const chain = await speechPreprocessingView(model, x);
    expect(tf.memory().numTensors).toBe(before); // the view frees what it computed
    check(chain);
    expect(String(chain['text/plain'])).toMatch(/prediction: /);
    tf.dispose([x, out]);
    cache.dispose();
  });

  it('confusion matrix and accuracy against SNR', async () => {
    const confusion = await confusionMatrixView(evaluation.results[0].confusion, evaluation.labels, 'held-out, clean');
    check(confusion);
    expect(String(confusion['text/plain'])).toMatch(/correct/);
    const snr = await snrAccuracyView(evaluation);
    check(snr);
    expect(String(snr['text/plain'])).toMatch(/clean: \d+\.\d%/);
    await expect(confusionMatrixView([[1]], ['a', 'b'])).rejects.toThrow(/need a 2 x 2 matrix/);
  });
});
