// loadGPT2 against Hugging Face transformers itself: test/fixtures/gpt2-tiny*/ are random GPT-2
// models saved by transformers' save_pretrained, with expected.json holding what transformers
// computed from them (logits, hidden states, attention patterns, a greedy continuation); both made
// by scripts/fixtures/make-gpt2-fixture.py.
import { describe, it, expect, beforeAll } from 'vitest';
import { onWasm } from './helpers/backend';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, initBackend, type Tensor } from '../src/index';
import { GPT } from '../src/models/gpt';
import { loadGPT2, isHuggingFaceGPT2, gptParameterCount, wasmBytesNeeded } from '../src/models/gpt2-loader';
import { GPT_PRESETS } from '../src/models/gpt';
import { loadModel } from '../src/models/registry';
import { backend } from '../src/engine/backend';
import { WeightsError } from '../src/io/safetensors';

const FIXTURES = path.join(__dirname, 'fixtures');
const TIED = path.join(FIXTURES, 'gpt2-tiny');
const UNTIED = path.join(FIXTURES, 'gpt2-tiny-untied');

interface Expected {
  transformers: string;
  text: string;
  sequences: { ids: number[]; logits: number[][]; hidden_states: number[][][]; attentions: number[][][][] }[];
  long: { ids: number[]; last_logits: number[]; hidden_states: number[][][] };
  greedy: { prompt: number[]; continuation: number[] };
}
const expected = (dir: string): Expected => JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));

/** max |a - b| over a tensor and nested arrays of the same shape (with a leading batch of 1 on the tensor). */
function maxAbsDiff(actual: Tensor, reference: unknown): number {
  return tf.tidy(() => {
    const ref = tf.tensor(reference as number[]).reshape(actual.shape);
    return tf.max(tf.abs(tf.sub(actual, ref))).dataSync()[0];
  });
}

const ids2d = (ids: number[]) => tf.tensor2d(ids, [1, ids.length], 'int32');

/** hidden_states[i] of transformers is the input of block i; the last one is after ln_f. */
const hiddenStateHook = (model: GPT, i: number) => (i < model.config.nLayers ? `blocks.${i}.hook_resid_pre` : 'ln_final.hook_normalized');

beforeAll(async () => {
  await initBackend();
});

// ---- building damaged copies of a fixture ----------------------------------------------------
interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** The tensors of a safetensors file as raw bytes, read without the code under test. */
function rawTensors(file: string): Map<string, RawTensor> {
  const bytes = fs.readFileSync(file);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
  const out = new Map<string, RawTensor>();
  for (const [name, info] of Object.entries(header) as [string, { dtype: string; shape: number[]; data_offsets: [number, number] }][]) {
    if (name === '__metadata__') continue;
    out.set(name, { dtype: info.dtype, shape: info.shape, bytes: bytes.subarray(8 + headerLen + info.data_offsets[0], 8 + headerLen + info.data_offsets[1]) });
  }
  return out;
}

function writeSafetensors(file: string, tensors: Map<string, RawTensor>): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([length, Buffer.from(json), ...[...tensors.values()].map((t) => t.bytes)]));
}

/** A copy of a fixture directory in a temp dir, with `change` applied to it. */
function damagedCopy(from: string, change: (dir: string) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt2-'));
  for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(dir, f));
  change(dir);
  return dir;
}

const editConfig = (dir: string, edit: (c: Record<string, unknown>) => void) => {
  const file = path.join(dir, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(config);
  fs.writeFileSync(file, JSON.stringify(config));
};

const openFds = () => fs.readdirSync('/proc/self/fd').length;

/** Loading `dir` fails with `pattern`, leaving no tensor and no open file behind. */
function expectLoadError(dir: string, pattern: RegExp): void {
  const [tensors, fds] = [tf.memory().numTensors, openFds()];
  expect(() => loadGPT2(dir)).toThrow(pattern);
  expect(tf.memory().numTensors).toBe(tensors);
  expect(openFds()).toBe(fds);
}

// ---- agreement with transformers ------------------------------------------------------------
describe('loadGPT2 matches Hugging Face transformers', () => {
  for (const [label, dir] of [['tied, one file, float32', TIED], ['untied, sharded, float16, gelu, n_inner 80', UNTIED]] as const) {
    it(`${label}: logits, every hidden state and every attention pattern to 1e-4`, () => {
      const ref = expected(dir);
      const model = loadGPT2(dir);
      let worst = { logits: 0, hidden: 0, pattern: 0 };
      for (const seq of ref.sequences) {
        const input = ids2d(seq.ids);
        const [logits, cache] = model.runWithCache(input);
        worst.logits = Math.max(worst.logits, maxAbsDiff(logits, seq.logits));
        seq.hidden_states.forEach((h, i) => (worst.hidden = Math.max(worst.hidden, maxAbsDiff(cache.get(hiddenStateHook(model, i)), h))));
        seq.attentions.forEach((a, i) => (worst.pattern = Math.max(worst.pattern, maxAbsDiff(cache.get(`blocks.${i}.attn.hook_pattern`), a))));
        tf.dispose([input, logits]);
        cache.dispose();
      }
      // The whole context: every position's residual stream, and the last logits.
      const input = ids2d(ref.long.ids);
      expect(ref.long.ids).toHaveLength(model.config.contextLength);
      const [logits, cache] = model.runWithCache(input, { names: (n) => n.endsWith('hook_resid_pre') || n === 'ln_final.hook_normalized' });
      const last = tf.slice(logits, [0, ref.long.ids.length - 1, 0], [1, 1, -1]);
      worst.logits = Math.max(worst.logits, maxAbsDiff(last, ref.long.last_logits));
      ref.long.hidden_states.forEach((h, i) => (worst.hidden = Math.max(worst.hidden, maxAbsDiff(cache.get(hiddenStateHook(model, i)), h))));
      tf.dispose([input, logits, last]);
      cache.dispose();
      console.log(`${path.basename(dir)} vs transformers ${ref.transformers}: max |difference| logits ${worst.logits.toExponential(2)}, hidden states ${worst.hidden.toExponential(2)}, patterns ${worst.pattern.toExponential(2)}`);
      expect(worst.logits).toBeLessThan(1e-4);
      expect(worst.hidden).toBeLessThan(1e-4);
      expect(worst.pattern).toBeLessThan(1e-4);
      model.dispose();
    });

    it(`${label}: the greedy continuation equals model.generate(do_sample=False), with and without the KV cache`, () => {
      const ref = expected(dir);
      const model = loadGPT2(dir);
      for (const kvCache of [true, false]) {
        const out = model.generate(ref.greedy.prompt, { maxTokens: ref.greedy.continuation.length, temperature: 0, kvCache });
        expect(out.tokens.map((t) => t.id)).toEqual(ref.greedy.continuation);
      }
      model.dispose();
    });
  }

  it('reads the config as transformers does (n_inner, epsilon, activation, tying, sizes)', () => {
    const tied = loadGPT2(TIED);
    expect(tied.config).toMatchObject({ vocabSize: 1000, contextLength: 64, dModel: 64, nLayers: 2, nHeads: 4, dMlp: 256, layerNormEps: 1e-5, tiedEmbeddings: true, activation: 'gelu_new', tokenizer: { kind: 'gpt2' } });
    expect(tied.name).toBe('gpt2-tiny');
    expect(tied.weights['unembed.W_U']).toBeUndefined();
    const untied = loadGPT2(UNTIED, { name: 'mine' });
    expect(untied.config).toMatchObject({ dModel: 32, nHeads: 2, dMlp: 80, layerNormEps: 1e-3, tiedEmbeddings: false, activation: 'gelu' });
    expect(untied.name).toBe('mine');
    expect(untied.weights['unembed.W_U'].shape).toEqual([32, 1000]);
    tied.dispose();
    untied.dispose();
  });

  it('reads keys without the "transformer." prefix (GPT2Model, as the hub\'s gpt2 files) and skips the attention-mask buffers', () => {
    const ref = expected(TIED);
    const dir = damagedCopy(TIED, (d) => {
      const renamed = new Map<string, RawTensor>();
      for (const [name, t] of rawTensors(path.join(d, 'model.safetensors'))) renamed.set(name.replace(/^transformer\./, ''), t);
      const n = 64;
      const mask = new Float32Array(n * n).map((_, k) => (k % n <= Math.floor(k / n) ? 1 : 0)); // tril, as old checkpoints store it
      renamed.set('h.0.attn.bias', { dtype: 'F32', shape: [1, 1, n, n], bytes: new Uint8Array(mask.buffer) });
      renamed.set('h.1.attn.bias', { dtype: 'BOOL', shape: [1, 1, n, n], bytes: new Uint8Array(mask) });
      renamed.set('h.0.attn.masked_bias', { dtype: 'F32', shape: [], bytes: new Uint8Array(new Float32Array([-1e4]).buffer) });
      writeSafetensors(path.join(d, 'model.safetensors'), renamed);
    });
    const model = loadGPT2(dir);
    const input = ids2d(ref.sequences[0].ids);
    const logits = model.forward(input);
    expect(maxAbsDiff(logits, ref.sequences[0].logits)).toBeLessThan(1e-4);
    tf.dispose([input, logits]);
    model.dispose();
  });

  it('loadModel recognises a Hugging Face GPT-2 directory', () => {
    expect(isHuggingFaceGPT2(TIED)).toBe(true);
    expect(isHuggingFaceGPT2(path.join(__dirname, '..', 'assets', 'digits-cnn'))).toBe(false);
    const model = loadModel(TIED);
    expect(model).toBeInstanceOf(GPT);
    const ref = expected(TIED).sequences[0];
    const input = ids2d(ref.ids);
    const logits = model.forward(input);
    expect(maxAbsDiff(logits, ref.logits)).toBeLessThan(1e-4);
    tf.dispose([input, logits]);
    (model as GPT).dispose();
  });

  it('uses the GPT-2 tokenizer; a token past a small vocabulary is named', () => {
    const model = loadGPT2(TIED);
    expect(model.tokenizer.encode(expected(TIED).text)).toEqual(expected(TIED).sequences[0].ids);
    const input = model.encode('Hello world'); // [15496, 995]
    expect(() => model.forward(input)).toThrow(/token id 15496 at index 0 is outside the vocabulary 0\.\.999/);
    input.dispose();
    model.dispose();
  });
});

// ---- files that are wrong -------------------------------------------------------------------
describe('loadGPT2 rejects damaged or mismatched files clearly, leaking nothing', () => {
  const weights = (d: string) => path.join(d, 'model.safetensors');

  it('a truncated file names the tensor that does not fit', () => {
    const dir = damagedCopy(TIED, (d) => fs.truncateSync(weights(d), fs.statSync(weights(d)).size - 1000));
    expectLoadError(dir, /model\.safetensors: tensor "transformer\.[^"]+" ends at byte \d+ but the data section has \d+ bytes \(file truncated\)/);
  });

  it('a file cut inside its header, or shorter than 8 bytes, says so', () => {
    expectLoadError(damagedCopy(TIED, (d) => fs.truncateSync(weights(d), 500)), /header length \d+ does not fit in a 500-byte file \(truncated or not safetensors\)/);
    expectLoadError(damagedCopy(TIED, (d) => fs.truncateSync(weights(d), 3)), /3 bytes is too short for a safetensors file/);
  });

  it('a corrupt header says the file is corrupt', () => {
    const dir = damagedCopy(TIED, (d) => {
      const bytes = fs.readFileSync(weights(d));
      bytes.write('{{{{', 8);
      fs.writeFileSync(weights(d), bytes);
    });
    expectLoadError(dir, /JSON header does not parse.*the file is corrupt/);
  });

  it('overlapping offsets in the header are corrupt', () => {
    const dir = damagedCopy(TIED, (d) => {
      const bytes = fs.readFileSync(weights(d));
      const headerLen = Number(bytes.readBigUInt64LE(0));
      const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
      header['transformer.h.0.ln_1.bias'].data_offsets = [0, 256]; // the bytes of transformer.h.0.attn.c_attn.bias
      let json = JSON.stringify(header);
      json = json.padEnd(headerLen, ' ');
      expect(json.length).toBe(headerLen);
      bytes.write(json, 8);
      fs.writeFileSync(weights(d), bytes);
    });
    expectLoadError(dir, /tensors "transformer\.h\.0\.attn\.c_attn\.bias" and "transformer\.h\.0\.ln_1\.bias" overlap in the data section/);
  });

  it('corrupt values (NaN) name the tensor', () => {
    const dir = damagedCopy(TIED, (d) => {
      const file = weights(d);
      const tensors = rawTensors(file);
      const t = tensors.get('transformer.h.1.mlp.c_fc.weight')!;
      t.bytes = Buffer.from(t.bytes);
      t.bytes.fill(0xff, 400, 404); // 0xffffffff is a NaN
      writeSafetensors(file, tensors);
    });
    expectLoadError(dir, /tensor "transformer\.h\.1\.mlp\.c_fc\.weight" contains a non-finite value at index 100/);
  });

  it('a config whose n_embd disagrees with the weights names the tensor and the shape it implies', () => {
    const dir = damagedCopy(TIED, (d) => editConfig(d, (c) => (c.n_embd = 32)));
    expectLoadError(dir, /tensor "transformer\.wte\.weight" has shape \[1000,64\], expected \[1000,32\] \(vocab_size x n_embd in config\.json\)/);
  });

  it('n_layer too large: a missing block is named; too small: the extra block is named', () => {
    expectLoadError(damagedCopy(TIED, (d) => editConfig(d, (c) => (c.n_layer = 3))), /missing tensor "transformer\.h\.2\.ln_1\.weight" \(expected shape \[64\]: n_embd\)/);
    expectLoadError(damagedCopy(TIED, (d) => editConfig(d, (c) => (c.n_layer = 1))), /tensor\(s\) that a GPT-2 language model with n_layer 1 does not have: transformer\.h\.1\./);
  });

  it('a missing tensor is named with its expected shape', () => {
    const dir = damagedCopy(TIED, (d) => {
      const tensors = rawTensors(weights(d));
      tensors.delete('transformer.h.1.mlp.c_fc.bias');
      writeSafetensors(weights(d), tensors);
    });
    expectLoadError(dir, /missing tensor "transformer\.h\.1\.mlp\.c_fc\.bias" \(expected shape \[256\]: n_inner\)/);
  });

  it('an untied config without lm_head.weight names it', () => {
    const dir = damagedCopy(TIED, (d) => editConfig(d, (c) => (c.tie_word_embeddings = false)));
    expectLoadError(dir, /missing tensor "lm_head\.weight" \(expected shape \[1000,64\]/);
  });

  it('a missing shard, or an index that points at the wrong shard, is named', () => {
    const index = (d: string) => path.join(d, 'model.safetensors.index.json');
    const shard = JSON.parse(fs.readFileSync(index(UNTIED), 'utf8')).weight_map['lm_head.weight'];
    expectLoadError(damagedCopy(UNTIED, (d) => fs.rmSync(path.join(d, shard))), new RegExp(`Cannot read weights file .*${shard.replace(/\./g, '\\.')}: ENOENT`));
    const dir = damagedCopy(UNTIED, (d) => {
      const map = JSON.parse(fs.readFileSync(index(d), 'utf8'));
      const other = Object.values(map.weight_map as Record<string, string>).find((f) => f !== shard)!;
      map.weight_map['lm_head.weight'] = other;
      fs.writeFileSync(index(d), JSON.stringify(map));
    });
    expectLoadError(dir, /puts tensor "lm_head\.weight" in model-0000\d-of-00003\.safetensors, which has no such tensor/);
  });

  it('a pytorch_model.bin-only directory says how to convert it', () => {
    const dir = damagedCopy(TIED, (d) => {
      fs.rmSync(weights(d));
      fs.writeFileSync(path.join(d, 'pytorch_model.bin'), 'a pickle');
    });
    expectLoadError(dir, /has pytorch_model\.bin \(a PyTorch pickle\) but no model\.safetensors; .*save_pretrained\('.*', safe_serialization=True\)/);
    expectLoadError(damagedCopy(TIED, (d) => fs.rmSync(weights(d))), /no weights; expected model\.safetensors \(or model\.safetensors\.index\.json/);
  });

  it('configs it cannot run are refused, naming the field', () => {
    expectLoadError(damagedCopy(TIED, (d) => editConfig(d, (c) => (c.model_type = 'gpt_neo'))), /model_type is "gpt_neo"; loadGPT2 reads GPT-2 models \(model_type "gpt2"\) only/);
    expectLoadError(damagedCopy(TIED, (d) => editConfig(d, (c) => (c.activation_function = 'relu'))), /activation_function "relu" is not supported; expected "gelu_new"/);
    expectLoadError(damagedCopy(TIED, (d) => editConfig(d, (c) => (c.scale_attn_by_inverse_layer_idx = true))), /scale_attn_by_inverse_layer_idx .* is not supported/);
    expectLoadError(damagedCopy(TIED, (d) => editConfig(d, (c) => (c.n_head = 5))), /n_embd 64 is not divisible by n_head 5/);
    expectLoadError(damagedCopy(TIED, (d) => editConfig(d, (c) => (c.vocab_size = 50304))), /vocab_size 50304 is larger than GPT-2's BPE \(50257 tokens\)/);
    expectLoadError(damagedCopy(TIED, (d) => fs.writeFileSync(path.join(d, 'config.json'), '{"model_type": "gpt2",')), /config\.json is not valid JSON/);
  });

  it('a model too large for the WASM heap is refused before anything is read', () => onWasm(() => {
    // The published parameter counts of the GPT-2 family.
    expect([GPT_PRESETS.gpt2, GPT_PRESETS['gpt2-medium'], GPT_PRESETS['gpt2-large'], GPT_PRESETS['gpt2-xl']].map(gptParameterCount)).toEqual([124_439_808, 354_823_168, 774_030_080, 1_557_611_200]);
    expect(wasmBytesNeeded(GPT_PRESETS['gpt2-medium'])).toBeLessThan(3.5 * 2 ** 30);
    expect(wasmBytesNeeded(GPT_PRESETS['gpt2-large'])).toBeGreaterThan(4 * 2 ** 30);
    expect(backend()).toBe('wasm');
    const dir = damagedCopy(TIED, (d) => editConfig(d, (c) => Object.assign(c, { vocab_size: 50257, n_positions: 1024, n_embd: 1280, n_layer: 36, n_head: 20 })));
    expectLoadError(dir, /this GPT-2 \(774 M parameters\) needs about 6\.2 GiB of memory on the WASM backend, which addresses at most 4 GiB/);
  }));

  it('a WeightsError is what callers catch', () => {
    const dir = damagedCopy(TIED, (d) => editConfig(d, (c) => (c.n_embd = 32)));
    expect(() => loadGPT2(dir)).toThrow(WeightsError);
  });
});

describe('loadGPT2 leaks nothing', () => {
  it('load, forward, runWithCache + dispose, trace + dispose, generate, dispose: tensor count unchanged', () => {
    const start = tf.memory().numTensors;
    const model = loadGPT2(TIED);
    const input = ids2d(expected(TIED).sequences[0].ids);
    model.forward(input).dispose(); // warm-up: the tied model's transposed embedding is made once and kept
    const before = tf.memory().numTensors;
    model.forward(input).dispose();
    const [out, cache] = model.runWithCache(input);
    out.dispose();
    cache.dispose();
    model.trace(input).dispose();
    model.generate([464, 582], { maxTokens: 5 });
    model.generate([464, 582], { maxTokens: 5, kvCache: false });
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
