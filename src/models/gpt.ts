// A GPT: token ids -> token + position embeddings -> pre-LayerNorm blocks (causal self-attention,
// GELU MLP, each added to the residual stream) -> final LayerNorm -> unembedding -> logits.
// The same code runs the tiny character-level GPT trained in this repo and GPT-2 from a user's
// own Hugging Face weights (see gpt2-loader.ts), with a hook point on every intermediate named as
// in TransformerLens (`blocks.3.attn.hook_pattern`), so a cache, a patch or a trace reads the
// same names on both.
//
// Conventions (GPT-2's, so Hugging Face weights load without reshaping):
//   every linear layer is y = x W + b with W stored [in, out];
//   W_Q, W_K, W_V are [d_model, d_model], columns grouped by head (head h owns columns
//   h*d_head .. (h+1)*d_head - 1); LayerNorm divides by sqrt(biased variance + eps);
//   GELU is the tanh approximation ("gelu_new") unless the config says "gelu" (exact, with erf).
import { onTerminate } from '../engine/tfjs-internals';
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { backendLabel } from '../engine/backend';
import { isRecordingGradients, matMulTrainable } from '../engine/ops';
import { HookedModel, type HookSpec, type TraceOptions } from '../hooks/hooked-model';
import type { Trace } from '../hooks/trace';
import { nextTokenLoss } from '../engine/ops';
import { tokenizerFor, type Tokenizer, type TokenizerSpec } from '../data/tokenizers';
import { seededRandom } from '../data/random';
import type { MimeBundle } from '../engine/mime';
import type { OnnxGPT } from '../fastpath/gpt-onnx';
import { compileModel, type CompileOptions } from '../hooks/compile';
import { viewOf } from '../engine/display';
import { TransposedCopy, causalMaskBias, geluTanh, gpt2Initializers, layerNorm, linear } from './transformer-parts';

export interface GPTConfig {
  /** Distinct token ids (rows of the token embedding). */
  vocabSize: number;
  /** Longest sequence the model reads (rows of the position embedding). */
  contextLength: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Transformer blocks. */
  nLayers: number;
  /** Attention heads per block; each reads d_model / n_heads dimensions. */
  nHeads: number;
  /**
   * Heads each block actually has, when blocks differ (a model whose heads were pruned): block i
   * has headsPerBlock[i] heads of d_model / n_heads dimensions. Default: n_heads in every block.
   */
  headsPerBlock?: number[];
  /** Hidden width of each MLP (GPT-2: 4 x d_model). */
  dMlp: number;
  /** Added to the variance in LayerNorm (GPT-2: 1e-5). */
  layerNormEps: number;
  /** The unembedding is the transpose of the token embedding (GPT-2 ties them). */
  tiedEmbeddings: boolean;
  /** 'gelu_new': tanh approximation (GPT-2); 'gelu': exact, with erf. */
  activation: 'gelu_new' | 'gelu';
  /** How text becomes ids. */
  tokenizer: TokenizerSpec;
}

const gpt2Shape = (dModel: number, nLayers: number, nHeads: number): GPTConfig => ({
  vocabSize: 50257, contextLength: 1024, dModel, nLayers, nHeads, dMlp: 4 * dModel, layerNormEps: 1e-5, tiedEmbeddings: true, activation: 'gelu_new', tokenizer: { kind: 'gpt2' },
});

/** Shapes by name: the tiny GPT shipped here (its alphabet comes from the corpus) and the GPT-2 family. */
export const GPT_PRESETS = {
  /** The shipped character-level model: 4 blocks of width 128, 256 characters of context. */
  tiny: { vocabSize: 0, contextLength: 256, dModel: 128, nLayers: 4, nHeads: 4, dMlp: 512, layerNormEps: 1e-5, tiedEmbeddings: true, activation: 'gelu_new', tokenizer: { kind: 'char', alphabet: '' } } as GPTConfig,
  gpt2: gpt2Shape(768, 12, 12), // 124 M parameters
  'gpt2-medium': gpt2Shape(1024, 24, 16), // 355 M
  'gpt2-large': gpt2Shape(1280, 36, 20), // 774 M
  'gpt2-xl': gpt2Shape(1600, 48, 25), // 1.56 B
} satisfies Record<string, GPTConfig>;

export type GPTPresetName = keyof typeof GPT_PRESETS;

/**
 * Keys and values of every block for the tokens seen so far, so generation computes each new
 * token against them instead of re-running the whole prefix. Owned tensors: call `dispose()`.
 */
export class KVCache {
  /** Per block: [batch, head, pos, d_head]. */
  keys: Tensor[] = [];
  values: Tensor[] = [];

  /** Positions cached so far. */
  get length(): number {
    return this.keys.length ? (this.keys[0].shape[2] as number) : 0;
  }

  /** Bytes held (float32). */
  get bytes(): number {
    return [...this.keys, ...this.values].reduce((n, t) => n + t.size * 4, 0);
  }

  /** Append this step's keys/values for block `layer`; returns the whole sequence so far. */
  append(layer: number, keys: Tensor, values: Tensor): { keys: Tensor; values: Tensor } {
    const previousKeys = this.keys[layer];
    const previousValues = this.values[layer];
    // Each new tensor is stored as soon as it exists, so dispose() finds it even if an interrupt stops this midway.
    const allKeys = (this.keys[layer] = tf.keep(previousKeys ? tf.concat([previousKeys, keys], 2) : tf.clone(keys))); // [batch, head, past+pos, d_head]
    previousKeys?.dispose();
    const allValues = (this.values[layer] = tf.keep(previousValues ? tf.concat([previousValues, values], 2) : tf.clone(values))); // [batch, head, past+pos, d_head]
    previousValues?.dispose();
    return { keys: allKeys, values: allValues };
  }

  dispose(): void {
    tf.dispose([...this.keys, ...this.values]);
    this.keys = [];
    this.values = [];
  }
}

export interface SamplingOptions {
  /** 0 picks the most likely token (greedy); higher flattens the distribution. Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (default: all). */
  topK?: number;
  /** Keep the smallest set of tokens whose probabilities add up to at least p (nucleus; default 1). */
  topP?: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to add (default 50). */
  maxTokens?: number;
  /** Seed of the sampler, so a run can be repeated (default 0). */
  seed?: number;
  /** Reuse keys and values of earlier positions (default true); false re-runs the whole prefix each step. */
  kvCache?: boolean;
  /** Stop after producing this text (e.g. "\n"). */
  stop?: string;
  /** Called after each token with how many are done (the CLI draws a progress bar with it). */
  onToken?: (done: number, total: number) => void;
}

export interface GeneratedToken {
  id: number;
  text: string;
  /** Probability of this token under the distribution it was sampled from (after temperature, top-k, top-p). */
  p: number;
}

export interface Generation {
  prompt: string;
  /** Prompt + continuation. */
  text: string;
  continuation: string;
  tokens: GeneratedToken[];
  seconds: number;
  tokensPerSecond: number;
  /** Steps whose logits held NaN or Infinity (the token drawn there means nothing); 0 normally. */
  nonFiniteSteps: number;
}

/**
 * The distribution the next token is drawn from: softmax(logits / temperature), cut to the top k
 * and to the nucleus p, renormalised. Temperature 0 puts all the mass on the argmax.
 * Returns [id, probability] pairs, most likely first.
 */
export function samplingDistribution(logits: ArrayLike<number>, options: SamplingOptions = {}): [number, number][] {
  const temperature = options.temperature ?? 1;
  if (!(temperature >= 0)) throw new Error(`temperature must be >= 0, got ${temperature}.`);
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  if (temperature === 0) return [[order[0], 1]];
  const top = logits[order[0]];
  let kept = order.slice(0, Math.max(1, Math.min(options.topK ?? order.length, order.length)));
  let weights = kept.map((i) => Math.exp((logits[i] - top) / temperature)); // stable: the largest term is exp(0)
  let total = weights.reduce((a, b) => a + b, 0);
  const topP = options.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new Error(`topP must be in (0, 1], got ${topP}.`);
  if (topP < 1) {
    let mass = 0;
    let n = 0;
    while (n < kept.length && mass < topP * total) mass += weights[n++];
    kept = kept.slice(0, n);
    weights = weights.slice(0, n);
    total = mass;
  }
  return kept.map((id, i) => [id, weights[i] / total]);
}

/** Draw one id from a distribution with a uniform number u in [0, 1). */
export function drawToken(distribution: [number, number][], u: number): [number, number] {
  let cumulative = 0;
  for (const entry of distribution) {
    cumulative += entry[1];
    if (u < cumulative) return entry;
  }
  return distribution[distribution.length - 1];
}

/** Token ids must be int32 [batch, pos], fit the context after `past` cached positions, and be in the vocabulary. */
export function checkTokenIds(name: string, config: GPTConfig, input: Tensor, past = 0): void {
  const shape = input.shape;
  if (shape.length !== 2 || shape[0] < 1 || shape[1] < 1 || input.dtype !== 'int32') {
    throw new Error(`${name} expects token ids shaped [batch, pos] (int32; make them with model.encode(text)), got [${shape}] ${input.dtype}.`);
  }
  if (past + shape[1] > config.contextLength) {
    throw new Error(`${name} reads at most ${config.contextLength} positions; got ${shape[1]} tokens${past ? ` after ${past} cached` : ''}.`);
  }
  const ids = input.dataSync();
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= config.vocabSize) throw new Error(`${name}: token id ${ids[i]} at index ${i} is outside the vocabulary 0..${config.vocabSize - 1}.`);
  }
}

/** What generation needs of a model (tfjs or ONNX Runtime): next-token logits, with or without a cache. */
export interface Stepper {
  /** Reuses keys and values of earlier positions. */
  readonly caching: boolean;
  /** Positions the cache holds. */
  cachedLength(): number;
  /** Logits after the last id. With a cache, only the last `fresh` ids are new; without, `fresh` ids are the whole window. */
  next(ids: number[], fresh: number): Float32Array;
  /** Drop the cache (the window slid). */
  reset(): void;
  dispose(): void;
}

/** The generation loop shared by every execution path: sample, append, slide the window. */
export function generateWith(stepper: Stepper, tokenizer: Tokenizer, contextLength: number, prompt: string | number[], options: GenerateOptions): Generation {
  const maxTokens = options.maxTokens ?? 50;
  const random = seededRandom(options.seed ?? 0);
  const ids = typeof prompt === 'string' ? tokenizer.encode(prompt) : [...prompt];
  if (ids.length === 0) throw new Error('generate: the prompt is empty; a GPT needs at least one token.');
  const promptText = typeof prompt === 'string' ? prompt : tokenizer.decode(ids);
  const produced: GeneratedToken[] = [];
  const started = performance.now();
  let nonFiniteSteps = 0;
  const done = onTerminate(() => stepper.dispose()); // an interrupt that terminates this loop skips `finally`
  try {
    let fresh = Math.min(ids.length, contextLength); // ids the model has not seen yet (the prompt is cropped to the context)
    let textSoFar = '';
    for (let step = 0; step < maxTokens; step++) {
      if (!stepper.caching) {
        fresh = Math.min(ids.length, contextLength); // the whole window, every step
      } else if (stepper.cachedLength() + fresh > contextLength) {
        stepper.reset(); // the window slid: recompute keys and values for the last context-1 ids
        fresh = Math.min(ids.length, contextLength);
      }
      const logits = stepper.next(ids, fresh);
      for (let i = 0; i < logits.length; i++) {
        if (!Number.isFinite(logits[i])) {
          nonFiniteSteps++;
          break;
        }
      }
      const [id, p] = drawToken(samplingDistribution(logits, options), random());
      ids.push(id);
      fresh = 1;
      const text = tokenizer.decode([id]);
      produced.push({ id, text, p });
      textSoFar += text;
      options.onToken?.(produced.length, maxTokens);
      if (options.stop && textSoFar.endsWith(options.stop)) break;
    }
  } finally {
    done();
    stepper.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  const continuation = tokenizer.decode(produced.map((t) => t.id)); // whole, so multi-byte characters join up
  return { prompt: promptText, text: promptText + continuation, continuation, tokens: produced, seconds, tokensPerSecond: produced.length / seconds, nonFiniteSteps };
}

/**
 * The GPT's structure, declared once: every hook point of a block, in forward order, with what
 * produces it, its shape (fixed dimension names, read by the exporter for its graph outputs) and
 * the points it is computed from (read by "isolated" layer error). The constructor declares the
 * hook points from it, the forward pass and the exporter name their values with `blockHook`
 * (a typo is a type error), views list a block's points from it.
 */
export const GPT_BLOCK_HOOKS = [
  { name: 'hook_resid_pre', kind: 'residual', shape: '[batch, pos, d_model]', inputs: [] }, // inputs: the previous block's hook_resid_post, or both embeddings
  { name: 'ln1.hook_normalized', kind: 'layernorm', shape: '[batch, pos, d_model]', inputs: ['hook_resid_pre'] },
  { name: 'attn.hook_q', kind: 'linear', shape: '[batch, pos, head, d_head]', inputs: ['ln1.hook_normalized'] },
  { name: 'attn.hook_k', kind: 'linear', shape: '[batch, pos, head, d_head]', inputs: ['ln1.hook_normalized'] },
  { name: 'attn.hook_v', kind: 'linear', shape: '[batch, pos, head, d_head]', inputs: ['ln1.hook_normalized'] },
  { name: 'attn.hook_attn_scores', kind: 'scores', shape: '[batch, head, query_pos, key_pos] q.k/sqrt(d_head), before the causal mask', inputs: ['attn.hook_q', 'attn.hook_k'] },
  { name: 'attn.hook_pattern', kind: 'softmax', shape: '[batch, head, query_pos, key_pos] causal attention weights', inputs: ['attn.hook_attn_scores'] },
  { name: 'attn.hook_z', kind: 'attend', shape: '[batch, pos, head, d_head] pattern-weighted values', inputs: ['attn.hook_pattern', 'attn.hook_v'] },
  { name: 'hook_attn_out', kind: 'linear', shape: '[batch, pos, d_model]', inputs: ['attn.hook_z'] },
  { name: 'hook_resid_mid', kind: 'residual', shape: '[batch, pos, d_model]', inputs: ['hook_resid_pre', 'hook_attn_out'] },
  { name: 'ln2.hook_normalized', kind: 'layernorm', shape: '[batch, pos, d_model]', inputs: ['hook_resid_mid'] },
  { name: 'mlp.hook_pre', kind: 'linear', shape: '[batch, pos, d_mlp]', inputs: ['ln2.hook_normalized'] },
  { name: 'mlp.hook_post', kind: 'gelu', shape: '[batch, pos, d_mlp]', inputs: ['mlp.hook_pre'] },
  { name: 'hook_mlp_out', kind: 'linear', shape: '[batch, pos, d_model]', inputs: ['mlp.hook_post'] },
  { name: 'hook_resid_post', kind: 'residual', shape: '[batch, pos, d_model]', inputs: ['hook_resid_mid', 'hook_mlp_out'] },
] as const;

/** A hook point of a block, by its name inside the block (e.g. 'attn.hook_k'). */
export type GptBlockHook = (typeof GPT_BLOCK_HOOKS)[number]['name'];

/** The full name of a block's hook point: blockHook(0, 'attn.hook_k') = 'blocks.0.attn.hook_k'. */
export function blockHook(block: number, hook: GptBlockHook): string {
  return `blocks.${block}.${hook}`;
}

/** Every hook point of a GPT with `nLayers` blocks, in forward order: name, kind, shape, inputs. */
export function gptHookLayout(nLayers: number): { name: string; kind: string; shape: string; inputs: string[] }[] {
  const layout = [
    { name: 'hook_embed', kind: 'embedding', shape: '[batch, pos, d_model] token embeddings', inputs: [] as string[] },
    { name: 'hook_pos_embed', kind: 'embedding', shape: '[batch, pos, d_model] position embeddings', inputs: [] as string[] },
  ];
  for (let i = 0; i < nLayers; i++) {
    for (const p of GPT_BLOCK_HOOKS) {
      const inputs: string[] = p.name === 'hook_resid_pre' ? (i === 0 ? ['hook_embed', 'hook_pos_embed'] : [blockHook(i - 1, 'hook_resid_post')]) : p.inputs.map((n) => blockHook(i, n));
      layout.push({ name: blockHook(i, p.name), kind: p.kind, shape: p.shape, inputs });
    }
  }
  layout.push({ name: 'ln_final.hook_normalized', kind: 'layernorm', shape: '[batch, pos, d_model]', inputs: [blockHook(nLayers - 1, 'hook_resid_post')] });
  layout.push({ name: 'hook_logits', kind: 'unembed', shape: '[batch, pos, vocab]', inputs: ['ln_final.hook_normalized'] });
  return layout;
}

export class GPT extends HookedModel {
  readonly name: string;
  readonly config: GPTConfig;
  readonly tokenizer: Tokenizer;
  readonly weights: Record<string, tf.Variable>;
  /** Where a given forward reads and writes keys/values (only during `forwardCached`). */
  private activeKv: KVCache | null = null;
  /** Tied models: W_E transposed once, reused while W_E is unchanged (see `unembedMatrix`). */
  private readonly transposedEmbedding = new TransposedCopy();

  /** `seed` null: every weight starts at zero, for a loader that fills them all next (random init of GPT-2 small takes ~8 s). */
  constructor(config: GPTConfig, name = 'gpt', seed: number | null = 0) {
    super();
    const { vocabSize: v, contextLength: n, dModel: d, nLayers, nHeads, dMlp } = config;
    if (!(v > 0 && n > 0 && d > 0 && nLayers > 0 && nHeads > 0 && dMlp > 0) || d % nHeads !== 0) {
      throw new Error(`GPT config needs positive sizes and d_model divisible by n_heads; got vocab ${v}, context ${n}, d_model ${d}, layers ${nLayers}, heads ${nHeads}, d_mlp ${dMlp}.`);
    }
    if (config.headsPerBlock && (config.headsPerBlock.length !== nLayers || !config.headsPerBlock.every((h) => Number.isInteger(h) && h >= 1 && h <= nHeads))) {
      throw new Error(`GPT config: headsPerBlock must list ${nLayers} head counts, each 1..${nHeads}; got ${JSON.stringify(config.headsPerBlock)}.`);
    }
    this.name = name;
    this.config = config;
    this.tokenizer = tokenizerFor(config.tokenizer);
    // A GPT-2 model may have fewer rows than the BPE has tokens (small test models); ids past them are rejected by validateInput.
    const fewerRowsThanBpe = config.tokenizer.kind === 'gpt2' && v < this.tokenizer.vocabSize;
    if (this.tokenizer.vocabSize !== v && !fewerRowsThanBpe) throw new Error(`GPT config: vocabSize ${v} does not match its tokenizer's ${this.tokenizer.vocabSize} tokens.`);

    // GPT-2's initialisation: N(0, 0.02), and the projections into the residual stream scaled
    // by 1/sqrt(2 * layers) so the stream's variance does not grow with depth.
    const { normal, zeros, ones } = gpt2Initializers(seed);
    const residualStd = 0.02 / Math.sqrt(2 * nLayers);
    const w: Record<string, tf.Variable> = {
      'embed.W_E': normal([v, d]), // [vocab, d_model]
      'pos_embed.W_pos': normal([n, d], 0.01), // [context, d_model]
    };
    for (let i = 0; i < nLayers; i++) {
      const b = `blocks.${i}`;
      const hd = (config.headsPerBlock?.[i] ?? nHeads) * (d / nHeads); // this block's heads x d_head (= d_model unless heads were pruned)
      Object.assign(w, {
        [`${b}.ln1.w`]: ones([d]), [`${b}.ln1.b`]: zeros([d]),
        [`${b}.attn.W_Q`]: normal([d, hd]), [`${b}.attn.b_Q`]: zeros([hd]), // [d_model, head*d_head]
        [`${b}.attn.W_K`]: normal([d, hd]), [`${b}.attn.b_K`]: zeros([hd]),
        [`${b}.attn.W_V`]: normal([d, hd]), [`${b}.attn.b_V`]: zeros([hd]),
        [`${b}.attn.W_O`]: normal([hd, d], residualStd), [`${b}.attn.b_O`]: zeros([d]), // [head*d_head, d_model]
        [`${b}.ln2.w`]: ones([d]), [`${b}.ln2.b`]: zeros([d]),
        [`${b}.mlp.W_in`]: normal([d, dMlp]), [`${b}.mlp.b_in`]: zeros([dMlp]), // [d_model, d_mlp]
        [`${b}.mlp.W_out`]: normal([dMlp, d], residualStd), [`${b}.mlp.b_out`]: zeros([d]), // [d_mlp, d_model]
      });
    }
    w['ln_final.w'] = ones([d]);
    w['ln_final.b'] = zeros([d]);
    if (!config.tiedEmbeddings) w['unembed.W_U'] = normal([d, v]); // [d_model, vocab]
    this.weights = w;

    for (const p of gptHookLayout(nLayers)) this.hookPoint(p.name, p.kind, p.shape, { inputs: p.inputs }); // the structure, declared once (GPT_BLOCK_HOOKS)
  }

  get dHead(): number {
    return this.config.dModel / this.config.nHeads;
  }

  /** Heads of block `block` (n_heads unless heads were pruned). */
  headsIn(block: number): number {
    return this.config.headsPerBlock?.[block] ?? this.config.nHeads;
  }

  get parameterCount(): number {
    return Object.values(this.weights).reduce((n, w) => n + w.size, 0);
  }

  get byteSize(): number {
    return this.storedBytes ?? this.parameterCount * 4;
  }

  /**
   * Where an integer engine would quantize activations: the input and the output of every
   * matrix multiply (as ONNX Runtime places QuantizeLinear/DequantizeLinear around MatMul).
   */
  get activationQuantPoints(): string[] {
    const points: string[] = [];
    const perBlock: GptBlockHook[] = ['ln1.hook_normalized', 'attn.hook_q', 'attn.hook_k', 'attn.hook_v', 'attn.hook_z', 'hook_attn_out', 'ln2.hook_normalized', 'mlp.hook_pre', 'mlp.hook_post', 'hook_mlp_out'];
    for (let i = 0; i < this.config.nLayers; i++) points.push(...perBlock.map((h) => blockHook(i, h)));
    points.push('ln_final.hook_normalized', 'hook_logits');
    return points;
  }

  /** A copy with its own weights (same config and hook names). */
  clone(name = `${this.name}-copy`): this {
    return this.copyInto(() => new GPT(this.config, name, null) as this); // zeros, then every weight copied
  }

  /** Where this model runs: tfjs and its backend (the fast path reports onnxruntime). */
  get backend(): string {
    return `tfjs (${backendLabel()})`;
  }

  /**
   * The same model on the fast path: exported to ONNX once and run in ONNX Runtime, with the same
   * interface (hooks that only read run there; a patching hook re-runs on this model).
   */
  compile(target: 'onnx', options: CompileOptions = {}): OnnxGPT {
    return compileModel(this, 'gpt', target, options) as OnnxGPT;
  }

  // ---- input ------------------------------------------------------------------------------

  /** Text -> ids `[1, pos]` (int32), ready for forward / runWithCache / trace. */
  encode(text: string): Tensor {
    const ids = this.tokenizer.encode(text);
    if (ids.length === 0) throw new Error(`${this.name}: the text is empty; a GPT needs at least one token.`);
    return tf.tensor2d(ids, [1, ids.length], 'int32');
  }

  protected validateInput(input: Tensor): void {
    const past = this.activeKv?.length ?? 0;
    if (this.activeKv && past > 0 && this.activeKv.keys[0].shape[0] !== input.shape[0]) {
      throw new Error(`${this.name}: the KV cache holds batch ${this.activeKv.keys[0].shape[0]}, the input has batch ${input.shape[0]}.`);
    }
    checkTokenIds(this.name, this.config, input, past);
  }

  // ---- the forward pass ---------------------------------------------------------------------

  protected forwardImpl(tokens: Tensor): Tensor {
    const { dModel: d, nLayers } = this.config;
    const [batch, pos] = tokens.shape;
    const past = this.activeKv?.length ?? 0;
    const embed = this.hook('hook_embed', this.embedTokens(tokens)); // [batch, pos, d_model]
    const rows = tf.slice(this.weights['pos_embed.W_pos'], [past, 0], [pos, d]); // [pos, d_model]: positions past..past+pos-1
    const posEmbed = this.hook('hook_pos_embed', tf.broadcastTo(tf.expandDims(rows, 0), [batch, pos, d])); // [batch, pos, d_model]
    const mask = causalMaskBias(pos, past); // [pos, past+pos]: 0 where a query may look, -1e9 where it may not
    let resid = tf.add(embed, posEmbed); // [batch, pos, d_model]
    for (let i = 0; i < nLayers; i++) {
      // Free each block's intermediates as soon as it is done (GPT-2 at 1,024 tokens holds 50 MB per
      // attention score tensor); kept hook values survive. Under a gradient tape the tape owns them.
      const input = resid;
      resid = isRecordingGradients() ? this.block(i, input, mask) : tf.tidy(() => this.block(i, input, mask));
    }
    const normalized = this.layerNorm('ln_final', 'ln_final.hook_normalized', resid); // [batch, pos, d_model]
    return this.hook('hook_logits', linear(normalized, this.unembedMatrix())); // [batch, pos, vocab]
  }

  /** One pre-LayerNorm block: resid + attn(ln1(resid)), then + mlp(ln2(.)). */
  private block(i: number, residIn: Tensor, mask: Tensor): Tensor {
    const b = `blocks.${i}`;
    const resid = this.hook(blockHook(i, 'hook_resid_pre'), residIn); // [batch, pos, d_model]
    const attnOut = this.hook(blockHook(i, 'hook_attn_out'), this.attention(i, this.layerNorm(`${b}.ln1`, blockHook(i, 'ln1.hook_normalized'), resid), mask)); // [batch, pos, d_model]
    const residMid = this.hook(blockHook(i, 'hook_resid_mid'), tf.add(resid, attnOut)); // [batch, pos, d_model]
    const w = (name: string) => this.weights[`${b}.mlp.${name}`];
    const pre = this.hook(blockHook(i, 'mlp.hook_pre'), linear(this.layerNorm(`${b}.ln2`, blockHook(i, 'ln2.hook_normalized'), residMid), w('W_in'), w('b_in'))); // [batch, pos, d_mlp]
    const post = this.hook(blockHook(i, 'mlp.hook_post'), this.gelu(pre)); // [batch, pos, d_mlp]
    const mlpOut = this.hook(blockHook(i, 'hook_mlp_out'), linear(post, w('W_out'), w('b_out'))); // [batch, pos, d_model]
    return this.hook(blockHook(i, 'hook_resid_post'), tf.add(residMid, mlpOut)); // [batch, pos, d_model]
  }

  /** Causal multi-head self-attention over the sequence (and the cached prefix, when generating). */
  private attention(i: number, x: Tensor, mask: Tensor): Tensor {
    const nHeads = this.headsIn(i);
    const b = `blocks.${i}.attn`;
    const [batch, pos] = x.shape;
    const w = (name: string) => this.weights[`${b}.${name}`];
    const split = (t: Tensor) => tf.reshape(t, [batch, pos, nHeads, this.dHead]); // [batch, pos, head, d_head]
    const q = this.hook(blockHook(i, 'attn.hook_q'), split(linear(x, w('W_Q'), w('b_Q')))); // [batch, pos, head, d_head]
    const k = this.hook(blockHook(i, 'attn.hook_k'), split(linear(x, w('W_K'), w('b_K')))); // [batch, pos, head, d_head]
    const v = this.hook(blockHook(i, 'attn.hook_v'), split(linear(x, w('W_V'), w('b_V')))); // [batch, pos, head, d_head]
    const headsFirst = (t: Tensor) => tf.transpose(t, [0, 2, 1, 3]); // [batch, head, pos, d_head]
    let keys = headsFirst(k); // [batch, head, key_pos, d_head]
    let values = headsFirst(v); // [batch, head, key_pos, d_head]
    if (this.activeKv) ({ keys, values } = this.activeKv.append(i, keys, values)); // [batch, head, past+pos, d_head]
    const scores = this.hook(blockHook(i, 'attn.hook_attn_scores'), tf.div(tf.matMul(headsFirst(q), keys, false, true), Math.sqrt(this.dHead))); // [batch, head, query_pos, key_pos]
    const pattern = this.hook(blockHook(i, 'attn.hook_pattern'), tf.softmax(tf.add(scores, mask))); // [batch, head, query_pos, key_pos]; masked weights are exactly 0
    const z = this.hook(blockHook(i, 'attn.hook_z'), tf.transpose(tf.matMul(pattern, values), [0, 2, 1, 3])); // [batch, pos, head, d_head]
    return linear(tf.reshape(z, [batch, pos, nHeads * this.dHead]), w('W_O'), w('b_O')); // [batch, pos, d_model]
  }

  /** LayerNorm over d_model (weights `<name>.w`, `<name>.b`), routed through `hook`. */
  private layerNorm(name: string, hook: string, x: Tensor): Tensor {
    return this.hook(hook, layerNorm(x, this.weights[`${name}.w`], this.weights[`${name}.b`], this.config.layerNormEps)); // [batch, pos, d_model]
  }

  private gelu(x: Tensor): Tensor {
    if (this.config.activation === 'gelu') return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))); // x * Phi(x)
    return geluTanh(x);
  }

  /** Token ids -> rows of W_E. A gather, except under a gradient tape (WASM has no gradient for gather). */
  private embedTokens(tokens: Tensor): Tensor {
    const [batch, pos] = tokens.shape;
    const table = this.weights['embed.W_E'];
    if (!isRecordingGradients()) return tf.gather(table, tokens); // [batch, pos, d_model]
    const oneHot = tf.oneHot(tf.reshape(tokens, [batch * pos]), this.config.vocabSize); // [batch*pos, vocab]
    return tf.reshape(tf.matMul(oneHot, table), [batch, pos, this.config.dModel]); // [batch, pos, d_model]
  }

  /**
   * `[d_model, vocab]`: W_U, or W_E transposed when tied. The transpose is made once and reused
   * while W_E holds the same data (tfjs-wasm's matMul with transposeB is ~9x slower on a large
   * matrix, see FACTS.md); under a gradient tape it is recomputed so gradients reach W_E.
   */
  private unembedMatrix(): Tensor {
    if (!this.config.tiedEmbeddings) return this.weights['unembed.W_U'];
    return this.transposedEmbedding.of(this.weights['embed.W_E']); // [d_model, vocab]
  }

  /**
   * [..., d_model] -> [..., vocab]: the unembedding alone, as the last step of the forward pass
   * applies it. The logit lens reads every layer's residual stream through it (after ln_final).
   */
  unembed(x: Tensor): Tensor {
    return tf.tidy(() => linear(x, this.unembedMatrix())); // [..., vocab]
  }

  /** A trace that also carries the text of each position (batch item 0) and the tokenizer, so views can label tokens and logits. */
  override trace(input: Tensor, options: TraceOptions = {}): Trace {
    const trace = super.trace(input, options);
    trace.tokens = this.tokenizer.pieces(Array.from(input.dataSync()).slice(0, input.shape[1]));
    trace.tokenizer = this.tokenizer;
    return trace;
  }

  // ---- generation ---------------------------------------------------------------------------

  /**
   * Forward the new tokens only, against (and into) a KV cache: logits for those positions,
   * `[batch, pos, vocab]`. Hooks fire as in a normal forward, on the new positions.
   */
  forwardCached(tokens: Tensor, cache: KVCache): Tensor {
    this.activeKv = cache;
    try {
      return this.forward(tokens);
    } finally {
      this.activeKv = null;
    }
  }

  /** How generate() runs this model: one position at a time against a KV cache, or the whole window. */
  stepper(useCache: boolean): Stepper {
    let cache = useCache ? new KVCache() : null;
    let pending: Tensor | null = null;
    return {
      cachedLength: () => cache?.length ?? 0,
      caching: useCache,
      next: (ids, fresh) => {
        const logits = tf.tidy(() => {
          const input = tf.tensor2d(ids.slice(-fresh), [1, fresh], 'int32'); // [1, fresh]
          const all = cache ? this.forwardCached(input, cache) : this.forward(input); // [1, fresh, vocab]
          return tf.slice(all, [0, fresh - 1, 0], [1, 1, this.config.vocabSize]); // [1, 1, vocab]
        });
        pending = logits; // freed by dispose() if an interrupt stops the read below
        const row = logits.dataSync() as Float32Array; // read outside tf.tidy: it would scan a returned typed array element by element
        logits.dispose();
        pending = null;
        return row;
      },
      reset: () => {
        cache?.dispose();
        cache = useCache ? new KVCache() : null;
      },
      dispose: () => {
        pending?.dispose();
        pending = null;
        cache?.dispose();
      },
    };
  }

  /**
   * Continue `prompt` token by token. With the KV cache each step runs one position; without it,
   * the whole (cropped) sequence. When the sequence outgrows the context the cache is rebuilt
   * from the last context-1 tokens, so both ways see exactly the same window.
   */
  generate(prompt: string | number[], options: GenerateOptions = {}): Generation {
    return generateWith(this.stepper(options.kvCache ?? true), this.tokenizer, this.config.contextLength, prompt, options);
  }

  /**
   * Mean cross-entropy (nats per token) of predicting each next token of `ids` [batch, pos].
   * With `hooks`, the forward runs with them attached (e.g. the loss with one head ablated).
   */
  loss(ids: Tensor, hooks: HookSpec[] = []): tf.Scalar {
    return tf.tidy(() => {
      const [batch, pos] = ids.shape as number[];
      const inputs = tf.slice(ids, [0, 0], [batch, pos - 1]); // [batch, pos-1]
      const targets = tf.slice(ids, [0, 1], [batch, pos - 1]); // [batch, pos-1]: the next token of each position
      return nextTokenLoss(hooks.length ? this.runWithHooks(inputs, hooks) : this.logits(inputs), targets, this.config.vocabSize);
    });
  }

  /** The forward pass without validation of ids (for training loops); differentiable. */
  logits(tokens: Tensor): Tensor {
    return tf.tidy(() => this.forwardImpl(tokens));
  }

  // ---- description --------------------------------------------------------------------------

  /** Layer table for one 8-token input: hook name, kind, output shape, parameters first used there. */
  summary(): { name: string; kind: string; outputShape: number[]; params: number }[] {
    const example = tf.zeros([1, Math.min(8, this.config.contextLength)], 'int32');
    const trace = this.trace(example, { keepTensors: false });
    example.dispose();
    // Parameters belong to the step whose value they produce.
    const owner = (weight: string): string => {
      const [head, index, part, leaf] = weight.split('.');
      if (head === 'embed') return 'hook_embed';
      if (head === 'pos_embed') return 'hook_pos_embed';
      if (head === 'ln_final') return 'ln_final.hook_normalized';
      if (head === 'unembed') return 'hook_logits';
      const block = Number(index);
      if (part === 'ln1' || part === 'ln2') return blockHook(block, `${part}.hook_normalized`);
      if (part === 'attn') return blockHook(block, ({ Q: 'attn.hook_q', K: 'attn.hook_k', V: 'attn.hook_v', O: 'hook_attn_out' } as const)[leaf.slice(2) as 'Q' | 'K' | 'V' | 'O']);
      return blockHook(block, leaf.endsWith('in') ? 'mlp.hook_pre' : 'hook_mlp_out');
    };
    const params = new Map<string, number>();
    for (const [name, w] of Object.entries(this.weights)) params.set(owner(name), (params.get(owner(name)) ?? 0) + w.size);
    return trace.steps.map((s) => ({ name: s.name, kind: s.kind, outputShape: s.outputShape, params: params.get(s.name) ?? 0 }));
  }

  override toString(): string {
    const { nLayers, nHeads, dModel, contextLength, vocabSize } = this.config;
    const heads = this.config.headsPerBlock ? `heads per block ${this.config.headsPerBlock.join('/')} of ${this.dHead}` : `${nHeads} heads`;
    return `GPT "${this.name}": ${this.parameterCount.toLocaleString('en-US')} parameters, ${nLayers} blocks x ${heads}, d_model ${dModel}, context ${contextLength}, vocabulary ${vocabSize} (${this.config.tokenizer.kind}); runs in ${this.backend}`;
  }

  async toMimeBundle(): Promise<MimeBundle> {
    return viewOf('gpt-model', this, () => this.toString());
  }

  /** Write weights.safetensors + config.json into `dir`. */
  save(dir: string, extra: Record<string, unknown> = {}): void {
    this.saveFiles(dir, 'gpt', this.config, extra); // throws on a function transform, naming its hook
  }

  /** Load a model saved by `save` (or the shipped one). Errors name the file and tensor. */
  static load(dir: string, name = path.basename(dir)): GPT {
    return HookedModel.loadFiles<GPTConfig, GPT>(dir, 'gpt', (config) => new GPT(config, name, null)); // quantization, pruning, transforms; other format versions refused
  }

  dispose(): void {
    for (const w of Object.values(this.weights)) w.dispose();
    this.transposedEmbedding.dispose();
  }
}
