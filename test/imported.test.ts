// Your own model: tfjs LayersModel / GraphModel files loaded without tfjs-node and instrumented.
// References: tfjs itself (model.predict / model.execute on an independently loaded copy), a hand
// computation for a tiny hand-written graph, and what the photos show (a cat, a person).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { onWasm } from './helpers/backend';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  tf, initBackend, backend, quantize, layerErrors, readPng, featureMaps, ImportedModel, fileIOHandler, ObjectDetector,
  centernetModelFile, detectionsView, importedErrorView, type Tensor,
} from '../src/index';

const IMAGES = path.join(__dirname, '..', 'assets', 'images');
let tmp: string;

/** Largest absolute difference of two tensors (any numeric or bool dtype). */
function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(tf.cast(a, 'float32'), tf.cast(b, 'float32')))).dataSync()[0]);
}

beforeAll(async () => {
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imported-test-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ------------------------------------------------------------------ a LayersModel saved to disk

describe('a LayersModel built with tf.layers, saved and loaded back', () => {
  let original: tf.LayersModel;
  let model: ImportedModel;
  const x = () => tf.randomUniform([2, 12, 12, 3], 0, 1, 'float32', 7); // [batch, h, w, ch]

  beforeAll(async () => {
    const input = tf.input({ shape: [12, 12, 3], name: 'pixels' });
    const convA = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'conv_a' }).apply(input) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({ name: 'bn_a' }).apply(convA) as tf.SymbolicTensor;
    const relu = tf.layers.activation({ activation: 'relu', name: 'relu_a' }).apply(bn) as tf.SymbolicTensor;
    const convB = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'conv_b' }).apply(relu) as tf.SymbolicTensor;
    const skip = tf.layers.add({ name: 'skip' }).apply([relu, convB]) as tf.SymbolicTensor;
    const pool = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(skip) as tf.SymbolicTensor;
    const flat = tf.layers.flatten({ name: 'flat' }).apply(pool) as tf.SymbolicTensor;
    const head = tf.sequential({
      name: 'head',
      layers: [tf.layers.dense({ units: 8, activation: 'relu', inputShape: [216], name: 'hidden' }), tf.layers.dense({ units: 4, activation: 'softmax', name: 'probs' })],
    });
    original = tf.model({ inputs: input, outputs: head.apply(flat) as tf.SymbolicTensor, name: 'tiny' });
    // Seeded, non-trivial values everywhere (batch norm included), so every layer matters (seed 0 means "unseeded" to tfjs).
    original.setWeights(original.weights.map((w, i) => (w.name.includes('variance') ? tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', i + 1) : tf.randomNormal(w.shape as number[], 0, 0.5, 'float32', i + 1))));
    await original.save(fileIOHandler(path.join(tmp, 'tiny')));
    model = await ImportedModel.load(path.join(tmp, 'tiny'));
  });
  afterAll(() => {
    model.dispose();
    original.dispose();
  });

  it('names a hook point after every layer, nested model included, with the layer class as kind', () => {
    expect(model.format).toBe('layers-model');
    expect(model.hookNames).toEqual([
      'pixels.hook_out', 'conv_a.hook_out', 'bn_a.hook_out', 'relu_a.hook_out', 'conv_b.hook_out', 'skip.hook_out',
      'pool.hook_out', 'flat.hook_out', 'head.hidden.hook_out', 'head.probs.hook_out',
    ]);
    expect(model.getHookPoint('conv_b.hook_out').kind).toBe('Conv2D');
    expect(model.getHookPoint('head.hidden.hook_out').shape).toBe('[batch, 8]');
    expect(Object.keys(model.weights)).toContain('head.hidden.kernel');
    expect(model.parameterCount).toBe(original.countParams());
  });

  it('forward equals tfjs predict of the model that was saved', () => {
    const input = x();
    const ours = model.forward(input);
    const reference = original.predict(input) as Tensor;
    expect(maxDiff(ours, reference)).toBeLessThan(1e-5);
    tf.dispose([input, ours, reference]);
  });

  it('every hook value equals what tfjs computes for that layer', () => {
    const input = x();
    const [out, cache] = model.runWithCache(input);
    const upTo = (layer: string) => tf.model({ inputs: original.inputs, outputs: original.getLayer(layer).output as tf.SymbolicTensor });
    for (const layer of ['conv_a', 'bn_a', 'relu_a', 'conv_b', 'skip', 'pool', 'flat']) {
      const reference = upTo(layer).predict(input) as Tensor;
      expect(maxDiff(cache.get(`${layer}.hook_out`), reference)).toBeLessThan(1e-5);
      reference.dispose();
    }
    const head = original.getLayer('head') as tf.Sequential;
    const flat = upTo('flat').predict(input) as Tensor;
    const hidden = tf.model({ inputs: head.inputs, outputs: head.getLayer('hidden').output as tf.SymbolicTensor }).predict(flat) as Tensor;
    expect(maxDiff(cache.get('head.hidden.hook_out'), hidden)).toBeLessThan(1e-5);
    expect(maxDiff(cache.get('pixels.hook_out'), input)).toBe(0);
    tf.dispose([input, out, flat, hidden]);
    cache.dispose();
  });

  it('a patched value reaches everything downstream: zeroing relu_a equals tfjs on a zero input there', () => {
    const input = x();
    const clean = model.forward(input);
    const patched = model.runWithHooks(input, [['relu_a.hook_out', (v) => tf.zerosLike(v)]]);
    // Reference: tfjs's own predict on a graph that starts at relu_a's output and shares the layers after it.
    const start = tf.input({ shape: [12, 12, 6] });
    const convB = original.getLayer('conv_b').apply(start) as tf.SymbolicTensor;
    const skip = original.getLayer('skip').apply([start, convB]) as tf.SymbolicTensor;
    const tail = ['pool', 'flat', 'head'].reduce((t, name) => original.getLayer(name).apply(t) as tf.SymbolicTensor, skip);
    const zeros = tf.zeros([2, 12, 12, 6]);
    const reference = tf.model({ inputs: start, outputs: tail }).predict(zeros) as Tensor;
    expect(maxDiff(patched, reference)).toBeLessThan(1e-5);
    expect(maxDiff(patched, clean)).toBeGreaterThan(1e-3);
    const same = model.runWithHooks(input, [['relu_a.hook_out', (v) => tf.clone(v)]]);
    expect(maxDiff(same, clean)).toBe(0);
    tf.dispose([input, clean, patched, zeros, reference, same]);
  });

  it('quantizes to int8 weights with per-layer error, leaving the original untouched', () => {
    const input = x();
    const before = model.forward(input);
    const q = quantize(model, { bits: 8, symmetric: true, perChannel: true, activations: 'none', progress: false });
    expect(q.hookNames).toEqual(model.hookNames);
    expect(q.byteSize).toBeLessThan(model.byteSize / 3);
    const after = model.forward(input);
    expect(maxDiff(after, before)).toBe(0); // the copy has its own variables
    const errors = layerErrors(model, q, input);
    const conv = errors.find((e) => e.name === 'conv_a.hook_out')!;
    expect(conv.sqnrDb).toBeGreaterThan(30); // int8 per channel: roughly 6 dB per bit
    expect(Number.isFinite(conv.sqnrDb)).toBe(true); // the weights did change
    const isolated = layerErrors(model, q, input, 'isolated');
    expect(isolated.map((e) => e.name)).toEqual(model.hookNames);
    expect(errors[errors.length - 1].sqnrDb).toBeGreaterThan(25); // still close after five quantized layers
    q.dispose();
    tf.dispose([input, before, after]);
  });

  it('rejects a wrong input shape saying what it expects', () => {
    const wrong = tf.zeros([1, 10, 10, 3]);
    expect(() => model.forward(wrong)).toThrow(/expects input "pixels.*" shaped \[\?, 12, 12, 3\] float32.*got \[1,10,10,3\]/);
    wrong.dispose();
  });

  it('leaks no tensors: forward, cache, trace, patch', () => {
    const input = x();
    const start = tf.memory().numTensors;
    model.forward(input).dispose();
    const [out, cache] = model.runWithCache(input);
    out.dispose();
    cache.dispose();
    model.trace(input).dispose();
    model.runWithHooks(input, [['conv_a.hook_out', (v) => tf.mul(v, 0)]]).dispose();
    expect(tf.memory().numTensors).toBe(start);
    input.dispose();
  });
});

// ------------------------------------------------------------------ a hand-written GraphModel

type NodeDef = { name: string; op: string; input?: string[]; attr?: Record<string, unknown> };
const FLOAT = { type: 'DT_FLOAT' };

/** Write a GraphDef model.json + weights.bin by hand (what tensorflowjs_converter produces). */
function writeGraph(dir: string, nodes: NodeDef[], weights: { name: string; shape: number[]; dtype: 'float32' | 'int32'; values: number[] }[], extra: Record<string, unknown> = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  const buffers = weights.map((w) => Buffer.from((w.dtype === 'int32' ? Int32Array.from(w.values) : Float32Array.from(w.values)).buffer));
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat(buffers));
  const consts: NodeDef[] = weights.map((w) => ({ name: w.name, op: 'Const', attr: { dtype: { type: w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' }, value: { tensor: { dtype: w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: w.shape.map((d) => ({ size: String(d) })) } } } } }));
  const json = {
    format: 'graph-model',
    generatedBy: 'hand',
    convertedBy: 'test/imported.test.ts',
    modelTopology: { node: [...consts, ...nodes], versions: { producer: 1 } },
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }],
    ...extra,
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  return dir;
}

const W = Array.from({ length: 24 }, (_, i) => Math.sin(i + 1) * 0.8); // [4, 6]
const B = [0.1, -0.2, -0.3, -0.4, 0.5, -0.6];
const placeholder: NodeDef = { name: 'x', op: 'Placeholder', attr: { dtype: FLOAT, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }] } } } };
const weightsOfTiny = [
  { name: 'w', shape: [4, 6], dtype: 'float32' as const, values: W },
  { name: 'b', shape: [6], dtype: 'float32' as const, values: B },
  { name: 'axis', shape: [], dtype: 'int32' as const, values: [1] },
  { name: 'zero', shape: [], dtype: 'float32' as const, values: [0] },
];
/** x -> matmul -> bias -> relu -> split in two -> add the halves -> (+1 where the sum is 0). */
const tinyNodes: NodeDef[] = [
  placeholder,
  { name: 'mm', op: 'MatMul', input: ['x', 'w'], attr: { T: FLOAT, transpose_a: { b: false }, transpose_b: { b: false } } },
  { name: 'bias', op: 'BiasAdd', input: ['mm', 'b'], attr: { T: FLOAT } },
  { name: 'relu', op: 'Relu', input: ['bias'], attr: { T: FLOAT } },
  { name: 'split', op: 'Split', input: ['axis', 'relu'], attr: { T: FLOAT, num_split: { i: '2' } } },
  { name: 'sum', op: 'AddV2', input: ['split', 'split:1'], attr: { T: FLOAT } },
  { name: 'is_zero', op: 'Equal', input: ['sum', 'zero'], attr: { T: FLOAT } },
  { name: 'flag', op: 'Cast', input: ['is_zero'], attr: { SrcT: { type: 'DT_BOOL' }, DstT: FLOAT } },
  { name: 'out', op: 'AddV2', input: ['sum', 'flag'], attr: { T: FLOAT } },
];

/** The same computation by hand: h = relu(xW + b); s = h[:, :3] + h[:, 3:]; out = s + (s == 0). */
function byHand(rows: number[][], patchSecondHalf?: number): { sum: number[][]; out: number[][] } {
  const sum = rows.map((row) => {
    const h = B.map((b, j) => Math.max(0, row.reduce((acc, v, i) => acc + v * W[i * 6 + j], b)));
    return [0, 1, 2].map((j) => h[j] + (patchSecondHalf ?? h[j + 3]));
  });
  return { sum, out: sum.map((r) => r.map((v) => v + (v === 0 ? 1 : 0))) };
}

describe('a hand-written GraphModel', () => {
  let model: ImportedModel;
  const rows = [
    [1, -2, 0.5, 3],
    [0, 0, 0, 0], // units 2 and 5 get only negative biases: their sum is 0 and the Equal branch fires
  ];

  beforeAll(async () => {
    model = await ImportedModel.load(writeGraph(path.join(tmp, 'graph'), tinyNodes, weightsOfTiny));
  });
  afterAll(() => model.dispose());

  it('has a hook per node output, named after the nodes, and matches a hand computation and tfjs', async () => {
    expect(model.hookNames).toEqual(['x.hook_out', 'mm.hook_out', 'bias.hook_out', 'relu.hook_out', 'split.hook_out', 'split.hook_out_1', 'sum.hook_out', 'is_zero.hook_out', 'flag.hook_out', 'out.hook_out']);
    const x = tf.tensor2d(rows); // [batch, 4]
    const ours = model.forward(x);
    const expected = byHand(rows);
    expect(maxDiff(ours, tf.tensor2d(expected.out))).toBeLessThan(1e-5);
    expect([expected.sum[1][2], expected.out[1][2]]).toEqual([0, 1]); // the second row really takes the Equal branch
    const reference = await tf.loadGraphModel(fileIOHandler(path.join(tmp, 'graph')));
    const tfjsOut = reference.execute(x) as Tensor;
    expect(maxDiff(ours, tfjsOut)).toBeLessThan(1e-5);
    const [, cache] = model.runWithCache(x);
    expect(cache.get('is_zero.hook_out').dtype).toBe('bool');
    const tfjsSplit = reference.execute(x, ['split:1', 'is_zero']) as Tensor[];
    expect(maxDiff(cache.get('split.hook_out_1'), tfjsSplit[0])).toBe(0);
    expect(maxDiff(cache.get('is_zero.hook_out'), tfjsSplit[1])).toBe(0);
    cache.dispose();
    reference.dispose();
    tf.dispose([x, ours, tfjsOut, ...tfjsSplit]);
  });

  it('patches outputs tfjs cannot take as feeds (a second output of Split, the bool of Equal)', () => {
    const x = tf.tensor2d(rows);
    const halfPatched = model.runWithHooks(x, [['split.hook_out_1', (v) => tf.fill(v.shape, 2)]]);
    expect(maxDiff(halfPatched, tf.tensor2d(byHand(rows, 2).out))).toBeLessThan(1e-5);
    const flagPatched = model.runWithHooks(x, [['is_zero.hook_out', (v) => tf.onesLike(v).cast('bool')]]);
    expect(maxDiff(flagPatched, tf.add(tf.tensor2d(byHand(rows).sum), 1))).toBeLessThan(1e-5);
    tf.dispose([x, halfPatched, flagPatched]);
  });

  it('quantizes the matrix and reports the error at the matmul', () => {
    const x = tf.tensor2d(rows);
    const q = quantize(model, { bits: 8, symmetric: true, perChannel: false, activations: 'none', progress: false });
    expect(Object.keys(q.quantization.packed)).toEqual(['w']);
    const errors = layerErrors(model, q, x);
    expect(errors.find((e) => e.name === 'mm.hook_out')!.sqnrDb).toBeGreaterThan(30);
    q.dispose();
    x.dispose();
  });

  it('rejects a wrong input shape saying what it expects', () => {
    const wrong = tf.zeros([2, 5]);
    expect(() => model.forward(wrong)).toThrow('expects input "x" shaped [?, 4] float32 (? = any size), got [2,5] float32');
    wrong.dispose();
  });

  it('leaks no tensors: forward, cache, trace, patch', () => {
    const x = tf.tensor2d(rows);
    const start = tf.memory().numTensors;
    model.forward(x).dispose();
    const [out, cache] = model.runWithCache(x);
    out.dispose();
    cache.dispose();
    model.trace(x).dispose();
    model.runWithHooks(x, [['split.hook_out', (v) => tf.mul(v, 0)]]).dispose();
    expect(tf.memory().numTensors).toBe(start);
    x.dispose();
  });
});

// ------------------------------------------------------------------ clear errors

describe('unsupported ops and formats give clear errors', () => {
  const load = (name: string, nodes: NodeDef[], weights = weightsOfTiny, extra = {}) => ImportedModel.load(writeGraph(path.join(tmp, name), nodes, weights, extra));

  it('an op tfjs does not know, naming node and op', async () => {
    const nodes = [placeholder, { name: 'mystery', op: 'MyCustomOp', input: ['x'], attr: { T: FLOAT } }];
    await expect(load('custom', nodes)).rejects.toThrow(/node "mystery" \(op MyCustomOp\) failed.*no implementation of this op/);
  });

  it('an op whose kernel the running backend lacks (Einsum on wasm), naming node, op and backend', () => onWasm(async () => {
    expect(backend()).toBe('wasm'); // the project's default backend, which has no Einsum kernel (tfjs-node has one)
    const nodes = [placeholder, { name: 'contract', op: 'Einsum', input: ['x', 'w'], attr: { T: FLOAT, N: { i: '2' }, equation: { s: Buffer.from('ij,jk->ik').toString('base64') } } }];
    await expect(load('einsum', nodes)).rejects.toThrow(/node "contract" \(op Einsum\) failed on the wasm backend.*no kernel/);
  }));

  it('control flow or data-dependent shapes (tfjs runs them only asynchronously)', async () => {
    const nodes = [placeholder, { name: 'positive', op: 'Where', input: ['x'], attr: { T: FLOAT } }];
    await expect(load('where', nodes)).rejects.toThrow(/unsupported op Where \(node "positive"\).*executeAsync/);
  });

  it('a real model with loops and non-max suppression (handtrack, shipped beside the detector)', async () => {
    const handtrack = path.join(path.dirname(centernetModelFile()), 'handtrack.json');
    await expect(ImportedModel.load(handtrack)).rejects.toThrow(/unsupported ops .*(Merge|Enter|NonMaxSuppressionV5)/);
  });

  it('an unknown format, a weights manifest without topology, and text that is not JSON', async () => {
    const dir = path.join(tmp, 'formats');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'odd.json'), JSON.stringify({ format: 'onnx-model', modelTopology: { graph: {} }, weightsManifest: [] }));
    await expect(ImportedModel.load(path.join(dir, 'odd.json'))).rejects.toThrow(/unknown model format "onnx-model".*Expected "layers-model".*or "graph-model"/);
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify([{ paths: ['a.bin'], weights: [] }]));
    await expect(ImportedModel.load(path.join(dir, 'manifest.json'))).rejects.toThrow(/weights manifest only .* no model topology/);
    fs.writeFileSync(path.join(dir, 'broken.json'), '{"modelTopology": ');
    await expect(ImportedModel.load(path.join(dir, 'broken.json'))).rejects.toThrow(/not valid JSON/);
    await expect(ImportedModel.load(path.join(dir, 'nothing-here'))).rejects.toThrow(/No TensorFlow.js model at/);
  });

  it('a missing or truncated weight shard', async () => {
    const dir = writeGraph(path.join(tmp, 'shards'), tinyNodes, weightsOfTiny);
    const bin = path.join(dir, 'weights.bin');
    const bytes = fs.readFileSync(bin);
    fs.writeFileSync(bin, bytes.subarray(0, 40));
    await expect(ImportedModel.load(dir)).rejects.toThrow(/hold 40 bytes, but its weightsManifest lists tensors needing 128: a shard is truncated/);
    fs.rmSync(bin);
    await expect(ImportedModel.load(dir)).rejects.toThrow(/Missing weight shard "weights.bin"/);
  });

  it('a model with two inputs', async () => {
    const second = { ...placeholder, name: 'y' };
    const nodes = [placeholder, second, { name: 'both', op: 'AddV2', input: ['x', 'y'], attr: { T: FLOAT } }];
    await expect(load('two-inputs', nodes)).rejects.toThrow(/has 2 inputs \(x, y\)/);
  });
});

// ------------------------------------------------------------------ a real pretrained model

describe('CenterNet (COCO object detector from @vladmandic/human) on public-domain photos', () => {
  let detector: ObjectDetector;
  let reference: tf.GraphModel; // the same files loaded by tfjs alone, not rerouted or instrumented
  let cat: Tensor;
  let astronaut: Tensor;

  beforeAll(async () => {
    detector = await ObjectDetector.loadDetector();
    reference = await tf.loadGraphModel(fileIOHandler(centernetModelFile()));
    cat = readPng(path.join(IMAGES, 'chelsea.png')); // [1, 300, 451, 4]
    astronaut = readPng(path.join(IMAGES, 'astronaut.png')); // [1, 512, 512, 4]
  });
  afterAll(() => {
    detector.dispose();
    reference.dispose();
    tf.dispose([cat, astronaut]);
  });

  it('finds the cat in chelsea.png and the person in astronaut.png', () => {
    const [top] = detector.detect(cat);
    expect(top.label).toBe('cat');
    expect(top.score).toBeGreaterThan(0.3);
    const [person] = detector.detect(astronaut);
    expect(person.label).toBe('person');
    expect(person.box[3]).toBeGreaterThan(0.8 * 512); // she fills the picture from top to bottom
  });

  it('forward and every node equal tfjs execute on the original graph', () => {
    const [out, cache] = detector.runWithCache(cat);
    const graphInput = cache.get('images.hook_out'); // [1, 512, 512, 3] after letterbox + resize
    expect(graphInput.shape).toEqual([1, 512, 512, 3]);
    const tfjsOut = reference.execute(graphInput, 'tower_0/detections') as Tensor;
    expect(maxDiff(out, tfjsOut)).toBeLessThan(1e-5);
    const names = detector.modelHookNames.slice(1);
    const fetch = names.map((n) => `${detector.nodeOf(n)}${/hook_out_(\d+)$/.exec(n) ? `:${/hook_out_(\d+)$/.exec(n)![1]}` : ''}`);
    expect(fetch).toContain('tower_0/TopKV2:1');
    const values = reference.execute(graphInput, fetch) as Tensor[];
    let worst = 0;
    names.forEach((n, i) => (worst = Math.max(worst, maxDiff(cache.get(n), values[i]))));
    expect(worst).toBeLessThan(1e-5);
    expect(names.length).toBeGreaterThan(270);
    tf.dispose([out, tfjsOut, ...values]);
    cache.dispose();
  });

  it('a patch changes everything downstream, as tfjs computes it with that node fed', () => {
    const node = 'MobilenetV3.expanded_conv_10.squeeze_excite.Conv.Relu.hook_out';
    const [clean, cache] = detector.runWithCache(cat, { names: ['images.hook_out'] });
    const patched = detector.runWithHooks(cat, [[node, (v) => tf.zerosLike(v)]]);
    const feedName = detector.nodeOf(node);
    const zeros = tf.zeros((detector.summary().find((r) => r.name === node)!).outputShape);
    const expected = reference.execute({ 'tower_0/images': cache.get('images.hook_out'), [feedName]: zeros }, 'tower_0/detections') as Tensor;
    expect(maxDiff(patched, expected)).toBeLessThan(1e-5);
    expect(maxDiff(patched, clean)).toBeGreaterThan(1);
    const same = detector.runWithHooks(cat, [[node, (v) => tf.clone(v)]]);
    expect(maxDiff(same, clean)).toBe(0);
    tf.dispose([clean, patched, zeros, expected, same]);
    cache.dispose();
  });

  it('int8 weights keep the cat, with the error shown at every weighted op', async () => {
    const q = quantize(detector, { bits: 8, symmetric: true, perChannel: true, activations: 'none', progress: false });
    expect(q).toBeInstanceOf(ObjectDetector);
    expect(q.byteSize).toBeLessThan(detector.byteSize / 3);
    const [top] = q.detect(cat);
    expect(top.label).toBe('cat');
    const errors = layerErrors(detector, q, cat);
    const weighted = errors.filter((e) => detector.activationQuantPoints.includes(e.name) && e.name !== 'images.hook_out');
    expect(weighted.length).toBeGreaterThan(80);
    expect(weighted.every((e) => Number.isFinite(e.sqnrDb))).toBe(true);
    expect(weighted[0].sqnrDb).toBeGreaterThan(40); // the first conv: int8 error only
    // Depthwise filters are quantized per input channel; per tensor they lose ~20 dB (folded batch norm).
    const depthwise = weighted.find((e) => e.kind === 'FusedDepthwiseConv2dNative')!;
    expect(depthwise.sqnrDb).toBeGreaterThan(25);
    const view = await importedErrorView(detector, errors, null, 'CenterNet, int8 weights');
    expect(view['image/png']!.length).toBeGreaterThan(1000);
    expect(view['text/plain']).toContain('Conv.BatchNorm.FusedBatchNorm');
    q.dispose();
  });

  it('draws the detections and feature maps', async () => {
    const detections = detector.detect(cat);
    const bundle = await detectionsView(cat, detections, 'chelsea.png');
    expect(bundle['text/plain']).toMatch(/1\. cat \d+%/);
    expect(Buffer.from(bundle['image/png']!, 'base64').subarray(1, 4).toString()).toBe('PNG');
    const [out, cache] = detector.runWithCache(cat, { names: ['MobilenetV3.Conv.hard_swish.mul_1.hook_out'] });
    const maps = await featureMaps(cache.get('MobilenetV3.Conv.hard_swish.mul_1.hook_out'), 'first conv');
    expect(maps['text/plain']).toContain('16 maps of 256x256');
    out.dispose();
    cache.dispose();
  });

  it('ends a trace with the decoded detections, and rejects a photo of the wrong shape', () => {
    const trace = detector.trace(cat);
    expect(trace.steps[0].name).toBe('pre.hook_raw');
    expect(trace.steps[trace.steps.length - 1].note).toMatch(/^cat \d+%/);
    trace.dispose();
    const grey = tf.zeros([1, 64, 64]);
    expect(() => detector.forward(grey)).toThrow(/expects one photo shaped \[1, height, width, 3 or 4\]/);
    grey.dispose();
  });

  it('leaks no tensors: forward, cache, trace, patch', () => {
    const start = tf.memory().numTensors;
    detector.forward(cat).dispose();
    const [out, cache] = detector.runWithCache(cat);
    out.dispose();
    cache.dispose();
    detector.trace(cat).dispose();
    detector.runWithHooks(cat, [['TopKV2.hook_out', (v) => tf.mul(v, 0.5)]]).dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
