// `inference-lab compare <gpt> [--quantize int8] [--prune S [--structured]] [--distill-into student]
// [--windows N] [--json]`: the GPT against optimized copies on its held-out text (the test chapters
// in assets/<model>/heldout.txt). --quantize int8 is ONNX Runtime's dynamic int8 (the real integer
// kernels, `compile('onnx', {quantize: 'int8'})`); --prune S zeroes the smallest S of every block
// matrix, or with --structured removes S of every block's MLP neurons (smaller matrices), ranked
// by what they write on the validation chapters; --distill-into adds a shipped student, and each of these also quantized when --quantize is given.
import * as fs from 'fs';
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { backend } from '../engine/backend';
import { GPT } from '../models/gpt';
import type { OnnxGPT } from '../fastpath/gpt-onnx';
import { assetsDir, loadModel } from '../models/registry';
import { readHeldOutText, readValidationText } from '../data/corpus';
import { prune, pruneNeurons, type Pruned } from '../optimize/prune';
import { compare, type GptVariantModel, type VariantReport } from '../optimize/compare';
import { quantizePerChannel } from '../optimize/quantize';
import { errorMetrics } from '../optimize/analyze';

/** Students `--distill-into` can name for a GPT (trained by scripts/train-gpt-students.ts). */
export const GPT_STUDENTS: Record<string, string> = { student: 'tiny-gpt-student-distilled', scratch: 'tiny-gpt-student-scratch' };

/** True when `name` is a shipped model whose config says it is a GPT (read without loading weights). */
export function isShippedGpt(name: string): boolean {
  const file = path.join(assetsDir(), name, 'config.json');
  if (name.includes(path.sep) || !fs.existsSync(file)) return false;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')).architecture === 'gpt';
  } catch {
    return false;
  }
}

export interface GptCompareArgs {
  name: string;
  quantize: boolean;
  sparsity: number | null;
  structured: boolean;
  student: string | null;
  windows: number;
  json: boolean;
  progress: boolean;
}

const dbOrNull = (v: number) => (Number.isFinite(v) ? v : null); // JSON has no Infinity: exact is null

/** Run the comparison and return what the CLI prints: the JSON object and the text. */
export async function compareGptCommand(args: GptCompareArgs): Promise<{ json: Record<string, unknown>; text: string }> {
  const model = loadModel(args.name) as GPT;
  const owned: { dispose(): void }[] = [];
  let latencyInput: Tensor | null = null;
  let errorInput: Tensor | null = null;
  try {
    const text = readHeldOutText(path.join(assetsDir(), args.name));
    const heldOut = Int32Array.from(model.tokenizer.encode(text));
    const context = model.config.contextLength;
    latencyInput = tf.tensor2d(heldOut.subarray(0, context), [1, context], 'int32'); // [1, context]
    errorInput = tf.tensor2d(heldOut.subarray(context, 5 * context), [4, context], 'int32'); // [4, context]
    const variants: { label: string; model: GptVariantModel }[] = [];
    const add = (label: string, m: GptVariantModel) => {
      owned.push(m);
      variants.push({ label, model: m });
    };
    const int8 = (m: GPT) => m.compile('onnx', { quantize: 'int8', threads: 1 });
    let quantized: OnnxGPT | null = null;
    let structuredScore: string | null = null;
    if (args.quantize) {
      quantized = int8(model);
      add(quantized.name, quantized);
    }
    if (args.sparsity !== null) {
      let pruned: Pruned<GPT>;
      if (args.structured) {
        // Neurons are ranked by what they write on the validation chapters (never the test text),
        // shipped beside the tiny GPT; another GPT without them is ranked by weight norms.
        let validation: Int32Array | null = null;
        try {
          validation = Int32Array.from(model.tokenizer.encode(readValidationText(path.join(assetsDir(), model.name))));
        } catch {
          validation = null;
        }
        structuredScore = validation ? 'activations on the validation chapters' : `weight norms (${model.name} ships no validation.txt)`;
        pruned = pruneNeurons(model, args.sparsity, validation ? { score: 'activations', stream: validation, windows: 8 } : { score: 'weights' });
      } else {
        pruned = prune(model, { sparsity: args.sparsity, scope: 'layer' });
      }
      add(pruned.name, pruned);
      if (args.quantize) add(`${pruned.name}-int8-onnx`, int8(pruned));
    }
    if (args.student) {
      const student = loadModel(args.student) as GPT;
      add(student.name, student);
      if (args.quantize) add(`${student.name}-int8-onnx`, int8(student));
    }
    const windows = Math.min(args.windows, Math.floor((heldOut.length - 1) / context));
    const report = await compare(model, variants, { heldOut, windows, latencyInput, errorInput, threads: 1 });
    const row = (r: VariantReport) => ({
      metric: 'cross-entropy (nats/char)',
      value: r.metric,
      perplexity: r.perplexity,
      bytes: r.bytes,
      engine: r.engine,
      latency_ms: r.latencyMs,
      latency_p95_ms: r.latencyP95Ms,
      onnx_latency_ms: r.onnxLatencyMs,
      onnx_latency_p95_ms: r.onnxLatencyP95Ms,
      logits_sqnr_db: dbOrNull(r.logitsSqnrDb),
    });
    const out: Record<string, unknown> = {
      model: args.name,
      held_out: { text: `assets/${args.name}/heldout.txt`, windows, tokens: windows * context },
      latency: `one forward of ${context} tokens at batch 1; ONNX Runtime with 1 thread`,
      original: row(report.original),
      ...(structuredScore ? { structured_score: structuredScore } : {}),
    };
    out.variants = report.variants.map((r) => ({ name: r.label, ...row(r) }));
    const lines = [`backend: ${backend()}`, `${args.name} on ${windows * context} held-out characters (latency: one forward of ${context} characters, batch 1, median; ONNX Runtime 1 thread)`];
    const fmt = (r: VariantReport) =>
      `  ${r.label.padEnd(40)} ${r.metric.toFixed(4)} nats/char (ppl ${r.perplexity!.toFixed(3)})  ${String(r.bytes).padStart(8)} bytes (${r.sizeRatio.toFixed(3)}x)  ` +
      `tfjs ${r.latencyMs === null ? '—' : `${r.latencyMs.toFixed(2)} ms`}  ORT ${r.onnxLatencyMs === null ? '—' : `${r.onnxLatencyMs.toFixed(2)} ms`}`;
    lines.push(fmt({ ...report.original, label: 'original' }), ...report.variants.map(fmt));
    if (quantized) {
      // The weights exactly as the int8 export stores them: per output column, 7 bits (reduce range).
      const weights = Object.entries(model.weights)
        .filter(([n, w]) => w.rank === 2 && /^blocks\./.test(n))
        .map(([n, w]) => {
          const dims = w.shape as [number, number];
          const values = w.dataSync();
          const { q, scale } = quantizePerChannel(values, dims, 1, 63);
          const restored = tf.tensor2d(Float32Array.from(q, (v, i) => v * scale[i % dims[1]]), dims);
          const sqnr = errorMetrics(w, restored).sqnrDb;
          restored.dispose();
          return { name: n, sqnr_db: dbOrNull(sqnr) };
        });
      const layers = (report.variants[0].layers ?? []).map((l) => ({ name: l.name, sqnr_db: dbOrNull(l.sqnrDb), mse: l.mse, cosine: l.cosine }));
      Object.assign(out, { variant: quantized.name, optimized: row(report.variants[0]), weights, layers });
      const db = (v: number | null) => (v === null ? 'exact' : `${v.toFixed(1)} dB`);
      lines.push(`weights of ${quantized.name} (SQNR, int8 per output column):`, ...weights.map((w) => `  ${w.name.padEnd(24)} ${db(w.sqnr_db)}`));
      lines.push(`layers (SQNR, error propagated from the input, ${errorInput.shape[0]} held-out windows):`, ...layers.map((l) => `  ${l.name.padEnd(30)} ${db(l.sqnr_db).padStart(9)}  cosine ${l.cosine.toFixed(5)}`));
    }
    return { json: out, text: lines.join('\n') };
  } finally {
    tf.dispose([latencyInput, errorInput].filter((t): t is Tensor => t !== null));
    for (const m of owned) m.dispose();
    model.dispose();
  }
}
