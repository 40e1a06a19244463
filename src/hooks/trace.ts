import { tf, type Tensor } from '../engine/tf';
import { tensorStats, type TensorStats } from './stats';
import { firstNonFiniteStep } from './non-finite';
import type { MimeBundle } from '../engine/mime';
import type { Tokenizer } from '../data/tokenizers';
import { viewOf } from '../engine/display';

/** One step of a forward pass: what ran, the shapes in and out, and a summary of the values. */
export interface TraceStep {
  /** Position in the pass, from 0. */
  index: number;
  /** Hook name, e.g. `pre.hook_scaled`, `conv.0.hook_relu`, `post.top_k`. */
  name: string;
  /** Operation kind: 'input', 'grayscale', 'conv2d', 'relu', 'maxpool', 'dense', 'softmax', 'topk', ... */
  kind: string;
  /** Documented shape with named dimensions, e.g. `[batch, h, w, ch]`. */
  shapeDoc: string;
  /** Shape of the value that entered this step (the previous step's output; null for the first). */
  inputShape: number[] | null;
  /** Shape of the value this step produced. */
  outputShape: number[];
  stats: TensorStats;
  /** The value itself, when the trace was asked to keep tensors (owned by the trace). */
  tensor?: Tensor;
  /** Human-readable result for steps that are not tensors to look at (e.g. top-k labels). */
  note?: string;
  /** What each entry of the last axis is (class names of logits, probabilities, top-k), so views can label the strip. */
  labels?: string[];
}

/** Append the step for `value` at hook point `point` (its input shape is the previous step's output). */
export function pushStep(steps: TraceStep[], point: { name: string; kind: string; shape: string }, value: Tensor, keepTensor: boolean): void {
  const previous = steps[steps.length - 1];
  steps.push({
    index: steps.length,
    name: point.name,
    kind: point.kind,
    shapeDoc: point.shape,
    inputShape: previous ? previous.outputShape : null,
    outputShape: value.shape.slice(),
    stats: tensorStats(value),
    tensor: keepTensor ? tf.keep(tf.clone(value)) : undefined,
  });
}

/**
 * The ordered list of steps of one forward pass, preprocessing and post-processing included:
 * the thing the stepper walks.
 */
export class Trace {
  /** The text of each input position, when the model reads tokens (set by GPT.trace). */
  tokens?: string[];
  /** The tokenizer of a language model's trace, so views can name its logits (set by GPT.trace). */
  tokenizer?: Tokenizer;

  constructor(
    readonly model: string,
    readonly steps: TraceStep[],
  ) {}

  get names(): string[] {
    return this.steps.map((s) => s.name);
  }

  step(name: string): TraceStep {
    const found = this.steps.find((s) => s.name === name);
    if (!found) throw new Error(`No step "${name}" in this trace. Steps: ${this.names.join(', ')}.`);
    return found;
  }

  dispose(): void {
    for (const s of this.steps) {
      s.tensor?.dispose();
      delete s.tensor;
    }
  }

  toString(): string {
    const fmt = (v: number) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001) ? v.toExponential(2) : v.toFixed(3));
    const rows = this.steps.map(
      (s) =>
        `${String(s.index).padStart(3)}  ${s.name.padEnd(24)} ${s.kind.padEnd(10)} ` +
        `[${s.outputShape.join(', ')}]`.padEnd(18) +
        ` min ${fmt(s.stats.min)} max ${fmt(s.stats.max)} mean ${fmt(s.stats.mean)} std ${fmt(s.stats.std)}` +
        (s.note ? `  ${s.note}` : ''),
    );
    const bad = firstNonFiniteStep(this);
    const warning = bad ? `\nNOT FINITE: NaN/Infinity first appears at ${bad.name}; the values from there on are no answer.` : '';
    return `Trace(${this.model}, ${this.steps.length} steps)${warning}\n${rows.join('\n')}`;
  }

  /** Shown as the step-through chart when a trace is the last value of a notebook cell (a transformer's: at its last position). */
  async toMimeBundle(): Promise<MimeBundle> {
    return viewOf('trace', this, () => this.toString());
  }
}
