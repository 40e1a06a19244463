// What every model on the fast path shares: a compiled ONNX graph run in ONNX Runtime behind the
// HookedModel interface of the tfjs model it came from. A plain graph (the outputs only, which
// ONNX Runtime fuses freely) serves forward; an instrumented graph with every hook point as an
// output, built on first use, serves caches and traces, fetching only the names asked for.
//
// Hooks that only read values run here. A hook that returns a replacement (patching, ablation)
// cannot change a value inside ONNX Runtime, so that call re-runs on the tfjs model, with a note
// on stderr the first time; results agree within 1e-4 either way (tested per model).
import { tf, type Tensor } from '../engine/tf';
import { OrtSession, type OrtValue } from '../engine/ort-session';
import type { CompileOptions } from '../hooks/compile';
import { HookedModel, type CacheOptions, type HookSpec, type TraceOptions } from '../hooks/hooked-model';
import { ActivationCache } from '../hooks/activation-cache';
import { pushStep, Trace, type TraceStep } from '../hooks/trace';

export type { CompileOptions } from '../hooks/compile';

export abstract class OnnxHookedModel<Source extends HookedModel> extends HookedModel {
  readonly name: string;
  /** Bytes of the plain ONNX model (weights as stored there). */
  readonly byteSize: number;
  protected readonly plain: OrtSession;
  private hooked: OrtSession | null = null;
  private noteShown = false;

  constructor(
    /** The tfjs model this was compiled from: patching hooks (and inputs the graph does not take) run there. */
    readonly source: Source,
    readonly options: CompileOptions,
    plainGraph: Uint8Array,
    /** Builds the instrumented graph, when a cache or a trace first needs it. */
    private readonly hookedGraph: () => Uint8Array,
  ) {
    super();
    this.name = `${source.name}${options.quantize ? `-${options.quantize}` : ''}-onnx`;
    for (const p of source.hookPoints) this.hookPoint(p.name, p.kind, p.shape);
    this.byteSize = plainGraph.length;
    this.plain = new OrtSession(plainGraph, { threads: options.threads });
  }

  /** Where this model runs, for summaries and the CLI. */
  get backend(): string {
    const t = this.options.threads;
    return `onnxruntime (cpu${t ? `, ${t} thread${t > 1 ? 's' : ''}` : ''}${this.options.quantize ? `, ${this.options.quantize}` : ''})`;
  }

  /** The graph's inputs for one model input. */
  protected abstract feeds(session: OrtSession, input: Tensor): Record<string, OrtValue>;

  /** The ONNX value that holds a hook's value. */
  protected onnxName(hook: string): string {
    return hook;
  }

  /** The output forward returns (and the last value of the model). */
  protected abstract readonly outputName: string;

  /** Inputs the graph was not built for run on the tfjs model instead (default: none). */
  protected runsOnSource(_input: Tensor): boolean {
    return false;
  }

  protected static toTensor(v: OrtValue): Tensor {
    return tf.tensor(v.data as Float32Array, [...v.dims], 'float32');
  }

  private hookedSession(): OrtSession {
    this.hooked ??= new OrtSession(this.hookedGraph(), { threads: this.options.threads });
    return this.hooked;
  }

  protected forwardImpl(input: Tensor): Tensor {
    if (this.runsOnSource(input)) return this.source.forward(input);
    return OnnxHookedModel.toTensor(this.plain.run(this.feeds(this.plain, input), [this.outputName])[this.outputName]);
  }

  override runWithCache(input: Tensor, options: CacheOptions = {}): [Tensor, ActivationCache] {
    this.validateInput(input);
    if (this.runsOnSource(input)) return this.source.runWithCache(input, options);
    const filter = options.names;
    const names = filter === undefined ? this.hookNames : typeof filter === 'function' ? this.hookNames.filter(filter) : filter;
    for (const n of names) this.getHookPoint(n); // throws, listing the valid names
    const session = this.hookedSession();
    const out = session.run(this.feeds(session, input), [...new Set([this.outputName, ...names.map((n) => this.onnxName(n))])]);
    const cache = new ActivationCache(this.name);
    for (const n of names) cache.set(n, OnnxHookedModel.toTensor(out[this.onnxName(n)]));
    return [OnnxHookedModel.toTensor(out[this.outputName]), cache];
  }

  /** Read-only hooks run on ONNX Runtime; if one returns a replacement, the call re-runs on tfjs. */
  override runWithHooks(input: Tensor, hooks: HookSpec[]): Tensor {
    const [output, cache] = this.runWithCache(input, { names: [...new Set(hooks.map(([name]) => name))] });
    try {
      for (const [name, fn] of hooks) {
        const replaced = fn(cache.get(name), this.getHookPoint(name));
        if (replaced === undefined) continue;
        replaced.dispose();
        output.dispose();
        if (!this.noteShown) process.stderr.write(`${this.name}: a hook on "${name}" replaced its value; ONNX Runtime cannot patch inside the graph, so patched runs use the tfjs model (${this.source.name}).\n`);
        this.noteShown = true;
        return this.source.runWithHooks(input, hooks);
      }
      return output;
    } finally {
      cache.dispose();
    }
  }

  override trace(input: Tensor, options: TraceOptions = {}): Trace {
    if (this.runsOnSource(input)) return this.source.trace(input, options);
    const keep = options.keepTensors ?? true;
    const [output, cache] = this.runWithCache(input);
    output.dispose();
    const steps: TraceStep[] = [];
    for (const point of this.hookPoints) pushStep(steps, point, cache.get(point.name), keep);
    cache.dispose();
    return this.extendTrace(new Trace(this.name, steps));
  }

  dispose(): void {
    this.plain.dispose();
    this.hooked?.dispose();
    this.hooked = null;
  }
}
