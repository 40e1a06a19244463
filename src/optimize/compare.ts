// compare(original, variants, data): one report of what each optimization buys and costs:
// accuracy, stored bytes, latency (tfjs, and ONNX Runtime when an export is given), and where
// the error is (the worst step's SQNR and the logits' SQNR against the original).
import { tf, type Tensor } from '../engine/tf';
import type { DigitSet } from '../data/mnist';
import type { DigitsCNN } from '../models/cnn';
import { evaluateDigits } from '../models/evaluate';
import { errorMetrics, layerErrors, type LayerError } from './analyze';
import type { MimeBundle } from '../viz/mime';
import { toBundle } from '../viz/render';
import { tableSpec } from '../viz/specs';

export interface Variant {
  label: string;
  model: DigitsCNN;
  /** An ONNX export of this variant, to time in ONNX Runtime as well. */
  onnx?: Uint8Array;
}

export interface VariantReport {
  label: string;
  accuracy: number;
  bytes: number;
  sizeRatio: number;
  latencyMs: number;
  onnxLatencyMs: number | null;
  /** SQNR (dB) of the logits against the original's, on the same inputs. */
  logitsSqnrDb: number;
  /** The step with the lowest propagated SQNR, and that SQNR. */
  worstStep: string | null;
  worstSqnrDb: number | null;
}

function medianMs(fn: () => void, runs = 30): number {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

async function onnxMedianMs(bytes: Uint8Array, input: Tensor, runs = 30): Promise<number> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const feed = { pixels: new ort.Tensor('float32', Float32Array.from(input.dataSync()), input.shape) };
  for (let i = 0; i < 3; i++) await session.run(feed);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feed);
    times.push(performance.now() - t0);
  }
  await session.release();
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

export class ComparisonReport {
  constructor(
    readonly original: VariantReport,
    readonly variants: VariantReport[],
    /** What latency measured, e.g. "median of batch 64". */
    readonly latencyNote: string,
  ) {}

  get rows(): VariantReport[] {
    return [this.original, ...this.variants];
  }

  toString(): string {
    const db = (v: number | null) => (v === null ? '—' : Number.isFinite(v) ? `${v.toFixed(1)} dB` : 'exact');
    const lines = this.rows.map(
      (r) =>
        `${r.label.padEnd(28)} ${(100 * r.accuracy).toFixed(2).padStart(6)}%  ${String(r.bytes).padStart(7)} B (${r.sizeRatio.toFixed(3)}x)  ` +
        `tfjs ${r.latencyMs.toFixed(2)} ms${r.onnxLatencyMs === null ? '' : `  ORT ${r.onnxLatencyMs.toFixed(2)} ms`}  logits ${db(r.logitsSqnrDb)}  worst ${r.worstStep ?? '—'} ${db(r.worstSqnrDb)}`,
    );
    return `Optimized vs original (${this.latencyNote})\n${lines.join('\n')}`;
  }

  async toMimeBundle(): Promise<MimeBundle> {
    const fmtDb = (v: number | null) => (v === null ? '—' : Number.isFinite(v) ? `${v.toFixed(1)} dB` : 'exact');
    const table = tableSpec({
      title: `Optimized vs original (latency: ${this.latencyNote})`,
      rows: this.rows.map((r) => ({
        label: r.label,
        accuracy: `${(100 * r.accuracy).toFixed(2)}%`,
        bytes: `${r.bytes.toLocaleString('en-US')} (${r.sizeRatio.toFixed(2)}x)`,
        tfjs: `${r.latencyMs.toFixed(2)} ms`,
        ort: r.onnxLatencyMs === null ? '—' : `${r.onnxLatencyMs.toFixed(2)} ms`,
        logits: fmtDb(r.logitsSqnrDb),
        worst: r.worstStep ? `${r.worstStep} ${fmtDb(r.worstSqnrDb)}` : '—',
      })),
      columns: [
        { field: 'label', title: 'variant', width: 190 },
        { field: 'accuracy', title: 'accuracy', width: 70, align: 'right' },
        { field: 'bytes', title: 'bytes', width: 110, align: 'right' },
        { field: 'tfjs', title: 'tfjs', width: 70, align: 'right' },
        { field: 'ort', title: 'ONNX RT', width: 70, align: 'right' },
        { field: 'logits', title: 'logits SQNR', width: 90, align: 'right' },
        { field: 'worst', title: 'worst step (SQNR)', width: 200 },
      ],
    });
    const scatter = {
      title: 'accuracy against stored size (bubble: tfjs latency)',
      width: 420,
      height: 220,
      data: { values: this.rows.map((r) => ({ label: r.label, accuracy: r.accuracy, kb: r.bytes / 1024, ms: r.latencyMs })) },
      layer: [
        {
          mark: { type: 'circle', opacity: 0.8 },
          encoding: {
            x: { field: 'kb', type: 'quantitative', title: 'stored size (KiB)', scale: { zero: true } },
            y: { field: 'accuracy', type: 'quantitative', title: 'held-out accuracy', axis: { format: '.1%' }, scale: { zero: false } },
            size: { field: 'ms', type: 'quantitative', title: 'tfjs ms', scale: { range: [40, 600] } },
            color: { field: 'label', type: 'nominal', legend: null },
            tooltip: [{ field: 'label' }, { field: 'accuracy', format: '.2%' }, { field: 'kb', format: '.1f' }, { field: 'ms', format: '.2f' }],
          },
        },
        { mark: { type: 'text', align: 'left', dx: 8, fontSize: 10 }, encoding: { x: { field: 'kb', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' }, text: { field: 'label' } } },
      ],
    };
    return toBundle({ vconcat: [table, scatter], spacing: 24 }, this.toString());
  }
}

/** Evaluate the original and every variant on the same held-out set and the same inputs. */
export async function compare(original: DigitsCNN, variants: Variant[], data: { set: DigitSet; latencyInput: Tensor; errorInput: Tensor; originalOnnx?: Uint8Array }): Promise<ComparisonReport> {
  const report = async (label: string, model: DigitsCNN, onnx?: Uint8Array): Promise<VariantReport> => {
    // Per-step errors need the same shapes at every step; a structurally pruned model has fewer
    // channels, so only its logits (same shape) can be compared.
    let errors: LayerError[] | null = null;
    if (model !== original) {
      try {
        errors = layerErrors(original, model, data.errorInput);
      } catch {
        errors = null;
      }
    }
    const [a, b] = [original.logits(data.errorInput), model.logits(data.errorInput)];
    const logitsSqnr = errorMetrics(a, b).sqnrDb;
    tf.dispose([a, b]);
    const worst = errors?.filter((e) => Number.isFinite(e.sqnrDb)).sort((a, b) => a.sqnrDb - b.sqnrDb)[0] ?? null;
    return {
      label,
      accuracy: evaluateDigits(model, data.set).value,
      bytes: model.byteSize,
      sizeRatio: model.byteSize / original.byteSize,
      latencyMs: medianMs(() => model.forward(data.latencyInput).dispose()),
      onnxLatencyMs: onnx ? await onnxMedianMs(onnx, data.latencyInput) : null,
      logitsSqnrDb: logitsSqnr,
      worstStep: worst?.name ?? null,
      worstSqnrDb: worst?.sqnrDb ?? null,
    };
  };
  const base = await report('original (float32)', original, data.originalOnnx);
  const rows: VariantReport[] = [];
  for (const v of variants) rows.push(await report(v.label, v.model, v.onnx));
  return new ComparisonReport(base, rows, `median of batch ${data.latencyInput.shape[0]}`);
}

/** Convenience for the notebooks: a batch of held-out digits as a raw pixel tensor. */
export function digitsTensor(set: DigitSet, start: number, count: number): Tensor {
  const px = 28 * 28;
  return tf.tensor3d(set.images.subarray(start * px, (start + count) * px), [count, 28, 28], 'int32'); // [count, 28, 28]
}
