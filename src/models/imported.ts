// Your own model: any TensorFlow.js LayersModel or GraphModel from disk (model.json + weight
// shards), instrumented automatically so that caches, hooks, the stepper and the quantization
// lab work on it as on the shipped models.
//
// How it works, and why it is correct:
// - Every layer call (LayersModel) or every graph node (GraphModel) becomes a hook point named
//   after the model's own names: `conv2d_1.hook_out`, or for the node
//   `StatefulPartitionedCall/model/block_1/Relu` the name `model.block_1.Relu.hook_out` (the
//   `StatefulPartitionedCall/` wrapper that TF2 exports put in front of every node is dropped; a
//   node's second output is `.hook_out_1`; a folder every node shares, such as CenterNet's
//   `tower_0/`, is left out too). Names are stable: the same file gives the same names.
// - LayersModel: the forward walks the model's own graph of layer calls (each layer's inbound
//   nodes) in topological order and calls each layer's `apply` on real tensors, exactly as
//   tfjs's `predict` does, routing every output through `this.hook`. A patched value is what the
//   next layers receive. Nested models are walked into (their layers get dotted names).
// - GraphModel: the forward runs ONE NODE AT A TIME through tfjs's own graph executor:
//   `graphModel.execute(feeds, [node])`, where `feeds` holds the node's inputs as this forward
//   computed them (after hooks). tfjs stops at fed nodes, so it runs only that node's op, with
//   its own kernels and attribute parsing; replacing a value changes everything downstream.
//   Two kinds of value cannot be fed to tfjs's executor: one of several used outputs of a node
//   (the executor keeps one fed output per node) and values its feed check rejects (the bool
//   output of `Equal`, whose attribute claims float32). Which ones, is measured at load by
//   feeding each value of a dry run on zeros once; each gets an Identity stand-in node that its
//   consumers read instead (the graph is rebuilt once from the same artifacts; Identity changes
//   no value), so every node can be read AND patched. If some value still cannot be fed, its
//   consumers recompute it inside their own call and patching it is refused with a clear error.
// - Speed: until a hook or transform returns a different tensor, all values come from ONE
//   whole-graph call (same kernels, same values); from the first replacement on, nodes run one
//   at a time on the patched values. Reading (caches, traces) costs about one tfjs execute.
// - Weights: float32 constants (GraphModel) and layer variables (LayersModel) are tf.Variables in
//   `weights`; a GraphModel gets them fed into every call, so a copy (`clone`) with quantized
//   weights computes with its own values while sharing the parsed graph. Depthwise filters are
//   kept as [kh, kw, multiplier, in] (transposed back when fed) so that the quantizer's
//   per-channel axis, the last one, is their channel axis: per tensor, MobileNet's depthwise
//   filters (batch norm folded in) lose about 20 dB.
// - Checked against tfjs itself: the forward equals `model.execute` / `model.predict`, and every
//   hook value equals what tfjs returns for that node or layer (test/imported.test.ts).
// - Not supported (a clear error at load names the node and op): control flow and ops with
//   data-dependent shapes (tfjs runs those only with executeAsync; the hooked forward is
//   synchronous), ops or kernels tfjs lacks on the running backend, models with several inputs.
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { HookedModel } from '../hooks/hooked-model';
import { Trace } from '../hooks/trace';
import type { MimeBundle } from '../engine/mime';
import { viewOf } from '../engine/display';
import { appendTopKStep, topK, type Prediction } from './predictions';
import { detectFormat, fileIOHandler, modelJsonPath, readModelJson, type TfjsFormat } from '../io/tfjs-files';

/** Steps that turn a raw input into the model's input, hooked like the model's own (they come first in a trace). */
export interface ImportedPreprocess {
  /** Hook points of the preprocessing, in order: [name, kind, documented shape]. */
  steps: [name: string, kind: string, shape: string][];
  /** Check a raw input; throw saying what was expected. */
  validate(raw: Tensor): void;
  /** Raw input -> the model's input, passing each step's value through `hook(name, value)`. */
  run(raw: Tensor, hook: (name: string, value: Tensor) => Tensor): Tensor;
}

export interface ImportedModelOptions {
  /** Name in traces, caches and errors (default: the model's folder name). */
  name?: string;
  /** GraphModel: the output `forward` returns, a node name or signature key (default: the model's first output). */
  output?: string;
  /** Input shape for the load-time dry run when the model's signature leaves a dimension other than batch unknown. */
  inputShape?: number[];
  /** Preprocessing run in front of the model as hooked steps (e.g. resize a photo). */
  preprocess?: ImportedPreprocess;
  /** Class names of a classifier whose output is [batch, classes] probabilities: traces end with a top-k step. */
  labels?: string[];
}

/** A loaded tfjs model, shared by an ImportedModel and its clones (GraphModel) or owned (LayersModel). */
export type ImportedSource =
  | { kind: 'graph'; model: tf.GraphModel; topology: GraphDef; artifacts: tf.io.ModelArtifacts; file: string; users: { count: number }; rerouted?: boolean }
  | { kind: 'layers'; model: tf.LayersModel; file: string };

interface GraphDefNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}
interface GraphDef {
  node: GraphDefNode[];
  library?: { function?: unknown[] };
}

/** Ops that tfjs runs only with executeAsync: control flow and data-dependent output shapes. */
const ASYNC_ONLY_OPS = new Set([
  'Switch', 'Merge', 'Enter', 'Exit', 'NextIteration', 'LoopCond', 'If', 'StatelessIf', 'While', 'StatelessWhile',
  'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV4', 'NonMaxSuppressionV5', 'Where',
  'HashTable', 'HashTableV2', 'LookupTableImport', 'LookupTableImportV2', 'LookupTableFind', 'LookupTableFindV2', 'LookupTableSize', 'LookupTableSizeV2',
]);

/** Ops whose second input is a depthwise filter [kh, kw, in, multiplier]. */
const DEPTHWISE_OPS = new Set(['DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative', 'DepthwiseConv2d']);

/** The wrapper TF2 SavedModel exports put in front of every node name. */
const TF2_WRAPPER = 'StatefulPartitionedCall/';

/** A node name without the TF2 wrapper. */
function unwrapped(name: string): string {
  return name.startsWith(TF2_WRAPPER) ? name.slice(TF2_WRAPPER.length) : name;
}

/** The leading `a/b/` that every one of `names` starts with ('' if none): left out of hook names. */
function sharedPrefix(names: string[]): string {
  if (names.length < 2) return '';
  const split = names.map((n) => unwrapped(n).split('/'));
  let depth = 0;
  while (split.every((parts) => parts.length > depth + 1 && parts[depth] === split[0][depth])) depth++;
  return depth ? `${split[0].slice(0, depth).join('/')}/` : '';
}

/** A dotted, JavaScript-friendly path from a tfjs name: `a/b.c:d` -> `a.b_c_d` (`prefix` left out). */
function dotted(name: string, prefix = ''): string {
  const bare = unwrapped(name);
  return (bare.startsWith(prefix) ? bare.slice(prefix.length) : bare)
    .split('/')
    .map((part) => part.replace(/[^A-Za-z0-9_-]/g, '_') || '_')
    .join('.');
}

/** `name` or `name:k` -> [node, output index]; control inputs `^name` are order-only edges to output 0. */
function parseRef(input: string): [string, number] {
  const bare = input.startsWith('^') ? input.slice(1) : input;
  const match = /^(.*):(\d+)$/.exec(bare);
  return match ? [match[1], Number(match[2])] : [bare, 0];
}

/** The feed key tfjs's executor uses for output k of a node. */
const feedKey = (node: string, k: number) => (k === 0 ? node : `${node}:${k}`);

/** A documented shape: the batch dimension named, the rest as numbers. */
function shapeDoc(shape: (number | null)[], batchFirst: boolean): string {
  return `[${shape.map((d, i) => (i === 0 && batchFirst ? 'batch' : d === null || d < 0 ? '?' : String(d))).join(', ')}]`;
}

/** Where one value a graph call needs comes from. */
type FeedSource = { from: 'value'; ref: string } | { from: 'weight'; name: string };

/** One graph node as the forward runs it. */
interface GraphStep {
  node: string;
  op: string;
  /** Feed key -> where its tensor comes from (inputs, weights, and inputs of recomputed nodes). */
  feeds: [key: string, source: FeedSource][];
  /** Outputs to fetch: tfjs output name, our ref `node:k`, the hook name, whether a patch can reach consumers. */
  outputs: { fetch: string; ref: string; hook: string; patchable: boolean; alias?: string }[];
}

/** One layer call as the forward runs it (ids are SymbolicTensor ids, shared across nested models). */
interface LayerCall {
  layer: tf.layers.Layer;
  inputs: number[];
  outputs: number[];
  hooks: string[];
}

type LayerNode = tf.layers.Layer['inboundNodes'][number];
type SymbolicTensor = LayerNode['inputTensors'][number];

export class ImportedModel extends HookedModel {
  readonly name: string;
  readonly format: TfjsFormat;
  readonly options: ImportedModelOptions;
  /** Float32 parameters by dotted name: graph constants or layer variables. */
  readonly weights: Record<string, tf.Variable> = {};
  /** Hook points where an integer engine would quantize activations: the model input and every weighted op's output. */
  readonly activationQuantPoints: string[] = [];
  /** The model input's name, shape (-1 unknown) and dtype, as its signature declares them. */
  readonly input: { name: string; shape: number[]; dtype: tf.DataType };
  /** The hook name of the value `forward` returns. */
  readonly outputHook: string;

  private readonly source: ImportedSource;
  private readonly hookOfRef = new Map<string, string>();
  private readonly hookShapes = new Map<string, number[]>();
  private readonly hookNodes = new Map<string, string>();
  private readonly paramsOf = new Map<string, number>();
  private readonly graphSteps: GraphStep[] = [];
  /** Graph constant -> our weight variable fed in its place. */
  private readonly weightFeeds = new Map<string, string>();
  /** Depthwise filters stored [kh, kw, multiplier, in] (transposed back when fed). */
  private readonly channelLastWeights = new Set<string>();
  private readonly layerCalls: LayerCall[] = [];
  private inputHook = '';
  private inputRef = '';
  private outputRef = '';
  private disposed = false;
  private shortNames: Map<string, string> | null = null;

  constructor(source: ImportedSource, options: ImportedModelOptions = {}) {
    super();
    this.source = source;
    this.options = options;
    this.name = options.name ?? defaultName(source.file);
    this.format = source.kind === 'graph' ? 'graph-model' : 'layers-model';
    for (const [name, kind, shape] of options.preprocess?.steps ?? []) this.hookPoint(name, kind, shape);
    if (source.kind === 'graph') {
      source.users.count++;
      this.input = this.instrumentGraph(source);
    } else {
      this.input = this.instrumentLayers(source.model);
    }
    this.outputHook = this.hookFor(this.outputRef);
  }

  /** Load a model.json (or a folder holding one) and its shards. Errors name the file, node or op. */
  static async load(fileOrDir: string, options: ImportedModelOptions = {}): Promise<ImportedModel> {
    const source = await loadImportedSource(fileOrDir);
    try {
      return new ImportedModel(source, options);
    } catch (err) {
      source.model.dispose();
      throw err;
    }
  }

  // ---------------------------------------------------------------- GraphModel

  private instrumentGraph(source: Extract<ImportedSource, { kind: 'graph' }>): ImportedModel['input'] {
    if (source.model.inputs.length !== 1) {
      const names = source.model.inputs.map((i) => i.name).join(', ');
      throw new Error(`${source.file}: the model has ${source.model.inputs.length} inputs (${names}); ImportedModel instruments models with one input.`);
    }
    rejectAsyncOnlyOps(source.topology, source.file);
    if (!source.rerouted) rerouteUnfeedable(source, this.dryRunShape(inputInfo(source.model), source.file));
    const { model, topology, file } = source;
    const nodes = new Map(topology.node.map((n) => [n.name, n]));
    const input = inputInfo(model);
    const outputNode = this.resolveGraphOutput(model, nodes, file);

    // Nodes the outputs depend on, in topological order (ties keep the file's order).
    const needed = new Set<string>();
    const stack = [...model.outputs.map((o) => parseRef(o.name)[0]), parseRef(outputNode)[0]];
    while (stack.length) {
      const name = stack.pop()!;
      if (needed.has(name)) continue;
      const node = nodes.get(name);
      if (!node) throw new Error(`${file}: node "${name}" is referenced but not defined in the graph.`);
      needed.add(name);
      for (const i of node.input ?? []) stack.push(parseRef(i)[0]);
    }
    const order = topologicalOrder(topology.node.filter((n) => needed.has(n.name)), nodes);
    const prefix = sharedPrefix(order.filter((n) => n.op !== 'Const').map((n) => n.name)); // e.g. `tower_0/`

    // Which outputs of each node are used, by other nodes or as model outputs.
    const used = new Map<string, Set<number>>();
    const use = (ref: string) => {
      const [n, k] = parseRef(ref);
      if (!used.has(n)) used.set(n, new Set());
      used.get(n)!.add(k);
    };
    for (const n of order) for (const i of n.input ?? []) use(i);
    for (const o of model.outputs) use(o.name);
    use(outputNode);

    // Float32 constants become variables (the weights a quantizer may change).
    const graphWeights = model.weights;
    const filterOf = new Map<string, boolean>(); // constant -> used only as a depthwise filter
    for (const n of order) {
      (n.input ?? []).forEach((i, position) => {
        const [from] = parseRef(i);
        const depthwiseFilter = DEPTHWISE_OPS.has(n.op) && position === 1;
        filterOf.set(from, (filterOf.get(from) ?? true) && depthwiseFilter);
      });
    }
    for (const n of order) {
      if (n.op !== 'Const') continue;
      const t = graphWeights[n.name]?.[0];
      if (!t || t.dtype !== 'float32') continue;
      const key = this.uniqueWeightName(dotted(n.name, prefix));
      if (filterOf.get(n.name) && t.rank === 4) {
        // [kh, kw, in, multiplier] kept as [kh, kw, multiplier, in]: the quantizer's per-channel
        // axis is the last one, and a depthwise filter's channels are its inputs.
        this.weights[key] = tf.tidy(() => tf.variable(tf.transpose(t, [0, 1, 3, 2]), false));
        this.channelLastWeights.add(key);
      } else {
        this.weights[key] = tf.variable(t, false); // shares t's data until a quantizer assigns new values
      }
      this.weightFeeds.set(n.name, key);
    }

    // Dry run on zeros, node by node: shapes for the docs, a check that every op runs here, and
    // which values tfjs accepts as feeds (its feed check rejects a few, see the header).
    const unfeedable = new Set<string>();
    const refsOf = (n: GraphDefNode) => [...(used.get(n.name) ?? new Set([0]))].sort((a, b) => a - b);
    const multiOutput = (n: GraphDefNode) => refsOf(n).length > 1;
    const dryShape = this.dryRunShape(input, file);
    tf.tidy(() => {
      const values = new Map<string, Tensor>();
      const example = tf.zeros(dryShape, input.dtype); // [batch, ...] as the signature
      for (const n of order) {
        if (n.op === 'Const') continue;
        if (n.op === 'NoOp') continue; // control dependencies only: tfjs runs them where needed
        if (REROUTED.test(n.name)) {
          values.set(`${n.name}:0`, values.get(`${parseRef(n.input![0]).join(':')}`)!); // a stand-in: same value, fed to consumers
          continue;
        }
        const isInput = n.name === parseRef(input.name)[0];
        const step: GraphStep = { node: n.name, op: n.op, feeds: [], outputs: [] };
        if (!isInput) {
          const feeds = new Map<string, FeedSource>();
          this.collectFeeds(n, nodes, feeds, unfeedable, multiOutput, new Set());
          step.feeds = [...feeds];
        }
        const fetched = isInput ? [example] : this.runGraphStep(step, refsOf(n).map((k) => feedKey(n.name, k)), values);
        refsOf(n).forEach((k, j) => {
          const ref = `${n.name}:${k}`;
          const value = fetched[j];
          if (!value) throw new Error(`${file}: node "${n.name}" (op ${n.op}) produced no output ${k} on the ${tf.getBackend()} backend.`);
          values.set(ref, value);
          const feedable = !multiOutput(n) && acceptsFeed(model, feedKey(n.name, k), value);
          if (!feedable) unfeedable.add(ref);
          const hook = this.uniqueHookName(`${dotted(n.name, prefix)}.hook_out${k === 0 ? '' : `_${k}`}`);
          const alias = `${n.name}${REROUTE_SUFFIX}${k}`;
          step.outputs.push({ fetch: feedKey(n.name, k), ref, hook, patchable: feedable || nodes.has(alias), alias: nodes.has(alias) ? `${alias}:0` : undefined });
          this.hookPoint(hook, isInput ? 'input' : n.op, shapeDoc(value.shape, value.rank >= 2 && value.shape[0] === dryShape[0]));
          this.hookOfRef.set(ref, hook);
          this.hookShapes.set(hook, value.shape.slice());
          this.hookNodes.set(hook, n.name);
        });
        if (isInput) this.inputRef = `${n.name}:0`;
        else this.graphSteps.push(step);
      }
    });
    this.inputHook = this.hookFor(this.inputRef);
    this.outputRef = outputNode;

    // Parameters per node, and where activations would be quantized: after each weighted op.
    this.activationQuantPoints.push(this.inputHook);
    for (const step of this.graphSteps) {
      const own = step.feeds.filter(([key, s]) => s.from === 'weight' && nodes.get(step.node)!.input?.some((i) => parseRef(i)[0] === key));
      const params = own.reduce((sum, [, s]) => sum + this.weights[(s as { name: string }).name].size, 0);
      this.paramsOf.set(step.outputs[0].hook, params);
      if (params > 0 && step.outputs[0].patchable && own.some(([, s]) => this.weights[(s as { name: string }).name].rank >= 2)) {
        this.activationQuantPoints.push(step.outputs[0].hook);
      }
    }
    return input;
  }

  /** The model output that `forward` returns, as `node:k`. */
  private resolveGraphOutput(model: tf.GraphModel, nodes: Map<string, GraphDefNode>, file: string): string {
    const signature = (model.modelSignature as { outputs?: Record<string, { name: string }> } | undefined)?.outputs ?? {};
    const wanted = this.options.output;
    if (wanted === undefined) {
      const [n, k] = parseRef(model.outputs[0].name);
      return `${n}:${k}`;
    }
    const name = signature[wanted]?.name ?? wanted;
    const [n, k] = parseRef(name);
    if (!nodes.has(n)) {
      const choices = [...model.outputs.map((o) => o.name), ...Object.keys(signature)];
      throw new Error(`${file}: no output "${wanted}". Outputs: ${[...new Set(choices)].join(', ')}; any node name works too.`);
    }
    return `${n}:${k}`;
  }

  /** The input shape for the dry run: the signature's, batch 1, or options.inputShape. */
  private dryRunShape(input: ImportedModel['input'], file: string): number[] {
    if (this.options.inputShape) return this.options.inputShape;
    const unknown = input.shape.slice(1).some((d) => d < 0);
    if (unknown || input.shape.length === 0) {
      throw new Error(`${file}: input "${input.name}" has shape [${input.shape}] with unknown dimensions; pass options.inputShape (e.g. [1, 224, 224, 3]).`);
    }
    return input.shape.map((d, i) => (i === 0 && d < 0 ? 1 : d));
  }

  /**
   * What a call that runs node `n` must be fed: each input's value when tfjs accepts it as a feed,
   * else that input's own inputs (tfjs then recomputes it inside the call), and owned weights.
   */
  private collectFeeds(
    n: GraphDefNode,
    nodes: Map<string, GraphDefNode>,
    feeds: Map<string, FeedSource>,
    unfeedable: Set<string>,
    multiOutput: (n: GraphDefNode) => boolean,
    visiting: Set<string>,
  ): void {
    for (const input of n.input ?? []) {
      const [name, k] = parseRef(input);
      const from = nodes.get(name)!;
      if (from.op === 'Const') {
        const weight = this.weightFeeds.get(name);
        if (weight) feeds.set(name, { from: 'weight', name: weight }); // other constants come from the model itself
        continue;
      }
      if (from.op === 'NoOp') continue;
      const ref = `${name}:${k}`;
      if (!unfeedable.has(ref) && !multiOutput(from)) {
        feeds.set(feedKey(name, k), { from: 'value', ref });
      } else if (!visiting.has(name)) {
        visiting.add(name);
        this.collectFeeds(from, nodes, feeds, unfeedable, multiOutput, visiting);
      }
    }
  }

  /** Run one node through tfjs's executor with its feeds; errors name the node and op. */
  private runGraphStep(step: GraphStep, fetch: string[], values: Map<string, Tensor>): Tensor[] {
    const feeds: tf.NamedTensorMap = {};
    for (const [key, s] of step.feeds) feeds[key] = s.from === 'weight' ? this.weightForGraph(s.name) : values.get(s.ref)!;
    const model = (this.source as Extract<ImportedSource, { kind: 'graph' }>).model;
    try {
      const out = model.execute(feeds, fetch);
      return Array.isArray(out) ? out : [out];
    } catch (err) {
      const message = (err as Error).message;
      const hint = /Unknown op/.test(message)
        ? ' tfjs has no implementation of this op.'
        : /not registered|kernel/i.test(message)
          ? ` The ${tf.getBackend()} backend has no kernel for it; another backend may (initBackend({ prefer: 'cpu' })).`
          : '';
      throw new Error(`${this.name}: node "${step.node}" (op ${step.op}) failed on the ${tf.getBackend()} backend: ${message}${hint}`);
    }
  }

  /** A weight in the layout the graph expects (depthwise filters transposed back). */
  private weightForGraph(key: string): Tensor {
    const w = this.weights[key];
    return this.channelLastWeights.has(key) ? tf.transpose(w, [0, 1, 3, 2]) : w; // [kh, kw, in, multiplier]
  }

  /** Every node's value from one tfjs call (input and weights fed); null if it fails (the node-by-node path then names the node). */
  private runWholeGraph(input: Tensor): Map<string, Tensor> | null {
    const model = (this.source as Extract<ImportedSource, { kind: 'graph' }>).model;
    const feeds: tf.NamedTensorMap = { [feedKey(...parseRef(this.inputRef))]: input };
    for (const [key, w] of this.weightFeeds) feeds[key] = this.weightForGraph(w);
    const outputs = this.graphSteps.flatMap((s) => s.outputs);
    try {
      const fetched = model.execute(feeds, outputs.map((o) => o.fetch));
      const list = Array.isArray(fetched) ? fetched : [fetched];
      return new Map(outputs.map((o, i) => [o.ref, list[i]]));
    } catch {
      return null;
    }
  }

  // ---------------------------------------------------------------- LayersModel

  private instrumentLayers(model: tf.LayersModel): ImportedModel['input'] {
    if (model.inputs.length !== 1) {
      throw new Error(`${this.source.file}: the model has ${model.inputs.length} inputs; ImportedModel instruments models with one input.`);
    }
    const symbolicInput = model.inputs[0];
    const input = { name: symbolicInput.name, shape: symbolicInput.shape.map((d) => (d === null ? -1 : d)), dtype: symbolicInput.dtype };
    this.inputRef = String(symbolicInput.id);
    const inputLayerName = symbolicInput.sourceLayer.name;
    this.inputHook = this.uniqueHookName(`${dotted(inputLayerName)}.hook_out`);
    this.hookPoint(this.inputHook, 'input', shapeDoc(symbolicInput.shape, true));
    this.hookOfRef.set(this.inputRef, this.inputHook);
    this.hookShapes.set(this.inputHook, symbolicInput.shape.map((d) => d ?? -1));
    this.hookNodes.set(this.inputHook, inputLayerName);
    const alias = new Map<number, number>();
    const outputs = this.walkContainer(model, [symbolicInput.id], '', alias, new Map());
    this.outputRef = String(outputs[0]);
    this.activationQuantPoints.push(this.inputHook);
    const seen = new Set<tf.layers.Layer>();
    for (const call of this.layerCalls) {
      if (seen.has(call.layer)) continue; // a shared layer's weights belong to its first call
      seen.add(call.layer);
      const prefix = call.hooks[0].replace(/\.hook_out(_\d+)?$/, '').replace(/\.call_\d+$/, '');
      let params = 0;
      for (const w of call.layer.weights) {
        const key = this.uniqueWeightName(`${prefix}.${w.originalName.split('/').pop()}`);
        this.weights[key] = w.read() as tf.Variable; // the layer's own variable: assigning it changes this model
        params += w.shape.reduce((a: number, b: number | null) => a * (b ?? 1), 1);
      }
      this.paramsOf.set(call.hooks[0], params);
      if (call.layer.weights.some((w) => w.shape.length >= 2)) this.activationQuantPoints.push(call.hooks[0]);
    }
    return input;
  }

  /** Flatten a container's layer calls into `layerCalls` (recursing into nested models); returns its output ids. */
  private walkContainer(container: tf.LayersModel, inputIds: number[], prefix: string, alias: Map<number, number>, callCount: Map<string, number>): number[] {
    container.inputs.forEach((s, i) => alias.set(s.id, inputIds[i]));
    const resolve = (id: number) => alias.get(id) ?? id;
    const producing = (s: SymbolicTensor): LayerNode => s.sourceLayer.inboundNodes[s.nodeIndex];
    const order: LayerNode[] = [];
    const visited = new Set<LayerNode>();
    const visit = (s: SymbolicTensor) => {
      const node = producing(s);
      if (visited.has(node)) return;
      visited.add(node);
      if (!container.inputs.includes(s)) for (const t of node.inputTensors) visit(t);
      order.push(node);
    };
    for (const out of container.outputs) visit(out);
    for (const node of order) {
      const layer = node.outboundLayer;
      if (layer.getClassName() === 'InputLayer') continue;
      const inputs = node.inputTensors.map((s) => resolve(s.id));
      const base = `${prefix}${dotted(layer.name)}`;
      if (layer instanceof tf.LayersModel) {
        const inner = this.walkContainer(layer, inputs, `${base}.`, alias, callCount);
        node.outputTensors.forEach((s, j) => alias.set(s.id, inner[j]));
        continue;
      }
      const calls = callCount.get(base) ?? 0;
      callCount.set(base, calls + 1);
      const stem = calls === 0 ? base : `${base}.call_${calls}`;
      const hooks = node.outputTensors.map((s, j) => {
        const hook = this.uniqueHookName(`${stem}.hook_out${j === 0 ? '' : `_${j}`}`);
        this.hookPoint(hook, layer.getClassName(), shapeDoc(s.shape, true));
        this.hookOfRef.set(String(s.id), hook);
        this.hookShapes.set(hook, s.shape.map((d) => d ?? -1));
        this.hookNodes.set(hook, layer.name);
        return hook;
      });
      this.layerCalls.push({ layer, inputs, outputs: node.outputTensors.map((s) => s.id), hooks });
    }
    return container.outputs.map((s) => resolve(s.id));
  }

  // ---------------------------------------------------------------- forward

  private hookFor(ref: string): string {
    const hook = this.hookOfRef.get(ref);
    if (!hook) throw new Error(`${this.name}: no hook point for "${ref}".`);
    return hook;
  }

  private uniqueHookName(name: string): string {
    let candidate = name;
    for (let i = 2; this.hookNames.includes(candidate); i++) candidate = name.replace(/\.hook_out/, `_${i}.hook_out`);
    return candidate;
  }

  private uniqueWeightName(name: string): string {
    let candidate = name;
    for (let i = 2; candidate in this.weights; i++) candidate = `${name}_${i}`;
    return candidate;
  }

  /** The tfjs node or layer name behind a hook point. */
  nodeOf(hookName: string): string {
    this.getHookPoint(hookName);
    return this.hookNodes.get(hookName) ?? hookName;
  }

  /**
   * A short label for a hook, for charts: the fewest trailing parts of its name (without
   * `hook_out`) that no other hook shares, e.g. `expanded_conv_3.depthwise.depthwise`.
   */
  shortName(hookName: string): string {
    this.getHookPoint(hookName);
    if (!this.shortNames) {
      const parts = new Map(this.hookNames.map((n) => [n, n.replace(/\.hook_out$/, '').replace(/\.hook_out_(\d+)$/, ':$1').split('.')]));
      this.shortNames = new Map();
      for (const [name, p] of parts) {
        let take = 1;
        const tail = (q: string[], k: number) => q.slice(-k).join('.');
        while (take < p.length && [...parts].some(([other, q]) => other !== name && tail(q, take) === tail(p, take))) take++;
        this.shortNames.set(name, tail(p, take));
      }
    }
    return this.shortNames.get(hookName)!;
  }

  /** Every hook that belongs to the model itself (not preprocessing), in forward order. */
  get modelHookNames(): string[] {
    return this.hookNames.filter((n) => this.hookNodes.has(n));
  }

  get parameterCount(): number {
    return Object.values(this.weights).reduce((n, w) => n + w.size, 0);
  }

  get byteSize(): number {
    return this.storedBytes ?? this.parameterCount * 4;
  }

  protected validateInput(input: Tensor): void {
    if (this.disposed) throw new Error(`${this.name} has been disposed.`);
    if (this.options.preprocess) {
      this.options.preprocess.validate(input);
      return;
    }
    this.checkModelInput(input);
  }

  private checkModelInput(x: Tensor): void {
    const { name, shape, dtype } = this.input;
    const shapeOk = x.rank === shape.length && x.shape.every((d, i) => shape[i] < 0 || shape[i] === d);
    const dtypeOk = x.dtype === dtype || (dtype === 'float32' && x.dtype === 'int32');
    if (!shapeOk || !dtypeOk) {
      const want = `[${shape.map((d) => (d < 0 ? '?' : d)).join(', ')}] ${dtype}`;
      throw new Error(`${this.name} expects input "${name}" shaped ${want} (? = any size), got [${x.shape}] ${x.dtype}.`);
    }
  }

  protected forwardImpl(raw: Tensor): Tensor {
    let x = raw;
    if (this.options.preprocess) {
      x = this.options.preprocess.run(raw, (name, value) => this.hook(name, value));
      this.checkModelInput(x);
    }
    if (x.dtype !== this.input.dtype) x = tf.cast(x, this.input.dtype); // int32 pixels into a float32 model
    const values = new Map<string, Tensor>();
    values.set(this.inputRef, this.hook(this.inputHook, x)); // the model input, as the signature declares it
    if (this.source.kind === 'graph') {
      // Until a hook or transform replaces a value, every node's value is what one whole-graph
      // call computes; from the first replacement on, nodes run one at a time on patched inputs.
      let whole = this.runWholeGraph(values.get(this.inputRef)!);
      for (const step of this.graphSteps) {
        const fetched = whole ? step.outputs.map((o) => whole!.get(o.ref)!) : this.runGraphStep(step, step.outputs.map((o) => o.fetch), values);
        step.outputs.forEach((o, j) => {
          const out = this.hook(o.hook, fetched[j]); // [node's shape]
          if (out !== fetched[j]) whole = null;
          if (out !== fetched[j] && !o.patchable) {
            throw new Error(
              `${this.name}: a hook replaced "${o.hook}" (node "${step.node}", op ${step.op}), but tfjs's executor cannot take that value as an input ` +
                '(the node has several used outputs, or its declared dtype differs from its value), so the change could not reach its consumers. ' +
                'Patch a neighbouring node instead.',
            );
          }
          values.set(o.ref, out);
          if (o.alias) values.set(o.alias, out); // consumers read the rerouted stand-in
        });
      }
    } else {
      const masks = new Map<string, Tensor | null>();
      for (const call of this.layerCalls) {
        const inputs = call.inputs.map((id) => values.get(String(id))!); // as tfjs's predict, always a list
        const inputMasks = call.inputs.map((id) => masks.get(String(id)) ?? null);
        const kwargs = inputMasks.some((m) => m !== null) ? { mask: inputMasks[0] } : undefined;
        const result = call.layer.apply(inputs, kwargs) as Tensor | Tensor[];
        const outs = Array.isArray(result) ? result : [result];
        const outMask = call.layer.supportsMasking ? (call.layer.computeMask(inputs, inputMasks as Tensor[]) as Tensor | Tensor[] | null) : null;
        call.outputs.forEach((id, j) => {
          values.set(String(id), this.hook(call.hooks[j], outs[j])); // [layer's output shape]
          masks.set(String(id), Array.isArray(outMask) ? outMask[0] : outMask);
        });
      }
    }
    return values.get(this.outputRef)!;
  }

  // ---------------------------------------------------------------- results

  /** Top-k labels per batch item, for a classifier loaded with `labels`. */
  classify(input: Tensor, k = 3): Prediction[][] {
    const labels = this.options.labels;
    if (!labels) throw new Error(`${this.name} has no labels; load it with { labels: [...] } to classify.`);
    const probs = this.forward(input); // [batch, classes]
    if (probs.rank !== 2 || probs.shape[1] !== labels.length) {
      probs.dispose();
      throw new Error(`${this.name}: output is [${probs.shape}], expected [batch, ${labels.length}] to match ${labels.length} labels.`);
    }
    const result = topK(probs, labels, k);
    probs.dispose();
    return result;
  }

  protected override extendTrace(trace: Trace): Trace {
    return this.options.labels ? appendTopKStep(trace, this.outputHook, this.options.labels) : trace;
  }

  /** Layer table: hook, op or layer class, output shape (from the dry run / layer shapes), parameters. */
  summary(): { name: string; kind: string; outputShape: number[]; params: number }[] {
    return this.hookPoints.map((p) => ({ name: p.name, kind: p.kind, outputShape: this.hookShapes.get(p.name) ?? [], params: this.paramsOf.get(p.name) ?? 0 }));
  }

  /** How many hook points run each op (or layer class): a quick picture of the architecture. */
  opCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const p of this.hookPoints) counts[p.kind] = (counts[p.kind] ?? 0) + 1;
    return counts;
  }

  override toString(): string {
    const ops = Object.entries(this.opCounts())
      .sort((a, b) => b[1] - a[1])
      .map(([op, n]) => `${op} x${n}`)
      .join(', ');
    return (
      `ImportedModel "${this.name}" (${this.format}, ${this.source.file}): ${this.hookNames.length} hook points, ` +
      `${this.parameterCount.toLocaleString('en-US')} float32 parameters\n  input ${this.input.name} [${this.input.shape}] ${this.input.dtype}; output ${this.outputHook}\n  ${ops}`
    );
  }

  /** Shown as the layer table (weighted steps, input and output) when the model is a cell's last value. */
  async toMimeBundle(): Promise<MimeBundle> {
    const rows = this.summary().filter((r) => r.params > 0 || r.name === this.inputHook || r.name === this.outputHook);
    return viewOf('model-summary', { rows, title: `${this.name}: ${this.hookNames.length} hook points, ${this.parameterCount.toLocaleString('en-US')} parameters (weighted steps shown)` }, () => this.toString());
  }

  /**
   * A copy with its own weights and the same hook names (what quantize changes). A GraphModel
   * copy shares the parsed graph and feeds its own variables; a LayersModel copy is rebuilt from
   * the model's config.
   */
  clone(name = `${this.name}-copy`): this {
    const state = this.carriedState('clone'); // throws on a function transform, naming its hook, before anything is allocated
    const Ctor = this.constructor as new (source: ImportedSource, options: ImportedModelOptions) => this;
    let source: ImportedSource;
    if (this.source.kind === 'graph') {
      source = this.source; // the copy feeds its own variables into the shared graph
    } else {
      const original = this.source.model;
      const cls = (original instanceof tf.Sequential ? tf.Sequential : tf.LayersModel) as unknown as typeof tf.LayersModel;
      const rebuilt = cls.fromConfig(cls as never, original.getConfig() as never) as tf.LayersModel;
      source = { kind: 'layers', model: rebuilt, file: this.source.file };
    }
    const copy = new Ctor(source, { ...this.options, name });
    for (const [key, w] of Object.entries(this.weights)) {
      const target = copy.weights[key];
      if (!target || target.shape.join(',') !== w.shape.join(',')) {
        copy.dispose();
        throw new Error(`${this.name}: the copy has no weight "${key}" shaped [${w.shape}]; cannot clone.`);
      }
      target.assign(w); // the copy's own variable now holds this model's values
    }
    if (state) copy.setOptimizationState(state); // quantization, pruning and transforms, exactly as here
    return copy;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.source.kind === 'graph') {
      for (const w of Object.values(this.weights)) w.dispose();
      if (--this.source.users.count === 0) this.source.model.dispose();
    } else {
      this.source.model.dispose(); // disposes its layers' variables (our weights)
    }
  }

  /** The tfjs model underneath (for comparisons against tfjs's own execute / predict). */
  get tfjsModel(): tf.GraphModel | tf.LayersModel {
    return this.source.model;
  }
}

/** `dir/model.json` -> `dir`; `dir/centernet.json` -> `centernet`. */
function defaultName(file: string): string {
  const base = path.basename(file, '.json');
  return base === 'model' ? path.basename(path.dirname(file)) : base;
}

/** Kahn's algorithm over the graph's data and control edges; ties keep the file's order. */
function topologicalOrder(list: GraphDefNode[], nodes: Map<string, GraphDefNode>): GraphDefNode[] {
  const position = new Map(list.map((n, i) => [n.name, i]));
  const waiting = new Map<string, number>();
  const consumers = new Map<string, string[]>();
  for (const n of list) {
    const deps = new Set((n.input ?? []).map((i) => parseRef(i)[0]).filter((d) => position.has(d)));
    waiting.set(n.name, deps.size);
    for (const d of deps) {
      if (!consumers.has(d)) consumers.set(d, []);
      consumers.get(d)!.push(n.name);
    }
  }
  const ready = list.filter((n) => waiting.get(n.name) === 0).map((n) => n.name);
  const order: GraphDefNode[] = [];
  while (ready.length) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const name = ready.shift()!;
    order.push(nodes.get(name)!);
    for (const c of consumers.get(name) ?? []) {
      const left = waiting.get(c)! - 1;
      waiting.set(c, left);
      if (left === 0) ready.push(c);
    }
  }
  if (order.length !== list.length) {
    const stuck = list.filter((n) => (waiting.get(n.name) ?? 0) > 0).map((n) => n.name);
    throw new Error(`The graph has a cycle through ${stuck.slice(0, 3).join(', ')}: only control-flow graphs loop, and those are unsupported.`);
  }
  return order;
}

/** Control flow and data-dependent shapes: tfjs runs them only with executeAsync. */
function rejectAsyncOnlyOps(topology: GraphDef, file: string): void {
  const asyncOnly = topology.node.filter((n) => ASYNC_ONLY_OPS.has(n.op));
  if (asyncOnly.length) {
    const ops = [...new Set(asyncOnly.map((n) => n.op))];
    throw new Error(
      `${file}: unsupported op${ops.length > 1 ? 's' : ''} ${ops.join(', ')} (node "${asyncOnly[0].name}"${asyncOnly.length > 1 ? ` and ${asyncOnly.length - 1} more` : ''}). ` +
        'These are control flow or have data-dependent output shapes, which tfjs runs only with executeAsync; the hooked forward is synchronous. ' +
        'Supported: graphs of ordinary tensor ops (convolutions, matmuls, activations, pooling, reshapes, ...).',
    );
  }
}

/** Name of the model input, its shape (-1 unknown) and dtype, from the graph's signature. */
function inputInfo(model: tf.GraphModel): { name: string; shape: number[]; dtype: tf.DataType } {
  const info = model.inputs[0];
  return { name: info.name, shape: (info.shape ?? []).map((d) => (d === null ? -1 : d)), dtype: info.dtype as tf.DataType };
}

/** Stand-in nodes added by rerouteUnfeedable are named `<node>/__value_<k>`. */
const REROUTE_SUFFIX = '/__value_';
const REROUTED = /\/__value_\d+$/;

/**
 * Make every value feedable: an output tfjs's executor will not take as a feed (one of several
 * used outputs of a node, or a value its feed check rejects) gets an Identity stand-in node, and
 * its consumers read the stand-in, which has no declared dtype to check. The graph is rebuilt
 * once from the same artifacts; values are unchanged (Identity passes its input through).
 */
function rerouteUnfeedable(source: Extract<ImportedSource, { kind: 'graph' }>, dryShape: number[]): void {
  source.rerouted = true;
  const { model, topology } = source;
  const nodes = new Map(topology.node.map((n) => [n.name, n]));
  const used = new Map<string, Set<number>>();
  for (const n of topology.node) {
    for (const i of n.input ?? []) {
      if (i.startsWith('^')) continue;
      const [from, k] = parseRef(i);
      if (!used.has(from)) used.set(from, new Set());
      used.get(from)!.add(k);
    }
  }
  const refs = [...used].filter(([n]) => !['Const', 'NoOp'].includes(nodes.get(n)?.op ?? 'Const')).flatMap(([n, ks]) => [...ks].map((k) => [n, k] as [string, number]));
  const awkward = tf.tidy(() => {
    const input = inputInfo(model);
    let fetched: Tensor[];
    try {
      const out = model.execute(tf.zeros(dryShape, input.dtype), refs.map(([n, k]) => feedKey(n, k))); // [batch, ...] zeros
      fetched = Array.isArray(out) ? out : [out];
    } catch {
      return []; // an op that cannot run: the node-by-node dry run names it
    }
    return refs.filter(([n, k], i) => used.get(n)!.size > 1 || !fetched[i] || !acceptsFeed(model, feedKey(n, k), fetched[i]));
  });
  if (!awkward.length) return;
  const standIn = new Map(awkward.map(([n, k]) => [`${n}:${k}`, `${n}${REROUTE_SUFFIX}${k}`]));
  const rewired = topology.node.map((n) => ({
    ...n,
    input: n.input?.map((i) => (i.startsWith('^') ? i : (standIn.get(parseRef(i).join(':')) ?? i))),
  }));
  for (const [n, k] of awkward) rewired.push({ name: `${n}${REROUTE_SUFFIX}${k}`, op: 'Identity', input: [feedKey(n, k)] });
  const graph: GraphDef = { ...topology, node: rewired };
  const rebuilt = tf.loadGraphModelSync(tf.io.fromMemorySync({ ...source.artifacts, modelTopology: graph }));
  model.dispose();
  source.model = rebuilt as unknown as tf.GraphModel; // the same class; only its loader type differs
  source.topology = graph;
}

/** Whether tfjs's executor accepts `value` fed under `key` (its feed check rejects a few declared dtypes). */
function acceptsFeed(model: tf.GraphModel, key: string, value: Tensor): boolean {
  try {
    model.execute({ [key]: value }, [key]); // returns the fed tensor itself: nothing to free
    return true;
  } catch {
    return false;
  }
}

/** Read model.json + shards and build the tfjs model, without instrumenting it. */
export async function loadImportedSource(fileOrDir: string): Promise<ImportedSource> {
  const file = modelJsonPath(fileOrDir);
  const format = detectFormat(readModelJson(file), file);
  const handler = fileIOHandler(file);
  if (format === 'layers-model') {
    const model = await tf.loadLayersModel(handler).catch((err: Error) => {
      throw new Error(`${file}: tfjs could not build the layers model: ${err.message}`);
    });
    return { kind: 'layers', model, file };
  }
  const artifacts = await handler.load!();
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts)).catch((err: Error) => {
    throw new Error(`${file}: tfjs could not build the graph model: ${err.message}`);
  });
  return { kind: 'graph', model, topology: artifacts.modelTopology as GraphDef, artifacts, file, users: { count: 0 } };
}

/** Load and instrument a TensorFlow.js model (model.json or its folder). */
export function loadImportedModel(fileOrDir: string, options: ImportedModelOptions = {}): Promise<ImportedModel> {
  return ImportedModel.load(fileOrDir, options);
}
