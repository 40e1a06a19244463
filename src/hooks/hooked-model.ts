import { tf, type Tensor } from '../engine/tf';
import { HookPoint, type HookFn } from './hook-point';
import { ActivationCache } from './activation-cache';
import { pushStep, Trace, type TraceStep } from './trace';

/** Which hook points to keep: a list of names, or a predicate on the name. All when omitted. */
export type NameFilter = string[] | ((name: string) => boolean);

export interface CacheOptions {
  /** Hook names to keep (memory: only these are cloned). Default: every hook point. */
  names?: NameFilter;
}

export interface TraceOptions {
  /** Keep each step's tensor in the trace (needed by the step-through views). Default true. */
  keepTensors?: boolean;
}

/** A hook attached for one run: `[name, fn]`, applied where the forward pass reaches `name`. */
export type HookSpec = [name: string, fn: HookFn];

type Recorder = (point: HookPoint, value: Tensor) => void;

/**
 * Base of every instrumented model. A subclass declares its hook points in its constructor
 * (`this.hookPoint(name, kind, shape)`) and, in `forwardImpl`, passes each intermediate through
 * `this.hook(name, value)`. Everything else (caches, hooks, traces, leak-free runs) lives here.
 */
export abstract class HookedModel {
  /** Registry name, e.g. 'digits-cnn'. */
  abstract readonly name: string;

  private readonly points = new Map<string, HookPoint>();
  private readonly transforms = new Map<string, (value: Tensor) => Tensor>();
  private recorder: Recorder | null = null;

  /** Declare a hook point; call in the constructor, in forward order. */
  protected hookPoint(name: string, kind: string, shape: string): HookPoint {
    if (this.points.has(name)) throw new Error(`Hook point "${name}" declared twice.`);
    const point = new HookPoint(name, kind, shape);
    this.points.set(name, point);
    return point;
  }

  /** Every hook name, in forward order. */
  get hookNames(): string[] {
    return [...this.points.keys()];
  }

  get hookPoints(): HookPoint[] {
    return [...this.points.values()];
  }

  getHookPoint(name: string): HookPoint {
    const point = this.points.get(name);
    if (!point) {
      throw new Error(`Unknown hook point "${name}" in ${this.name}. Expected one of: ${this.hookNames.join(', ')}.`);
    }
    return point;
  }

  /**
   * Fix a transform at a hook point, applied before any hook sees the value: how an optimized
   * model (e.g. fake-quantized activations) keeps the same hook names as its original.
   */
  setTransform(name: string, fn: ((value: Tensor) => Tensor) | null): void {
    this.getHookPoint(name);
    if (fn) this.transforms.set(name, fn);
    else this.transforms.delete(name);
  }

  /** The value as this model would pass it on at `name` (its fixed transform applied, if any). */
  applyTransform(name: string, value: Tensor): Tensor {
    const fn = this.transforms.get(name);
    return fn ? fn(value) : value;
  }

  /** Route a value through a hook point (the identity unless hooks or a transform are attached). */
  protected hook(name: string, value: Tensor): Tensor {
    const point = this.points.get(name);
    if (!point) throw new Error(`${this.name}: forward reached undeclared hook point "${name}".`);
    const transformed = this.transforms.size ? this.applyTransform(name, value) : value;
    const out = point.hasHooks ? point.run(transformed) : transformed;
    this.recorder?.(point, out);
    return out;
  }

  /** Check the input and explain what was expected; throw on anything else. */
  protected abstract validateInput(input: Tensor): void;

  /** The forward pass from raw input to the final output, calling `this.hook` at every point. */
  protected abstract forwardImpl(input: Tensor): Tensor;

  /** One forward pass; intermediates are freed (tf.tidy), only the output survives. */
  forward(input: Tensor): Tensor {
    this.validateInput(input);
    return tf.tidy(() => this.forwardImpl(input));
  }

  /**
   * Run with temporary hooks that read or replace values (ablation, patching).
   * The hooks are removed in `finally`, whatever happens.
   */
  runWithHooks(input: Tensor, hooks: HookSpec[]): Tensor {
    const attached: [HookPoint, HookFn][] = hooks.map(([name, fn]) => [this.getHookPoint(name), fn]);
    for (const [point, fn] of attached) point.add(fn);
    try {
      return this.forward(input);
    } finally {
      for (const [point, fn] of attached) point.remove(fn);
    }
  }

  /** Run and keep the activations asked for. Returns `[output, cache]`; dispose the cache. */
  runWithCache(input: Tensor, options: CacheOptions = {}): [Tensor, ActivationCache] {
    const wanted = this.selectNames(options.names);
    const cache = new ActivationCache(this.name);
    // Keep the tensor itself (no copy): values are immutable, and tf.keep stops tf.tidy freeing it.
    const save: HookFn = (value, point) => {
      cache.set(point.name, tf.keep(value === input ? tf.clone(value) : value)); // never take the caller's input
    };
    try {
      const output = this.runWithHooks(input, wanted.map((name): HookSpec => [name, save]));
      // The last hook's value can be the output itself; the caller and the cache each own one.
      return [cache.holds(output) ? tf.clone(output) : output, cache];
    } catch (err) {
      cache.dispose();
      throw err;
    }
  }

  /** Run once and record every step in order, with shapes, stats and (by default) the tensors. */
  trace(input: Tensor, options: TraceOptions = {}): Trace {
    const keep = options.keepTensors ?? true;
    const steps: TraceStep[] = [];
    this.recorder = (point, value) => pushStep(steps, point, value, keep);
    try {
      this.forward(input).dispose();
    } catch (err) {
      new Trace(this.name, steps).dispose();
      throw err;
    } finally {
      this.recorder = null;
    }
    return this.extendTrace(new Trace(this.name, steps));
  }

  /** Models add non-tensor steps (e.g. top-k labels) here. */
  protected extendTrace(trace: Trace): Trace {
    return trace;
  }

  private selectNames(filter: NameFilter | undefined): string[] {
    if (filter === undefined) return this.hookNames;
    if (typeof filter === 'function') return this.hookNames.filter(filter);
    for (const name of filter) this.getHookPoint(name); // throws, listing the valid names
    return filter;
  }
}
