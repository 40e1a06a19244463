import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'fs';
import * as path from 'path';
import {
  tf, initBackend, GPT, GPT_PRESETS, loadModel, readHeldOutText, assetsDir, evaluateLanguageModel,
  prune, pruneHeads, pruneNeurons, headImportance, leastImportantHeads, pruningMasks, fineTunePruned, pruningSweep,
  languageDistillationLoss, trainGptStudent, exportGptToOnnx, heldOutLoss, compare, nextTokenTemperatureView, headImportanceView, pruningMaskView,
  type GPTConfig, type Tensor,
} from '../src/index';

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

beforeAll(async () => {
  await initBackend();
});

const ALPHABET = ' abcdefghijklmnopqrstuvwxyz.\n';
const smallConfig = (over: Partial<GPTConfig> = {}): GPTConfig => ({
  ...GPT_PRESETS.tiny, vocabSize: ALPHABET.length, contextLength: 40, dModel: 16, nLayers: 2, nHeads: 4, dMlp: 24, tokenizer: { kind: 'char', alphabet: ALPHABET }, ...over,
});

/** Random non-trivial weights (biases and LayerNorm parameters too), so every term matters. */
function randomized(config: GPTConfig, seed = 1): GPT {
  const model = new GPT(config, 'test-gpt', seed);
  let s = seed * 100;
  for (const w of Object.values(model.weights)) w.assign(tf.tidy(() => tf.randomNormal(w.shape, 0, 0.5, 'float32', ++s)));
  return model;
}

const TEXT = 'in the beginning god created the heaven and the earth. and the earth was without form, and void.\n'.replace(/,/g, '');
const streamOf = (model: GPT, repeat = 4) => Int32Array.from(model.tokenizer.encode(TEXT.repeat(repeat)));

// ---- plain-number references ------------------------------------------------------------------
const softmax = (z: number[], T = 1) => {
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp((v - top) / T));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
};

/** Mean next-token cross-entropy of the model over consecutive windows, from its logits, by hand. */
function referenceLoss(model: GPT, stream: Int32Array, windows: number): number {
  const n = model.config.contextLength;
  let total = 0;
  let count = 0;
  for (let w = 0; w < windows; w++) {
    const ids = Array.from(stream.subarray(w * n, w * n + n + 1));
    const input = tf.tensor2d(ids.slice(0, n), [1, n], 'int32');
    const logits = model.forward(input);
    const rows = (logits.arraySync() as number[][][])[0];
    tf.dispose([input, logits]);
    rows.forEach((row, p) => {
      total -= Math.log(softmax(row)[ids[p + 1]]);
      count++;
    });
  }
  return total / count;
}

describe('unstructured pruning of a GPT', () => {
  it('per layer: exactly floor(s x n) entries of each block matrix are zeroed, the smallest ones; embeddings and biases untouched', () => {
    const model = randomized(smallConfig());
    const p = prune(model, { sparsity: 0.3, scope: 'layer' });
    const names = Object.keys(p.pruning.sparsity).sort();
    expect(names).toEqual(['blocks.0.attn.W_K', 'blocks.0.attn.W_O', 'blocks.0.attn.W_Q', 'blocks.0.attn.W_V', 'blocks.0.mlp.W_in', 'blocks.0.mlp.W_out', 'blocks.1.attn.W_K', 'blocks.1.attn.W_O', 'blocks.1.attn.W_Q', 'blocks.1.attn.W_V', 'blocks.1.mlp.W_in', 'blocks.1.mlp.W_out']);
    for (const name of names) {
      const original = Array.from(model.weights[name].dataSync());
      const kept = Array.from(p.weights[name].dataSync());
      const zeros = kept.filter((v) => v === 0).length;
      expect(zeros, name).toBe(Math.floor(0.3 * original.length));
      const removed = original.filter((_, i) => kept[i] === 0).map(Math.abs);
      const survivors = original.filter((_, i) => kept[i] !== 0);
      expect(Math.max(...removed), name).toBeLessThanOrEqual(Math.min(...survivors.map(Math.abs)));
      expect(survivors).toEqual(kept.filter((v) => v !== 0)); // survivors keep their exact values
    }
    for (const name of ['embed.W_E', 'pos_embed.W_pos', 'blocks.0.attn.b_Q', 'blocks.1.ln2.w']) expect(maxAbsDiff(model.weights[name], p.weights[name]), name).toBe(0);
    // Sparse storage: non-zeros as float32 + one bit per entry of each pruned matrix; the rest dense.
    const prunedSizes = names.map((n) => model.weights[n].size);
    const zeros = prunedSizes.reduce((s, n) => s + Math.floor(0.3 * n), 0);
    const bitmaps = prunedSizes.reduce((s, n) => s + Math.ceil(n / 8), 0);
    expect(p.pruning.sparseBytes).toBe((model.parameterCount - zeros) * 4 + bitmaps);
    p.dispose();
    model.dispose();
  });

  it('global: one ranking over all block matrices, floor(s x N) zeros in total, every removed |w| below every survivor', () => {
    const model = randomized(smallConfig());
    // Make block 1's MLP input matrix large, so a global threshold spares it.
    model.weights['blocks.1.mlp.W_in'].assign(tf.tidy(() => tf.mul(model.weights['blocks.1.mlp.W_in'], 100)));
    const p = prune(model, { sparsity: 0.5, scope: 'global' });
    const names = Object.keys(p.pruning.sparsity);
    let total = 0;
    let zeros = 0;
    let maxRemoved = 0;
    let minKept = Infinity;
    for (const n of names) {
      const a = model.weights[n].dataSync();
      const b = p.weights[n].dataSync();
      total += a.length;
      for (let i = 0; i < a.length; i++) {
        if (b[i] === 0) {
          zeros++;
          maxRemoved = Math.max(maxRemoved, Math.abs(a[i]));
        } else {
          minKept = Math.min(minKept, Math.abs(a[i]));
        }
      }
    }
    expect(zeros).toBe(Math.floor(0.5 * total));
    expect(maxRemoved).toBeLessThanOrEqual(minKept);
    expect(p.pruning.sparsity['blocks.1.mlp.W_in']).toBeLessThan(0.02);
    expect(p.pruning.sparsity['blocks.0.mlp.W_in']).toBeGreaterThan(0.5);
    p.dispose();
    model.dispose();
  });
});

describe('structured pruning of a GPT', () => {
  it('removing heads computes exactly what ablating them (zeroing their slice of hook_z) computes (1e-5)', () => {
    const model = randomized(smallConfig());
    const heads: [number, number][] = [[0, 1], [1, 0], [1, 3]];
    const p = pruneHeads(model, heads);
    expect(p.config).toEqual({ ...model.config, headsPerBlock: [3, 2] }); // really smaller: block 0 keeps 3 heads, block 1 keeps 2
    expect(p.weights['blocks.0.attn.W_Q'].shape).toEqual([16, 12]);
    expect(p.weights['blocks.1.attn.W_O'].shape).toEqual([8, 16]);
    const ids = model.encode('and god said let there be light');
    const keep = (block: number) => tf.tensor4d([0, 1, 2, 3].map((h) => (heads.some(([b, x]) => b === block && x === h) ? 0 : 1)), [1, 1, 4, 1]);
    const [k0, k1] = [keep(0), keep(1)];
    const ablated = model.runWithHooks(ids, [['blocks.0.attn.hook_z', (z) => tf.mul(z, k0)], ['blocks.1.attn.hook_z', (z) => tf.mul(z, k1)]]);
    const removed = p.forward(ids);
    const intact = model.forward(ids);
    expect(maxAbsDiff(ablated, removed)).toBeLessThan(1e-5);
    expect(maxAbsDiff(intact, removed)).toBeGreaterThan(1e-2); // the heads mattered
    // The kept heads only: 3 of 8 heads gone, each d_head x (4 d_model + 3) numbers.
    const dHead = 16 / 4;
    expect(p.parameterCount).toBe(model.parameterCount - 3 * dHead * (4 * 16 + 3));
    expect(p.pruning.sparseBytes).toBe(p.parameterCount * 4);
    expect(p.pruning.heads).toEqual([[0, 1], [1, 0], [1, 3]]);
    expect(p.pruning.config).toEqual({ structured: { 'blocks.0.attn': 0.25, 'blocks.1.attn': 0.5 } });
    expect(() => pruneHeads(model, [[0, 0], [0, 1], [0, 2], [0, 3]])).toThrow(/every head of block 0/);
    tf.dispose([ids, k0, k1, ablated, removed, intact]);
    p.dispose();
    model.dispose();
  });

  it('removing MLP neurons gives smaller matrices that compute what zeroing those neurons computes (1e-5); the kept ones score highest', () => {
    const model = randomized(smallConfig());
    const p = pruneNeurons(model, 0.25);
    expect(p.config.dMlp).toBe(18);
    expect(p.weights['blocks.0.mlp.W_in'].shape).toEqual([16, 18]);
    expect(p.weights['blocks.0.mlp.W_out'].shape).toEqual([18, 16]);
    expect(p.parameterCount).toBe(model.parameterCount - 2 * 6 * (16 + 1 + 16));
    // Scores by hand: |W_in column| x |W_out row|.
    for (let block = 0; block < 2; block++) {
      const wIn = model.weights[`blocks.${block}.mlp.W_in`].arraySync() as number[][];
      const wOut = model.weights[`blocks.${block}.mlp.W_out`].arraySync() as number[][];
      const score = Array.from({ length: 24 }, (_, j) => Math.hypot(...wIn.map((r) => r[j])) * Math.hypot(...wOut[j]));
      const expected = score.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0]).slice(0, 18).map(([, j]) => j).sort((a, b) => a - b);
      expect(p.pruning.keptNeurons![block]).toEqual(expected);
    }
    const ids = model.encode('and god said let there be light');
    const masks = p.pruning.keptNeurons!.map((kept) => tf.tensor1d(Array.from({ length: 24 }, (_, j) => (kept.includes(j) ? 1 : 0)))); // [d_mlp]
    const ablated = model.runWithHooks(ids, masks.map((m, i): [string, (v: Tensor) => Tensor] => [`blocks.${i}.mlp.hook_post`, (v) => tf.mul(v, m)]));
    const small = p.forward(ids);
    expect(maxAbsDiff(ablated, small)).toBeLessThan(1e-5);
    tf.dispose([ids, ablated, small, ...masks]);
    // Scored by activations on given text: still a valid, smaller model.
    const byActivations = pruneNeurons(model, 0.5, { score: 'activations', stream: streamOf(model) });
    expect(byActivations.config.dMlp).toBe(12);
    byActivations.dispose();
    p.dispose();
    model.dispose();
  });

  it('head importance is the loss increase of the ablated head, the same as the loss of the model with that head removed', () => {
    const model = randomized(smallConfig());
    const stream = streamOf(model);
    const importance = headImportance(model, stream, { windows: 4, progress: false });
    expect(importance.heads).toHaveLength(8);
    expect(importance.baseLoss).toBeCloseTo(referenceLoss(model, stream, 4), 4);
    for (const h of [importance.heads[2], importance.heads[5]]) {
      const removed = pruneHeads(model, [[h.block, h.head]]);
      expect(h.loss).toBeCloseTo(referenceLoss(removed, stream, 4), 4);
      expect(h.increase).toBeCloseTo(h.loss - importance.baseLoss, 10);
      removed.dispose();
    }
    const least = leastImportantHeads(importance, 3);
    const increases = importance.heads.map((h) => h.increase).sort((a, b) => a - b);
    expect(least.map(([b, h]) => importance.heads[b * 4 + h].increase)).toEqual(increases.slice(0, 3));
    const byFraction = pruneHeads(model, { fraction: 0.25, importance });
    expect(byFraction.pruning.heads).toHaveLength(2);
    byFraction.dispose();
    model.dispose();
  });

  it('fine-tuning with masks lowers the loss and keeps every removed weight at zero', () => {
    const model = randomized(smallConfig());
    const stream = streamOf(model, 8);
    for (const pruned of [prune(model, { sparsity: 0.6, scope: 'global' }), pruneHeads(model, [[0, 0], [1, 2]])]) {
      const masks = pruningMasks(pruned);
      const before = evaluateLanguageModel(pruned, stream);
      fineTunePruned(pruned, stream, { steps: 30, learningRate: 3e-3, progress: false });
      expect(evaluateLanguageModel(pruned, stream)).toBeLessThan(before);
      for (const [name, mask] of Object.entries(masks)) {
        const leaked = tf.tidy(() => tf.sum(tf.abs(tf.mul(pruned.weights[name], tf.sub(1, mask)))).dataSync()[0]);
        expect(leaked, name).toBe(0);
      }
      tf.dispose(Object.values(masks));
      pruned.dispose();
    }
    model.dispose();
  });

  it('the sweep scores every method at every fraction, with the share of block weights each removed', () => {
    const model = randomized(smallConfig());
    const stream = streamOf(model);
    const importance = headImportance(model, stream, { windows: 2, progress: false });
    const points = pruningSweep(model, { fractions: [0, 0.5], evaluate: (m) => heldOutLoss(m, stream, { windows: 2 }), importance, stream, progress: false });
    expect(points.map((p) => p.method)).toEqual(['magnitude, per layer', 'magnitude, per layer', 'magnitude, global', 'magnitude, global', 'heads (by ablation importance)', 'heads (by ablation importance)', 'MLP neurons (by weight norms)', 'MLP neurons (by weight norms)', 'MLP neurons (by activations)', 'MLP neurons (by activations)']);
    expect(points[9].removed).toBe(points[7].removed); // the same count of neurons, chosen differently
    const base = heldOutLoss(model, stream, { windows: 2 });
    for (const p of points.filter((x) => x.fraction === 0)) expect(p.metric).toBeCloseTo(base, 6);
    // Block matrices: 2 x (4 x 16 x 16 + 2 x 16 x 24) = 3,584; half the heads = 1/2 of 2,048 attention weights.
    expect(points[5].removed).toBeCloseTo(1024 / 3584, 10);
    expect(points[7].removed).toBeCloseTo((2 * 12 * 2 * 16) / 3584, 10);
    expect(points[1].removed).toBeCloseTo(0.5, 10);
    model.dispose();
  });

  it('bad arguments say what is expected', () => {
    const model = randomized(smallConfig());
    expect(() => pruneHeads(model, [[2, 0]])).toThrow(/head \[2, 0\] does not exist; test-gpt has blocks 0..1 with heads 0..3/);
    expect(() => pruneHeads(model, [[0, 1], [0, 1]])).toThrow(/listed twice/);
    expect(() => pruneNeurons(model, 1)).toThrow(/fraction must be in \[0, 1\), got 1/);
    expect(() => pruneNeurons(model, 0.5, { score: 'activations' })).toThrow(/needs `stream`, validation token ids/);
    expect(() => headImportance(model, Int32Array.from([1, 2, 3]))).toThrow(/shorter than one window of 41/);
    expect(() => headImportance(model, Int32Array.from([1, 99, 3]))).toThrow(/token id 99 at index 1 is outside the vocabulary 0..28/);
    expect(() => pruningSweep(model, { fractions: [0.5], evaluate: () => 0, methods: ['heads (by ablation importance)'] })).toThrow(/needs `importance`/);
    const onlyNeurons = pruningSweep(model, { fractions: { 'MLP neurons (by weight norms)': [0.25] }, evaluate: (m) => m.config.dMlp, progress: false });
    expect(onlyNeurons).toEqual([{ method: 'MLP neurons (by weight norms)', fraction: 0.25, removed: (2 * 6 * 2 * 16) / 3584, metric: 18 }]);
    expect(() => prune(model, { sparsity: 0.5, scope: 'layer', weights: ['blocks.0.attn.W_X'] })).toThrow(/no weight "blocks.0.attn.W_X"/);
    model.dispose();
  });
});

describe('distillation for a GPT', () => {
  it('the loss is alpha T^2 KL + (1 - alpha) CE averaged over every position (hand computation)', () => {
    const student = [[[1, 0, -1, 0.5], [0.2, 0.1, 0, -0.3], [2, -1, 0, 1]], [[0, 0, 0, 0], [1, 2, 3, 4], [-2, 0, 2, 0]]]; // [2, 3, 4]
    const teacher = [[[2, 1, 0, 0], [0, 0.5, 1, 0], [1, 1, -1, 0]], [[0.3, -0.3, 0, 1], [4, 3, 2, 1], [0, 0, 0, 3]]];
    const targets = [[0, 2, 3], [1, 0, 2]];
    const T = 2;
    const alpha = 0.6;
    let total = 0;
    for (let b = 0; b < 2; b++) {
      for (let p = 0; p < 3; p++) {
        const pt = softmax(teacher[b][p], T);
        const ps = softmax(student[b][p], T);
        const kl = pt.reduce((s, v, i) => s + v * Math.log(v / ps[i]), 0);
        const ce = -Math.log(softmax(student[b][p])[targets[b][p]]);
        total += alpha * T * T * kl + (1 - alpha) * ce;
      }
    }
    const [s, t, y] = [tf.tensor3d(student), tf.tensor3d(teacher), tf.tensor2d(targets, [2, 3], 'int32')];
    const before = tf.memory().numTensors;
    const loss = languageDistillationLoss(s, t, y, { alpha, temperature: T });
    expect(loss.dataSync()[0]).toBeCloseTo(total / 6, 5);
    loss.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => languageDistillationLoss(s, tf.zeros([2, 3, 5]), y, { alpha, temperature: T })).toThrow(/same shape/);
    tf.dispose([s, t, y]);
  });

  it('alpha 0 trains exactly as without a teacher (same batches and schedule); a student that equals its teacher has zero loss at alpha 1', () => {
    const teacher = randomized(smallConfig(), 3);
    const stream = streamOf(teacher, 8);
    const schedule = { steps: 8, batchSize: 4, seed: 5, learningRate: 3e-3, warmupSteps: 2, progress: false };
    const a = new GPT(smallConfig(), 'a', 9);
    const b = new GPT(smallConfig(), 'b', 9);
    trainGptStudent(a, stream, schedule);
    trainGptStudent(b, stream, { ...schedule, teacher, distill: { alpha: 0, temperature: 3 } });
    for (const name of Object.keys(a.weights)) expect(maxAbsDiff(a.weights[name], b.weights[name]), name).toBe(0);
    const copy = teacher.clone('copy');
    const [first] = trainGptStudent(copy, stream, { ...schedule, steps: 1, evalEvery: 1, teacher, distill: { alpha: 1, temperature: 2 } });
    expect(Math.abs(first.trainLoss)).toBeLessThan(1e-5); // (later steps move: Adam scales even a tiny gradient up to the learning rate)
    // With a real teacher the student moves towards it: KL to the teacher falls.
    const klToTeacher = (m: GPT) =>
      tf.tidy(() => {
        const ids = tf.tensor2d(stream.subarray(0, 16), [1, 16], 'int32');
        const p = tf.softmax(teacher.forward(ids));
        return tf.sum(tf.mul(p, tf.sub(tf.log(p), tf.logSoftmax(m.forward(ids))))).dataSync()[0];
      });
    const c = new GPT(smallConfig(), 'c', 9);
    const start = klToTeacher(c);
    trainGptStudent(c, stream, { ...schedule, steps: 40, teacher, distill: { alpha: 1, temperature: 1 } });
    expect(klToTeacher(c)).toBeLessThan(0.5 * start);
    for (const m of [a, b, c, copy, teacher]) m.dispose();
  });

  it('refuses a teacher with another vocabulary', () => {
    const teacher = randomized(smallConfig());
    const other = new GPT({ ...smallConfig(), vocabSize: 4, tokenizer: { kind: 'char', alphabet: 'abcd' } }, 'other');
    expect(() => trainGptStudent(other, Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1]), { steps: 1, batchSize: 1, teacher, progress: false })).toThrow(/must share the tokenizer/);
    teacher.dispose();
    other.dispose();
  });
});

describe('compare() for GPT variants', () => {
  it('reports held-out loss (checked by hand), bytes, tfjs and ONNX Runtime latency and per-hook error for each variant', async () => {
    const model = randomized(smallConfig({ dModel: 64, dMlp: 96 })); // big enough that int8 matrices outweigh the ONNX file's overhead
    const stream = streamOf(model, 6);
    const pruned = prune(model, { sparsity: 0.5, scope: 'layer' });
    const neurons = pruneNeurons(model, 0.5);
    const int8 = model.compile('onnx', { quantize: 'int8', threads: 1 });
    const prunedInt8 = neurons.compile('onnx', { quantize: 'int8', threads: 1 });
    const copyModel = model.clone('copy');
    const student = randomized(smallConfig({ dModel: 64, dMlp: 96, nLayers: 1 }), 7); // trained apart: one block, not two
    const latencyInput = tf.tensor2d(stream.subarray(0, 16), [1, 16], 'int32');
    const errorInput = tf.tensor2d(stream.subarray(16, 48), [2, 16], 'int32');
    for (const m of [model, copyModel, pruned, neurons, student]) m.forward(latencyInput).dispose(); // tied models keep one transposed embedding each
    const before = tf.memory().numTensors;
    const report = await compare(model, [
      { label: 'copy', model: copyModel },
      { label: '50% unstructured', model: pruned },
      { label: 'half the MLP neurons', model: neurons },
      { label: 'int8 (ONNX Runtime)', model: int8 },
      { label: 'neurons, then int8', model: prunedInt8 },
      { label: 'student', model: student },
    ], { heldOut: stream, windows: 4, latencyInput, errorInput });
    expect(tf.memory().numTensors).toBe(before);
    const [original, copy, unstructured, small, q, smallQ, apart] = report.rows;
    // A separately built model is compared at its logits only, though its attention patterns have the same shape.
    expect(apart.layers!.map((l) => l.name)).toEqual(['hook_logits']);
    expect(small.layers!.length).toBeGreaterThan(1);
    expect(original.metric).toBeCloseTo(referenceLoss(model, stream, 4), 4);
    expect(unstructured.metric).toBeCloseTo(referenceLoss(pruned, stream, 4), 4);
    expect(original.perplexity).toBeCloseTo(Math.exp(original.metric), 10);
    expect(copy.metric).toBe(original.metric);
    expect(copy.logitsSqnrDb).toBe(Infinity);
    expect(original.bytes).toBe(model.parameterCount * 4);
    expect(unstructured.bytes).toBe(pruned.pruning.sparseBytes);
    expect(small.bytes).toBe(neurons.parameterCount * 4);
    expect(q.bytes).toBeLessThan(0.5 * exportGptToOnnx(model).bytes.length); // int8 matrices in the ONNX file
    expect(smallQ.bytes).toBe(prunedInt8.byteSize); // its own int8 file, not the float source's pruning record
    expect(smallQ.bytes).toBeLessThan(0.5 * small.bytes);
    for (const r of [original, copy, unstructured, small]) {
      expect(r.engine).toBe('tfjs');
      expect(r.latencyMs).toBeGreaterThan(0);
      expect(r.onnxLatencyMs).toBeGreaterThan(0); // compile('onnx') float32
      expect(r.latencyP95Ms!).toBeGreaterThanOrEqual(r.latencyMs!);
    }
    for (const r of [q, smallQ]) {
      expect(r.engine).toMatch(/onnxruntime .*int8/);
      expect(r.latencyMs).toBeNull();
      expect(r.onnxLatencyMs).toBeGreaterThan(0);
    }
    // int8 error is small but not zero; per hook, where shapes match.
    expect(q.logitsSqnrDb).toBeGreaterThan(15);
    expect(Number.isFinite(q.logitsSqnrDb)).toBe(true);
    expect(q.layers!.map((l) => l.name)).toContain('blocks.1.mlp.hook_pre');
    expect(small.layers!.map((l) => l.name)).not.toContain('blocks.0.mlp.hook_pre'); // 48 neurons, not 96
    expect(small.layers!.map((l) => l.name)).toContain('blocks.0.hook_mlp_out');
    expect(small.layers!.find((l) => l.name === 'blocks.0.hook_attn_out')!.sqnrDb).toBe(Infinity); // attention untouched before the first MLP
    expect(report.toString()).toMatch(/half the MLP neurons/);
    const bundle = await report.toMimeBundle();
    expect(Object.keys(bundle).sort()).toEqual(['application/vnd.vegalite.v5+json', 'image/png', 'image/svg+xml', 'text/plain']);
    await expect(compare(model, [{ label: 'x', model: copyModel }], { heldOut: Int32Array.from([9, 1]), latencyInput, errorInput })).rejects.toThrow(/shorter than one window/);
    expect(tf.memory().numTensors).toBe(before); // also when it fails
    tf.dispose([latencyInput, errorInput]);
    for (const m of [copyModel, pruned, neurons, int8, prunedInt8, student, model]) m.dispose();
  });
});

describe('GPT optimization views and leaks', () => {
  it('the temperature view normalises over the whole vocabulary and describes teacher and student', async () => {
    const teacher = randomized(smallConfig(), 2);
    const student = randomized(smallConfig({ dModel: 8, nHeads: 2, nLayers: 1 }), 4);
    const bundle = await nextTokenTemperatureView('the earth was without', { teacher, student }, { topK: 6 });
    const spec = bundle['application/vnd.vegalite.v5+json'] as { data: { values: { model: string; rank: number }[] } };
    expect(spec.data.values.filter((r) => r.model === 'teacher')).toHaveLength(ALPHABET.length); // every character, filtered after normalising
    // The text lists the teacher's top characters with softmax(logits) by hand.
    const ids = teacher.encode('the earth was without');
    const logits = tf.tidy(() => Array.from(tf.slice(teacher.forward(ids), [0, 20, 0], [1, 1, ALPHABET.length]).dataSync()));
    const p = softmax(logits);
    const top = p.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0])[0];
    const shown = teacher.tokenizer.decode([top[1]]).replace(' ', '␣').replace('\n', '↵');
    expect(bundle['text/plain']).toContain(`teacher: ${shown} ${top[0].toFixed(3)}`);
    const importance = headImportance(teacher, streamOf(teacher), { windows: 2, progress: false });
    const heads = await headImportanceView(importance);
    expect(heads['text/plain']).toMatch(/block 1 head 3: \+/);
    const masked = prune(teacher, { sparsity: 0.25, scope: 'layer' });
    const mask = await pruningMaskView(masked.weights['blocks.0.attn.W_O'], 'blocks.0.attn.W_O');
    expect(mask['text/plain']).toMatch(/\[16, 16\], 25\.0% removed/);
    tf.dispose(ids);
    for (const m of [teacher, student, masked]) m.dispose();
  });

  it('pruning, importance, fine-tuning and distillation leak no tensors', () => {
    const model = randomized(smallConfig());
    const stream = streamOf(model, 6);
    model.forward(model.encode('warm')).dispose(); // the tied transposed embedding is made once and kept
    const before = tf.memory().numTensors;
    prune(model, { sparsity: 0.5, scope: 'global' }).dispose();
    pruneHeads(model, [[0, 0]]).dispose();
    pruneNeurons(model, 0.5, { score: 'activations', stream }).dispose();
    headImportance(model, stream, { windows: 2, progress: false });
    const p = prune(model, { sparsity: 0.5, scope: 'layer' });
    const afterPrune = tf.memory().numTensors;
    fineTunePruned(p, stream, { steps: 2, progress: false });
    expect(tf.memory().numTensors).toBe(afterPrune);
    p.dispose();
    const student = new GPT(smallConfig({ dModel: 8, nHeads: 2 }), 'student', 3);
    const withStudent = tf.memory().numTensors;
    trainGptStudent(student, stream, { steps: 2, batchSize: 2, teacher: model, validation: stream, evalEvery: 2, progress: false });
    expect(tf.memory().numTensors).toBe(withStudent + 1); // the student's transposed embedding, made by the validation forward
    student.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('the shipped GPT students', () => {
  const dir = (name: string) => path.join(assetsDir(), name);

  it('the distilled student beats the same student trained without the teacher (same steps, seed, data) on the held-out chapters', () => {
    const distilled = loadModel('tiny-gpt-student-distilled') as GPT;
    const scratch = loadModel('tiny-gpt-student-scratch') as GPT;
    const teacher = loadModel('tiny-gpt') as GPT;
    const [d, s] = ['tiny-gpt-student-distilled', 'tiny-gpt-student-scratch'].map((n) => JSON.parse(fs.readFileSync(path.join(dir(n), 'config.json'), 'utf8')));
    expect(distilled.config).toEqual(scratch.config);
    expect(distilled.parameterCount).toBeLessThan(0.2 * teacher.parameterCount);
    for (const key of ['steps', 'batchSize', 'seed', 'learningRate', 'warmupSteps']) expect(d.training[key], key).toBe(s.training[key]);
    expect(d.teacher.name).toBe('tiny-gpt');
    expect(s.teacher).toBeNull();
    const heldOut = Int32Array.from(teacher.tokenizer.encode(readHeldOutText(dir('tiny-gpt'))));
    const [ld, ls] = [evaluateLanguageModel(distilled, heldOut), evaluateLanguageModel(scratch, heldOut)];
    console.log(`held-out nats/char: distilled ${ld.toFixed(4)}, labels only ${ls.toFixed(4)}`);
    expect(ld).toBeLessThan(ls);
    for (const m of [distilled, scratch, teacher]) m.dispose();
  });
});
