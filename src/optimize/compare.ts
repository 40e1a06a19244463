// compare(original, variants, data): one report of what each optimization buys and costs:
// the held-out metric (accuracy for the digits CNN; cross-entropy and perplexity for a GPT),
// stored bytes, latency (tfjs, and ONNX Runtime: an export given for the CNN; for a GPT its
// `compile('onnx')`, or the variant itself when it is already an OnnxGPT, e.g. int8), and where
// the error is (SQNR at every hook point both models share, the worst one, and the logits').
import { tf, type Tensor } from '../engine/tf';
import type { DigitSet } from '../data/mnist';
import type { DigitsCNN } from '../models/cnn';
import type { GPT } from '../models/gpt';
import type { OnnxGPT } from '../fastpath/gpt-onnx';
import { correctnessVector, evaluateDigits } from '../models/evaluate';
import { entryFor, metricNameOf, textLoss, type EvalData } from '../models/registry';
import { pairedBootstrap, type PairedInterval } from '../analysis/intervals';
import { timeAlternating, timeOne, timeOneAsync, type Timing } from '../engine/timing';
import type { HookedModel } from '../hooks/hooked-model';
import { errorMetrics, type LayerError } from './analyze';
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
  /** The whole tfjs timing: min, median, p95 and runs (null: not run on tfjs). */
  latency?: Timing | null;
  /** ONNX Runtime latency (null: not measured). */
  onnxLatencyMs: number | null;
  onnxLatencyP95Ms: number | null;
  onnxLatency?: Timing | null;
  /** SQNR (dB) of the logits against the original's, on the same inputs. */
  logitsSqnrDb: number;
  /** The step with the lowest propagated SQNR, and that SQNR. */
  worstStep: string | null;
  worstSqnrDb: number | null;
  /** Error at every hook point both models share with the same shape (null for the original). */
  layers: LayerError[] | null;
  /**
   * This variant's metric minus the original's with a paired bootstrap 95% interval over the
   * examples both were scored on (a language model: its windows); null for the original and where
   * the evaluator gives no per-example scores.
   */
  difference?: PairedInterval | null;
}

/** Median and 95th percentile (ms) of `fn` after warm-up, over at least `runs` runs or `budgetMs` (the one clock, engine/timing.ts). */
export function latencyPercentiles(fn: () => void, runs = 20, budgetMs = 1500): { p50: number; p95: number } {
  const t = timeOne('latency', fn, { runs, budgetMs });
  return { p50: t.medianMs, p95: t.p95Ms };
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
    /** The registry's name of the metric, e.g. 'accuracy' or 'cross-entropy (nats/char)'. */
    readonly metricName: string = metricKind === 'accuracy' ? 'accuracy' : 'cross-entropy (nats/token)',
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

/** Any registered model: its held-out data (default: what ships with it) and, optionally, the inputs to time and to compare layer by layer. */
export interface ModelCompareData {
  data?: EvalData;
  /** Inputs timed for latency (default: 1 held-out input). */
  latencyInput?: Tensor;
  /** Inputs both models run on for the per-layer error (default: 16 held-out inputs). */
  errorInput?: Tensor;
  /** Also time every tfjs variant compiled for ONNX Runtime float32 (default false; models that cannot compile get null). */
  onnx?: boolean;
  threads?: number;
  /** Timed runs of each model, in alternation (default 30). */
  runs?: number;
}

type WithWeights = { weights?: Record<string, Tensor>; source?: WithWeights };

/**
 * Whether `variant` is `original` changed (quantized, pruned, compiled), so that its hooks compare
 * one to one: the same weight names, at least one weight matrix or filter bank with an unchanged shape. A separately trained
 * model (a student: fewer blocks, or narrower everywhere) is not, even where some hook shapes
 * happen to coincide (an attention pattern of the same heads and length).
 */
function derivedFrom(variant: HookedModel, original: HookedModel): boolean {
  const weightsOf = (m: WithWeights | undefined): Record<string, Tensor> | undefined => m?.weights ?? (m?.source ? weightsOf(m.source) : undefined);
  const a = weightsOf(original as unknown as WithWeights);
  const b = weightsOf(variant as unknown as WithWeights);
  if (!a || !b) return true; // nothing to tell by: compare the hooks whose shapes match
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length || !names.every((n) => n in b)) return false;
  return names.some((n) => a[n].rank >= 2 && a[n].shape.join(',') === b[n].shape.join(',')); // a matrix or filter bank, not a bias of the same 10 classes
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
function storedBytes(model: HookedModel): number {
  const m = model as HookedModel & { byteSize?: number; pruning?: { sparseBytes: number } };
  // A quantized or compiled copy of a pruned model carries the pruning record of its float source:
  // its own (packed) size is then the smaller one, and the one to report.
  return m.pruning ? Math.min(m.pruning.sparseBytes, m.byteSize ?? Infinity) : (m.byteSize ?? 0);
}

/** Where a model runs: 'tfjs', or the ONNX Runtime label an ONNX Runtime model reports. */
function engineOf(model: HookedModel): string {
  const b = (model as { backend?: unknown }).backend;
  return typeof b === 'string' && b.startsWith('onnxruntime') ? b : 'tfjs';
}

type Evaluator = (model: HookedModel) => { value: number; extra?: Record<string, unknown>; perExample?: Float64Array };

interface Plan {
  evaluate: Evaluator;
  lowerIsBetter: boolean;
  metricName: string;
  latencyInput: Tensor;
  errorInput: Tensor;
  onnx: boolean;
  threads: number;
  runs: number;
  /** Digits: ONNX exports given by the caller, timed in ONNX Runtime. */
  exports: Map<HookedModel, Uint8Array>;
  note: string;
}

async function onnxTiming(bytes: Uint8Array, input: Tensor, runs: number): Promise<Timing> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const feed = { pixels: new ort.Tensor('float32', Float32Array.from(input.dataSync()), input.shape) };
  try {
    return await timeOneAsync('onnx', () => session.run(feed), { runs });
  } finally {
    await session.release();
  }
}

/** The one comparison: every row measured the same way, whatever the model. */
async function compareWith(original: HookedModel, variants: Variant<HookedModel>[], plan: Plan): Promise<ComparisonReport> {
  const all = [{ label: 'original (float32)', model: original }, ...variants];
  // Latency: every model timed in alternation on the same input (engine/timing.ts).
  const timings = timeAlternating(
    all.map((v) => ({ label: v.label, fn: () => v.model.forward(plan.latencyInput).dispose() })),
    { runs: plan.runs },
  );
  const ortTimes = new Map<HookedModel, Timing | null>();
  for (const v of all) {
    const given = plan.exports.get(v.model);
    if (given) ortTimes.set(v.model, await onnxTiming(given, plan.latencyInput, plan.runs));
    else if (plan.onnx && engineOf(v.model) === 'tfjs') {
      let compiled: HookedModel & { dispose(): void } | null = null;
      try {
        compiled = (v.model as unknown as { compile(t: 'onnx', o: { threads: number }): HookedModel & { dispose(): void } }).compile('onnx', { threads: plan.threads });
      } catch {
        compiled = null; // this model has no ONNX Runtime path: its ORT latency stays null
      }
      if (compiled) {
        try {
          ortTimes.set(v.model, timeOne('onnx', () => compiled!.forward(plan.latencyInput).dispose(), { runs: plan.runs }));
        } finally {
          compiled.dispose();
        }
      }
    }
  }
  const reference = original.forward(plan.errorInput);
  const originalBytes = storedBytes(original);
  const perExample: (Float64Array | null)[] = [];
  try {
    const rows = all.map((v, i): VariantReport => {
      const onOrt = engineOf(v.model).startsWith('onnxruntime');
      let layers: LayerError[] | null = null;
      if (v.model !== original) {
        // Hooks whose shapes differ (a structurally pruned model) are left out; no error is swallowed.
        // A separately trained model (a student) is compared at its logits only.
        const matched = matchingLayerErrors(original, v.model, plan.errorInput);
        layers = derivedFrom(v.model, original) ? matched : matched.filter((l) => l.name === 'hook_logits');
      }
      const out = v.model.forward(plan.errorInput);
      const logitsRow = layers?.find((l) => l.name === 'hook_logits');
      const logitsSqnrDb = logitsRow ? logitsRow.sqnrDb : out.shape.join(',') === reference.shape.join(',') ? errorMetrics(reference, out).sqnrDb : NaN;
      out.dispose();
      const e = plan.evaluate(v.model);
      perExample[i] = e.perExample ?? null;
      const t = timings[i];
      const ort = onOrt ? t : (ortTimes.get(v.model) ?? null);
      const bytes = storedBytes(v.model);
      return {
        label: v.label,
        engine: engineOf(v.model),
        metric: e.value,
        ...(plan.lowerIsBetter ? { lossNats: e.value, perplexity: Math.exp(e.value) } : { accuracy: e.value }),
        bytes,
        sizeRatio: bytes / originalBytes,
        latencyMs: onOrt ? null : t.medianMs,
        latencyP95Ms: onOrt ? null : t.p95Ms,
        latency: onOrt ? null : t,
        onnxLatencyMs: ort?.medianMs ?? null,
        onnxLatencyP95Ms: ort?.p95Ms ?? null,
        onnxLatency: ort,
        logitsSqnrDb,
        ...summarizeErrors(layers),
        layers,
      };
    });
    const base = perExample[0];
    rows.forEach((row, i) => {
      const own = perExample[i];
      row.difference = i > 0 && base && own && own.length === base.length ? pairedBootstrap(own, base) : null; // variant - original, the same examples resampled for both
    });
    return new ComparisonReport(rows[0], rows.slice(1), plan.note, plan.lowerIsBetter ? 'loss' : 'accuracy', plan.metricName);
  } finally {
    reference.dispose();
  }
}

/**
 * Evaluate the original and every variant on the same held-out data and the same inputs, time them
 * in alternation, and measure the error at every hook point they share. Works for any registered
 * model: `data` is `{data?: EvalData, latencyInput?, errorInput?, onnx?, runs?}` (default: the
 * model's shipped held-out data, src/models/registry.ts). The older forms stay: the digits CNN with
 * `{set, latencyInput, errorInput, originalOnnx?}`, a GPT with `{heldOut (test ids), latencyInput,
 * errorInput, windows?, onnx?, threads?}`; a GPT variant may be an OnnxGPT (`compile('onnx', {quantize: 'int8'})`).
 */
export async function compare(original: DigitsCNN, variants: Variant<DigitsCNN>[], data: DigitsCompareData): Promise<ComparisonReport>;
export async function compare(original: GPT, variants: Variant<GptVariantModel>[], data: GptCompareData): Promise<ComparisonReport>;
export async function compare(original: HookedModel, variants: Variant<HookedModel>[], data?: ModelCompareData): Promise<ComparisonReport>;
export async function compare(original: HookedModel, variants: Variant<HookedModel>[], data: DigitsCompareData | GptCompareData | ModelCompareData = {}): Promise<ComparisonReport> {
  const entry = entryFor(original);
  const owned: Tensor[] = [];
  try {
    let plan: Plan;
    if ('heldOut' in data) {
      if (entry.input !== 'text') throw new Error('compare: held-out token ids were given, but the original is not a GPT; for the digits CNN pass {set, latencyInput, errorInput}.');
      const vocab = (original as GPT).config.vocabSize;
      for (const v of variants) {
        const c = (v.model as { config?: { vocabSize?: number } }).config;
        if (c?.vocabSize !== vocab) throw new Error(`compare: variant "${v.label}" is not a GPT with ${original.name}'s vocabulary of ${vocab}.`);
      }
      const threads = data.threads ?? 1;
      const [batch, pos] = data.latencyInput.shape;
      plan = {
        evaluate: (m) => {
          const r = textLoss(m as GPT, data.heldOut, { windows: data.windows });
          return { value: r.value, perExample: r.perWindow };
        },
        lowerIsBetter: true,
        metricName: metricNameOf(original),
        latencyInput: data.latencyInput,
        errorInput: data.errorInput,
        onnx: data.onnx ?? true,
        threads,
        runs: 20,
        exports: new Map(),
        note: `one forward of ${pos} tokens at batch ${batch}, median (p95 in the chart); ONNX Runtime: ${threads} thread${threads > 1 ? 's' : ''} for tfjs variants compiled here, an OnnxGPT variant its own`,
      };
    } else if ('set' in data) {
      if (entry.input === 'text') throw new Error('compare: a GPT is compared on held-out token ids: pass {heldOut, latencyInput, errorInput}.');
      const set = data.set;
      const exports = new Map<HookedModel, Uint8Array>();
      if (data.originalOnnx) exports.set(original, data.originalOnnx);
      for (const v of variants as Variant<HookedModel>[]) if (v.onnx) exports.set(v.model, v.onnx);
      plan = {
        evaluate: (m) => {
          const e = evaluateDigits(m, set);
          return { value: e.value, perExample: Float64Array.from(correctnessVector(e)) };
        },
        lowerIsBetter: false,
        metricName: 'accuracy',
        latencyInput: data.latencyInput,
        errorInput: data.errorInput,
        onnx: false,
        threads: 1,
        runs: 30,
        exports,
        note: `median of batch ${data.latencyInput.shape[0]}`,
      };
    } else {
      const held = data.data ?? entry.heldOut(original, original.name);
      if (!held) throw new Error(`compare: ${original.name} ships no held-out data; pass {data} (registry readEvalData).`);
      const latencyInput = data.latencyInput ?? entry.batch(original, held, 1);
      const errorInput = data.errorInput ?? entry.batch(original, held, 16);
      if (!data.latencyInput) owned.push(latencyInput);
      if (!data.errorInput) owned.push(errorInput);
      plan = {
        evaluate: (m) => entry.evaluate(m, held),
        lowerIsBetter: entry.lowerIsBetter,
        metricName: metricNameOf(original),
        latencyInput,
        errorInput,
        onnx: data.onnx ?? false,
        threads: data.threads ?? 1,
        runs: data.runs ?? 30,
        exports: new Map(),
        note: `median of ${data.runs ?? 30} runs at batch ${latencyInput.shape[0]}, models timed in alternation`,
      };
    }
    return await compareWith(original, variants as Variant<HookedModel>[], plan);
  } finally {
    tf.dispose(owned);
  }
}

/** Convenience for the notebooks: a batch of held-out digits as a raw pixel tensor. */
export function digitsTensor(set: DigitSet, start: number, count: number): Tensor {
  const px = 28 * 28;
  return tf.tensor3d(set.images.subarray(start * px, (start + count) * px), [count, 28, 28], 'int32'); // [count, 28, 28]
}
