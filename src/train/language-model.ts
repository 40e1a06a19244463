// Training a language model on one long token stream: random windows as batches, Adam with a
// linear warm-up and cosine decay of the learning rate, gradients clipped to a global norm,
// the held-out loss measured on fixed windows as it goes. The loss is pluggable, so knowledge
// distillation trains a student with the same loop.
import { tf, type Tensor } from '../engine/tf';
import { seededRandom } from '../data/random';
import { nextTokenLoss } from '../engine/ops';
import { progressBar } from '../engine/display';
import type { HookSpec } from '../hooks/hooked-model';

export { nextTokenLoss }; // a tensor op (engine/ops.ts), re-exported beside the training code that uses it

/** What the loop needs of a model: its weights, its context, and a next-token loss. */
export interface LanguageModel {
  readonly weights: Record<string, tf.Variable>;
  readonly config: { contextLength: number };
  /** Mean next-token cross-entropy of ids `[batch, pos]` (nats per token), with temporary hooks if given. */
  loss(ids: Tensor, hooks?: HookSpec[]): tf.Scalar;
}

export interface LanguageModelTraining {
  /** Optimizer steps. */
  steps: number;
  /** Windows per batch. */
  batchSize: number;
  /** Tokens a window feeds the model (default: the model's context). */
  sequenceLength?: number;
  /** Peak learning rate, reached after the warm-up (default 3e-3, right for ~1M parameters). */
  learningRate?: number;
  /** Steps of linear warm-up from 0 (default 100). */
  warmupSteps?: number;
  /** Learning rate at the end of the cosine decay (default peak / 10). */
  minLearningRate?: number;
  /** Gradients are scaled down when their global norm exceeds this (default 1). */
  clipNorm?: number;
  /** Seed of the batch sampler (default 0). */
  seed?: number;
  /** Held-out ids for the validation loss. */
  validation?: Int32Array;
  /** Measure the validation loss every this many steps (default 250). */
  evalEvery?: number;
  /** Windows of the validation stream used each time (default 32). */
  evalWindows?: number;
  /** The loss to minimise on a batch (default: the model's own next-token loss). */
  lossFn?: (ids: Tensor) => tf.Scalar;
  /** Called after every optimizer step (e.g. to re-apply pruning masks). */
  afterStep?: (step: number) => void;
  /** Called after each validation, e.g. to save a checkpoint. */
  onEval?: (record: LanguageModelRecord) => void;
  progress?: boolean;
}

export interface LanguageModelRecord {
  step: number;
  /** Mean training loss since the previous record. */
  trainLoss: number;
  validationLoss?: number;
  learningRate: number;
  /** Seconds since training began. */
  seconds: number;
  tokensSeen: number;
}

/** Learning rate at `step`: linear warm-up, then cosine decay from peak to min. */
export function learningRateAt(step: number, steps: number, peak: number, warmup: number, min: number): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, steps - warmup));
  return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
}

/** `count` random windows of `length` ids from the stream: `[count, length]` int32. */
export function sampleWindows(stream: Int32Array, count: number, length: number, random: () => number): Tensor {
  if (stream.length < length) throw new Error(`The token stream has ${stream.length} ids; a window needs ${length}.`);
  const batch = new Int32Array(count * length);
  for (let b = 0; b < count; b++) {
    const start = Math.floor(random() * (stream.length - length + 1));
    batch.set(stream.subarray(start, start + length), b * length);
  }
  return tf.tensor2d(batch, [count, length], 'int32');
}

/**
 * Mean next-token loss (nats per token) over consecutive, non-overlapping windows of the stream
 * (each window predicts its own tokens 2..n from the ones before, so early positions have little
 * context, as in any fixed-window evaluation). Perplexity is exp of it. `hooks` run attached to
 * every forward (ablations, patches).
 */
export function evaluateLanguageModel(model: LanguageModel, stream: Int32Array, options: { windows?: number; length?: number; batchSize?: number; hooks?: HookSpec[] } = {}): number {
  const length = options.length ?? model.config.contextLength + 1;
  const available = Math.floor((stream.length - 1) / (length - 1));
  const windows = Math.min(options.windows ?? available, available);
  if (windows < 1) throw new Error(`The held-out stream (${stream.length} ids) is shorter than one window of ${length}.`);
  const batchSize = options.batchSize ?? 16;
  let total = 0;
  for (let first = 0; first < windows; first += batchSize) {
    const count = Math.min(batchSize, windows - first);
    const ids = new Int32Array(count * length);
    for (let b = 0; b < count; b++) {
      const start = (first + b) * (length - 1); // windows overlap by one id: every id is predicted once
      ids.set(stream.subarray(start, start + length), b * length);
    }
    const batch = tf.tensor2d(ids, [count, length], 'int32');
    const loss = model.loss(batch, options.hooks);
    total += loss.dataSync()[0] * count;
    tf.dispose([batch, loss]);
  }
  return total / windows;
}

/** Train `model` on the token stream `train`. Returns one record per validation. */
export function trainLanguageModel(model: LanguageModel, train: Int32Array, options: LanguageModelTraining): LanguageModelRecord[] {
  const { steps, batchSize } = options;
  const length = (options.sequenceLength ?? model.config.contextLength) + 1; // inputs and the next token of each
  const peak = options.learningRate ?? 3e-3;
  const warmup = options.warmupSteps ?? 100;
  const minRate = options.minLearningRate ?? peak / 10;
  const clipNorm = options.clipNorm ?? 1;
  const evalEvery = options.evalEvery ?? 250;
  const lossFn = options.lossFn ?? ((ids: Tensor) => model.loss(ids));
  const random = seededRandom(options.seed ?? 0);
  const variables = Object.values(model.weights);
  const optimizer = tf.train.adam(peak, 0.9, 0.95, 1e-8); // beta2 0.95: nanoGPT's choice for small transformers
  const history: LanguageModelRecord[] = [];
  const bar = options.progress === false ? null : progressBar(steps, 'training');
  const started = performance.now();
  let lossSum = 0;
  let lossCount = 0;
  try {
    for (let step = 0; step < steps; step++) {
      const rate = learningRateAt(step, steps, peak, warmup, minRate);
      (optimizer as unknown as { learningRate: number }).learningRate = rate; // Adam reads it on every update
      const batch = sampleWindows(train, batchSize, length, random); // [batch, length]
      const { value, grads } = tf.variableGrads(() => lossFn(batch), variables);
      const loss = value.dataSync()[0];
      if (!Number.isFinite(loss)) throw new Error(`Loss became ${loss} at step ${step + 1}: the learning rate (${rate.toExponential(2)}) is probably too high.`);
      tf.tidy(() => {
        const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))); // global gradient norm
        const scale = tf.minimum(1, tf.div(clipNorm, tf.maximum(norm, 1e-12)));
        optimizer.applyGradients(Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, scale)])));
      });
      tf.dispose([batch, value, ...Object.values(grads)]);
      options.afterStep?.(step + 1);
      lossSum += loss;
      lossCount++;
      bar?.tick(1, `loss ${(lossSum / lossCount).toFixed(3)}  lr ${rate.toExponential(1)}`);
      if ((step + 1) % evalEvery === 0 || step + 1 === steps) {
        const record: LanguageModelRecord = {
          step: step + 1,
          trainLoss: lossSum / lossCount,
          learningRate: rate,
          seconds: (performance.now() - started) / 1000,
          tokensSeen: (step + 1) * batchSize * (length - 1),
        };
        if (options.validation) record.validationLoss = evaluateLanguageModel(model, options.validation, { windows: options.evalWindows ?? 32, length });
        history.push(record);
        lossSum = 0;
        lossCount = 0;
        options.onEval?.(record);
      }
    }
    bar?.done();
  } finally {
    optimizer.dispose();
  }
  return history;
}
