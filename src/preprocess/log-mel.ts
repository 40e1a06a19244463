// Speech preprocessing, step by step: waveform -> pre-emphasis -> frames x Hann window ->
// power spectrum -> mel filterbank -> log. Each step is a function on tensors (the keyword
// spotter routes each result through a hook point), plus the plain-number tables they use.
//
// Conventions (checked against numpy/scipy in test/fixtures/make-speech-reference.py):
//  - pre-emphasis y[0] = x[0], y[n] = x[n] - a·x[n-1]   (scipy.signal.lfilter([1, -a], [1], x))
//  - frames start at 0, no centring or padding           (librosa center=False)
//  - periodic Hann window 0.5 - 0.5·cos(2πn/N)           (scipy.signal.get_window('hann', N))
//  - power spectrum |rfft(frame·window, n=fftLength)|², no scaling (librosa power=2)
//  - mel filterbank: Slaney's mel scale (linear below 1 kHz, logarithmic above) with Slaney's
//    area normalisation, the defaults of librosa.filters.mel (htk=False, norm='slaney')
//  - log: natural log of (mel energy + logFloor)
// The FFT is a matrix product with a cosine/sine basis: tfjs's WASM backend has no FFT kernel
// (tf.signal.stft needs 'Complex', registered only on the cpu/webgl backends), and a 400 x 514
// matmul per frame batch is what WASM does fastest anyway.
import { tf, type Tensor } from '../engine/tf';

export interface LogMelConfig {
  /** Samples per second the filterbank is laid out for. */
  sampleRate: number;
  /** Pre-emphasis coefficient a: boosts high frequencies, which speech has less energy in. */
  preEmphasis: number;
  /** Samples per analysis frame (400 = 25 ms at 16 kHz: short enough that speech is steady). */
  frameLength: number;
  /** Samples between frame starts (160 = 10 ms: frames overlap by 60%). */
  hopLength: number;
  /** FFT size: each frame is zero-padded to this many samples (a power of two above frameLength). */
  fftLength: number;
  /** Mel bands (triangular filters) between fMin and fMax. */
  melBins: number;
  fMin: number;
  fMax: number;
  /** Added to mel energies before the log, so silence gives log(floor) instead of -infinity. */
  logFloor: number;
}

export const LOG_MEL_DEFAULTS: LogMelConfig = {
  sampleRate: 16000,
  preEmphasis: 0.97,
  frameLength: 400,
  hopLength: 160,
  fftLength: 512,
  melBins: 40,
  fMin: 20,
  fMax: 8000,
  logFloor: 1e-6,
};

/** Frames in `samples` samples: 1 + floor((samples - frameLength) / hop), frames wholly inside. */
export function frameCount(samples: number, config: LogMelConfig): number {
  return samples < config.frameLength ? 0 : 1 + Math.floor((samples - config.frameLength) / config.hopLength);
}

/** Frequency bins of the one-sided spectrum: fftLength / 2 + 1 (0 Hz to Nyquist). */
export function frequencyBins(config: LogMelConfig): number {
  return config.fftLength / 2 + 1;
}

/** Throw unless the numbers describe a filterbank that can be built. */
export function checkLogMelConfig(config: LogMelConfig): void {
  const { sampleRate, frameLength, hopLength, fftLength, melBins, fMin, fMax } = config;
  const problems: string[] = [];
  if (!(frameLength > 0 && hopLength > 0 && Number.isInteger(frameLength) && Number.isInteger(hopLength))) problems.push('frameLength and hopLength must be positive integers');
  if (!(fftLength >= frameLength && Number.isInteger(fftLength) && fftLength % 2 === 0)) problems.push(`fftLength (${fftLength}) must be an even integer >= frameLength (${frameLength})`);
  if (!(melBins > 0 && Number.isInteger(melBins))) problems.push('melBins must be a positive integer');
  if (!(fMin >= 0 && fMax > fMin && fMax <= sampleRate / 2)) problems.push(`need 0 <= fMin < fMax <= sampleRate/2, got fMin ${fMin}, fMax ${fMax}, sampleRate ${sampleRate}`);
  if (problems.length) throw new Error(`Bad log-mel config: ${problems.join('; ')}.`);
}

/** Slaney's mel scale: 3 mels per 200 Hz up to 1 kHz, then 27 mels per factor 6.4 in frequency. */
export function hzToMel(hz: number): number {
  const linearStep = 200 / 3;
  const breakHz = 1000;
  const breakMel = breakHz / linearStep; // 15
  const logStep = Math.log(6.4) / 27;
  return hz < breakHz ? hz / linearStep : breakMel + Math.log(hz / breakHz) / logStep;
}

export function melToHz(mel: number): number {
  const linearStep = 200 / 3;
  const breakHz = 1000;
  const breakMel = breakHz / linearStep;
  const logStep = Math.log(6.4) / 27;
  return mel < breakMel ? mel * linearStep : breakHz * Math.exp(logStep * (mel - breakMel));
}

/** Periodic Hann window of n samples (the DFT-even window; its n+1-point symmetric twin without the last 0). */
export function hannWindow(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
}

/**
 * The mel filterbank, `[melBins][bins]` (row m = weights of band m over the FFT bins). Band m is
 * a triangle from edge m to edge m+2 peaking at edge m+1 (edges evenly spaced in mels), scaled by
 * 2 / (width in Hz) so each band has the same area (Slaney normalisation).
 */
export function melFilterbank(config: LogMelConfig = LOG_MEL_DEFAULTS): Float32Array[] {
  checkLogMelConfig(config);
  const { sampleRate, fftLength, melBins, fMin, fMax } = config;
  const bins = frequencyBins(config);
  const binHz = Array.from({ length: bins }, (_, k) => (k * sampleRate) / fftLength);
  const lowMel = hzToMel(fMin);
  const highMel = hzToMel(fMax);
  const edgesHz = Array.from({ length: melBins + 2 }, (_, i) => melToHz(lowMel + ((highMel - lowMel) * i) / (melBins + 1)));
  return Array.from({ length: melBins }, (_, m) => {
    const [left, centre, right] = [edgesHz[m], edgesHz[m + 1], edgesHz[m + 2]];
    const areaNorm = 2 / (right - left);
    return Float32Array.from(binHz, (f) => {
      const rising = (f - left) / (centre - left);
      const falling = (right - f) / (right - centre);
      return Math.max(0, Math.min(rising, falling)) * areaNorm;
    });
  });
}

/**
 * The real DFT as a matrix: `[frameLength, 2·bins]`, columns cos(2πkn/N) then -sin(2πkn/N) for
 * bins k = 0..N/2 (N = fftLength). Rows past frameLength would multiply the zero padding, so
 * they are left out. Angles are reduced mod N in integers first, so large k·n stays exact.
 */
export function dftBasis(config: LogMelConfig = LOG_MEL_DEFAULTS): Float32Array {
  const { frameLength, fftLength: N } = config;
  const bins = frequencyBins(config);
  const basis = new Float32Array(frameLength * 2 * bins);
  for (let n = 0; n < frameLength; n++) {
    for (let k = 0; k < bins; k++) {
      const angle = (2 * Math.PI * ((k * n) % N)) / N;
      basis[n * 2 * bins + k] = Math.cos(angle);
      basis[n * 2 * bins + bins + k] = -Math.sin(angle);
    }
  }
  return basis;
}

/** y[:, 0] = x[:, 0], y[:, n] = x[:, n] - a·x[:, n-1]. x: [batch, samples]. */
export function preEmphasize(x: Tensor, coefficient: number): Tensor {
  return tf.tidy(() => {
    const [batch, samples] = x.shape;
    const first = tf.slice(x, [0, 0], [batch, 1]); // [batch, 1]
    const rest = tf.sub(tf.slice(x, [0, 1], [batch, samples - 1]), tf.mul(tf.slice(x, [0, 0], [batch, samples - 1]), coefficient)); // [batch, samples-1]
    return tf.concat([first, rest], 1); // [batch, samples]
  });
}

/** Overlapping frames times the window: [batch, samples] -> [batch, frames, frameLength]. */
export function windowedFrames(x: Tensor, config: LogMelConfig): Tensor {
  return tf.tidy(() => {
    const [batch, samples] = x.shape;
    const frames = frameCount(samples, config);
    const { frameLength, hopLength } = config;
    const index = Int32Array.from({ length: frames * frameLength }, (_, i) => Math.floor(i / frameLength) * hopLength + (i % frameLength));
    const gathered = tf.reshape(tf.gather(x, tf.tensor1d(index, 'int32'), 1), [batch, frames, frameLength]); // [batch, frames, frameLength]
    return tf.mul(gathered, tf.tensor1d(hannWindow(frameLength))); // [batch, frames, frameLength]
  });
}

/** |DFT|² of each windowed frame: [batch, frames, frameLength] -> [batch, frames, bins]. `basis` from dftBasis. */
export function powerSpectrum(frames: Tensor, basis: Tensor): Tensor {
  return tf.tidy(() => {
    const [batch, count, frameLength] = frames.shape;
    const bins = basis.shape[1]! / 2;
    const spectrum = tf.matMul(tf.reshape(frames, [batch * count, frameLength]), basis); // [batch*frames, 2*bins]: real parts, then imaginary
    const re = tf.slice(spectrum, [0, 0], [-1, bins]); // [batch*frames, bins]
    const im = tf.slice(spectrum, [0, bins], [-1, bins]); // [batch*frames, bins]
    return tf.reshape(tf.add(tf.square(re), tf.square(im)), [batch, count, bins]); // [batch, frames, bins]
  });
}

/** Energy in each mel band: [batch, frames, bins] x filterbankT [bins, mels] -> [batch, frames, mels]. */
export function melEnergies(power: Tensor, filterbankT: Tensor): Tensor {
  return tf.tidy(() => {
    const [batch, frames, bins] = power.shape;
    const mels = filterbankT.shape[1]!;
    return tf.reshape(tf.matMul(tf.reshape(power, [batch * frames, bins]), filterbankT), [batch, frames, mels]); // [batch, frames, mels]
  });
}

/** The filterbank transposed for melEnergies, as a tensor [bins, mels]. */
export function filterbankTensor(config: LogMelConfig): Tensor {
  const rows = melFilterbank(config);
  const bins = frequencyBins(config);
  const flat = new Float32Array(bins * config.melBins);
  rows.forEach((row, m) => row.forEach((w, k) => (flat[k * config.melBins + m] = w)));
  return tf.tensor2d(flat, [bins, config.melBins]);
}

/** Whole pipeline without hooks, for data preparation: [batch, samples] -> log-mel [batch, frames, mels]. */
export function logMelSpectrogram(waveform: Tensor, config: LogMelConfig = LOG_MEL_DEFAULTS): Tensor {
  checkLogMelConfig(config);
  return tf.tidy(() => {
    const basis = tf.tensor2d(dftBasis(config), [config.frameLength, 2 * frequencyBins(config)]);
    const power = powerSpectrum(windowedFrames(preEmphasize(waveform, config.preEmphasis), config), basis); // [batch, frames, bins]
    return tf.log(tf.add(melEnergies(power, filterbankTensor(config)), config.logFloor)); // [batch, frames, mels]
  });
}
