// compare(original, variants, data): one report of what each optimization buys and costs:
// the held-out metric (accuracy for the digits CNN; cross-entropy and perplexity for a GPT),
// stored bytes, latency (tfjs, and ONNX Runtime: an export given for the CNN; for a GPT its
// `compile('onnx')`, or the variant itself when it is already an OnnxGPT, e.g. int8), and where
// the error is (SQNR at every hook point both models share, the worst one, and the logits').
import { tf, type Tensor } from '../engine/tf';
import type { DigitSet } from '../data/mnist';
import type { DigitsCNN } from '../models/cnn';
import type { GPT } from '../models/gpt';
import { OnnxGPT } from '../fastpath/gpt-onnx';
import { evaluateDigits } from '../models/evaluate';
import type { HookedModel } from '../hooks/hooked-model';
import { errorMetrics, type LayerError } from './analyze';
import { heldOutLoss } from './lm-eval';
import type { MimeBundle } from '../engine/mime';
import { viewOf } from '../engine/display';

export interface Variant<M = DigitsCNN> {
  label: string;
  model: M;
  /** Digits CNN: an ONNX export of this variant, to time in ONNX Runtime as well. */
  onnx?: Uint8Array;
}

/** A GPT on tfjs, or one already on ONNX Runtime (`model.compile('onnx', {quantize: 'int8'})`). */
export type GptVariantModel = GPT | OnnxGPT;

export interface VariantReport {
  label: string;
  /** Where the metric was measured: 'tfjs' or 'onnxruntime (...)'. */
  engine: string;
  /** The held-out metric: accuracy (digits) or cross-entropy in nats per token (GPT). */
  metric: number;
  /** Digits: held-out accuracy (the same as metric). */
  accuracy?: number;
  /** GPT: held-out cross-entropy (nats per token) and its perplexity, exp(loss). */
  lossNats?: number;
  perplexity?: number;
  bytes: number;
  sizeRatio: number;
  /** tfjs latency, median and 95th percentile (null: the variant does not run on tfjs). */
  latencyMs: number | null;
  latencyP95Ms: number | null;
  /** ONNX Runtime latency (null: not measured). */
  onnxLatencyMs: number | null;
  onnxLatencyP95Ms: number | null;
  /** SQNR (dB) of the logits against the original's, on the same inputs. */
  logitsSqnrDb: number;
  /** The step with the lowest propagated SQNR, and that SQNR. */
  worstStep: string | null;
  worstSqnrDb: number | null;
  /** Error at every hook point both models share with the same shape (null for the original). */
  layers: LayerError[] | null;
}

/** Median and 95th percentile (ms) of `fn` after warm-up, over at least `runs` runs or `budgetMs`. */
export function latencyPercentiles(fn: () => void, runs = 20, budgetMs = 1500): { p50: number; p95: number } {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < runs || (performance.now() - start < budgetMs && times.length < 200)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)], p95: times[Math.min(times.length - 1, Math.floor(times.length * 0.95))] };
}

async function onnxPercentiles(bytes: Uint8Array, input: Tensor): Promise<{ p50: number; p95: number }> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const feed = { pixels: new ort.Tensor('float32', Float32Array.from(input.dataSync()), input.shape) };
  for (let i = 0; i < 3; i++) await session.run(feed);
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await session.run(feed);
    times.push(performance.now() - t0);
  }
  await session.release();
  times.sort((a, b) => a - b);
  return { p50: times[15], p95: times[28] };
}

export const fmtDb = (v: number | null) => (v === null ? '—' : Number.isFinite(v) ? `${v.toFixed(1)} dB` : 'exact');
export const fmtMs = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)} ms`);

/** Hook names short enough for an axis: "blocks.2.attn.hook_z" -> "2.attn.z". */
export const shortHook = (name: string) => name.replace(/^blocks\./, '').replace(/hook_/g, '');

export class ComparisonReport {
  constructor(
    readonly original: VariantReport,
    readonly variants: VariantReport[],
    /** What latency measured, e.g. "median of batch 64". */
    readonly latencyNote: string,
    /** 'accuracy' (digits, higher is better) or 'loss' (language model, nats per token, lower is better). */
    readonly metricKind: 'accuracy' | 'loss' = 'accuracy',
  ) {}

  get rows(): VariantReport[] {
    return [this.original, ...this.variants];
  }

  private metricText(r: VariantReport): string {
    return this.metricKind === 'accuracy' ? `${(100 * r.metric).toFixed(2)}%` : `${r.metric.toFixed(4)} (ppl ${r.perplexity!.toFixed(2)})`;
  }

  toString(): string {
    const lines = this.rows.map(
      (r) =>
        `${r.label.padEnd(30)} ${this.metricText(r).padStart(this.metricKind === 'accuracy' ? 7 : 18)}  ${String(r.bytes).padStart(8)} B (${r.sizeRatio.toFixed(3)}x)  ` +
        `tfjs ${fmtMs(r.latencyMs)}${r.onnxLatencyMs === null ? '' : `  ORT ${fmtMs(r.onnxLatencyMs)}`}  logits ${fmtDb(r.logitsSqnrDb)}  worst ${r.worstStep ?? '—'} ${fmtDb(r.worstSqnrDb)}`,
    );
    const what = this.metricKind === 'accuracy' ? 'accuracy' : 'held-out cross-entropy, nats/token (perplexity)';
    return `Optimized vs original (${what}; latency: ${this.latencyNote})\n${lines.join('\n')}`;
  }

  /** The table, size/metric scatter, latency and per-hook error charts (src/viz/compare-views.ts). */
  async toMimeBundle(): Promise<MimeBundle> {
    return viewOf('comparison', this, () => this.toString());
  }
}

export interface DigitsCompareData {
  set: DigitSet;
  latencyInput: Tensor;
  errorInput: Tensor;
  originalOnnx?: Uint8Array;
}

export interface GptCompareData {
  /** Held-out token ids (the test text) the loss is measured on. */
  heldOut: Int32Array;
  /** Windows of the model's context used for the loss (default: every window of heldOut). */
  windows?: number;
  /** Ids [batch, pos] timed for latency (e.g. one full window at batch 1). */
  latencyInput: Tensor;
  /** Ids [batch, pos] both models run on for the per-hook error. */
  errorInput: Tensor;
  /** Also time every tfjs variant in ONNX Runtime float32, via `compile('onnx')` (default true). */
  onnx?: boolean;
  /** ONNX Runtime threads for the models compiled here (default 1: the tfjs WASM backend uses one core). */
  threads?: number;
}

/** Error at each hook both models have with the same shape (propagated: both run on `input`). */
function matchingLayerErrors(original: HookedModel, optimized: HookedModel, input: Tensor): LayerError[] {
  const theirs = new Set(optimized.hookNames);
  const names = original.hookNames.filter((n) => theirs.has(n));
  const kindOf = new Map(original.hookPoints.map((p) => [p.name, p.kind]));
  const [a, reference] = original.runWithCache(input, { names });
  const [b, cache] = optimized.runWithCache(input, { names });
  try {
    return names
      .filter((n) => reference.get(n).shape.join(',') === cache.get(n).shape.join(','))
      .map((name) => ({ name, kind: kindOf.get(name)!, ...errorMetrics(reference.get(name), cache.get(name)) }));
  } finally {
    tf.dispose([a, b]);
    reference.dispose();
    cache.dispose();
  }
}

function summarizeErrors(errors: LayerError[] | null): { worstStep: string | null; worstSqnrDb: number | null } {
  const worst = errors?.filter((e) => Number.isFinite(e.sqnrDb)).sort((x, y) => x.sqnrDb - y.sqnrDb)[0] ?? null;
  return { worstStep: worst?.name ?? null, worstSqnrDb: worst?.sqnrDb ?? null };
}

/** Bytes a variant is stored in: sparse for unstructured pruning, the ONNX file for ONNX Runtime models, packed for quantized. */
function storedBytes(model: { byteSize: number; pruning?: { sparseBytes: number } }): number {
  return model.pruning ? model.pruning.sparseBytes : model.byteSize;
}

async function compareGpt(original: GPT, variants: Variant<GptVariantModel>[], data: GptCompareData): Promise<ComparisonReport> {
  const threads = data.threads ?? 1;
  const timeOnnx = data.onnx ?? true;
  const a = original.forward(data.errorInput); // [batch, pos, vocab]: the reference logits
  const originalBytes = storedBytes(original);
  const report = (label: string, model: GptVariantModel): VariantReport => {
    const onOrt = model instanceof OnnxGPT;
    const lossNats = heldOutLoss(model, data.heldOut, { windows: data.windows });
    // Per-hook error means something only between models of the same shape (a pruned MLP may be narrower).
    const { dModel, nLayers, nHeads } = model.config;
    const sameShape = dModel === original.config.dModel && nLayers === original.config.nLayers && nHeads === original.config.nHeads;
    const layers = model === original || !sameShape ? null : matchingLayerErrors(original, model, data.errorInput);
    const b = model.forward(data.errorInput);
    const logitsSqnrDb = errorMetrics(a, b).sqnrDb;
    b.dispose();
    const tfjs = onOrt ? null : latencyPercentiles(() => model.forward(data.latencyInput).dispose());
    let ort: { p50: number; p95: number } | null = null;
    if (onOrt) {
      ort = latencyPercentiles(() => model.forward(data.latencyInput).dispose());
    } else if (timeOnnx) {
      const compiled = model.compile('onnx', { threads });
      try {
        ort = latencyPercentiles(() => compiled.forward(data.latencyInput).dispose());
      } finally {
        compiled.dispose();
      }
    }
    const bytes = storedBytes(model as GPT & { pruning?: { sparseBytes: number } });
    return {
      label,
      engine: onOrt ? model.backend : 'tfjs',
      metric: lossNats,
      lossNats,
      perplexity: Math.exp(lossNats),
      bytes,
      sizeRatio: bytes / originalBytes,
      latencyMs: tfjs?.p50 ?? null,
      latencyP95Ms: tfjs?.p95 ?? null,
      onnxLatencyMs: ort?.p50 ?? null,
      onnxLatencyP95Ms: ort?.p95 ?? null,
      logitsSqnrDb,
      ...summarizeErrors(layers),
      layers,
    };
  };
  try {
    const base = report('original (float32)', original);
    const rows = variants.map((v) => report(v.label, v.model));
    const [batch, pos] = data.latencyInput.shape;
    const note = `one forward of ${pos} tokens at batch ${batch}, p50 (p95 in the chart); ONNX Runtime: ${threads} thread${threads > 1 ? 's' : ''} for tfjs variants compiled here, an OnnxGPT variant its own`;
    return new ComparisonReport(base, rows, note, 'loss');
  } finally {
    a.dispose();
  }
}

async function compareDigits(original: DigitsCNN, variants: Variant<DigitsCNN>[], data: DigitsCompareData): Promise<ComparisonReport> {
  const report = async (label: string, model: DigitsCNN, onnx?: Uint8Array): Promise<VariantReport> => {
    // Per-step errors where both models have the same shape (a structurally pruned model has fewer
    // channels: its preprocessing and logits still compare). No error is swallowed here.
    const errors: LayerError[] | null = model === original ? null : matchingLayerErrors(original, model, data.errorInput);
    const [a, b] = [original.logits(data.errorInput), model.logits(data.errorInput)];
    const logitsSqnr = errorMetrics(a, b).sqnrDb;
    tf.dispose([a, b]);
    const accuracy = evaluateDigits(model, data.set).value;
    const tfjs = latencyPercentiles(() => model.forward(data.latencyInput).dispose(), 30, 0);
    const ort = onnx ? await onnxPercentiles(onnx, data.latencyInput) : null;
    return {
      label,
      engine: 'tfjs',
      metric: accuracy,
      accuracy,
      bytes: model.byteSize,
      sizeRatio: model.byteSize / original.byteSize,
      latencyMs: tfjs.p50,
      latencyP95Ms: tfjs.p95,
      onnxLatencyMs: ort?.p50 ?? null,
      onnxLatencyP95Ms: ort?.p95 ?? null,
      logitsSqnrDb: logitsSqnr,
      ...summarizeErrors(errors),
      layers: errors,
    };
  };
  const base = await report('original (float32)', original, data.originalOnnx);
  const rows: VariantReport[] = [];
  for (const v of variants) rows.push(await report(v.label, v.model, v.onnx));
  return new ComparisonReport(base, rows, `median of batch ${data.latencyInput.shape[0]}`);
}

/**
 * Evaluate the original and every variant on the same held-out data and the same inputs.
 * Digits CNN: `data` is {set, latencyInput, errorInput, originalOnnx?}. GPT: `data` is
 * {heldOut (test ids), latencyInput, errorInput, windows?, onnx?, threads?} and a variant may be
 * a tfjs GPT (pruned, distilled, quantize()d) or an OnnxGPT (`compile('onnx', {quantize: 'int8'})`).
 */
export async function compare(original: DigitsCNN, variants: Variant<DigitsCNN>[], data: DigitsCompareData): Promise<ComparisonReport>;
export async function compare(original: GPT, variants: Variant<GptVariantModel>[], data: GptCompareData): Promise<ComparisonReport>;
export async function compare(original: DigitsCNN | GPT, variants: Variant<DigitsCNN>[] | Variant<GptVariantModel>[], data: DigitsCompareData | GptCompareData): Promise<ComparisonReport> {
  if ('heldOut' in data) {
    if (!('tokenizer' in original)) throw new Error('compare: held-out token ids were given, but the original is not a GPT; for the digits CNN pass {set, latencyInput, errorInput}.');
    for (const v of variants as Variant<GptVariantModel>[]) {
      if (!('tokenizer' in v.model) || v.model.config.vocabSize !== original.config.vocabSize) throw new Error(`compare: variant "${v.label}" is not a GPT with ${original.name}'s vocabulary of ${original.config.vocabSize}.`);
    }
    return compareGpt(original, variants as Variant<GptVariantModel>[], data);
  }
  if ('tokenizer' in original) throw new Error('compare: a GPT is compared on held-out token ids: pass {heldOut, latencyInput, errorInput}.');
  return compareDigits(original, variants as Variant<DigitsCNN>[], data);
}

/** Convenience for the notebooks: a batch of held-out digits as a raw pixel tensor. */
export function digitsTensor(set: DigitSet, start: number, count: number): Tensor {
  const px = 28 * 28;
  return tf.tensor3d(set.images.subarray(start * px, (start + count) * px), [count, 28, 28], 'int32'); // [count, 28, 28]
}
