// Views of the keyword spotter: the waveform, its spectrogram and log-mel features (PNG heatmaps
// inside Vega-Lite, as every heatmap here), the whole preprocessing chain for one clip, the
// confusion matrix on the held-out speakers, and accuracy against SNR. Each returns a MimeBundle.
import { PNG } from 'pngjs';
import { tf, type Tensor } from '../engine/tf';
import type { KeywordCNN, KeywordEvaluation } from '../models/speech';
import type { MimeBundle } from '../engine/mime';
import { toBundle } from './render';
import { colorAt, gridRange, imageLayer } from './heatmap';

type Spec = Record<string, unknown>;

const fmt = (v: number) => Number(v.toPrecision(3)).toString();
const snrLabel = (snr: number) => (Number.isFinite(snr) ? `${snr} dB` : 'clean');

/** The samples of clip 0 of a [batch, samples] tensor, or the array itself. */
function samplesOf(waveform: Tensor | ArrayLike<number>): Float32Array {
  if (waveform instanceof tf.Tensor) {
    if (waveform.rank !== 1 && waveform.rank !== 2) throw new Error(`waveformView expects samples [samples] or [batch, samples]; got [${waveform.shape}].`);
    const n = waveform.shape[waveform.rank - 1];
    return Float32Array.from(waveform.dataSync().subarray(0, n));
  }
  return Float32Array.from(waveform);
}

/** Rows of [time, value] as a PNG with time left to right and row 0 at the BOTTOM (low frequency down). */
function timeFrequencyPng(values: Float32Array, frames: number, bands: number, range: [number, number], cellW: number, cellH: number): string {
  const png = new PNG({ width: frames * cellW, height: bands * cellH });
  const [lo, hi] = range;
  for (let t = 0; t < frames; t++) {
    for (let b = 0; b < bands; b++) {
      const rgb = colorAt((values[t * bands + b] - lo) / (hi - lo), 'viridis');
      const y0 = (bands - 1 - b) * cellH;
      for (let dy = 0; dy < cellH; dy++) for (let dx = 0; dx < cellW; dx++) png.data.set([rgb[0], rgb[1], rgb[2], 255], ((y0 + dy) * frames * cellW + t * cellW + dx) * 4);
    }
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

/** Amplitude over time, drawn as the min..max envelope of short buckets (a plain line of 16,000 points is megabytes of SVG). */
function waveformPanel(samples: Float32Array, sampleRate: number, title: string, width = 520, height = 120): Spec {
  const buckets = Math.min(samples.length, 400);
  const per = samples.length / buckets;
  const rows = Array.from({ length: buckets }, (_, b) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = Math.floor(b * per); i < Math.floor((b + 1) * per); i++) {
      lo = Math.min(lo, samples[i]);
      hi = Math.max(hi, samples[i]);
    }
    return { t: (b * per) / sampleRate, lo, hi };
  });
  const peak = Math.max(1e-6, ...rows.map((r) => Math.max(Math.abs(r.lo), Math.abs(r.hi))));
  return {
    title: { text: title, fontSize: 12 },
    width,
    height,
    data: { values: rows },
    mark: { type: 'area', color: '#0072B2', interpolate: 'step-after' },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'time (s)', scale: { domain: [0, samples.length / sampleRate], nice: false } },
      y: { field: 'lo', type: 'quantitative', title: 'amplitude', scale: { domain: [-peak, peak] } },
      y2: { field: 'hi' },
    },
  };
}

/** A time x frequency heatmap panel: image + invisible layers that give it real axes and a legend. */
function heatPanel(options: { url: string; frames: number; seconds: number; yDomain: [number, number]; yTitle: string; range: [number, number]; legend: string; title: string; width?: number; height?: number }): Spec {
  const width = options.width ?? 520;
  const height = options.height ?? 160;
  return {
    title: { text: options.title, fontSize: 12 },
    width,
    height,
    layer: [
      imageLayer(options.url, width, height, { smooth: false }),
      {
        data: { values: [{ t: 0, f: options.yDomain[0], v: options.range[0] }, { t: options.seconds, f: options.yDomain[1], v: options.range[1] }] },
        mark: { type: 'point', opacity: 0 },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'time (s)', scale: { domain: [0, options.seconds], nice: false } },
          y: { field: 'f', type: 'quantitative', title: options.yTitle, scale: { domain: options.yDomain, nice: false } },
          color: { field: 'v', type: 'quantitative', scale: { domain: options.range, scheme: 'viridis' }, legend: { title: options.legend, gradientLength: height * 0.8, orient: 'right' } },
        },
      },
    ],
  };
}

/** The waveform of one clip (clip 0 of a batch): amplitude against time. */
export async function waveformView(waveform: Tensor | ArrayLike<number>, options: { sampleRate?: number; title?: string } = {}): Promise<MimeBundle> {
  const sampleRate = options.sampleRate ?? 16000;
  const samples = samplesOf(waveform);
  const title = options.title ?? `waveform: ${samples.length} samples at ${sampleRate / 1000} kHz`;
  let peak = 0;
  for (const v of samples) peak = Math.max(peak, Math.abs(v));
  const rms = Math.sqrt(samples.reduce((s, v) => s + v * v, 0) / Math.max(1, samples.length));
  return toBundle(waveformPanel(samples, sampleRate, title), `${title}\n${(samples.length / sampleRate).toFixed(3)} s, peak ${fmt(peak)}, rms ${fmt(rms)}`);
}

/** Values of clip 0 of a [batch, frames, bands] tensor (or [frames, bands]). */
function framesOf(t: Tensor, what: string): { values: Float32Array; frames: number; bands: number } {
  const shape = t.rank === 3 ? t.shape.slice(1) : t.shape;
  if (shape.length !== 2) throw new Error(`${what} expects [batch, frames, bands] or [frames, bands]; got [${t.shape}].`);
  const [frames, bands] = shape;
  return { values: Float32Array.from(t.dataSync().subarray(0, frames * bands)), frames, bands };
}

/**
 * The power spectrum of each frame as a spectrogram in decibels (10·log10, 80 dB below the peak
 * shown as the floor): time left to right, frequency bottom to top. `power`: pre.hook_power.
 */
export async function spectrogramView(power: Tensor, options: { sampleRate?: number; hopLength?: number; title?: string } = {}): Promise<MimeBundle> {
  const sampleRate = options.sampleRate ?? 16000;
  const hop = options.hopLength ?? 160;
  const { values, frames, bands } = framesOf(power, 'spectrogramView');
  const db = values.map((v) => 10 * Math.log10(Math.max(v, 1e-12)));
  const top = gridRange({ values: db, height: 1, width: db.length })[1];
  const range: [number, number] = [top - 80, top];
  const title = options.title ?? `spectrogram: ${frames} frames x ${bands} frequency bins`;
  const url = timeFrequencyPng(db, frames, bands, range, 4, 1);
  const spec = heatPanel({ url, frames, seconds: (frames * hop) / sampleRate, yDomain: [0, sampleRate / 2], yTitle: 'frequency (Hz)', range, legend: 'dB', title, height: 220 });
  return toBundle(spec, `${title}\npower ${fmt(range[0])}..${fmt(range[1])} dB (10·log10 |X|², floor 80 dB below the peak)`);
}

/** Log-mel features (pre.hook_log_mel or pre.hook_normalized): time left to right, mel band bottom to top. */
export async function melView(logMel: Tensor, options: { sampleRate?: number; hopLength?: number; title?: string; legend?: string } = {}): Promise<MimeBundle> {
  const sampleRate = options.sampleRate ?? 16000;
  const hop = options.hopLength ?? 160;
  const squeezed = logMel.rank === 4 ? tf.tidy(() => tf.squeeze(logMel, [3])) : logMel;
  const { values, frames, bands } = framesOf(squeezed, 'melView');
  if (squeezed !== logMel) squeezed.dispose();
  const range = gridRange({ values, height: 1, width: values.length });
  const title = options.title ?? `log-mel features: ${frames} frames x ${bands} mel bands`;
  const url = timeFrequencyPng(values, frames, bands, range, 4, 4);
  const spec = heatPanel({ url, frames, seconds: (frames * hop) / sampleRate, yDomain: [0, bands], yTitle: 'mel band', range, legend: options.legend ?? 'log energy', title });
  return toBundle(spec, `${title}\nvalues ${fmt(range[0])}..${fmt(range[1])}`);
}

/**
 * One clip through the preprocessing of `model`, one panel per step: waveform, pre-emphasised
 * waveform, spectrogram (dB), log-mel, normalised features. Read from the model's own hook points.
 */
export async function speechPreprocessingView(model: KeywordCNN, waveform: Tensor, title = `${model.name}: from waveform to features`): Promise<MimeBundle> {
  const names = ['pre.hook_waveform', 'pre.hook_preemphasis', 'pre.hook_power', 'pre.hook_log_mel', 'pre.hook_normalized'];
  const [probs, cache] = model.runWithCache(waveform, { names });
  try {
    const f = model.config.features;
    const seconds = (model.frames * f.hopLength) / f.sampleRate;
    const wave = samplesOf(cache.get('pre.hook_waveform'));
    const pre = samplesOf(cache.get('pre.hook_preemphasis'));
    const power = framesOf(cache.get('pre.hook_power'), 'speechPreprocessingView');
    const db = power.values.map((v) => 10 * Math.log10(Math.max(v, 1e-12)));
    const dbTop = gridRange({ values: db, height: 1, width: db.length })[1];
    const logMel = framesOf(cache.get('pre.hook_log_mel'), 'speechPreprocessingView');
    const squeezed = tf.squeeze(cache.get('pre.hook_normalized'), [3]); // [1, frames, bands]
    const normalized = framesOf(squeezed, 'speechPreprocessingView');
    squeezed.dispose();
    const melRange = gridRange({ values: logMel.values, height: 1, width: logMel.values.length });
    const normRange = gridRange({ values: normalized.values, height: 1, width: normalized.values.length });
    const spec: Spec = {
      title: { text: title, subtitle: ["each panel is one hook point of the model's trace", `${f.frameLength}-sample Hann frames every ${f.hopLength} samples, ${f.fftLength}-point FFT, ${f.melBins} Slaney mel bands`] },
      vconcat: [
        waveformPanel(wave, f.sampleRate, '1. pre.hook_waveform: the samples', 520, 90),
        waveformPanel(pre, f.sampleRate, `2. pre.hook_preemphasis: x[n] - ${f.preEmphasis}·x[n-1] (high frequencies boosted)`, 520, 90),
        heatPanel({ url: timeFrequencyPng(db, power.frames, power.bands, [dbTop - 80, dbTop], 4, 1), frames: power.frames, seconds, yDomain: [0, f.sampleRate / 2], yTitle: 'frequency (Hz)', range: [dbTop - 80, dbTop], legend: 'dB', title: '3-4. pre.hook_frames -> pre.hook_power: |FFT|² of each frame (in dB)' }),
        heatPanel({ url: timeFrequencyPng(logMel.values, logMel.frames, logMel.bands, melRange, 4, 4), frames: logMel.frames, seconds, yDomain: [0, logMel.bands], yTitle: 'mel band', range: melRange, legend: 'log energy', title: '5-6. pre.hook_mel -> pre.hook_log_mel: energy per mel band, log' }),
        heatPanel({ url: timeFrequencyPng(normalized.values, normalized.frames, normalized.bands, normRange, 4, 4), frames: normalized.frames, seconds, yDomain: [0, normalized.bands], yTitle: 'mel band', range: normRange, legend: 'z-score', title: '7. pre.hook_normalized: each band minus its training mean, over its std' }),
      ],
      resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    };
    const top = (probs.dataSync() as Float32Array).slice(0, model.config.labels.length);
    const best = top.indexOf(Math.max(...top));
    const text = [
      title,
      `waveform [${cache.get('pre.hook_waveform').shape}] -> power [${cache.get('pre.hook_power').shape}] -> log-mel [${cache.get('pre.hook_log_mel').shape}] -> normalised [${cache.get('pre.hook_normalized').shape}]`,
      `prediction: ${model.config.labels[best]} (${(top[best] * 100).toFixed(1)}%)`,
    ].join('\n');
    return await toBundle(spec, text, undefined, { pngScale: 1.25 });
  } finally {
    probs.dispose();
    cache.dispose();
  }
}

/** Confusion matrix counts[true][predicted] as a grid of cells with the counts written in. */
export async function confusionMatrixView(confusion: number[][], labels: string[], title = 'confusion matrix'): Promise<MimeBundle> {
  if (confusion.length !== labels.length || confusion.some((row) => row.length !== labels.length)) {
    throw new Error(`confusionMatrixView: need a ${labels.length} x ${labels.length} matrix (one row and column per label); got ${confusion.length} rows.`);
  }
  const rows = confusion.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({ actual: labels[t], predicted: labels[p], count, share: total ? count / total : 0 }));
  });
  const correct = confusion.reduce((s, row, i) => s + row[i], 0);
  const total = confusion.flat().reduce((a, b) => a + b, 0);
  const spec: Spec = {
    title: { text: title, subtitle: ['rows: the word said; columns: the word predicted', `colour: share of the row; accuracy ${((100 * correct) / Math.max(1, total)).toFixed(1)}% of ${total}`] },
    width: { step: 34 },
    height: { step: 26 },
    data: { values: rows },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: labels, title: 'predicted', axis: { orient: 'top', labelAngle: 0 } },
      y: { field: 'actual', type: 'ordinal', sort: labels, title: 'actual' },
    },
    layer: [
      { mark: { type: 'rect' }, encoding: { color: { field: 'share', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 1] }, legend: { title: 'share', format: '.0%' } }, tooltip: [{ field: 'actual' }, { field: 'predicted' }, { field: 'count' }] } },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { condition: { test: 'datum.count > 0', field: 'count' }, value: '' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
  const confusions = rows.filter((r) => r.actual !== r.predicted && r.count > 0).sort((a, b) => b.count - a.count).slice(0, 5);
  const text = [
    `${title}: ${correct}/${total} correct`,
    `  ${''.padEnd(6)}${labels.map((l) => l.padStart(6)).join('')}`,
    ...confusion.map((row, i) => `  ${labels[i].padEnd(6)}${row.map((c) => String(c).padStart(6)).join('')}`),
    `most frequent confusions: ${confusions.map((r) => `${r.actual}->${r.predicted} (${r.count})`).join(', ') || 'none'}`,
  ].join('\n');
  return toBundle(spec, text);
}

/**
 * Held-out accuracy at each SNR: the overall accuracy and one line per noise type (white, pink,
 * brown, babble), clean at the right. From evaluateKeywords.
 */
export async function snrAccuracyView(evaluation: KeywordEvaluation, title = 'Keyword accuracy against noise (held-out speakers)'): Promise<MimeBundle> {
  const ordered = [...evaluation.results].sort((a, b) => (Number.isFinite(a.snrDb) ? a.snrDb : 1e9) - (Number.isFinite(b.snrDb) ? b.snrDb : 1e9));
  const order = ordered.map((r) => snrLabel(r.snrDb));
  const rows = ordered.flatMap((r) => [
    { snr: snrLabel(r.snrDb), series: 'all noise types', accuracy: r.accuracy, n: r.n },
    ...Object.entries(r.byNoise).map(([type, v]) => ({ snr: snrLabel(r.snrDb), series: type, accuracy: v!.accuracy, n: v!.n })),
  ]);
  const clean = ordered.find((r) => !Number.isFinite(r.snrDb));
  if (clean) for (const type of new Set(rows.map((r) => r.series))) if (type !== 'all noise types') rows.push({ snr: 'clean', series: type, accuracy: clean.accuracy, n: clean.n }); // every line ends at the clean point
  const chance = 1 / evaluation.labels.length;
  const spec: Spec = {
    title: { text: title, subtitle: ['SNR: power of the word against the power of the noise', `${ordered[0]?.n ?? 0} clips per level, the noise types in turn (~${Math.round((ordered[0]?.n ?? 0) / 4)} each); dashed: chance ${(100 * chance).toFixed(0)}%`] },
    width: 440,
    height: 240,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'snr', type: 'ordinal', sort: order, title: 'SNR (noisier on the left)', axis: { labelAngle: 0 } },
          y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
          color: { field: 'series', type: 'nominal', title: null, sort: ['all noise types', 'white', 'pink', 'brown', 'babble'], scale: { range: ['#222222', '#0072B2', '#D55E00', '#999999', '#009E73'] }, legend: { orient: 'right' } },
          strokeWidth: { condition: { test: "datum.series === 'all noise types'", value: 3 }, value: 1.5 },
          tooltip: [{ field: 'series' }, { field: 'snr' }, { field: 'accuracy', format: '.3f' }, { field: 'n' }],
        },
      },
      { data: { values: [{ chance }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#999' }, encoding: { y: { field: 'chance', type: 'quantitative' } } },
    ],
  };
  const text = [title, ...ordered.map((r) => `  ${snrLabel(r.snrDb).padStart(6)}: ${(100 * r.accuracy).toFixed(1)}%  (n=${r.n})${Object.keys(r.byNoise).length ? '   ' + Object.entries(r.byNoise).map(([t, v]) => `${t} ${(100 * v!.accuracy).toFixed(0)}%`).join(', ') : ''}`)].join('\n');
  return toBundle(spec, text);
}
