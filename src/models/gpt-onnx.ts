// The fast path: a GPT exported once to ONNX and run in ONNX Runtime, behind the same interface
// as the tfjs model (forward, runWithCache, trace, runWithHooks, generate), so every view and
// comparison works on it. Two sessions share the job: a plain graph (logits and the KV cache
// only, which ONNX Runtime fuses freely) for forward and generation, and an instrumented graph
// with every hook point as an output, built on first use, for caches and traces. A cache fetches
// only the names asked for; ONNX Runtime copies nothing else out.
//
// Hooks that only read values run here. A hook that returns a replacement (patching, ablation)
// cannot change a value inside ONNX Runtime, so that call re-runs on the tfjs model, once, with
// a note on stderr; results agree within 1e-4 either way (tested).
import { tf, type Tensor } from '../engine/tf';
import { OrtSession, type OrtValue } from '../engine/ort-session';
import { HookedModel, type CacheOptions, type HookSpec, type TraceOptions } from '../hooks/hooked-model';
import { ActivationCache } from '../hooks/activation-cache';
import { Trace, type TraceStep } from '../hooks/trace';
import { tensorStats } from '../hooks/stats';
import { exportGptToOnnx, pastKeyName, pastValueName, presentKeyName, presentValueName } from '../optimize/export-gpt-onnx';
import { checkTokenIds, generateWith, type GenerateOptions, type Generation, type GPT, type GPTConfig, type Stepper } from './gpt';
import type { Tokenizer } from '../data/tokenizers';
import type { MimeBundle } from '../viz/mime';
import { modelSummary } from '../viz/views';

export interface CompileOptions {
  /** Threads ONNX Runtime uses for one operator (default: every core). */
  threads?: number;
  /** 'int8': int8 weights, activations quantized per call (see export-gpt-onnx.ts). */
  quantize?: 'int8';
}

/** The ONNX value that holds a hook's value (the logits output carries hook_logits). */
const onnxName = (hook: string) => (hook === 'hook_logits' ? 'logits' : hook);

export class OnnxGPT extends HookedModel {
  readonly name: string;
  readonly config: GPTConfig;
  readonly tokenizer: Tokenizer;
  /** Bytes of the plain ONNX model (weights as stored there). */
  readonly byteSize: number;
  readonly parameterCount: number;
  private readonly plain: OrtSession;
  private hooked: OrtSession | null = null;
  private noteShown = false;

  constructor(
    /** The tfjs model this was compiled from: patching hooks run there. */
    readonly source: GPT,
    readonly options: CompileOptions = {},
  ) {
    super();
    this.name = `${source.name}${options.quantize ? `-${options.quantize}` : ''}-onnx`;
    this.config = source.config;
    this.tokenizer = source.tokenizer;
    this.parameterCount = source.parameterCount;
    for (const p of source.hookPoints) this.hookPoint(p.name, p.kind, p.shape);
    const exported = exportGptToOnnx(source, { quantize: options.quantize });
    this.byteSize = exported.bytes.length;
    this.plain = new OrtSession(exported.bytes, { threads: options.threads });
  }

  /** Where this model runs, for summaries and the CLI. */
  get backend(): string {
    return `onnxruntime (cpu${this.options.threads ? `, ${this.options.threads} thread${this.options.threads > 1 ? 's' : ''}` : ''}${this.options.quantize ? `, ${this.options.quantize}` : ''})`;
  }

  protected validateInput(input: Tensor): void {
    checkTokenIds(this.name, this.config, input);
  }

  /** Feeds for ids [batch, pos] after `past` cached positions (past tensors given, or empty). */
  private feeds(session: OrtSession, ids: ArrayLike<number>, batch: number, pos: number, past: Record<string, OrtValue> | null, pastLength: number): Record<string, OrtValue> {
    const { nLayers, nHeads } = this.config;
    const dHead = this.config.dModel / nHeads;
    const total = pastLength + pos;
    const bias = new Float32Array(pos * total);
    for (let i = 0; i < pos; i++) bias.fill(-1e9, i * total + pastLength + i + 1, (i + 1) * total); // causal: query i sees keys 0..past+i
    const feeds: Record<string, OrtValue> = {
      input_ids: session.tensor('int64', ids, [batch, pos]),
      position_ids: session.tensor('int64', Array.from({ length: pos }, (_, i) => pastLength + i), [pos]),
      attention_bias: session.tensor('float32', bias, [pos, total]),
    };
    const empty = session.tensor('float32', new Float32Array(0), [batch, nHeads, 0, dHead]);
    for (let i = 0; i < nLayers; i++) {
      feeds[pastKeyName(i)] = past?.[presentKeyName(i)] ?? empty;
      feeds[pastValueName(i)] = past?.[presentValueName(i)] ?? empty;
    }
    return feeds;
  }

  private run(session: OrtSession, input: Tensor, fetch: string[]): Record<string, OrtValue> {
    const [batch, pos] = input.shape as number[];
    return session.run(this.feeds(session, input.dataSync(), batch, pos, null, 0), fetch);
  }

  private hookedSession(): OrtSession {
    this.hooked ??= new OrtSession(exportGptToOnnx(this.source, { hooks: true, quantize: this.options.quantize }).bytes, { threads: this.options.threads });
    return this.hooked;
  }

  private static toTensor(v: OrtValue): Tensor {
    return tf.tensor(v.data as Float32Array, [...v.dims], 'float32');
  }

  protected forwardImpl(input: Tensor): Tensor {
    return OnnxGPT.toTensor(this.run(this.plain, input, ['logits']).logits); // [batch, pos, vocab]
  }

  override runWithCache(input: Tensor, options: CacheOptions = {}): [Tensor, ActivationCache] {
    this.validateInput(input);
    const filter = options.names;
    const names = filter === undefined ? this.hookNames : typeof filter === 'function' ? this.hookNames.filter(filter) : filter;
    for (const n of names) this.getHookPoint(n); // throws, listing the valid names
    const out = this.run(this.hookedSession(), input, [...new Set(['logits', ...names.map(onnxName)])]);
    const cache = new ActivationCache(this.name);
    for (const n of names) cache.set(n, OnnxGPT.toTensor(out[onnxName(n)]));
    return [OnnxGPT.toTensor(out.logits), cache];
  }

  /** Read-only hooks run on ONNX Runtime; if one returns a replacement, the call re-runs on tfjs. */
  override runWithHooks(input: Tensor, hooks: HookSpec[]): Tensor {
    const [logits, cache] = this.runWithCache(input, { names: [...new Set(hooks.map(([name]) => name))] });
    try {
      for (const [name, fn] of hooks) {
        const replaced = fn(cache.get(name), this.getHookPoint(name));
        if (replaced !== undefined) {
          replaced.dispose();
          logits.dispose();
          if (!this.noteShown) process.stderr.write(`${this.name}: a hook on "${name}" replaced its value; ONNX Runtime cannot patch inside the graph, so patched runs use the tfjs model (${this.source.name}).\n`);
          this.noteShown = true;
          return this.source.runWithHooks(input, hooks);
        }
      }
      return logits;
    } finally {
      cache.dispose();
    }
  }

  override trace(input: Tensor, options: TraceOptions = {}): Trace {
    const keep = options.keepTensors ?? true;
    const [logits, cache] = this.runWithCache(input);
    logits.dispose();
    const steps: TraceStep[] = [];
    for (const point of this.hookPoints) {
      const value = cache.get(point.name);
      const previous = steps[steps.length - 1];
      steps.push({
        index: steps.length,
        name: point.name,
        kind: point.kind,
        shapeDoc: point.shape,
        inputShape: previous ? previous.outputShape : null,
        outputShape: value.shape.slice(),
        stats: tensorStats(value),
        tensor: keep ? tf.clone(value) : undefined,
      });
    }
    cache.dispose();
    return new Trace(this.name, steps);
  }

  /** Generation on ONNX Runtime: the graph's present keys/values are fed back as the next past. */
  stepper(useCache: boolean): Stepper {
    let past: Record<string, OrtValue> | null = null;
    let pastLength = 0;
    return {
      caching: useCache,
      cachedLength: () => pastLength,
      next: (ids, fresh) => {
        const fetch = ['logits', ...(useCache ? Array.from({ length: this.config.nLayers }, (_, i) => [presentKeyName(i), presentValueName(i)]).flat() : [])];
        const out = this.plain.run(this.feeds(this.plain, ids.slice(-fresh), 1, fresh, useCache ? past : null, useCache ? pastLength : 0), fetch);
        if (useCache) {
          past = out;
          pastLength += fresh;
        }
        const v = this.config.vocabSize;
        return (out.logits.data as Float32Array).slice((fresh - 1) * v, fresh * v); // the last position's row
      },
      reset: () => {
        past = null;
        pastLength = 0;
      },
      dispose: () => {
        past = null;
      },
    };
  }

  generate(prompt: string | number[], options: GenerateOptions = {}): Generation {
    return generateWith(this.stepper(options.kvCache ?? true), this.tokenizer, this.config.contextLength, prompt, options);
  }

  /** Shapes per hook for one 8-token input, as the tfjs model reports them. */
  summary(): { name: string; kind: string; outputShape: number[]; params: number }[] {
    return this.source.summary();
  }

  override toString(): string {
    return `${this.source.toString().replace(`"${this.source.name}"`, `"${this.name}"`).replace(`runs in ${this.source.backend}`, `runs in ${this.backend}`)}; ${this.byteSize.toLocaleString('en-US')} bytes as ONNX`;
  }

  async toMimeBundle(): Promise<MimeBundle> {
    return modelSummary(this.summary(), `${this.toString()}; shapes for one 8-token input`);
  }

  dispose(): void {
    this.plain.dispose();
    this.hooked?.dispose();
    this.hooked = null;
  }
}
