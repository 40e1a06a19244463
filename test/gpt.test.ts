import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, initBackend, type Tensor } from '../src/index';
import { GPT, GPT_PRESETS, KVCache, samplingDistribution, drawToken, type GPTConfig } from '../src/models/gpt';
import { CharTokenizer, Gpt2Tokenizer } from '../src/data/tokenizers';
import { matMulTrainable } from '../src/engine/ops';
import { trainLanguageModel, evaluateLanguageModel, learningRateAt } from '../src/train/language-model';
import { WeightsError } from '../src/io/safetensors';

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

beforeAll(async () => {
  await initBackend();
});

const ALPHABET = ' abcdefghijklmnopqrstuvwxyz.\n';
const tinyConfig = (over: Partial<GPTConfig> = {}): GPTConfig => ({
  ...GPT_PRESETS.tiny, vocabSize: ALPHABET.length, contextLength: 16, dModel: 8, nLayers: 2, nHeads: 2, dMlp: 12, tokenizer: { kind: 'char', alphabet: ALPHABET }, ...over,
});

/** Random non-trivial weights (biases and LayerNorm parameters too), so every term matters. */
function randomized(config: GPTConfig, seed = 1): GPT {
  const model = new GPT(config, 'test-gpt', seed);
  let s = seed * 100;
  for (const w of Object.values(model.weights)) w.assign(tf.tidy(() => tf.randomNormal(w.shape, 0, 0.5, 'float32', ++s)));
  return model;
}

// ---- an independent reference: the GPT forward written out with plain loops over numbers ----
type Matrix = number[][];
const rows = (t: Tensor) => t.arraySync() as Matrix;
const vec = (t: Tensor) => Array.from(t.dataSync());
const matmul = (a: Matrix, b: Matrix): Matrix => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const addBias = (a: Matrix, b: number[]) => a.map((r) => r.map((v, j) => v + b[j]));
function layerNorm(x: Matrix, w: number[], b: number[], eps: number): Matrix {
  return x.map((r) => {
    const mean = r.reduce((s, v) => s + v, 0) / r.length;
    const variance = r.reduce((s, v) => s + (v - mean) ** 2, 0) / r.length;
    return r.map((v, j) => ((v - mean) / Math.sqrt(variance + eps)) * w[j] + b[j]);
  });
}
const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

function referenceLogits(model: GPT, ids: number[]): Matrix {
  const c = model.config;
  const W = (n: string) => model.weights[n];
  const dHead = c.dModel / c.nHeads;
  let x: Matrix = ids.map((id, p) => rows(W('embed.W_E'))[id].map((v, j) => v + rows(W('pos_embed.W_pos'))[p][j]));
  for (let l = 0; l < c.nLayers; l++) {
    const b = `blocks.${l}`;
    const h = layerNorm(x, vec(W(`${b}.ln1.w`)), vec(W(`${b}.ln1.b`)), c.layerNormEps);
    const q = addBias(matmul(h, rows(W(`${b}.attn.W_Q`))), vec(W(`${b}.attn.b_Q`)));
    const k = addBias(matmul(h, rows(W(`${b}.attn.W_K`))), vec(W(`${b}.attn.b_K`)));
    const v = addBias(matmul(h, rows(W(`${b}.attn.W_V`))), vec(W(`${b}.attn.b_V`)));
    const z: Matrix = ids.map(() => new Array(c.dModel).fill(0));
    for (let head = 0; head < c.nHeads; head++) {
      const cols = Array.from({ length: dHead }, (_, j) => head * dHead + j);
      for (let i = 0; i < ids.length; i++) {
        const scores = Array.from({ length: i + 1 }, (_, j) => cols.reduce((s, col) => s + q[i][col] * k[j][col], 0) / Math.sqrt(dHead));
        const top = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - top));
        const total = e.reduce((a, s) => a + s, 0);
        for (const col of cols) z[i][col] = e.reduce((s, w, j) => s + (w / total) * v[j][col], 0);
      }
    }
    const attnOut = addBias(matmul(z, rows(W(`${b}.attn.W_O`))), vec(W(`${b}.attn.b_O`)));
    x = x.map((r, i) => r.map((val, j) => val + attnOut[i][j]));
    const h2 = layerNorm(x, vec(W(`${b}.ln2.w`)), vec(W(`${b}.ln2.b`)), c.layerNormEps);
    const pre = addBias(matmul(h2, rows(W(`${b}.mlp.W_in`))), vec(W(`${b}.mlp.b_in`)));
    const mlpOut = addBias(matmul(pre.map((r) => r.map(geluTanh)), rows(W(`${b}.mlp.W_out`))), vec(W(`${b}.mlp.b_out`)));
    x = x.map((r, i) => r.map((val, j) => val + mlpOut[i][j]));
  }
  const final = layerNorm(x, vec(W('ln_final.w')), vec(W('ln_final.b')), c.layerNormEps);
  const unembed = c.tiedEmbeddings ? rows(W('embed.W_E')).reduce((t: Matrix, r, i) => (r.forEach((v, j) => ((t[j] ??= [])[i] = v)), t), []) : rows(W('unembed.W_U'));
  return matmul(final, unembed);
}

describe('tokenizers', () => {
  it('characters: encode/decode round trip; an unknown character is named', () => {
    const tok = CharTokenizer.fromText('hello world');
    expect(tok.alphabet).toBe(' dehlorw');
    expect(tok.encode('hello')).toEqual([3, 2, 4, 4, 5]); // positions in ' dehlorw'
    expect(tok.decode(tok.encode('we hold the door'.replace(/[^ dehlorw]/g, '')))).toBe('we hold he door');
    expect(() => tok.encode('hi!')).toThrow(/"i" is not in this model's alphabet/);
    expect(() => tok.pieces([99])).toThrow(/outside this alphabet/);
  });

  it("GPT-2 BPE gives GPT-2's published ids, offline", () => {
    const tok = new Gpt2Tokenizer();
    expect(tok.encode('Hello world')).toEqual([15496, 995]); // the ids every GPT-2 tutorial shows
    expect(tok.encode('a<|endoftext|>b')).toEqual([64, 50256, 65]); // the special token, as Hugging Face encodes it
    expect(tok.decode([15496, 995, 50256])).toBe('Hello world<|endoftext|>');
    expect(tok.pieces([15496, 995])).toEqual(['Hello', ' world']);
    expect(() => tok.decode([50257])).toThrow(/outside GPT-2's vocabulary/);
  });
});

describe('GPT forward', () => {
  it('equals a plain-loop reference implementation (untied and tied), to 1e-4', () => {
    for (const tiedEmbeddings of [false, true]) {
      const model = randomized(tinyConfig({ tiedEmbeddings }), tiedEmbeddings ? 2 : 3);
      const ids = model.tokenizer.encode('the cat.\nsat');
      const input = tf.tensor2d(ids, [1, ids.length], 'int32');
      const logits = model.forward(input); // [1, pos, vocab]
      const expected = tf.tensor3d([referenceLogits(model, ids)]);
      const diff = maxAbsDiff(logits, expected);
      console.log(`GPT (tied ${tiedEmbeddings}) vs plain-loop reference: max |difference| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-4);
      tf.dispose([input, logits, expected]);
      model.dispose();
    }
  });

  it('is causal: changing a later token leaves earlier logits unchanged', () => {
    const model = randomized(tinyConfig());
    const a = model.encode('abcdefgh');
    const b = model.encode('abcdezzz');
    const [la, lb] = [model.forward(a), model.forward(b)];
    const early = (t: Tensor) => tf.slice(t, [0, 0, 0], [1, 5, -1]);
    expect(maxAbsDiff(early(la), early(lb))).toBe(0);
    expect(maxAbsDiff(la, lb)).toBeGreaterThan(1e-3);
    tf.dispose([a, b, la, lb]);
    model.dispose();
  });

  it('has the TransformerLens hook names; patterns are causal distributions; shorthand lookup works', () => {
    const model = randomized(tinyConfig());
    for (const name of ['hook_embed', 'hook_pos_embed', 'blocks.0.hook_resid_pre', 'blocks.0.ln1.hook_normalized', 'blocks.0.attn.hook_q', 'blocks.0.attn.hook_k', 'blocks.0.attn.hook_v', 'blocks.0.attn.hook_attn_scores', 'blocks.0.attn.hook_pattern', 'blocks.0.attn.hook_z', 'blocks.0.hook_attn_out', 'blocks.1.mlp.hook_pre', 'blocks.1.mlp.hook_post', 'blocks.1.hook_resid_post', 'ln_final.hook_normalized', 'hook_logits']) {
      expect(model.hookNames).toContain(name);
    }
    const ids = model.encode('hello');
    const [logits, cache] = model.runWithCache(ids, { names: (n) => n.endsWith('hook_pattern') || n.endsWith('hook_q') });
    const pattern = cache.get('pattern', 1);
    expect(pattern.shape).toEqual([1, 2, 5, 5]);
    expect(cache.get('q', 0).shape).toEqual([1, 5, 2, 4]);
    const p = pattern.arraySync() as number[][][][];
    for (const head of p[0]) {
      head.forEach((row, i) => {
        expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
        row.forEach((v, j) => (j > i ? expect(v).toBe(0) : expect(v).toBeGreaterThan(0)));
      });
    }
    expect(() => cache.get('pattern')).toThrow(/ambiguous/);
    tf.dispose([ids, logits]);
    cache.dispose();
    model.dispose();
  });

  it('runWithHooks: patching a value with itself changes nothing; ablating a head changes the logits', () => {
    const model = randomized(tinyConfig());
    const ids = model.encode('patching');
    const clean = model.forward(ids);
    const same = model.runWithHooks(ids, [['blocks.0.attn.hook_z', (z) => tf.mul(z, 1)]]);
    expect(maxAbsDiff(clean, same)).toBeLessThan(1e-6);
    const headMask = tf.tensor4d([1, 0], [1, 1, 2, 1]); // keep head 0, zero head 1
    const ablated = model.runWithHooks(ids, [['blocks.0.attn.hook_z', (z) => tf.mul(z, headMask)]]);
    expect(maxAbsDiff(clean, ablated)).toBeGreaterThan(1e-3);
    tf.dispose([ids, clean, same, headMask, ablated]);
    model.dispose();
  });

  it('rejects bad input with what it expected', () => {
    const model = randomized(tinyConfig());
    expect(() => model.forward(tf.zeros([1, 4]))).toThrow(/token ids shaped \[batch, pos\] \(int32/);
    expect(() => model.forward(tf.zeros([4], 'int32'))).toThrow(/\[batch, pos\]/);
    expect(() => model.forward(tf.zeros([1, 17], 'int32'))).toThrow(/at most 16 positions; got 17/);
    expect(() => model.forward(tf.tensor2d([[1, 99]], [1, 2], 'int32'))).toThrow(/token id 99 at index 1 is outside the vocabulary 0\.\.28/);
    expect(() => model.encode('')).toThrow(/empty/);
    expect(() => new GPT(tinyConfig({ nHeads: 3 }))).toThrow(/divisible/);
    model.dispose();
  });

  it('leaks no tensors: forward, runWithCache + dispose, trace + dispose, generate', () => {
    const model = randomized(tinyConfig());
    const ids = model.encode('leaks');
    model.forward(ids).dispose(); // warm-up: the transposed embedding is made once and kept
    const before = tf.memory().numTensors;
    model.forward(ids).dispose();
    const [out, cache] = model.runWithCache(ids);
    out.dispose();
    cache.dispose();
    model.trace(ids).dispose();
    model.generate('ab', { maxTokens: 5 });
    model.generate('ab', { maxTokens: 5, kvCache: false });
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
    model.dispose();
  });
});

describe('KV cache and generation', () => {
  it('logits computed chunk by chunk with a KV cache equal the full forward (1e-5)', () => {
    const model = randomized(tinyConfig());
    const ids = model.tokenizer.encode('in the beginning');
    const full = model.forward(tf.tensor2d(ids, [1, ids.length], 'int32'));
    const cache = new KVCache();
    const parts: Tensor[] = [];
    for (const [from, to] of [[0, 5], [5, 6], [6, 16]]) {
      const chunk = tf.tensor2d(ids.slice(from, to), [1, to - from], 'int32');
      parts.push(model.forwardCached(chunk, cache));
      chunk.dispose();
    }
    expect(cache.length).toBe(16);
    expect(cache.bytes).toBe(2 * 2 * 16 * 8 * 4); // layers x (keys, values) x positions x d_model x float32
    const joined = tf.concat(parts, 1);
    expect(maxAbsDiff(full, joined)).toBeLessThan(1e-5);
    expect(() => model.forwardCached(tf.tensor2d([[1]], [1, 1], 'int32'), cache)).toThrow(/at most 16 positions; got 1 tokens after 16 cached/);
    tf.dispose([full, joined, ...parts]);
    cache.dispose();
    model.dispose();
  });

  it('greedy generation is the same with and without the cache, past the context window too', () => {
    const model = randomized(tinyConfig());
    const withCache = model.generate('the ', { maxTokens: 30, temperature: 0 });
    const without = model.generate('the ', { maxTokens: 30, temperature: 0, kvCache: false });
    expect(withCache.tokens.map((t) => t.id)).toEqual(without.tokens.map((t) => t.id));
    expect(withCache.tokens).toHaveLength(30); // 4 + 30 > 16: the window slid
    expect(withCache.text).toBe('the ' + withCache.continuation);
    model.dispose();
  });

  it('sampling with a seed repeats; different seeds differ', () => {
    const model = randomized(tinyConfig());
    const a = model.generate('a', { maxTokens: 20, seed: 7 });
    const b = model.generate('a', { maxTokens: 20, seed: 7 });
    const c = model.generate('a', { maxTokens: 20, seed: 8 });
    expect(a.continuation).toBe(b.continuation);
    expect(a.continuation).not.toBe(c.continuation);
    model.dispose();
  });

  it('the sampling distribution matches a hand computation (temperature, top-k, top-p)', () => {
    const logits = [2, 1, 0, -1];
    const softmax = (xs: number[]) => xs.map((x) => Math.exp(x) / xs.reduce((s, y) => s + Math.exp(y), 0));
    const plain = samplingDistribution(logits);
    softmax(logits).forEach((p, i) => expect(plain[i][1]).toBeCloseTo(p, 10));
    const hot = samplingDistribution(logits, { temperature: 2 });
    softmax(logits.map((l) => l / 2)).forEach((p, i) => expect(hot[i][1]).toBeCloseTo(p, 10));
    expect(samplingDistribution(logits, { temperature: 0 })).toEqual([[0, 1]]);
    const k2 = samplingDistribution(logits, { topK: 2 });
    expect(k2.map(([id]) => id)).toEqual([0, 1]);
    expect(k2[0][1]).toBeCloseTo(Math.E / (Math.E + 1), 10);
    // softmax = 0.644, 0.237, 0.087, 0.032: top-p 0.7 keeps the first two (0.644 < 0.7 <= 0.881)
    expect(samplingDistribution(logits, { topP: 0.7 }).map(([id]) => id)).toEqual([0, 1]);
    expect(samplingDistribution(logits, { topP: 0.6 }).map(([id]) => id)).toEqual([0]);
    expect(drawToken([[5, 0.25], [6, 0.75]], 0.2)).toEqual([5, 0.25]);
    expect(drawToken([[5, 0.25], [6, 0.75]], 0.3)).toEqual([6, 0.75]);
    expect(() => samplingDistribution(logits, { topP: 0 })).toThrow(/topP/);
  });
});

describe('training', () => {
  it("matMulTrainable's gradient equals tfjs's own matMul gradient", () => {
    const a = tf.randomNormal([6, 5], 0, 1, 'float32', 1);
    const b = tf.randomNormal([5, 4], 0, 1, 'float32', 2);
    const target = tf.randomNormal([6, 4], 0, 1, 'float32', 3);
    const f = (mm: (x: Tensor, y: Tensor) => Tensor) => tf.grads((x: Tensor, y: Tensor) => tf.sum(tf.mul(mm(x, y), target)));
    const [ga, gb] = f((x, y) => tf.matMul(x, y))([a, b]);
    const [fa, fb] = f(matMulTrainable)([a, b]);
    expect(maxAbsDiff(ga, fa)).toBeLessThan(1e-5);
    expect(maxAbsDiff(gb, fb)).toBeLessThan(1e-5);
    tf.dispose([a, b, target, ga, gb, fa, fb]);
  });

  it('a few hundred steps learn a repetitive text far below the uniform loss; no tensors leak', () => {
    const model = new GPT(tinyConfig({ dModel: 16, dMlp: 32 }), 'learner', 5);
    const text = 'the cat sat on the mat.\n'.repeat(40);
    const stream = Int32Array.from(model.tokenizer.encode(text));
    const uniform = Math.log(ALPHABET.length);
    const start = evaluateLanguageModel(model, stream); // also makes the tied model's transposed embedding (kept, then replaced)
    const before = tf.memory().numTensors;
    const history = trainLanguageModel(model, stream, { steps: 150, batchSize: 8, learningRate: 1e-2, warmupSteps: 10, evalEvery: 50, validation: stream, progress: false });
    const end = evaluateLanguageModel(model, stream);
    console.log(`tiny GPT on a repeated sentence: ${start.toFixed(3)} -> ${end.toFixed(3)} nats/char (uniform ${uniform.toFixed(3)})`);
    expect(start).toBeGreaterThan(0.9 * uniform);
    expect(end).toBeLessThan(0.5);
    expect(history.map((r) => r.step)).toEqual([50, 100, 150]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('the learning-rate schedule warms up linearly and decays by a cosine to the floor', () => {
    expect(learningRateAt(0, 100, 1, 10, 0.1)).toBeCloseTo(0.1, 10);
    expect(learningRateAt(9, 100, 1, 10, 0.1)).toBeCloseTo(1, 10);
    expect(learningRateAt(55, 100, 1, 10, 0.1)).toBeCloseTo(0.55, 10); // half-way: (1 + 0.1) / 2
    expect(learningRateAt(100, 100, 1, 10, 0.1)).toBeCloseTo(0.1, 10);
  });
});

describe('save and load', () => {
  it('round-trips through config.json + safetensors; a wrong shape names the tensor', () => {
    const model = randomized(tinyConfig());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt-'));
    model.save(dir);
    const loaded = GPT.load(dir);
    const ids = model.encode('round trip');
    const [a, b] = [model.forward(ids), loaded.forward(ids)];
    expect(maxAbsDiff(a, b)).toBe(0);
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    saved.config.dModel = 16;
    saved.config.dMlp = 24;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(saved));
    const before = tf.memory().numTensors;
    expect(() => GPT.load(dir)).toThrow(WeightsError);
    expect(() => GPT.load(dir)).toThrow(/tensor "blocks.0.attn.W_K" has shape \[8,8\], expected \[16,16\]|tensor "[^"]+" has shape/);
    expect(tf.memory().numTensors).toBe(before); // the half-built model was freed
    tf.dispose([ids, a, b]);
    model.dispose();
    loaded.dispose();
  });
});

describe('the shipped tiny GPT (assets/tiny-gpt, trained by npm run train:gpt)', () => {
  it('on held-out chapters it beats the unigram baseline by far, and writes words of the corpus', async () => {
    const { loadModel, assetsDir } = await import('../src/models/registry');
    const { readHeldOutText, unigramCrossEntropy } = await import('../src/data/corpus');
    const dir = path.join(assetsDir(), 'tiny-gpt');
    const gpt = loadModel('tiny-gpt') as GPT;
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const text = readHeldOutText(dir).slice(0, 30000);
    const alphabet = (gpt.config.tokenizer as { alphabet: string }).alphabet;
    const unigram = unigramCrossEntropy(saved.trainCharacterCounts, alphabet, text); // from counts of the training text only
    const loss = evaluateLanguageModel(gpt, Int32Array.from(gpt.tokenizer.encode(text)));
    console.log(`tiny-gpt on 30,000 held-out characters: ${loss.toFixed(3)} nats/char; unigram baseline ${unigram.toFixed(3)}`);
    expect(unigram).toBeGreaterThan(2.8); // ~4.4 bits per character: English letter frequencies
    expect(loss).toBeLessThan(0.5 * unigram);
    const sample = gpt.generate('And the LORD said unto Moses, ', { maxTokens: 200, temperature: 0.7, seed: 11 }).continuation;
    const words = sample.split(/[^A-Za-z]+/).filter((w) => w.length > 0);
    const common = new Set(['the', 'and', 'of', 'unto', 'that', 'shall', 'he', 'they', 'his', 'LORD', 'to', 'in', 'thou', 'for', 'them', 'not', 'is', 'be', 'with', 'all']);
    expect(words.filter((w) => common.has(w)).length).toBeGreaterThan(words.length / 4); // mostly real, frequent words
    gpt.dispose();
  });
});
