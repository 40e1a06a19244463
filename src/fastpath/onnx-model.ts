// What every model on the fast path shares: a compiled ONNX graph run in ONNX Runtime behind the
// HookedModel interface of the tfjs model it came from. This file implements only the forward
// pass; hooks, caches and traces are HookedModel's own (src/hooks), as on tfjs:
//   - nothing attached: the plain graph (outputs only, fused freely by ONNX Runtime);
//   - hooks, transforms or a trace: the instrumented graph, fetching the values of the points
//     that are observed, and each fetched value goes through `this.hook(name, value)` in forward
//     order (so hooks, transforms and the trace recorder see what they see on tfjs);
//   - a hook or transform that returns a replacement: ONNX Runtime cannot continue from a
//     changed value inside the graph, so the forward pass continues on the tfjs model from that
//     point: the points already reached replay the values routed so far (no hook runs twice), and
//     every later point routes through `this.hook` again. Same calls, same order, same results
//     within float tolerance (tested against tfjs in test/hooks-fastpath.test.ts).
import { tf, type Tensor } from '../engine/tf';
import { OrtSession, type OrtValue } from '../engine/ort-session';
import type { CompileOptions } from '../hooks/compile';
import { HookedModel, type HookSpec } from '../hooks/hooked-model';

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
    for (const p of source.hookPoints) this.hookPoint(p.name, p.kind, p.shape, { inputs: p.inputs, readOnly: p.readOnly ?? undefined });
    // The graph carries the source's optimization (its exporter refused what it cannot carry); this
    // model reports the same state, and its own transforms start empty (the graph applies them).
    const state = source.carriedState('compile');
    if (state) this.setOptimizationState(state, { transforms: false });
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
    if (this.runsOnSource(input)) return this.continueOnSource(input, new Map()); // inputs the graph does not take: every point routed from tfjs
    const observed = this.hookNames.filter((n) => this.isObserved(n));
    if (observed.length === 0) return OnnxHookedModel.toTensor(this.plain.run(this.feeds(this.plain, input), [this.outputName])[this.outputName]);
    const session = this.hookedSession();
    const fetched = session.run(this.feeds(session, input), [...new Set([this.outputName, ...observed.map((n) => this.onnxName(n))])]);
    const routed = new Map<string, Tensor>(); // the value each point passed on so far
    let last: Tensor | null = null;
    for (const name of this.hookNames) {
      if (!observed.includes(name)) continue;
      const value = OnnxHookedModel.toTensor(fetched[this.onnxName(name)]);
      const out = this.hook(name, value); // transforms, hooks, the trace recorder: HookedModel's machinery
      routed.set(name, out);
      last = out;
      if (out !== value) return this.continueOnSource(input, routed); // patched: ONNX Runtime cannot go on from a changed value
    }
    const outputHook = this.hookNames.at(-1)!;
    if (routed.has(outputHook) && this.onnxName(outputHook) === this.outputName) return last!;
    return OnnxHookedModel.toTensor(fetched[this.outputName]);
  }

  /**
   * Finish this forward pass on the tfjs model: points in `routed` replay the values this pass
   * already routed (their hooks have run); every other point goes through `this.hook`, in forward order.
   */
  private continueOnSource(input: Tensor, routed: Map<string, Tensor>): Tensor {
    if (!this.noteShown && routed.size > 0) {
      process.stderr.write(`${this.name}: a hook or transform replaced a value; ONNX Runtime cannot continue from a changed value inside the graph, so this forward pass continues on the tfjs model (${this.source.name}).\n`);
      this.noteShown = true;
    }
    const specs = this.hookNames.map((name): HookSpec => [name, (value) => routed.get(name) ?? this.hook(name, value)]);
    return this.source.runWithHooks(input, specs);
  }

  dispose(): void {
    this.plain.dispose();
    this.hooked?.dispose();
    this.hooked = null;
  }
}
