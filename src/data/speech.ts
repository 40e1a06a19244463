// Spoken keywords synthesised with Debian's espeak-ng (scripts/make-kws-data.ts), stored as
// clean int16 clips (16 kHz mono, trimmed to the word), and background noise mixed in at a
// chosen signal-to-noise ratio. Noise is generated here from a seed, so a noisy test set is the
// same on every machine without shipping noisy audio: only the clean clips are committed.
import * as fs from 'fs';
import * as path from 'path';
import { seededRandom } from './random';

/** The ten keywords, in label order (the classic Speech Commands core words). */
export const KEYWORDS = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'] as const;

/** Samples per second of every clip the keyword spotter sees. */
export const KWS_SAMPLE_RATE = 16000;

/** Samples of one model input: one second. */
export const KWS_CLIP_SAMPLES = 16000;

/** The noise kinds: flat spectrum, -3 dB/octave, -6 dB/octave, and other words talking at once. */
export const NOISE_TYPES = ['white', 'pink', 'brown', 'babble'] as const;
export type NoiseType = (typeof NOISE_TYPES)[number];

/** SNRs (dB) the held-out accuracy is reported at; Infinity is the clean clip. */
export const KWS_TEST_SNRS = [Infinity, 20, 10, 5, 0] as const;

/** How one clip was made: enough to synthesise it again with espeak-ng. */
export interface ClipInfo {
  word: string;
  /** Index into KEYWORDS. */
  label: number;
  /** espeak-ng language voice, e.g. `en-us`, `de`, `fr-fr` (the accent the word is read with). */
  language: string;
  /** espeak-ng voice variant (the speaker: formants, pitch range, breathiness), e.g. `f3`, `klatt2`. */
  variant: string;
  /** Family of the variant (`klatt2` -> `klatt`): near-identical speakers share a family. */
  speaker: string;
  /** espeak-ng -s (words per minute) and -p (0..99). */
  speed: number;
  pitch: number;
  /** Position of the clip in the .pcm file, in samples, and its length in samples. */
  offset: number;
  length: number;
}

/** A set of clean keyword clips: the words only (trimmed), not yet padded to one second. */
export interface KeywordClipSet {
  /** One clip per entry, int16 scaled to [-1, 1). */
  clips: Float32Array[];
  labels: number[];
  info: ClipInfo[];
  keywords: string[];
  sampleRate: number;
}

/** The index file next to a .pcm file. */
export interface ClipIndexFile {
  format: 'inference-lab-kws-clips';
  sampleRate: number;
  keywords: string[];
  /** Sample encoding of the .pcm file. */
  encoding: 'int16le';
  madeBy: string;
  clips: ClipInfo[];
}

/** Variants derived from another one (same formants in their files) though their names differ. */
const DERIVED_VARIANTS: Record<string, string> = { anxiousandy: 'andy' };

/** The family of an espeak-ng variant: trailing digits and a `robot` suffix name the same speaker. */
export function speakerFamily(variant: string): string {
  const base = variant.toLowerCase().replace(/robot$/, '').replace(/\d+$/, '');
  return DERIVED_VARIANTS[base] ?? base;
}

/** Write clips as `<base>.json` (index) + `<base>.pcm` (int16 little-endian, concatenated). */
export function writeClipSet(base: string, clips: { pcm: Int16Array; info: Omit<ClipInfo, 'offset' | 'length'> }[], madeBy: string): void {
  fs.mkdirSync(path.dirname(base), { recursive: true });
  const total = clips.reduce((n, c) => n + c.pcm.length, 0);
  const all = new Int16Array(total);
  const index: ClipInfo[] = [];
  let offset = 0;
  for (const c of clips) {
    all.set(c.pcm, offset);
    index.push({ ...c.info, offset, length: c.pcm.length });
    offset += c.pcm.length;
  }
  const file: ClipIndexFile = { format: 'inference-lab-kws-clips', sampleRate: KWS_SAMPLE_RATE, keywords: [...KEYWORDS], encoding: 'int16le', madeBy, clips: index };
  fs.writeFileSync(`${base}.pcm`, Buffer.from(all.buffer, all.byteOffset, all.byteLength));
  fs.writeFileSync(`${base}.json`, JSON.stringify(file) + '\n');
}

/** Read a clip set written by writeClipSet; a missing, truncated or foreign file says what was expected. */
export function readClipSet(base: string): KeywordClipSet {
  const indexFile = `${base}.json`;
  const pcmFile = `${base}.pcm`;
  for (const f of [indexFile, pcmFile]) {
    if (!fs.existsSync(f)) throw new Error(`Keyword clips: ${f} is missing (expected ${path.basename(base)}.json + ${path.basename(base)}.pcm; \`npm run data:kws\` makes them).`);
  }
  let index: ClipIndexFile;
  try {
    index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  } catch (err) {
    throw new Error(`Keyword clips: ${indexFile} does not parse as JSON (${(err as Error).message}).`);
  }
  if (index.format !== 'inference-lab-kws-clips' || index.encoding !== 'int16le' || !Array.isArray(index.clips)) {
    throw new Error(`Keyword clips: ${indexFile} is not an inference-lab-kws-clips index with int16le samples.`);
  }
  if (index.sampleRate !== KWS_SAMPLE_RATE) throw new Error(`Keyword clips: ${indexFile} is at ${index.sampleRate} Hz; expected ${KWS_SAMPLE_RATE} Hz.`);
  const bytes = fs.readFileSync(pcmFile);
  const expected = index.clips.reduce((n, c) => Math.max(n, c.offset + c.length), 0) * 2;
  if (bytes.length !== expected) throw new Error(`Keyword clips: ${pcmFile} has ${bytes.length} bytes; its index needs ${expected} (truncated or mismatched).`);
  const samples = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const clips = index.clips.map((c) => Float32Array.from(samples.subarray(c.offset, c.offset + c.length), (v) => v / 32768));
  return { clips, labels: index.clips.map((c) => c.label), info: index.clips, keywords: index.keywords, sampleRate: index.sampleRate };
}

/**
 * Place a word in a one-second window: centred (offset omitted) or starting at `offset`
 * samples; a word longer than the window is cut to its middle second.
 */
export function placeInWindow(clip: Float32Array, out: Float32Array, offset?: number): void {
  out.fill(0);
  const n = out.length;
  if (clip.length >= n) {
    const start = Math.floor((clip.length - n) / 2);
    out.set(clip.subarray(start, start + n));
    return;
  }
  const at = offset ?? Math.floor((n - clip.length) / 2);
  out.set(clip, Math.max(0, Math.min(n - clip.length, at)));
}

/** Mean square of the samples (the power the SNR is measured against). */
export function meanPower(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s / Math.max(1, x.length);
}

/** Standard normal samples from a seeded uniform source (Box-Muller). */
function gaussian(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - random(); // (0, 1]: log never sees 0
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Scale in place to zero mean and unit mean power. */
function toUnitPower(x: Float32Array): Float32Array {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  for (let i = 0; i < x.length; i++) x[i] -= mean;
  const scale = 1 / Math.sqrt(Math.max(1e-20, meanPower(x)));
  for (let i = 0; i < x.length; i++) x[i] *= scale;
  return x;
}

/**
 * `length` samples of noise with unit power, the same for the same seed.
 * white: independent Gaussian samples. pink: white through three leaky integrators with poles
 * spread over the audio band (P. Kellet's economy filter), about -3 dB per octave.
 * brown: white through one leaky integrator, -6 dB per octave above a few hertz.
 * babble: `babbleSources` (other clean clips) summed at random positions, each at equal power.
 */
export function makeNoise(type: NoiseType, length: number, seed: number, babbleSources: Float32Array[] = []): Float32Array {
  const random = seededRandom(seed);
  const normal = gaussian(random);
  const out = new Float32Array(length);
  const warmUp = 2048; // let the filters forget their zero start
  if (type === 'white') {
    for (let i = 0; i < length; i++) out[i] = normal();
  } else if (type === 'pink') {
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    for (let i = -warmUp; i < length; i++) {
      const w = normal();
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      if (i >= 0) out[i] = b0 + b1 + b2 + w * 0.1848;
    }
  } else if (type === 'brown') {
    let b = 0;
    for (let i = -warmUp; i < length; i++) {
      b = 0.998 * b + normal(); // leak: a pole at ~5 Hz instead of a pure integrator that drifts away
      if (i >= 0) out[i] = b;
    }
  } else if (type === 'babble') {
    if (babbleSources.length === 0) throw new Error('babble noise needs other clips to talk over (babbleSources is empty).');
    for (const source of babbleSources) {
      const power = Math.max(1e-20, meanPower(source));
      const start = Math.floor(random() * length); // circular shift: words overlap the whole window
      for (let i = 0; i < source.length; i++) out[(start + i) % length] += source[i] / Math.sqrt(power);
    }
  } else {
    throw new Error(`Unknown noise type "${type as string}". Expected one of: ${NOISE_TYPES.join(', ')}.`);
  }
  return toUnitPower(out);
}

/**
 * `window + noise` with the noise scaled so that 10·log10(P_word / P_noise) = snrDb, where P_word
 * is the mean power of the word's own samples (not of the silence around it). In place.
 */
export function mixAtSnr(window: Float32Array, word: Float32Array, noise: Float32Array, snrDb: number): Float32Array {
  if (!Number.isFinite(snrDb)) return window;
  if (noise.length !== window.length) throw new Error(`mixAtSnr: noise has ${noise.length} samples, the window ${window.length}.`);
  const gain = Math.sqrt(meanPower(word) / 10 ** (snrDb / 10) / Math.max(1e-20, meanPower(noise)));
  for (let i = 0; i < window.length; i++) window[i] += gain * noise[i];
  return window;
}

/** How noise is chosen for held-out clip `i` at SNR level `level`: each level cycles through every type. */
export function heldOutNoise(i: number, level: number): { type: NoiseType; seed: number } {
  return { type: NOISE_TYPES[(i + level) % NOISE_TYPES.length], seed: 1_000_003 * (level + 1) + 7919 * i };
}

/** Clips other than `i` for babble: `count` of them, picked by `seed`, never clip `i` itself. */
export function babbleSourcesFor(set: KeywordClipSet, i: number, seed: number, count = 5): Float32Array[] {
  const random = seededRandom(seed ^ 0x5bd1e995);
  const picked: Float32Array[] = [];
  while (picked.length < Math.min(count, set.clips.length - 1)) {
    const j = Math.floor(random() * set.clips.length);
    if (j !== i) picked.push(set.clips[j]);
  }
  return picked;
}

/**
 * One-second windows of clips `indices` (centred), with held-out noise at `snrDb` mixed in:
 * `[indices.length * 16000]` samples, row-major. Deterministic: the same call gives the same audio.
 */
export function noisyWindows(set: KeywordClipSet, indices: number[], snrDb: number, level = KWS_TEST_SNRS.indexOf(snrDb as never)): Float32Array {
  const out = new Float32Array(indices.length * KWS_CLIP_SAMPLES);
  indices.forEach((i, row) => {
    const window = out.subarray(row * KWS_CLIP_SAMPLES, (row + 1) * KWS_CLIP_SAMPLES);
    placeInWindow(set.clips[i], window);
    if (Number.isFinite(snrDb)) {
      const { type, seed } = heldOutNoise(i, Math.max(0, level));
      mixAtSnr(window, set.clips[i], makeNoise(type, KWS_CLIP_SAMPLES, seed, type === 'babble' ? babbleSourcesFor(set, i, seed) : []), snrDb);
    }
  });
  return out;
}
