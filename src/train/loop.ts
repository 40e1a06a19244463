// A training loop you can watch: a progress bar, loss/accuracy curves that redraw in one display
// after every epoch (in the notebook kernel; lines on the terminal elsewhere), and early stopping
// on the validation loss with the best weights restored.
import { tf, type Tensor } from '../engine/tf';
import { progressBar, display, update } from '../engine/display';
import { kernelBridge } from '../engine/mime';
import { viewOf } from '../engine/display';

/** What one training step returns; `loss` is the scalar that is minimised. */
export interface StepResult {
  loss: tf.Scalar;
  /** Examples in this batch answered correctly (for accuracy); omit for regression. */
  correct?: number;
  /** Examples in this batch. */
  size: number;
}

/** Loss and accuracy of the model on a fixed set (the validation set). */
export interface EvalResult {
  loss: number;
  accuracy?: number;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Seconds since training began, at the end of this epoch. */
  seconds: number;
}

export interface FitOptions {
  /** Variables to train (a model's `weights`, as a record or list). */
  weights: Record<string, tf.Variable> | tf.Variable[];
  /** Any tfjs optimizer, e.g. tf.train.adam(1e-3). */
  optimizer: tf.Optimizer;
  /** Most epochs to run (early stopping may end sooner). */
  epochs: number;
  /** Batches in each epoch. */
  stepsPerEpoch: number;
  /** Build batch `index` of `epoch` and return its loss (called inside the gradient tape). */
  step: (epoch: number, index: number) => StepResult;
  /** Validation after each epoch (no gradients). Without it there is no early stopping. */
  validate?: () => EvalResult;
  /** Stop after this many epochs without a better validation loss (default: never stop early). */
  patience?: number;
  /** Improvement smaller than this does not count (default 0). */
  minDelta?: number;
  /** Put back the weights of the best validation epoch at the end (default true). */
  restoreBest?: boolean;
  /** Redraw the curves after every epoch: in the kernel one display updated in place (default true). */
  live?: boolean;
  /** Display id of the live chart (default: a fresh one per fit). */
  displayId?: string;
  /** Chart title. */
  title?: string;
  /** Called after every epoch (e.g. to print a line, or change the learning rate). */
  onEpoch?: (record: EpochRecord) => void;
  /** Show a progress bar (default true). */
  progress?: boolean;
}

export interface FitResult {
  history: EpochRecord[];
  /** Epoch (1-based) whose weights the model has at the end. */
  bestEpoch: number;
  stoppedEarly: boolean;
  seconds: number;
}

/** Correct predictions in a batch: argmax of logits `[batch, classes]` against integer labels. */
export function countCorrect(logits: Tensor, labels: ArrayLike<number>): number {
  const predicted = tf.tidy(() => tf.argMax(logits, 1).dataSync());
  let n = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) n++;
  return n;
}

let fitCounter = 0;

/** Train with `optimizer` for up to `epochs` epochs; see FitOptions. Returns the history. */
export async function fit(options: FitOptions): Promise<FitResult> {
  const variables = Array.isArray(options.weights) ? options.weights : Object.values(options.weights);
  const { epochs, stepsPerEpoch, patience, minDelta = 0 } = options;
  const restoreBest = options.restoreBest ?? true;
  const live = options.live ?? true;
  const inKernel = Boolean(kernelBridge());
  const displayId = options.displayId ?? `inference-lab-fit-${process.pid}-${++fitCounter}`;
  const title = options.title ?? 'training';
  const history: EpochRecord[] = [];
  const started = Date.now();
  let best: { loss: number; epoch: number; snapshot: Tensor[] | null } = { loss: Infinity, epoch: 0, snapshot: null };
  let stoppedEarly = false;
  const bar = options.progress === false ? null : progressBar(epochs * stepsPerEpoch, title);
  if (live && inKernel) await display(viewOf('training-curves', { history, title }), { id: displayId });
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let counted = 0;
      for (let i = 0; i < stepsPerEpoch; i++) {
        let info: StepResult | null = null;
        const loss = options.optimizer.minimize(() => {
          info = options.step(epoch, i);
          return info.loss;
        }, true, variables)!;
        const value = loss.dataSync()[0];
        loss.dispose();
        const r = info as unknown as StepResult;
        if (!Number.isFinite(value)) throw new Error(`Loss became ${value} at epoch ${epoch + 1}, batch ${i + 1}: the learning rate is probably too high.`);
        lossSum += value * r.size;
        seen += r.size;
        if (r.correct !== undefined) {
          correct += r.correct;
          counted += r.size;
        }
        bar?.tick(1, `epoch ${epoch + 1}/${epochs}  loss ${(lossSum / seen).toFixed(4)}`);
      }
      const record: EpochRecord = { epoch: epoch + 1, trainLoss: lossSum / seen, seconds: (Date.now() - started) / 1000 };
      if (counted) record.trainAccuracy = correct / counted;
      if (options.validate) {
        const v = options.validate();
        record.valLoss = v.loss;
        if (v.accuracy !== undefined) record.valAccuracy = v.accuracy;
        record.seconds = (Date.now() - started) / 1000;
        if (v.loss < best.loss - minDelta) {
          if (best.snapshot) tf.dispose(best.snapshot);
          best = { loss: v.loss, epoch: epoch + 1, snapshot: restoreBest ? variables.map((w) => tf.clone(w)) : null };
        }
      }
      history.push(record);
      options.onEpoch?.(record);
      if (live && inKernel) await update(viewOf('training-curves', { history, title, bestEpoch: best.epoch || undefined }), { id: displayId });
      if (patience !== undefined && options.validate && epoch + 1 - best.epoch >= patience) {
        stoppedEarly = epoch + 1 < epochs;
        break;
      }
    }
    const last = history[history.length - 1];
    bar?.done(`${history.length} epochs  train loss ${last.trainLoss.toFixed(4)}${last.valLoss !== undefined ? `  val loss ${last.valLoss.toFixed(4)}` : ''}${stoppedEarly ? `  (early stop; best epoch ${best.epoch})` : ''}`);
    let bestEpoch = history.length;
    if (best.snapshot && restoreBest) {
      variables.forEach((w, i) => w.assign(best.snapshot![i]));
      bestEpoch = best.epoch;
    }
    if (live && inKernel) await update(viewOf('training-curves', { history, title, bestEpoch: options.validate ? best.epoch : undefined, stoppedEarly }), { id: displayId });
    return { history, bestEpoch, stoppedEarly, seconds: (Date.now() - started) / 1000 };
  } finally {
    if (best.snapshot) tf.dispose(best.snapshot);
  }
}
