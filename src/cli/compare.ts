// `inference-lab compare <model> [--quantize int8|int4 ...] [--prune S [--structured]] [--distill-into S]
// [--data FILE] [--windows N] [--json]`: ONE command for every registered model. The variants are
// the library's buildVariants (src/optimize/variants.ts, shared with the server's /api/compare): the
// registry entry says how int8 is made (fake-quantized tfjs weights, or ONNX Runtime's dynamic int8
// for a GPT) and which students a model has; the
// comparison itself is the library's compare() (src/optimize/compare.ts): the same evaluator as
// `eval`, every model timed in alternation by the one clock (src/engine/timing.ts).
import { tf } from '../engine/tf';
import { backend, backendLabel } from '../engine/backend';
import type { GPT } from '../models/gpt';
import type { HookedModel } from '../hooks/hooked-model';
import { entryOf, loadModel, readEvalData, STUDENTS, type EvalData, type LoadedModel, type ModelEntry } from '../models/registry';
import { firstNonFiniteHook, NonFiniteError } from '../hooks/non-finite';
import type { Quantizable } from '../optimize/quantize-model';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../optimize/calibrate';
import { compare, type VariantReport } from '../optimize/compare';
import { buildVariants, checkVariantSpec, VariantSpecError, type BuiltVariants, type OptionNames, type VariantSpec } from '../optimize/variants';
import { quantizePerChannel } from '../optimize/quantize';
import { errorMetrics } from '../optimize/analyze';
import { UsageError, type Args } from './args';

const dbOrNull = (v: number) => (Number.isFinite(v) ? v : null); // JSON has no Infinity: exact is null

function oneOf<T extends string>(flag: string, value: string | true | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw new UsageError(`--${flag} expects one of ${allowed.join(', ')}; got ${String(value)}.`);
  return value as T;
}

/** Run `compare` and return what the CLI prints: the JSON object and the text. */
/** The most held-out windows `compare --windows` scores (the held-out texts have fewer). */
const MAX_WINDOWS = 1024;

/** How the command line spells each variant option, for the library's one set of rules (src/optimize/variants.ts). */
export const FLAG_NAMES: OptionNames = {
  bits: '--quantize',
  perChannel: '--per-channel',
  symmetric: '--asymmetric',
  activations: '--activations',
  calibration: '--calibration',
  sparsity: '--prune',
  structured: '--structured',
  student: '--distill-into',
  bitsValue: (bits) => `int${bits}`,
};

export async function compareCommand(name: string, args: Args, json: boolean): Promise<{ json: Record<string, unknown>; text: string }> {
  const entry = entryOf(name);
  const onnxInt8 = entry.int8 === 'onnx-dynamic';
  const scheme = args.flags.has('quantize') ? oneOf('quantize', args.flags.get('quantize'), ['int8', 'int4'] as const, 'int8') : null;
  const pruneFlag = args.flags.get('prune');
  const sparsity = pruneFlag === undefined ? null : Number(pruneFlag); // its range is checked once, with the other options, by checkVariantSpec
  const studentFlag = args.flags.get('distill-into');
  const students = Object.keys(STUDENTS[name] ?? {});
  const spec: VariantSpec = {
    ...(scheme ? { bits: scheme === 'int4' ? 4 : 8 } : {}),
    ...(args.flags.has('per-channel') ? { perChannel: true } : {}),
    ...(args.flags.has('asymmetric') ? { symmetric: false } : {}),
    ...(args.flags.has('activations') ? { activations: oneOf('activations', args.flags.get('activations'), ['none', 'dynamic', 'static'] as const, 'none') } : {}),
    ...(args.flags.has('calibration') ? { calibration: oneOf<CalibrationMethod>('calibration', args.flags.get('calibration'), CALIBRATION_METHODS, 'minmax') } : {}),
    ...(sparsity !== null ? { sparsity } : {}),
    ...(args.flags.has('structured') ? { structured: true } : {}),
    ...(studentFlag !== undefined ? { student: String(studentFlag) } : {}),
    progress: !json,
  };
  try {
    checkVariantSpec(name, entry, spec, FLAG_NAMES);
  } catch (err) {
    if (err instanceof VariantSpecError) throw new UsageError(err.message);
    throw err;
  }
  if (!scheme && sparsity === null && !studentFlag) throw new UsageError(`compare needs --quantize ${onnxInt8 ? 'int8' : 'int8|int4'}, --prune S${students.length ? ' or --distill-into ' + students.join('|') : ''}.`);
  const windowsFlag = args.flags.get('windows');
  const windows = windowsFlag === undefined ? null : Number(windowsFlag);
  if (windows !== null && !(Number.isInteger(windows) && windows > 0 && windows <= MAX_WINDOWS)) throw new UsageError(`--windows expects a whole number 1..${MAX_WINDOWS} of the model's context windows; got ${String(windowsFlag)}.`);
  if (windows !== null && entry.input !== 'text') throw new UsageError(`--windows is for language models; ${name} is evaluated on its whole held-out set (give --data FILE for another one).`);

  const dataFlag = args.flags.get('data');
  const model = loadModel(name);
  let built: BuiltVariants | null = null;
  try {
    let data: EvalData | null = typeof dataFlag === 'string' ? readEvalData(name, dataFlag) : entry.heldOut(model, name);
    if (!data) throw new Error(`${name} ships no held-out data; give --data FILE.`);
    if (windows !== null && data.kind === 'text') {
      // A slice of the held-out text, named in the output: the first N windows of the context.
      const context = (model as unknown as GPT).config.contextLength;
      data = { ...data, text: [...data.text].slice(0, windows * context + 1).join(''), source: `${data.source}, first ${windows} windows` };
    }
    built = buildVariants(model, entry, spec, FLAG_NAMES);
    const { variants, structuredScore } = built;
    const quantized = scheme ? variants[0].model : null;
    refuseNonFinite(name, entry, data, [{ label: 'original', model }, ...variants]);
    const report = await compare(model, variants, { data, onnx: onnxInt8, threads: 1, runs: onnxInt8 ? 20 : 30 });
    for (const r of [report.original, ...report.variants]) {
      // A metric computed over NaN outputs is no measurement (an accuracy stays finite, so the outputs were checked above too).
      if (!Number.isFinite(r.metric)) throw new NonFiniteError(`compare ${name}: the ${report.metricName} of ${r.label} is ${r.metric} on ${data.source}; its outputs overflow float32 on some input, so no comparison is reported.`, null);
    }
    const row = (r: VariantReport) => ({
      metric: report.metricName,
      lower_is_better: report.metricKind === 'loss',
      value: r.metric,
      perplexity: r.perplexity ?? null, // a language model's exp(loss); null for an accuracy
      bytes: r.bytes,
      engine: r.engine,
      latency_ms: r.latencyMs,
      latency_min_ms: r.latency?.minMs ?? null,
      latency_p95_ms: r.latencyP95Ms,
      latency_runs: (r.latency ?? r.onnxLatency)?.runs ?? null,
      onnx_latency_ms: r.onnxLatencyMs,
      onnx_latency_p95_ms: r.onnxLatencyP95Ms,
      logits_sqnr_db: dbOrNull(r.logitsSqnrDb),
      // value minus the original's, paired bootstrap 95% over the examples (a language model's windows); null: the original, or no per-example scores
      difference: r.difference
        ? { value: r.difference.diff, lo: r.difference.lo, hi: r.difference.hi, level: r.difference.level, n: r.difference.n, resamples: r.difference.resamples, excludes_zero: r.difference.excludesZero }
        : null,
    });
    const out: Record<string, unknown> = {
      model: name,
      input: entry.input,
      data: data.source,
      latency: `${report.latencyNote}; tfjs ${backend()}`,
      original: row(report.original),
      ...(structuredScore ? { structured_score: structuredScore } : {}),
    };
    const lines = [`backend: ${backendLabel()}`, `${name} on ${data.source} (latency: ${report.latencyNote})`];
    const fmtMetric = (r: VariantReport) => (report.metricKind === 'loss' ? `${r.metric.toFixed(4)} (ppl ${r.perplexity!.toFixed(3)})` : `accuracy ${r.metric.toFixed(4)}`);
    const fmtRow = (label: string, r: VariantReport) =>
      `  ${label.padEnd(40)} ${fmtMetric(r)}  ${String(r.bytes).padStart(8)} bytes (${r.sizeRatio.toFixed(3)}x)  ` +
      `tfjs ${r.latencyMs === null ? '—' : `${r.latencyMs.toFixed(3)} ms`}${r.onnxLatencyMs === null ? '' : `  ORT ${r.onnxLatencyMs.toFixed(3)} ms`}` +
      (r.difference
        ? `  Δ ${r.difference.diff >= 0 ? '+' : ''}${r.difference.diff.toFixed(4)} [${r.difference.lo.toFixed(4)}, ${r.difference.hi.toFixed(4)}] over ${r.difference.n} ${report.metricKind === 'loss' ? 'windows' : 'examples'}${r.difference.excludesZero ? '' : ' (not distinguishable from 0)'}`
        : '');
    lines.push(fmtRow('original', report.original), ...report.variants.map((r) => fmtRow(r.label, r)));
    if (quantized) {
      const q = report.variants[0];
      const weights = onnxInt8 ? onnxInt8WeightErrors(model as unknown as GPT) : fakeQuantWeightErrors(model, quantized);
      const layers = (q.layers ?? []).map((l) => ({ name: l.name, sqnr_db: dbOrNull(l.sqnrDb), mse: l.mse, cosine: l.cosine }));
      Object.assign(out, { variant: q.label, optimized: row(q), weights, layers });
      const db = (v: number | null) => (v === null ? 'exact' : `${v.toFixed(1)} dB`);
      lines.push(`weights of ${q.label} (SQNR${onnxInt8 ? ', int8 per output column' : ''}):`, ...weights.map((w) => `  ${w.name.padEnd(26)} ${db(w.sqnr_db)}`));
      lines.push('layers (SQNR, error propagated from the input):', ...layers.map((l) => `  ${l.name.padEnd(30)} ${db(l.sqnr_db).padStart(9)}  cosine ${l.cosine.toFixed(5)}`));
    }
    out.variants = report.variants.map((r) => ({ name: r.label, ...row(r) }));
    return { json: out, text: lines.join('\n') };
  } finally {
    built?.dispose();
    model.dispose();
  }
}

/**
 * Refuse a comparison whose models compute NaN/Infinity: each model runs up to 4 inputs of
 * `data` with a read hook on every point before anything is timed, and the first model and hook
 * point where a value is not finite are named. The outputs alone are not enough: a ReLU turns NaN
 * into 0, so a CNN with overflowing weights still gives finite probabilities, and an "accuracy"
 * of 11% over them would be a silent wrong number.
 */
function refuseNonFinite(name: string, entry: ModelEntry, data: EvalData, models: { label: string; model: HookedModel }[]): void {
  const input = entry.batch(models[0].model, data, 4); // [batch, ...] the same inputs for every model
  try {
    for (const { label, model } of models) {
      const hook = firstNonFiniteHook(model, input);
      if (hook !== null) {
        throw new NonFiniteError(
          `compare ${name}: ${label === 'original' ? 'the original' : label} computes NaN/Infinity on ${input.shape[0]} inputs of ${data.source}; it first appears at hook point ${hook}. ` +
            'The weights or the inputs overflow float32; no comparison is reported.',
          hook,
        );
      }
    }
  } finally {
    input.dispose();
  }
}

/** SQNR of every weight the fake-quantized copy packed, against the float original. */
function fakeQuantWeightErrors(model: LoadedModel, quantized: LoadedModel): { name: string; sqnr_db: number | null }[] {
  const q = quantized as unknown as Quantizable & { quantization: { packed: Record<string, unknown> } };
  const weights = (model as unknown as Quantizable).weights;
  return Object.keys(q.quantization.packed).map((w) => ({ name: w, sqnr_db: dbOrNull(errorMetrics(weights[w], q.weights[w]).sqnrDb) }));
}

/** The GPT's block matrices exactly as the int8 export stores them: per output column, 7 bits (reduce range). */
function onnxInt8WeightErrors(model: GPT): { name: string; sqnr_db: number | null }[] {
  return Object.entries(model.weights)
    .filter(([n, w]) => w.rank === 2 && /^blocks\./.test(n))
    .map(([n, w]) => {
      const dims = w.shape as [number, number];
      const { q, scale } = quantizePerChannel(w.dataSync(), dims, 1, 63);
      const restored = tf.tensor2d(Float32Array.from(q, (v, i) => v * scale[i % dims[1]]), dims);
      const sqnr = errorMetrics(w, restored).sqnrDb;
      restored.dispose();
      return { name: n, sqnr_db: dbOrNull(sqnr) };
    });
}
