import { tf, type Tensor } from '../engine/tf';
import { HookPoint, type HookFn } from './hook-point';
import { ActivationCache } from './activation-cache';
import { pushStep, Trace, type TraceStep } from './trace';
import { applyTransformSpec, checkTransformSpec, type Transform, type TransformSpec } from './transforms';
import { checkStateFormat, copyState, encodeState, OPTIMIZATION_FORMAT, type OptimizationState } from './opt-state';
import type { PruningInfo, QuantizationInfo } from './optimization-info';
import { loadModelDir, readSavedOptimization, saveModelFiles } from '../io/model-files';
import * as path from 'path';

/** A model that owns its weights as named variables (every tfjs model of the course). */
type WeightOwner = HookedModel & { weights: Record<string, tf.Variable>; dispose(): void };

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
  private readonly transforms = new Map<string, Transform>();
  private recorder: Recorder | null = null;
  /** What optimization did to this model (see opt-state.ts); transforms live in `transforms`. */
  private optimizationInfo: Omit<OptimizationState, 'transforms' | 'format'> = {};

  /**
   * Declare a hook point; call in the constructor, in forward order. `options.inputs`: the hook
   * points whose values this one is computed from (default: the point declared just before), which
   * is what "isolated" layer error feeds clean. `options.readOnly`: why a patch there cannot change
   * the computation (the point then refuses hooks that return a replacement, and transforms).
   */
  protected hookPoint(name: string, kind: string, shape: string, options: { inputs?: string[]; readOnly?: string } = {}): HookPoint {
    if (this.points.has(name)) throw new Error(`Hook point "${name}" declared twice.`);
    const previous = [...this.points.keys()].at(-1);
    for (const input of options.inputs ?? []) if (!this.points.has(input)) throw new Error(`Hook point "${name}": input "${input}" is not declared before it.`);
    const point = new HookPoint(name, kind, shape, options.inputs ?? (previous ? [previous] : []), options.readOnly ?? null);
    this.points.set(name, point);
    return point;
  }

  // ---- optimization state: one serialisable object, carried by clone, save/load and compile ----

  /** Set by quantize(): packed weights, activation ranges, stored bytes. */
  get quantization(): QuantizationInfo | undefined {
    return this.optimizationInfo.quantization;
  }

  set quantization(info: QuantizationInfo | undefined) {
    this.optimizationInfo.quantization = info;
  }

  /** Set by the pruning functions: sparsity per weight, bytes, removed heads/neurons. */
  get pruning(): PruningInfo | undefined {
    return this.optimizationInfo.pruning;
  }

  set pruning(info: PruningInfo | undefined) {
    this.optimizationInfo.pruning = info;
  }

  /** Bytes as stored when an optimization changed them (quantize); null: float32 weights. */
  get storedBytes(): number | null {
    return this.optimizationInfo.storedBytes ?? null;
  }

  set storedBytes(bytes: number | null) {
    this.optimizationInfo.storedBytes = bytes ?? undefined;
  }

  /** The declarative transforms fixed at hook points (a function transform is listed as 'function'). */
  get transformKinds(): Record<string, string> {
    return Object.fromEntries([...this.transforms].map(([name, t]) => [name, typeof t === 'function' ? 'function' : t.kind]));
  }

  /** The declarative transform at `name`, or null (none, or a function: see optimizationState). */
  transformAt(name: string): TransformSpec | null {
    const t = this.transforms.get(name);
    return t && typeof t !== 'function' ? t : null;
  }

  /**
   * The whole optimization state as one serialisable object (a deep copy). `purpose` names the
   * operation for the error: a function transform cannot be copied, saved or exported, so this
   * throws naming its hook point.
   */
  optimizationState(purpose = 'optimizationState'): OptimizationState {
    const transforms: Record<string, TransformSpec> = {};
    for (const [name, t] of this.transforms) {
      if (typeof t === 'function') {
        throw new Error(
          `${this.name}.${purpose}: hook point "${name}" has a function transform, which cannot be carried. ` +
            `Use a declarative transform (setTransform("${name}", {kind: 'fake-quant' | 'dynamic-quant' | 'mask' | 'ablate', ...})), or remove it with setTransform("${name}", null).`,
        );
      }
      transforms[name] = t;
    }
    return copyState({ format: OPTIMIZATION_FORMAT, ...this.optimizationInfo, transforms });
  }

  /** True when optimization changed anything (a state worth saving). */
  get isOptimized(): boolean {
    return this.transforms.size > 0 || Object.values(this.optimizationInfo).some((v) => v !== undefined);
  }

  /** Take `state` as this model's optimization state (replacing any); checks every transform's hook. */
  setOptimizationState(state: OptimizationState, options: { transforms?: boolean } = {}): void {
    const copy = copyState(state);
    const { format: _format, transforms, ...info } = copy;
    this.optimizationInfo = info;
    this.transforms.clear();
    if (options.transforms === false) return;
    for (const [name, spec] of Object.entries(transforms ?? {})) this.setTransform(name, checkTransformSpec(name, spec));
  }

  /** The state a copy must carry (null when unoptimized); throws on a function transform, naming its hook. */
  carriedState(purpose: string): OptimizationState | null {
    return this.isOptimized ? this.optimizationState(purpose) : null;
  }

  /** The `optimization` entry of a saved config.json (format version included), or nothing when unoptimized. */
  protected optimizationForFile(): { optimization?: unknown } {
    return this.isOptimized ? { optimization: encodeState(this.optimizationState('save')) } : {};
  }

  /** Restore the state saved in a config.json (`where` names the file in errors); older/newer formats are refused. */
  protected restoreOptimization(saved: unknown, where: string): void {
    if (saved === undefined || saved === null) return;
    this.setOptimizationState(checkStateFormat(saved, where));
  }

  /** A copy built by `make` (same config, fresh weights) holding this model's weights and optimization state. */
  protected copyInto<M extends WeightOwner>(this: M, make: () => M): M {
    const state = this.carriedState('clone'); // throws on a function transform, naming its hook, before anything is allocated
    const copy = make();
    for (const [key, w] of Object.entries(this.weights)) copy.weights[key].assign(w);
    if (state) copy.setOptimizationState(state); // quantization, pruning and transforms, exactly as here
    return copy;
  }

  /** Write weights.safetensors + config.json (with the optimization state) into `dir`. */
  protected saveFiles(this: WeightOwner, dir: string, architecture: string, config: unknown, extra: Record<string, unknown>): void {
    saveModelFiles(dir, architecture, config, this.weights, { ...extra, ...this.optimizationForFile() }); // throws on a function transform, naming its hook
  }

  /** Build a model from a directory, fill its weights and restore its optimization state; frees it if any step fails. */
  protected static loadFiles<C, M extends WeightOwner>(dir: string, architecture: string, create: (config: C) => M): M {
    const model = loadModelDir<C, M>(dir, architecture, create);
    try {
      model.restoreOptimization(readSavedOptimization(dir), path.join(dir, 'config.json')); // other format versions refused
    } catch (err) {
      model.dispose();
      throw err;
    }
    return model;
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
  setTransform(name: string, transform: Transform | null): void {
    const point = this.getHookPoint(name);
    if (transform && point.readOnly) throw new Error(`${this.name}.setTransform("${name}"): this hook point is read-only (${point.readOnly}).`);
    if (transform) this.transforms.set(name, typeof transform === 'function' ? transform : checkTransformSpec(name, transform));
    else this.transforms.delete(name);
  }

  /** The value as this model would pass it on at `name` (its fixed transform applied, if any). */
  applyTransform(name: string, value: Tensor): Tensor {
    const t = this.transforms.get(name);
    return t ? applyTransformSpec(t, value) : value;
  }

  /** Whether anything acts at `name` in a run: a transform, an attached hook, or a trace recording. */
  protected isObserved(name: string): boolean {
    return this.recorder !== null || this.transforms.has(name) || (this.points.get(name)?.hasHooks ?? false);
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
