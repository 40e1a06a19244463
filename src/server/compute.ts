// The server's side of the engine: shipped models loaded once, a traced forward pass turned into
// JSON (with each step's picture as a PNG data URL), and the original-vs-optimized comparison.
// Everything here comes from the library's one public entry.
import * as lab from '../index';
import { tf, type DigitsCNN, type ModelInfo, type Trace, type TraceStep, type Tensor } from '../index';

/** A 4xx answer with a message meant for the person who sent the request. */
/** A forward pass with NaN/Infinity is no answer: 422, naming the step where it starts. */
function refuseNonFinite(trace: Trace): void {
  try {
    lab.assertFiniteTrace(trace);
  } catch (err) {
    throw new InputError((err as Error).message, 422);
  }
}

export class InputError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Inputs larger than this (per side) are refused: they would only cost time, the model sees 28x28. */
export const MAX_IMAGE_SIDE = 256;
export const MAX_COMPARE_DIGITS = 1000;

/** A trace step as JSON: the step without its tensor, plus the picture the page draws. */
export interface StepJson extends Omit<TraceStep, 'tensor' | 'note'> {
  note: string | null;
  /** How the picture lays the value out, e.g. "8 channels tiled". */
  layout: string;
  /** PNG data URL of the value (batch item 0), or null for a step with no picture. */
  image: string | null;
  /** The value range the colours span. */
  range: [number, number] | null;
  colormap: 'grey' | 'viridis';
}

export interface RunResult {
  model: string;
  backend: string;
  input: { kind: 'pixels'; shape: number[] } | { kind: 'sample'; index: number; label: string } | { kind: 'text'; text: string; ids: number[] };
  steps: StepJson[];
  top: { label: string; p: number }[];
  ms: number;
}

/** What a model reads, from the registry (src/models/registry.ts). */
export type ModelInput = lab.InputKind;

/** What the stepper needs of a text classifier (the language-ID CharRNN). */
interface TextModel {
  name: string;
  config: { labels: string[]; maxLength: number };
  encode(words: string[]): Tensor;
  unknownCharacters?(word: string): string[];
  knowsAnyOf?(word: string): boolean;
  trace(input: Tensor, options: { keepTensors: boolean }): Trace;
}

/** Input kinds the stepper page can take today. */
const STEPPER_INPUTS: ModelInput[] = ['image', 'word', 'audio', 'text'];

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Describe what a JSON value is, for error messages (never echoes large inputs). */
function what(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null) return 'null';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : typeof v;
}

/** Shape of a nested array of the pixel JSON, checked before any per-value work. */
function pixelShape(pixels: unknown): number[] {
  const expected = 'pixels: expected an array [height][width] (or [height][width][channels]) of numbers 0..255';
  if (!Array.isArray(pixels) || pixels.length === 0 || !Array.isArray(pixels[0]) || pixels[0].length === 0) {
    throw new InputError(`${expected}; got ${what(pixels)}.`);
  }
  const h = pixels.length;
  const w = (pixels[0] as unknown[]).length;
  if (h > MAX_IMAGE_SIDE || w > MAX_IMAGE_SIDE) throw new InputError(`pixels: ${h}x${w} is too large; at most ${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE}.`);
  if (h < 3 || w < 3) throw new InputError(`pixels: ${h}x${w} is too small; at least 3x3.`);
  const first = (pixels[0] as unknown[])[0];
  if (Array.isArray(first)) {
    if (![1, 3, 4].includes(first.length)) throw new InputError(`pixels: each pixel needs 1, 3 or 4 channels; got ${first.length}.`);
    return [h, w, first.length];
  }
  return [h, w];
}

export class LabService {
  private ready: Promise<string> | null = null;
  private readonly models = new Map<string, lab.HookedModel>();
  private infos: ModelInfo[] | null = null;
  private readonly optimized = new Map<string, lab.LoadedModel>();

  /** Start the backend once (WASM by default). */
  init(): Promise<string> {
    this.ready ??= lab.initBackend();
    return this.ready;
  }

  /** The shipped models with their metrics (read once; loading each to count parameters is slow). */
  async listModels(): Promise<(ModelInfo & { input: ModelInput; stepper: boolean; int8: lab.ModelEntry['int8'] })[]> {
    await this.init();
    this.infos ??= lab.listModels();
    // int8: how the compare page's quantization is made for this model (the registry entry's choice).
    return this.infos.map((m) => ({ ...m, stepper: STEPPER_INPUTS.includes(m.input), int8: lab.entryOf(m.name).int8 }));
  }

  async modelNames(): Promise<string[]> {
    return (await this.listModels()).map((m) => m.name);
  }

  /** A shipped model by name: only names from the registry, never a path. */
  async model(name: unknown): Promise<lab.HookedModel> {
    const names = await this.modelNames();
    if (typeof name !== 'string' || !names.includes(name)) {
      throw new InputError(`model: expected one of ${names.map((n) => JSON.stringify(n)).join(', ')}; got ${typeof name === 'string' ? JSON.stringify(name.slice(0, 60)) : what(name)}.`);
    }
    let m = this.models.get(name);
    if (!m) {
      m = lab.loadModel(name);
      this.models.set(name, m);
    }
    return m;
  }

  /** Only image classifiers (the digits CNN family) take pixels; other models get a clear 400. */
  private async requireImageModel(name: string, where: string): Promise<void> {
    const info = (await this.listModels()).find((m) => m.name === name);
    if (info?.input !== 'image') {
      throw new InputError(`model: "${name}" (${info?.architecture ?? 'unknown'}) is not available in ${where} yet; image models are: ${(await this.listModels()).filter((m) => m.input === 'image').map((m) => m.name).join(', ')}.`);
    }
  }

  heldOutCount(): number {
    return lab.loadMnist().heldOut.count;
  }

  /** Held-out digit `index` as raw pixels [1, 28, 28] plus its label. */
  heldOutDigit(index: unknown): { tensor: Tensor; label: string; index: number } {
    const set = lab.loadMnist().heldOut;
    if (!isInt(index) || index < 0 || index >= set.count) {
      throw new InputError(`sample: expected an integer 0..${set.count - 1} (a held-out digit); got ${isInt(index) ? index : what(index)}.`);
    }
    const px = lab.MNIST_SIZE * lab.MNIST_SIZE;
    const tensor = tf.tensor3d(set.images.subarray(index * px, (index + 1) * px), [1, lab.MNIST_SIZE, lab.MNIST_SIZE], 'int32');
    return { tensor, label: lab.DIGIT_LABELS[set.labels[index]], index };
  }

  /** Validate a /api/run body and produce the model's input tensor (the caller disposes it). */
  imageInput(body: Record<string, unknown>): { tensor: Tensor; input: RunResult['input'] } {
    const hasPixels = body.pixels !== undefined;
    const hasSample = body.sample !== undefined;
    if (hasPixels === hasSample) throw new InputError('Give exactly one input: "pixels" (an array [height][width] of 0..255) or "sample" (a held-out digit index).');
    if (hasSample) {
      const d = this.heldOutDigit(body.sample);
      return { tensor: d.tensor, input: { kind: 'sample', index: d.index, label: d.label } };
    }
    const shape = pixelShape(body.pixels);
    let tensor: Tensor;
    try {
      tensor = lab.pixelsFromJson(body.pixels, 'pixels');
    } catch (err) {
      throw new InputError((err as Error).message);
    }
    return { tensor, input: { kind: 'pixels', shape } };
  }

  /** One traced forward pass, every step with its picture. Synchronous compute: run it in the queue. */
  async run(body: Record<string, unknown>): Promise<RunResult> {
    const model = await this.model(body.model);
    const info = (await this.listModels()).find((m) => m.name === model.name);
    if (info?.input === 'word') return this.runText(model as unknown as TextModel, body);
    if (info?.input === 'audio' || info?.input === 'text') return this.runEncoded(model, info.input, body);
    if (info?.input === 'sentence') throw new InputError(`model: "${model.name}" is a translation model; the stepper shows one forward pass of image, word, audio and text models. Translate with \`inference-lab run ${model.name} --input "..."\` or notebook 12.`);
    await this.requireImageModel(model.name, 'the stepper');
    const k = body.k === undefined ? 3 : body.k;
    if (!isInt(k) || k < 1 || k > 10) throw new InputError(`k: expected an integer 1..10; got ${isInt(k) ? k : what(k)}.`);
    const { tensor, input } = this.imageInput(body);
    const t0 = performance.now();
    let trace: Trace | null = null;
    try {
      trace = model.trace(tensor, { keepTensors: true });
      refuseNonFinite(trace);
      const steps = trace.steps.map(stepJson);
      const cnn = model as DigitsCNN;
      const top = cnn.classify(tensor, k)[0];
      return { model: model.name, backend: lab.backend(), input, steps, top, ms: Math.round((performance.now() - t0) * 10) / 10 };
    } finally {
      trace?.dispose();
      tensor.dispose();
    }
  }

  /** Any other registered model: its input encoded by the registry entry, every step traced, its top-k answers. */
  private runEncoded(model: lab.HookedModel, kind: ModelInput, body: Record<string, unknown>): RunResult {
    const entry = lab.entryOf(model.name);
    const k = body.k === undefined ? 3 : body.k;
    if (!isInt(k) || k < 1 || k > 10) throw new InputError(`k: expected an integer 1..10; got ${isInt(k) ? k : what(k)}.`);
    let spec: string;
    let input: RunResult['input'];
    if (kind === 'text') {
      const text = typeof body.text === 'string' ? body.text : '';
      if (text.length < 1 || text.length > 64) throw new InputError(`text: expected 1..64 characters for "${model.name}" (a language model); got ${typeof body.text === 'string' ? `${body.text.length}` : what(body.text)}.`);
      spec = text;
      input = { kind: 'text', text, ids: [] };
    } else {
      if (!isInt(body.sample) || body.sample < 0) throw new InputError(`sample: "${model.name}" reads ${kind}; give "sample", the index of a held-out clip.`);
      spec = `heldout:${body.sample}`;
      input = { kind: 'sample', index: body.sample, label: '' };
    }
    let tensor: Tensor;
    try {
      tensor = entry.encode(model, spec);
    } catch (err) {
      throw new InputError((err as Error).message);
    }
    const t0 = performance.now();
    let trace: Trace | null = null;
    try {
      trace = model.trace(tensor, { keepTensors: true });
      const steps = trace.steps.map(stepJson);
      const top = entry.predict(model, tensor, k);
      if (input.kind === 'text') input.ids = Array.from(tensor.dataSync());
      return { model: model.name, backend: lab.backend(), input, steps, top, ms: Math.round((performance.now() - t0) * 10) / 10 };
    } finally {
      trace?.dispose();
      tensor.dispose();
    }
  }

  /** A text classifier (the language-ID LSTM): one word in, every step traced, top-k languages. */
  private runText(model: TextModel, body: Record<string, unknown>): RunResult {
    const k = body.k === undefined ? 3 : body.k;
    if (!isInt(k) || k < 1 || k > 10) throw new InputError(`k: expected an integer 1..10; got ${isInt(k) ? k : what(k)}.`);
    if (body.pixels !== undefined || body.sample !== undefined) throw new InputError(`model "${model.name}" reads text: give "text" (one word), not pixels or a sample.`);
    const text = typeof body.text === 'string' ? body.text.trim() : '';
    if (!/^[\p{L}'-]{1,40}$/u.test(text)) {
      throw new InputError(`text: expected one word of 1..40 letters; got ${typeof body.text === 'string' ? JSON.stringify(body.text.slice(0, 60)) : what(body.text)}.`);
    }
    if (model.knowsAnyOf && !model.knowsAnyOf(text)) {
      const unknown = model.unknownCharacters?.(text) ?? [];
      throw new InputError(`text: ${JSON.stringify(text)} is outside the alphabet ${model.name} knows (it has none of ${JSON.stringify(unknown.join(''))}); give a word in the Latin letters of its languages (${model.config.labels.join(', ')}).`);
    }
    if ([...text].length > model.config.maxLength) throw new InputError(`text: ${JSON.stringify(text)} has ${[...text].length} letters; ${model.name} reads words of at most ${model.config.maxLength}.`); // never cut to a shorter word
    const ids = model.encode([text.toLowerCase()]);
    const t0 = performance.now();
    let trace: Trace | null = null;
    try {
      trace = model.trace(ids, { keepTensors: true });
      refuseNonFinite(trace);
      const steps = trace.steps.map(stepJson);
      const probs = Array.from(trace.step('post.hook_probs').tensor!.dataSync());
      const labels = model.config.labels;
      const top = probs
        .map((p, i) => ({ label: labels[i], p }))
        .sort((a, b) => b.p - a.p)
        .slice(0, k);
      return { model: model.name, backend: lab.backend(), input: { kind: 'text', text, ids: Array.from(ids.dataSync()) }, steps, top, ms: Math.round((performance.now() - t0) * 10) / 10 };
    } finally {
      trace?.dispose();
      ids.dispose();
    }
  }

  /** Whether the library can make optimized models yet (the compare page needs it). */
  static quantizeAvailable(): boolean {
    return typeof (lab as Record<string, unknown>).quantize === 'function';
  }

  /** The optimized copy of `original` that `choice` names, made once per configuration (the registry says how: fake-quant tfjs or ONNX Runtime int8). */
  private optimizedModel(original: lab.LoadedModel, choice: OptimizationChoice): lab.LoadedModel {
    const key = `${original.name}|${JSON.stringify(choice)}`;
    let m = this.optimized.get(key);
    if (!m) {
      m = makeVariant(original, choice);
      remember(this.optimized, key, m, 16, (old) => old.dispose());
    }
    return m;
  }

  /**
   * Original vs optimized for any registered model, measured by the library's one compare()
   * (src/optimize/compare.ts) on a slice of the model's shipped held-out data: the metric, size,
   * latency (the one clock, models timed in alternation) and the error at every hook both share.
   * Image models add the digit view the page has always had: one digit's top-3, the isolated error
   * per step, the disagreements and both forward passes side by side.
   */
  async compare(body: Record<string, unknown>): Promise<CompareResult> {
    const original = (await this.model(body.model)) as lab.LoadedModel;
    const entry = lab.entryOf(original.name);
    if (entry.notComparable) throw new InputError(`model: "${original.name}" is ${entry.notComparable}.`);
    const choice = optimizationChoice(body.optimization, entry, original.name);
    const limits = COMPARE_ITEMS[entry.input];
    const rawN = body.items ?? (entry.input === 'image' ? body.digits : undefined) ?? limits.default;
    const field = body.items === undefined && entry.input === 'image' && body.digits !== undefined ? 'digits' : 'items';
    if (!isInt(rawN) || rawN < limits.min || rawN > limits.max) throw new InputError(`${field}: expected an integer ${limits.min}..${limits.max} (${limits.unit}); got ${isInt(rawN) ? rawN : what(rawN)}.`);
    const n = rawN;
    const sample = entry.input === 'image' ? this.heldOutDigit(body.sample === undefined ? 0 : body.sample) : null;
    const owned: Tensor[] = [];
    try {
      if (!LabService.quantizeAvailable()) throw new InputError('Quantization is not available yet in this build of Inference Lab (no quantize export).', 501);
      const shipped = lab.heldOutData(original, original.name);
      if (!shipped) throw new InputError(`${original.name} ships no held-out data to compare on.`);
      const data = heldOutSlice(original, shipped, n);
      const optimized = this.optimizedModel(original, choice);
      const latencyInput = entry.batch(original, data, LATENCY_BATCH[entry.input]); // [batch, ...]
      owned.push(latencyInput);
      const errorInput = sample ? sample.tensor : entry.batch(original, data, 16); // [1 or 16, ...]
      if (!sample) owned.push(errorInput);
      const onnx = entry.int8 === 'onnx-dynamic';
      const runs = entry.input === 'text' ? 5 : 11;
      const report = await lab.compare(original, [{ label: optimized.name, model: optimized }], { data, latencyInput, errorInput, onnx, threads: 1, runs });
      const [o, q] = [report.original, report.variants[0]];
      const finite = (v: number): Num => (Number.isFinite(v) ? v : v > 0 ? 'inf' : '-inf');
      const layer = (r: lab.LayerError) => ({ name: r.name, kind: r.kind, sqnrDb: finite(r.sqnrDb), mse: r.mse, cosine: r.cosine, maxAbs: r.maxAbs });
      const isolated = sample ? lab.layerErrors(original, optimized, sample.tensor, 'isolated') : null;
      const isolatedOf = new Map((isolated ?? []).map((r) => [r.name, layer(r)]));
      const row = (r: lab.VariantReport): CompareRow => ({
        value: r.metric,
        ...(r.accuracy !== undefined ? { accuracy: r.accuracy } : {}),
        ...(r.perplexity !== undefined ? { perplexity: r.perplexity } : {}),
        bytes: r.bytes,
        engine: r.engine,
        latency: r.latency ?? null,
        onnxLatency: r.onnxLatency ?? null,
      });
      let digitView: Pick<CompareResult, 'sample' | 'disagreements' | 'stepper'> = { sample: null, disagreements: null, stepper: null };
      if (sample) {
        const set = data.kind === 'image' ? data.set : null;
        const wrong = (m: lab.HookedModel) => new Set(lab.evaluateDigits(m, set!).mistakes.map((x) => x.index));
        const [origWrong, optWrong] = [wrong(original), wrong(optimized)];
        let flips = 0;
        for (let i = 0; i < set!.count; i++) if (origWrong.has(i) !== optWrong.has(i)) flips++;
        const top = (m: lab.HookedModel) => entry.predict(m, sample.tensor, 3);
        let stepper: CompareResult['stepper'] = null;
        if (body.stepper === true) {
          // Both forward passes side by side, as the notebook's compareStepper shows them.
          const a = original.trace(sample.tensor, { keepTensors: true });
          const b = optimized.trace(sample.tensor, { keepTensors: true });
          try {
            const bundle = await lab.compareStepper(a, b, ['original', optimized.name]);
            stepper = { spec: bundle['application/vnd.vegalite.v5+json'] as Record<string, unknown>, svg: bundle['image/svg+xml'] ?? '' };
          } finally {
            a.dispose();
            b.dispose();
          }
        }
        digitView = { sample: { index: sample.index, label: sample.label, original: top(original), optimized: top(optimized) }, disagreements: flips, stepper };
      }
      return {
        model: original.name,
        input: entry.input,
        optimization: choice,
        optimizedName: optimized.name,
        data: { source: data.source, items: n, unit: limits.unit },
        metric: { name: report.metricName, lowerIsBetter: report.metricKind === 'loss' },
        digits: entry.input === 'image' ? n : null,
        latencyNote: report.latencyNote,
        original: row(o),
        optimized: row(q),
        speed: speedChange(o, q),
        ...digitView,
        layers: (q.layers ?? []).map((l) => ({ ...layer(l), isolated: isolatedOf.get(l.name) ?? null })),
      };
    } finally {
      tf.dispose(owned);
      sample?.tensor.dispose();
    }
  }

  dispose(): void {
    for (const m of [...this.models.values(), ...this.optimized.values()]) (m as DigitsCNN).dispose?.();
    this.models.clear();
    this.optimized.clear();
  }
}

/** Insert into a cache that keeps at most `limit` entries, dropping the oldest (Map keeps insertion order). */
function remember<V>(cache: Map<string, V>, key: string, value: V, limit: number, drop?: (old: V) => void): void {
  cache.set(key, value);
  while (cache.size > limit) {
    const [oldest, old] = cache.entries().next().value as [string, V];
    cache.delete(oldest);
    drop?.(old);
  }
}

export interface QuantChoice {
  kind: 'quantize';
  /** 4 only for fake-quantized models; a GPT's int8 is ONNX Runtime's dynamic int8. */
  bits: 8 | 4;
  symmetric: boolean;
  perChannel: boolean;
  activations: 'none' | 'dynamic' | 'static';
  calibration: 'minmax' | 'percentile' | 'mse' | 'entropy';
  /** How the registry makes it: fake-quantized tfjs weights, or ONNX Runtime's integer kernels. */
  engine: 'fake-quant' | 'onnx-dynamic';
}

export interface PruneChoice {
  kind: 'prune';
  /** Fraction of each weight matrix (unstructured), or of the digits CNN's channels / a GPT's MLP neurons (structured), removed. */
  sparsity: number;
  structured: boolean;
}

export type OptimizationChoice = QuantChoice | PruneChoice;

/** How many held-out items a comparison may measure, per input kind (a slice keeps a request to seconds). */
export const COMPARE_ITEMS: Record<lab.InputKind, { default: number; min: number; max: number; unit: string }> = {
  image: { default: 500, min: 10, max: MAX_COMPARE_DIGITS, unit: 'held-out digits' },
  word: { default: 500, min: 10, max: 2000, unit: 'held-out words' },
  audio: { default: 100, min: 10, max: 250, unit: 'held-out clips (clean)' },
  text: { default: 8, min: 1, max: 64, unit: 'windows of the test text' },
  tabular: { default: 88, min: 10, max: 88, unit: 'held-out patients' }, // compare refuses a regression model (entry.notComparable); the limits complete the table
  sentence: { default: 1, min: 1, max: 1, unit: 'none: compare refuses a translation model (entry.notComparable)' },
};

/** Batch each model is timed at, per input kind. */
const LATENCY_BATCH: Record<lab.InputKind, number> = { image: 64, word: 16, audio: 8, text: 1, tabular: 88, sentence: 1 };

type Num = number | 'inf' | '-inf';

export interface CompareRow {
  /** The registry's held-out metric (accuracy, or cross-entropy for a language model). */
  value: number;
  accuracy?: number;
  perplexity?: number;
  bytes: number;
  engine: string;
  /** tfjs timing (null: the model runs on ONNX Runtime only). */
  latency: lab.Timing | null;
  /** ONNX Runtime timing (null: not measured). */
  onnxLatency: lab.Timing | null;
}

/** Which of the two is faster, in words, on the engine both were timed on. */
export interface SpeedChange {
  engine: 'tfjs' | 'onnxruntime';
  originalMs: number;
  optimizedMs: number;
  /** optimized / original median latency. */
  ratio: number;
  verdict: 'slower' | 'faster' | 'same';
  /** The two min..p95 ranges overlap: the difference is within run-to-run spread. */
  overlap: boolean;
  text: string;
}

export interface CompareResult {
  model: string;
  input: lab.InputKind;
  optimization: OptimizationChoice;
  optimizedName: string;
  /** The held-out slice measured: where it comes from and how many items. */
  data: { source: string; items: number; unit: string };
  metric: { name: string; lowerIsBetter: boolean };
  /** Image models: the number of held-out digits (kept for older clients); null otherwise. */
  digits: number | null;
  latencyNote: string;
  original: CompareRow;
  optimized: CompareRow;
  speed: SpeedChange | null;
  /** Image models: one digit's top-3 under both models; null otherwise. */
  sample: { index: number; label: string; original: { label: string; p: number }[]; optimized: { label: string; p: number }[] } | null;
  /** Image models: digits one model gets right and the other wrong. */
  disagreements: number | null;
  /** Both traces side by side (interactive), for an image model when the request asked for `stepper: true`. */
  stepper: { spec: Record<string, unknown>; svg: string } | null;
  /** Error at every hook both models share (propagated), and for image models isolated too. */
  layers: { name: string; kind: string; sqnrDb: Num; mse: number; cosine: number; maxAbs: number; isolated: { sqnrDb: Num; mse: number; cosine: number; maxAbs: number } | null }[];
}

/** The latency change in words: tfjs against tfjs when both ran there, else ONNX Runtime against ONNX Runtime. */
export function speedChange(o: lab.VariantReport, q: lab.VariantReport): SpeedChange | null {
  const pair: [lab.Timing, lab.Timing, SpeedChange['engine']] | null =
    o.latency && q.latency ? [o.latency, q.latency, 'tfjs'] : o.onnxLatency && q.onnxLatency ? [o.onnxLatency, q.onnxLatency, 'onnxruntime'] : null;
  if (!pair) return null;
  const [a, b, engine] = pair;
  const ratio = b.medianMs / a.medianMs;
  const verdict = ratio > 1 ? 'slower' : ratio < 1 ? 'faster' : 'same';
  const overlap = a.minMs <= b.p95Ms && b.minMs <= a.p95Ms;
  const times = verdict === 'slower' ? ratio : 1 / ratio;
  const where = engine === 'tfjs' ? 'on tfjs' : 'on ONNX Runtime';
  const text =
    (verdict === 'same' ? `the same median latency ${where}` : `${times.toFixed(2)}x ${verdict} ${where} (median ${b.medianMs.toFixed(2)} vs ${a.medianMs.toFixed(2)} ms)`) +
    (overlap ? '; the min–p95 ranges overlap, so this is within run-to-run spread' : '');
  return { engine, originalMs: a.medianMs, optimizedMs: b.medianMs, ratio, verdict, overlap, text };
}

/** Every `stride`-th item of the held-out data, `n` in all (words and clips are stored grouped by class), or the first `n` windows of a text. */
export function heldOutSlice(model: lab.HookedModel, data: lab.EvalData, n: number): lab.EvalData {
  const pick = <T>(items: ArrayLike<T>): number[] => {
    const count = Math.min(n, items.length);
    const stride = items.length / count;
    return Array.from({ length: count }, (_, i) => Math.floor(i * stride));
  };
  const how = (total: number, count: number) => (count >= total ? `all ${total}` : `${count} of ${total}, evenly spaced`);
  switch (data.kind) {
    case 'image': {
      const idx = pick(Array.from({ length: data.set.count }));
      if (idx.length === data.set.count) return data;
      // The first n digits: the notebooks' and the older page's slice (held-out digits come shuffled).
      const px = lab.MNIST_SIZE * lab.MNIST_SIZE;
      return { kind: 'image', set: { images: data.set.images.subarray(0, n * px), labels: data.set.labels.subarray(0, n), count: n }, source: `the first ${n} of ${data.source}` };
    }
    case 'word': {
      const idx = pick(data.words);
      return { kind: 'word', words: idx.map((i) => data.words[i]), labels: idx.map((i) => data.labels[i]), source: `${how(data.words.length, idx.length)} words of ${data.source}` };
    }
    case 'audio': {
      const idx = pick(data.clips.clips);
      const c = data.clips;
      // A source outside assets/ is evaluated clean only (the noise sweep stays in notebook 11).
      return {
        kind: 'audio',
        clips: { ...c, clips: idx.map((i) => c.clips[i]), labels: idx.map((i) => c.labels[i]), info: idx.map((i) => c.info[i]).filter((x) => x !== undefined) },
        source: `${how(c.clips.length, idx.length)} clips of ${data.source}, clean`,
      };
    }
    case 'text': {
      const context = (model as unknown as { config: { contextLength: number } }).config.contextLength;
      return { kind: 'text', text: [...data.text].slice(0, n * context + 1).join(''), source: `the first ${n} windows of ${data.source}` };
    }
    case 'sentence':
      return { kind: 'sentence', verses: data.verses.slice(0, n), source: `the first ${n} verses of ${data.source}` };
    case 'tabular': {
      const idx = pick(data.set.rows);
      return { kind: 'tabular', set: { ...data.set, rows: idx.map((i) => data.set.rows[i]), targets: idx.map((i) => data.set.targets[i]) }, source: `${how(data.set.rows.length, idx.length)} rows of ${data.source}` };
    }
  }
}

/** How /api/compare's JSON spells each variant option, for the library's one set of rules (src/optimize/variants.ts). */
const FIELD_NAMES: lab.OptionNames = {
  bits: 'optimization.bits',
  perChannel: 'optimization.perChannel',
  symmetric: 'optimization.symmetric',
  activations: 'optimization.activations',
  calibration: 'optimization.calibration',
  sparsity: 'optimization.sparsity',
  structured: 'optimization.structured',
  student: 'optimization.student',
  bitsValue: (bits) => String(bits),
};

/** The library's variant spec for one choice (calibration only counts for static activation ranges). */
function variantSpecOf(choice: OptimizationChoice): lab.VariantSpec {
  if (choice.kind === 'prune') return { sparsity: choice.sparsity, structured: choice.structured };
  return {
    bits: choice.bits,
    symmetric: choice.symmetric,
    perChannel: choice.perChannel,
    activations: choice.activations,
    ...(choice.activations === 'static' ? { calibration: choice.calibration } : {}),
  };
}

/** The optimized copy a choice names, made the registry's way for this model (the library's buildVariants). */
function makeVariant(original: lab.LoadedModel, choice: OptimizationChoice): lab.LoadedModel {
  const built = lab.buildVariants(original, lab.entryOf(original.name), variantSpecOf(choice), FIELD_NAMES);
  return built.variants[0].model;
}

/** Validate the "optimization" object of /api/compare: its JSON here, what applies to this model's registry entry in the library (checkVariantSpec). */
export function optimizationChoice(
  raw: unknown,
  entry: Pick<lab.ModelEntry, 'architecture' | 'input' | 'int8'> = { architecture: 'digits-cnn', input: 'image', int8: 'fake-quant' },
  name = 'this model',
): OptimizationChoice {
  const o = (raw ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw new InputError(`optimization: expected an object like {"kind": "quantize", "bits": 8}; got ${what(raw)}.`);
  const applies = (choice: OptimizationChoice): OptimizationChoice => {
    try {
      lab.checkVariantSpec(name, entry, variantSpecOf(choice), FIELD_NAMES);
    } catch (err) {
      if (err instanceof lab.VariantSpecError) throw new InputError(err.message);
      throw err;
    }
    return choice;
  };
  const kind = o.kind ?? 'quantize';
  if (kind === 'prune') {
    const sparsity = o.sparsity ?? 0.5;
    if (typeof sparsity !== 'number' || !(sparsity > 0 && sparsity <= 0.95)) throw new InputError(`optimization.sparsity: expected a fraction in (0, 0.95]; got ${JSON.stringify(sparsity)}.`);
    const structured = o.structured ?? false;
    if (typeof structured !== 'boolean') throw new InputError('optimization.structured: expected true or false.');
    return applies({ kind: 'prune', sparsity, structured });
  }
  if (kind !== 'quantize') throw new InputError(`optimization.kind: expected "quantize" or "prune"; got ${JSON.stringify(kind)}.`);
  const bits = o.bits ?? 8;
  if (bits !== 8 && bits !== 4) throw new InputError(`optimization.bits: expected 8 or 4; got ${JSON.stringify(bits)}.`);
  const symmetric = o.symmetric ?? true;
  const perChannel = o.perChannel ?? false;
  if (typeof symmetric !== 'boolean') throw new InputError('optimization.symmetric: expected true or false.');
  if (typeof perChannel !== 'boolean') throw new InputError('optimization.perChannel: expected true or false.');
  const activations = o.activations ?? 'none';
  if (activations !== 'none' && activations !== 'dynamic' && activations !== 'static') {
    throw new InputError(`optimization.activations: expected "none", "dynamic" or "static"; got ${JSON.stringify(activations)}.`);
  }
  const calibration = o.calibration ?? 'minmax';
  if (!['minmax', 'percentile', 'mse', 'entropy'].includes(calibration as string)) {
    throw new InputError(`optimization.calibration: expected one of minmax, percentile, mse, entropy; got ${JSON.stringify(calibration)}.`);
  }
  // Calibration only matters for static activation ranges: one cache entry per real configuration.
  const method = activations === 'static' ? (calibration as QuantChoice['calibration']) : 'minmax';
  const engine = entry.int8;
  return applies({ kind: 'quantize', bits, symmetric, perChannel, activations, calibration: method, engine });
}

/** The quantization part of optimizationChoice, for the digits CNN (kept for callers of the older name). */
export function quantChoice(raw: unknown): QuantChoice {
  const c = optimizationChoice(raw);
  if (c.kind !== 'quantize') throw new InputError('optimization.kind: expected "quantize".');
  return c;
}

/** Values of batch item 0 as a 2-D grid for the picture, and how they were laid out. */
function stepPicture(step: TraceStep): Pick<StepJson, 'image' | 'range' | 'layout' | 'colormap'> {
  if (!step.tensor) return { image: null, range: null, layout: '', colormap: 'viridis' };
  const shape = step.tensor.shape.slice(1); // drop batch
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from(step.tensor.dataSync().subarray(0, size));
  let grid: { values: Float32Array; height: number; width: number };
  let layout: string;
  if (shape.length === 3) {
    const mosaic = lab.toMosaic(values, shape);
    grid = mosaic;
    layout = shape[2] === 1 ? `${shape[0]}x${shape[1]} image` : mosaic.shown < mosaic.channels ? `first ${mosaic.shown} of ${mosaic.channels} channels tiled` : `${shape[2]} channels tiled`;
  } else if (shape.length === 2) {
    grid = { values, height: shape[0], width: shape[1] };
    // Name the axes from the documented shape, e.g. "[batch, time, units]" -> rows are time steps.
    const dims = /^\[([^\]]*)\]/.exec(step.shapeDoc)?.[1].split(',').map((d) => d.trim()).slice(1) ?? [];
    layout = dims.length === 2 ? `rows: ${shape[0]} ${dims[0]}, columns: ${shape[1]} ${dims[1]}` : `${shape[0]} rows x ${shape[1]} columns`;
  } else {
    grid = lab.toMosaic(values, [size]);
    layout = size <= 16 ? `${size} values in a row` : `${size} values, row by row`;
  }
  const image = shape.length === 3 && shape[2] === 1 && step.name.startsWith('pre.');
  const colormap = image ? 'grey' : 'viridis';
  const range = lab.gridRange(grid);
  // One pixel per value: the page scales it up with `image-rendering: pixelated` (tiny PNGs, fast to make).
  return { image: lab.gridToPngUrl(grid, { colormap, range, cell: 1 }), range, layout, colormap };
}

function stepJson(step: TraceStep): StepJson {
  return {
    index: step.index,
    name: step.name,
    kind: step.kind,
    shapeDoc: step.shapeDoc,
    inputShape: step.inputShape,
    outputShape: step.outputShape,
    stats: step.stats,
    note: step.note ?? null,
    ...stepPicture(step),
  };
}
