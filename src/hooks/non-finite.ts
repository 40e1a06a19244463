// Non-finite values (NaN, ±Infinity) in a forward pass. The library itself never throws on them
// (a notebook may show a divergence on purpose) and a plain forward pays nothing: the CLI, the
// server and the displayed summaries check the OUTPUT once, and only when it is not finite re-run
// the input with a read hook on every hook point to name the first point where NaN/Infinity
// appears (a reader that keeps counts, not the tensors, so a big model's cache is not held).
import { tf, type Tensor } from '../engine/tf';
import type { HookedModel, HookSpec } from './hooked-model';
import type { Trace, TraceStep } from './trace';

/** The output (or a step) holds NaN or Infinity: refused where an answer is printed or served. */
export class NonFiniteError extends Error {
  constructor(
    message: string,
    /** The first hook point whose value is not finite, when the re-run found one. */
    readonly hook: string | null,
  ) {
    super(message);
    this.name = 'NonFiniteError';
  }
}

/** How many values of `values` are NaN and how many ±Infinity (read on the host). */
export function countNonFinite(values: ArrayLike<number>): { nan: number; infinite: number } {
  let nan = 0;
  let infinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) nan++;
    else if (v === Infinity || v === -Infinity) infinite++;
  }
  return { nan, infinite };
}

/** Whether a tensor holds any NaN or ±Infinity (computed on the backend, one scalar read back). */
export function hasNonFinite(x: Tensor): boolean {
  if (x.dtype !== 'float32') return false;
  const flag = tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(x))));
  const out = flag.dataSync()[0] !== 0;
  flag.dispose();
  return out;
}

/** Re-run `input` through `model` with a read hook on every point; the first point whose value is not finite, or null. */
export function firstNonFiniteHook(model: HookedModel, input: Tensor): string | null {
  let first: string | null = null;
  const reader = (value: Tensor, point: { name: string }) => {
    if (first === null && hasNonFinite(value)) first = point.name;
  };
  const out = model.runWithHooks(input, model.hookNames.map((name): HookSpec => [name, reader]));
  out.dispose();
  return first;
}

/** The first step of a trace whose summary (min, max, mean) is not finite, or null. */
export function firstNonFiniteStep(trace: Trace): TraceStep | null {
  return trace.steps.find((s) => !Number.isFinite(s.stats.min) || !Number.isFinite(s.stats.max) || Number.isNaN(s.stats.mean)) ?? null;
}

const describe = (counts: { nan: number; infinite: number }, total: number) =>
  `${counts.nan} NaN and ${counts.infinite} infinite of ${total} values`;

/**
 * Throws NonFiniteError when `values` (the output of `model` on `input`) are not all finite,
 * naming the first hook point where NaN/Infinity appears. `what` names the output in the message.
 */
export function assertFiniteOutput(model: HookedModel, input: Tensor, values: ArrayLike<number>, what: string): void {
  const counts = countNonFinite(values);
  if (counts.nan === 0 && counts.infinite === 0) return;
  const hook = firstNonFiniteHook(model, input);
  throw new NonFiniteError(
    `${model.name}: ${what} are not finite (${describe(counts, values.length)}); ` +
      (hook ? `NaN/Infinity first appears at hook point ${hook}` : 'no hook point was non-finite on a re-run') +
      '. The weights or the input overflow float32; no answer is given.',
    hook,
  );
}

/** Throws NonFiniteError when a step of `trace` is not finite, naming the first such step. */
export function assertFiniteTrace(trace: Trace): void {
  const step = firstNonFiniteStep(trace);
  if (!step) return;
  throw new NonFiniteError(
    `${trace.model}: the forward pass is not finite; NaN/Infinity first appears at hook point ${step.name} ` +
      `(min ${step.stats.min}, max ${step.stats.max}). The weights or the input overflow float32; no answer is given.`,
    step.name,
  );
}
