// compareRuntimes: the same forward pass (the digits CNN on a batch of held-out digits, the tiny GPT
// on a window of tokens) on every runtime this machine has: tfjs on WASM, tfjs on the native
// TensorFlow library (tfjs-node, or tfjs-node-gpu on a GPU) when `npm run setup:native` built it,
// and ONNX Runtime (the model's `compile('onnx')`). Timed in the learner's own run with the one
// clock (engine/timing.ts), in alternation, so a busy moment of the machine hits every runtime alike.
import { tf, type Tensor } from '../engine/tf';
import { initBackend, backendInfo, backendLabel, type BackendName } from '../engine/backend';
import { timeAlternating, type Contender, type Timing } from '../engine/timing';
import { ORT_PINNED } from '../engine/ort-session';
import type { MimeBundle } from '../engine/mime';
import { viewOf } from '../engine/display';
import { loadMnist, MNIST_SIZE } from '../data/mnist';
import { loadModel, type LoadedModel } from '../models/registry';
import type { GPT } from '../models/gpt';
import type { DigitsCNN } from '../models/cnn';
import type { HookedModel } from '../hooks/hooked-model';
import { errorMetrics } from '../optimize/analyze';

/** The models compareRuntimes knows how to feed. */
export const RUNTIME_MODELS = ['digits-cnn', 'tiny-gpt'] as const;
export type RuntimeModel = (typeof RUNTIME_MODELS)[number];

export interface RuntimeRow {
  model: RuntimeModel;
  /** What one forward pass computes, e.g. "batch of 64 digits" or "64 tokens". */
  input: string;
  /** 'tfjs' or 'onnxruntime'. */
  runtime: 'tfjs' | 'onnxruntime';
  /** tfjs's backend name ('wasm', 'tensorflow') or 'onnxruntime'. */
  backend: string;
  /** Package, version and device, e.g. "tensorflow: @tensorflow/tfjs-node 4.22.0, TensorFlow 2.12.1, CPU". */
  label: string;
  /** 'CPU' or the GPU's name. */
  device: string;
  /** Min, median and p95 of one forward pass (null: this runtime is not available here). */
  timing: Timing | null;
  /** Largest |difference| of the outputs (logits) from the WASM row's, on the same input (null: not run). */
  maxAbsDiff: number | null;
  /** Why a runtime was not measured (e.g. no native build), else null. */
  note: string | null;
}

export interface CompareRuntimesOptions {
  /** Which models (default both). */
  models?: RuntimeModel[];
  /** Digits per CNN forward pass (default 64). */
  batch?: number;
  /** Tokens per GPT forward pass (default 64, at most the model's context). */
  tokens?: number;
  /** Timed runs per runtime (default 20; more while `budgetMs` lasts). */
  runs?: number;
  /** Keep timing until this many ms have passed per model (default 2000). */
  budgetMs?: number;
  /** Also try the native backend (default true; it is skipped, with a note, when not built). */
  native?: boolean;
}

export class RuntimeComparison {
  constructor(
    readonly rows: RuntimeRow[],
    /** The backend that was active before and is active again after the comparison. */
    readonly restoredBackend: string,
  ) {}

  /** The rows of one model, fastest median first among those measured. */
  fastest(model: RuntimeModel): RuntimeRow | null {
    const measured = this.rows.filter((r) => r.model === model && r.timing);
    return measured.sort((a, b) => a.timing!.medianMs - b.timing!.medianMs)[0] ?? null;
  }

  toString(): string {
    const head = ['model', 'input', 'runtime', 'median ms', 'min ms', 'p95 ms', 'runs', 'vs WASM', 'max |Δ| logits'];
    const body = this.rows.map((r) => {
      const wasm = this.rows.find((w) => w.model === r.model && w.backend === 'wasm')?.timing;
      const t = r.timing;
      if (!t) return [r.model, r.input, r.label, '—', '—', '—', '—', '—', `not run: ${r.note ?? ''}`];
      return [
        r.model,
        r.input,
        r.label,
        t.medianMs.toFixed(2),
        t.minMs.toFixed(2),
        t.p95Ms.toFixed(2),
        String(t.runs),
        wasm ? `${(wasm.medianMs / t.medianMs).toFixed(2)}x` : '—',
        r.maxAbsDiff === null ? '—' : r.maxAbsDiff.toExponential(1),
      ];
    });
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => (i === 8 && row[3] === '—' ? 0 : row[i].length))));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
    return [
      'The same forward pass on each runtime (one clock, runtimes timed in alternation; "vs WASM" > 1 is faster than WASM):',
      line(head),
      ...body.map(line),
    ].join('\n');
  }

  async toMimeBundle(): Promise<MimeBundle> {
    return viewOf('runtimes', this, () => this.toString());
  }
}

/** The input of one forward pass of `model`, made on the active backend. */
function inputFor(name: RuntimeModel, model: LoadedModel, batch: number, tokens: number): Tensor {
  if (name === 'digits-cnn') {
    const px = MNIST_SIZE * MNIST_SIZE;
    const images = loadMnist().heldOut.images.subarray(0, batch * px);
    return tf.tensor3d(images, [batch, MNIST_SIZE, MNIST_SIZE], 'int32'); // [batch, 28, 28]
  }
  const { vocabSize } = (model as unknown as GPT).config;
  // Any ids compute the same amount of work; spread over the vocabulary, deterministic.
  return tf.tensor2d(Array.from({ length: tokens }, (_, i) => (i * 7919) % vocabSize), [1, tokens], 'int32'); // [1, tokens]
}

interface Runner {
  row: RuntimeRow;
  model: HookedModel;
  input: Tensor;
  /** tfjs backend to make active before each call (ORT's output also becomes a tfjs tensor). */
  backend: string;
  output: Tensor;
  dispose: () => void;
}

/** Switch tfjs to an already initialised backend: tfjs-core does this synchronously then. */
function switchTo(name: string): void {
  if (tf.getBackend() !== name) void tf.setBackend(name);
}

/**
 * The same forward pass of the digits CNN and the tiny GPT on WASM, the native backend (CPU or
 * GPU, if built) and ONNX Runtime, timed here and now. Leaves the backend as it found it.
 */
export async function compareRuntimes(options: CompareRuntimesOptions = {}): Promise<RuntimeComparison> {
  const models = options.models ?? [...RUNTIME_MODELS];
  for (const m of models) {
    if (!(RUNTIME_MODELS as readonly string[]).includes(m)) throw new Error(`compareRuntimes: unknown model "${m}"; expected one of ${RUNTIME_MODELS.join(', ')}.`);
  }
  const batch = options.batch ?? 64;
  if (!(Number.isInteger(batch) && batch >= 1 && batch <= 1000)) throw new Error(`compareRuntimes: batch must be a whole number from 1 to 1000; got ${batch}.`);
  const tokensAsked = options.tokens ?? 64;
  if (!(Number.isInteger(tokensAsked) && tokensAsked >= 1)) throw new Error(`compareRuntimes: tokens must be a whole number >= 1; got ${tokensAsked}.`);
  const original = (await initBackend()) as BackendName;
  const rows: RuntimeRow[] = [];
  try {
    for (const name of models) {
      const runners: Runner[] = [];
      const notRun: RuntimeRow[] = [];
      try {
        const tokensFor = (m: LoadedModel) => Math.min(tokensAsked, (m as unknown as GPT).config.contextLength);
        const describe = (m: LoadedModel) => (name === 'digits-cnn' ? `batch of ${batch} digits` : `${tokensFor(m)} tokens`);
        const backends: BackendName[] = options.native === false ? ['wasm'] : ['wasm', 'tensorflow'];
        for (const b of backends) {
          try {
            await initBackend({ prefer: b, force: true });
          } catch (err) {
            // Not built (or did not load): a row that says so; the other runtimes still run.
            const why = String((err as Error).message ?? err).replace(/^The native backend was asked for but did not load: /, '');
            notRun.push({ model: name, input: '', runtime: 'tfjs', backend: b, label: b, device: 'CPU', timing: null, maxAbsDiff: null, note: why });
            continue;
          }
          const model = loadModel(name); // weights made on this backend, so no call moves them
          const input = inputFor(name, model, batch, name === 'tiny-gpt' ? tokensFor(model) : 0);
          const info = backendInfo();
          const row: RuntimeRow = { model: name, input: describe(model), runtime: 'tfjs', backend: b, label: backendLabel(), device: info.device, timing: null, maxAbsDiff: null, note: null };
          runners.push({ row, model, input, backend: b, output: tf.tidy(() => model.forward(input)), dispose: () => { model.dispose(); input.dispose(); } });
          if (b === 'wasm') {
            // ONNX Runtime runs the graph compiled from this same model (same weights).
            const compiled = (model as unknown as DigitsCNN | GPT).compile('onnx');
            const ortRow: RuntimeRow = { model: name, input: row.input, runtime: 'onnxruntime', backend: 'onnxruntime', label: `onnxruntime-node ${ORT_PINNED}, CPU`, device: 'CPU', timing: null, maxAbsDiff: null, note: null };
            runners.push({ row: ortRow, model: compiled, input, backend: 'wasm', output: tf.tidy(() => compiled.forward(input)), dispose: () => (compiled as unknown as { dispose?: () => void }).dispose?.() });
          }
        }
        const reference = runners.find((r) => r.backend === 'wasm' && r.row.runtime === 'tfjs')!.output;
        for (const r of runners) r.row.maxAbsDiff = errorMetrics(reference, r.output).maxAbs;
        const contenders: Contender[] = runners.map((r) => ({
          label: r.row.label,
          before: () => switchTo(r.backend),
          // dataSync: wait for the result, as a learner would. Nothing is returned from tidy: it walks a
          // returned object's keys looking for tensors, 24 s for GPT-2-sized logits as a Float32Array.
          fn: () => tf.tidy(() => void r.model.forward(r.input).dataSync()),
        }));
        const timings = timeAlternating(contenders, { warmup: 2, runs: options.runs ?? 20, budgetMs: options.budgetMs ?? 2000 });
        runners.forEach((r, i) => (r.row.timing = timings[i]));
        // Measured rows in the order wasm, native, onnxruntime, then the runtimes not available here.
        const order = ['wasm', 'tensorflow', 'onnxruntime'];
        rows.push(...runners.map((r) => r.row).sort((a, b) => order.indexOf(a.backend) - order.indexOf(b.backend)), ...notRun);
      } finally {
        for (const r of runners) {
          r.output.dispose();
          r.dispose();
        }
      }
    }
  } finally {
    await initBackend({ prefer: original, force: true });
  }
  return new RuntimeComparison(rows, original);
}
