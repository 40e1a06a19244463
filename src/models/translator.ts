// A small encoder-decoder transformer that translates word by word (Vaswani et al. 2017, with
// pre-LayerNorm blocks as in GPT-2): Spanish ids -> encoder (self-attention over the whole
// sentence) -> memory; English prefix ids -> decoder blocks (causal self-attention, then
// cross-attention whose queries are English positions and whose keys are the Spanish memory,
// then an MLP) -> logits over the English vocabulary for the next word.
//
// The input of forward() is one int32 tensor [batch, 2, pos]: row 0 the Spanish ids (ending in
// </s>), row 1 the English prefix (starting with <s>), each right-padded with 0 (<pad>). Padded
// Spanish positions are masked out of every attention over them; padded English positions only
// produce logits nobody reads.
//
// Hook points are named as in TransformerLens, under `encoder.` and `decoder.`: the
// cross-attention weights of decoder block i are `decoder.blocks.i.cross_attn.hook_pattern`
// [batch, head, query_pos (English), key_pos (Spanish)], what notebook 12 compares with the
// translators' word alignment.
//
// Conventions as in gpt.ts: every linear layer is y = x W + b with W stored [in, out]; W_Q, W_K,
// W_V are [d_model, d_model] with head h owning columns h*d_head .. (h+1)*d_head - 1; LayerNorm
// divides by sqrt(biased variance + eps); GELU is the tanh approximation.
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { backendLabel } from '../engine/backend';
import { isRecordingGradients, matMulTrainable } from '../engine/ops';
import { HookedModel } from '../hooks/hooked-model';
import { TransposedCopy, causalMaskBias, geluTanh, gpt2Initializers, layerNorm, linear } from './transformer-parts';
import { BOS, EOS, PAD, tokenizeWords, Vocabulary } from '../data/translation';
import type { MimeBundle } from '../engine/mime';

export interface TranslatorConfig {
  /** Spanish tokens, id = index (<pad>, <unk>, <s>, </s> first). */
  sourceVocab: string[];
  /** English tokens, id = index (same four special tokens first). */
  targetVocab: string[];
  /** Longest sequence on either side, </s> or <s> included (rows of each position embedding). */
  maxLength: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Attention heads per attention layer; each reads d_model / n_heads dimensions. */
  nHeads: number;
  encoderLayers: number;
  decoderLayers: number;
  /** Hidden width of each MLP. */
  dMlp: number;
  layerNormEps: number;
}

/** Hook points of an encoder block, in forward order. */
const ENCODER_BLOCK_HOOKS = [
  ['hook_resid_pre', 'residual', '[batch, src_pos, d_model]'],
  ['ln1.hook_normalized', 'layernorm', '[batch, src_pos, d_model]'],
  ['attn.hook_attn_scores', 'scores', '[batch, head, query_pos, key_pos] q.k/sqrt(d_head), before the padding mask'],
  ['attn.hook_pattern', 'softmax', '[batch, head, query_pos, key_pos] attention weights (padded keys get 0)'],
  ['attn.hook_z', 'attend', '[batch, src_pos, head, d_head]'],
  ['hook_attn_out', 'linear', '[batch, src_pos, d_model]'],
  ['hook_resid_mid', 'residual', '[batch, src_pos, d_model]'],
  ['ln2.hook_normalized', 'layernorm', '[batch, src_pos, d_model]'],
  ['mlp.hook_pre', 'linear', '[batch, src_pos, d_mlp]'],
  ['mlp.hook_post', 'gelu', '[batch, src_pos, d_mlp]'],
  ['hook_mlp_out', 'linear', '[batch, src_pos, d_model]'],
  ['hook_resid_post', 'residual', '[batch, src_pos, d_model]'],
] as const;

/** Hook points of a decoder block, in forward order. */
const DECODER_BLOCK_HOOKS = [
  ['hook_resid_pre', 'residual', '[batch, tgt_pos, d_model]'],
  ['ln1.hook_normalized', 'layernorm', '[batch, tgt_pos, d_model]'],
  ['self_attn.hook_attn_scores', 'scores', '[batch, head, query_pos, key_pos] before the causal mask'],
  ['self_attn.hook_pattern', 'softmax', '[batch, head, query_pos, key_pos] causal attention weights'],
  ['self_attn.hook_z', 'attend', '[batch, tgt_pos, head, d_head]'],
  ['hook_self_attn_out', 'linear', '[batch, tgt_pos, d_model]'],
  ['hook_resid_mid', 'residual', '[batch, tgt_pos, d_model]'],
  ['ln2.hook_normalized', 'layernorm', '[batch, tgt_pos, d_model]'],
  ['cross_attn.hook_attn_scores', 'scores', '[batch, head, query_pos (English), key_pos (Spanish)] before the padding mask'],
  ['cross_attn.hook_pattern', 'softmax', '[batch, head, query_pos (English), key_pos (Spanish)] cross-attention weights'],
  ['cross_attn.hook_z', 'attend', '[batch, tgt_pos, head, d_head]'],
  ['hook_cross_attn_out', 'linear', '[batch, tgt_pos, d_model]'],
  ['hook_resid_cross', 'residual', '[batch, tgt_pos, d_model]'],
  ['ln3.hook_normalized', 'layernorm', '[batch, tgt_pos, d_model]'],
  ['mlp.hook_pre', 'linear', '[batch, tgt_pos, d_mlp]'],
  ['mlp.hook_post', 'gelu', '[batch, tgt_pos, d_mlp]'],
  ['hook_mlp_out', 'linear', '[batch, tgt_pos, d_model]'],
  ['hook_resid_post', 'residual', '[batch, tgt_pos, d_model]'],
] as const;

type EncoderHook = (typeof ENCODER_BLOCK_HOOKS)[number][0];
type DecoderHook = (typeof DECODER_BLOCK_HOOKS)[number][0];
const enc = (i: number, hook: EncoderHook) => `encoder.blocks.${i}.${hook}`;
const dec = (i: number, hook: DecoderHook) => `decoder.blocks.${i}.${hook}`;

/** The hook name of decoder block `layer`'s cross-attention weights. */
export function crossAttentionHook(layer: number): string {
  return dec(layer, 'cross_attn.hook_pattern');
}

export interface TranslateOptions {
  /** Hypotheses kept at each step (1: greedy, the most likely word each step). Default 1. */
  beamWidth?: number;
  /** Finished hypotheses are ranked by log p / length^alpha (0: raw log-probability). Default 1. */
  lengthPenalty?: number;
  /** Most English tokens to produce, </s> included (default: twice the Spanish tokens + 10, at most the model's maxLength - 1). */
  maxTokens?: number;
  /** Keep the `topK` most likely next words of each greedy step (default 0: none). */
  topK?: number;
}

export interface TranslationStep {
  /** The token chosen at this step and its probability. */
  token: string;
  p: number;
  /** The most likely next tokens at this step with their probabilities (when asked with topK). */
  top: { token: string; p: number }[];
}

export interface Translation {
  /** The Spanish tokens as the model read them (<unk> where a word is outside its vocabulary). */
  source: string[];
  /** The English tokens produced, without <s> and </s>. */
  tokens: string[];
  /** The tokens joined with spaces (punctuation attached to the word before it). */
  text: string;
  /** Sum of log p of every token produced, </s> included (nats). */
  logProb: number;
  /** Per step of a greedy decode (beam width 1): the choice and the distribution it came from. */
  steps: TranslationStep[];
}

/** Tokens -> readable text: a space before each word, none before punctuation that closes. */
export function detokenize(tokens: string[]): string {
  return tokens.reduce((text, t, i) => (i === 0 ? t : /^[.,;:!?)\]»”’]$/.test(t) ? text + t : `${text} ${t}`), '');
}

/** A Spanish -> English encoder-decoder transformer with a hook point on every intermediate. */
export class Translator extends HookedModel {
  readonly name: string;
  readonly config: TranslatorConfig;
  readonly weights: Record<string, tf.Variable>;
  readonly source: Vocabulary;
  readonly target: Vocabulary;
  /** W_E of the decoder transposed, kept while W_E is unchanged (see `unembedMatrix`). */
  private readonly transposedEmbedding = new TransposedCopy();

  constructor(config: TranslatorConfig, name = 'translator', seed: number | null = 0) {
    super();
    const { dModel: d, nHeads, encoderLayers, decoderLayers, dMlp, maxLength } = config;
    if (!(d > 0 && nHeads > 0 && encoderLayers > 0 && decoderLayers > 0 && dMlp > 0 && maxLength > 1) || d % nHeads !== 0) {
      throw new Error(`Translator config needs positive sizes and d_model divisible by n_heads; got d_model ${d}, heads ${nHeads}, layers ${encoderLayers}+${decoderLayers}, d_mlp ${dMlp}, max length ${maxLength}.`);
    }
    this.name = name;
    this.config = config;
    this.source = new Vocabulary(config.sourceVocab);
    this.target = new Vocabulary(config.targetVocab);
    const { normal, zeros, ones } = gpt2Initializers(seed);
    const residualStd = 0.02 / Math.sqrt(2 * (encoderLayers + decoderLayers)); // GPT-2's scaling of projections into the residual stream
    const attention = (prefix: string) => ({
      [`${prefix}.W_Q`]: normal([d, d]), [`${prefix}.b_Q`]: zeros([d]), // [d_model, head*d_head]
      [`${prefix}.W_K`]: normal([d, d]), [`${prefix}.b_K`]: zeros([d]),
      [`${prefix}.W_V`]: normal([d, d]), [`${prefix}.b_V`]: zeros([d]),
      [`${prefix}.W_O`]: normal([d, d], residualStd), [`${prefix}.b_O`]: zeros([d]), // [head*d_head, d_model]
    });
    const mlp = (prefix: string) => ({
      [`${prefix}.W_in`]: normal([d, dMlp]), [`${prefix}.b_in`]: zeros([dMlp]), // [d_model, d_mlp]
      [`${prefix}.W_out`]: normal([dMlp, d], residualStd), [`${prefix}.b_out`]: zeros([d]), // [d_mlp, d_model]
    });
    const norm = (prefix: string) => ({ [`${prefix}.w`]: ones([d]), [`${prefix}.b`]: zeros([d]) });
    const w: Record<string, tf.Variable> = {
      'encoder.embed.W_E': normal([this.source.size, d]), // [src_vocab, d_model]
      'encoder.pos_embed.W_pos': normal([maxLength, d], 0.01), // [max_length, d_model]
      'decoder.embed.W_E': normal([this.target.size, d]), // [tgt_vocab, d_model]; also the unembedding (tied)
      'decoder.pos_embed.W_pos': normal([maxLength, d], 0.01), // [max_length, d_model]
    };
    for (let i = 0; i < encoderLayers; i++) Object.assign(w, norm(`encoder.blocks.${i}.ln1`), attention(`encoder.blocks.${i}.attn`), norm(`encoder.blocks.${i}.ln2`), mlp(`encoder.blocks.${i}.mlp`));
    Object.assign(w, norm('encoder.ln_final'));
    for (let i = 0; i < decoderLayers; i++) Object.assign(w, norm(`decoder.blocks.${i}.ln1`), attention(`decoder.blocks.${i}.self_attn`), norm(`decoder.blocks.${i}.ln2`), attention(`decoder.blocks.${i}.cross_attn`), norm(`decoder.blocks.${i}.ln3`), mlp(`decoder.blocks.${i}.mlp`));
    Object.assign(w, norm('decoder.ln_final'));
    this.weights = w;

    this.hookPoint('encoder.hook_embed', 'embedding', '[batch, src_pos, d_model] Spanish token embeddings', { inputs: [] });
    this.hookPoint('encoder.hook_pos_embed', 'embedding', '[batch, src_pos, d_model] position embeddings', { inputs: [] });
    for (let i = 0; i < encoderLayers; i++) for (const [hook, kind, shape] of ENCODER_BLOCK_HOOKS) this.hookPoint(enc(i, hook), kind, shape, hook === 'hook_resid_pre' ? { inputs: i === 0 ? ['encoder.hook_embed', 'encoder.hook_pos_embed'] : [enc(i - 1, 'hook_resid_post')] } : {});
    this.hookPoint('encoder.ln_final.hook_normalized', 'layernorm', '[batch, src_pos, d_model] the memory every cross-attention reads', { inputs: [enc(encoderLayers - 1, 'hook_resid_post')] });
    this.hookPoint('decoder.hook_embed', 'embedding', '[batch, tgt_pos, d_model] English token embeddings', { inputs: [] });
    this.hookPoint('decoder.hook_pos_embed', 'embedding', '[batch, tgt_pos, d_model] position embeddings', { inputs: [] });
    for (let i = 0; i < decoderLayers; i++) {
      for (const [hook, kind, shape] of DECODER_BLOCK_HOOKS) {
        const inputs =
          hook === 'hook_resid_pre' ? (i === 0 ? ['decoder.hook_embed', 'decoder.hook_pos_embed'] : [dec(i - 1, 'hook_resid_post')])
          : hook === 'cross_attn.hook_attn_scores' ? [dec(i, 'ln2.hook_normalized'), 'encoder.ln_final.hook_normalized']
          : hook === 'ln2.hook_normalized' ? [dec(i, 'hook_resid_mid')]
          : hook === 'hook_resid_mid' ? [dec(i, 'hook_resid_pre'), dec(i, 'hook_self_attn_out')]
          : hook === 'hook_resid_cross' ? [dec(i, 'hook_resid_mid'), dec(i, 'hook_cross_attn_out')]
          : hook === 'hook_resid_post' ? [dec(i, 'hook_resid_cross'), dec(i, 'hook_mlp_out')]
          : undefined;
        this.hookPoint(dec(i, hook), kind, shape, inputs ? { inputs } : {});
      }
    }
    this.hookPoint('decoder.ln_final.hook_normalized', 'layernorm', '[batch, tgt_pos, d_model]', { inputs: [dec(decoderLayers - 1, 'hook_resid_post')] });
    this.hookPoint('hook_logits', 'unembed', '[batch, tgt_pos, tgt_vocab] next English token', { inputs: ['decoder.ln_final.hook_normalized'] });
  }

  get dHead(): number {
    return this.config.dModel / this.config.nHeads;
  }

  get parameterCount(): number {
    return Object.values(this.weights).reduce((n, w) => n + w.size, 0);
  }

  get byteSize(): number {
    return this.storedBytes ?? this.parameterCount * 4;
  }

  get backend(): string {
    return `tfjs (${backendLabel()})`;
  }

  // ---- input ------------------------------------------------------------------------------

  /** Spanish text (or tokens) -> ids ending in </s>; one clear line when nothing readable is left. */
  sourceIds(spanish: string | string[]): number[] {
    const tokens = typeof spanish === 'string' ? tokenizeWords(spanish) : spanish;
    if (tokens.length === 0) throw new Error(`${this.name}: the Spanish text is empty (no words or punctuation found); give a sentence such as "Dios es amor."`);
    if (tokens.length + 1 > this.config.maxLength) throw new Error(`${this.name} reads at most ${this.config.maxLength - 1} Spanish tokens; got ${tokens.length}.`);
    const ids = this.source.encode(tokens);
    if (ids.every((id) => id === 1)) throw new Error(`${this.name}: none of the words of "${tokens.join(' ')}" is in its Spanish vocabulary (${this.source.size} words from the Reina-Valera 1909); give Spanish text.`);
    return [...ids, EOS];
  }

  /**
   * Spanish ids and an English prefix -> the packed input [batch, 2, pos] forward() reads.
   * `english` tokens are preceded by <s> (the decoder predicts token t+1 from tokens 0..t).
   */
  pack(pairs: { source: number[]; target: number[] }[]): Tensor {
    const pos = Math.max(...pairs.map((p) => Math.max(p.source.length, p.target.length)));
    const data = new Int32Array(pairs.length * 2 * pos); // zeros are <pad>
    pairs.forEach((p, b) => {
      data.set(p.source, b * 2 * pos);
      data.set(p.target, b * 2 * pos + pos);
    });
    return tf.tensor3d(data, [pairs.length, 2, pos], 'int32'); // [batch, 2, pos]
  }

  /** One Spanish sentence and English tokens -> [1, 2, pos]: row 1 is <s> + English (teacher forcing). */
  encodePair(spanish: string | string[], english: string[]): Tensor {
    return this.pack([{ source: this.sourceIds(spanish), target: [BOS, ...this.target.encode(english)] }]);
  }

  protected validateInput(input: Tensor): void {
    const shape = input.shape;
    if (shape.length !== 3 || shape[0] < 1 || shape[1] !== 2 || shape[2] < 1 || input.dtype !== 'int32') {
      throw new Error(`${this.name} expects ids shaped [batch, 2, pos] (int32; row 0 Spanish, row 1 <s> + English; make them with model.encodePair(spanish, english)), got [${shape}] ${input.dtype}.`);
    }
    if (shape[2] > this.config.maxLength) throw new Error(`${this.name} reads at most ${this.config.maxLength} positions per side; got ${shape[2]}.`);
    const ids = input.dataSync();
    const pos = shape[2];
    for (let i = 0; i < ids.length; i++) {
      const limit = Math.floor(i / pos) % 2 === 0 ? this.source.size : this.target.size;
      if (ids[i] < 0 || ids[i] >= limit) throw new Error(`${this.name}: id ${ids[i]} at index ${i} is outside the ${Math.floor(i / pos) % 2 === 0 ? 'Spanish' : 'English'} vocabulary 0..${limit - 1}.`);
    }
  }

  // ---- the forward pass ---------------------------------------------------------------------

  protected forwardImpl(input: Tensor): Tensor {
    const [batch, , pos] = input.shape;
    const sourceIds = tf.reshape(tf.slice(input, [0, 0, 0], [batch, 1, pos]), [batch, pos]); // [batch, src_pos]
    const targetIds = tf.reshape(tf.slice(input, [0, 1, 0], [batch, 1, pos]), [batch, pos]); // [batch, tgt_pos]
    const memory = this.encode(sourceIds); // [batch, src_pos, d_model]
    return this.decode(memory, sourceIds, targetIds); // [batch, tgt_pos, tgt_vocab]
  }

  /** Spanish ids [batch, src_pos] -> the encoder's output (the memory) [batch, src_pos, d_model]. */
  private encode(sourceIds: Tensor): Tensor {
    const { encoderLayers } = this.config;
    const keyMask = this.paddingBias(sourceIds); // [batch, 1, 1, src_pos]
    let resid = this.embedded('encoder', sourceIds); // [batch, src_pos, d_model]
    for (let i = 0; i < encoderLayers; i++) {
      const x = this.hook(enc(i, 'hook_resid_pre'), resid); // [batch, src_pos, d_model]
      const attnOut = this.hook(enc(i, 'hook_attn_out'), this.attention(`encoder.blocks.${i}.attn`, `encoder.blocks.${i}.attn`, this.layerNorm(`encoder.blocks.${i}.ln1`, enc(i, 'ln1.hook_normalized'), x), null, keyMask)); // [batch, src_pos, d_model]
      const mid = this.hook(enc(i, 'hook_resid_mid'), tf.add(x, attnOut)); // [batch, src_pos, d_model]
      resid = this.hook(enc(i, 'hook_resid_post'), tf.add(mid, this.mlp(`encoder.blocks.${i}`, this.layerNorm(`encoder.blocks.${i}.ln2`, enc(i, 'ln2.hook_normalized'), mid)))); // [batch, src_pos, d_model]
    }
    return this.layerNorm('encoder.ln_final', 'encoder.ln_final.hook_normalized', resid); // [batch, src_pos, d_model]
  }

  /**
   * The memory and English ids [batch, tgt_pos] -> logits [batch, tgt_pos, tgt_vocab]. With
   * `lastPositions` (one index per batch row) only those positions are unembedded: logits
   * [batch, 1, tgt_vocab], what a decoding step needs (the unembedding is most of its cost).
   */
  private decode(memory: Tensor, sourceIds: Tensor, targetIds: Tensor, lastPositions?: number[]): Tensor {
    const { decoderLayers } = this.config;
    const pos = targetIds.shape[1] as number;
    const keyMask = this.paddingBias(sourceIds); // [batch, 1, 1, src_pos]
    const causal = causalMaskBias(pos); // [tgt_pos, tgt_pos]
    let resid = this.embedded('decoder', targetIds); // [batch, tgt_pos, d_model]
    for (let i = 0; i < decoderLayers; i++) {
      const b = `decoder.blocks.${i}`;
      const x = this.hook(dec(i, 'hook_resid_pre'), resid); // [batch, tgt_pos, d_model]
      const selfOut = this.hook(dec(i, 'hook_self_attn_out'), this.attention(`${b}.self_attn`, `${b}.self_attn`, this.layerNorm(`${b}.ln1`, dec(i, 'ln1.hook_normalized'), x), null, causal)); // [batch, tgt_pos, d_model]
      const mid = this.hook(dec(i, 'hook_resid_mid'), tf.add(x, selfOut)); // [batch, tgt_pos, d_model]
      const crossOut = this.hook(dec(i, 'hook_cross_attn_out'), this.attention(`${b}.cross_attn`, `${b}.cross_attn`, this.layerNorm(`${b}.ln2`, dec(i, 'ln2.hook_normalized'), mid), memory, keyMask)); // [batch, tgt_pos, d_model]
      const cross = this.hook(dec(i, 'hook_resid_cross'), tf.add(mid, crossOut)); // [batch, tgt_pos, d_model]
      resid = this.hook(dec(i, 'hook_resid_post'), tf.add(cross, this.mlp(b, this.layerNorm(`${b}.ln3`, dec(i, 'ln3.hook_normalized'), cross)))); // [batch, tgt_pos, d_model]
    }
    const normalized = this.layerNorm('decoder.ln_final', 'decoder.ln_final.hook_normalized', resid); // [batch, tgt_pos, d_model]
    const batch = normalized.shape[0] as number;
    const read = lastPositions
      ? tf.reshape(tf.gather(tf.reshape(normalized, [batch * pos, this.config.dModel]), tf.tensor1d(lastPositions.map((p, b) => b * pos + p), 'int32')), [batch, 1, this.config.dModel]) // [batch, 1, d_model]
      : normalized;
    return this.hook('hook_logits', linear(read, this.unembedMatrix())); // [batch, tgt_pos (or 1), tgt_vocab]
  }

  /**
   * [d_model, tgt_vocab]: the English embedding transposed (tied). Made once and reused while the
   * embedding holds the same data (a transpose per decoding step is slow on WASM); recomputed
   * under a gradient tape so gradients reach the embedding.
   */
  private unembedMatrix(): Tensor {
    return this.transposedEmbedding.of(this.weights['decoder.embed.W_E']); // [d_model, tgt_vocab]
  }

  /** Token embeddings + position embeddings, each through its hook. */
  private embedded(side: 'encoder' | 'decoder', ids: Tensor): Tensor {
    const [batch, pos] = ids.shape as number[];
    const d = this.config.dModel;
    const table = this.weights[`${side}.embed.W_E`];
    const tokens = isRecordingGradients()
      ? tf.reshape(tf.matMul(tf.oneHot(tf.reshape(ids, [batch * pos]), table.shape[0]), table), [batch, pos, d]) // one-hot x table: WASM has no gradient for gather
      : tf.gather(table, ids); // [batch, pos, d_model]
    const embed = this.hook(`${side}.hook_embed`, tokens); // [batch, pos, d_model]
    const rows = tf.slice(this.weights[`${side}.pos_embed.W_pos`], [0, 0], [pos, d]); // [pos, d_model]
    const posEmbed = this.hook(`${side}.hook_pos_embed`, tf.broadcastTo(tf.expandDims(rows, 0), [batch, pos, d])); // [batch, pos, d_model]
    return tf.add(embed, posEmbed); // [batch, pos, d_model]
  }

  /** [batch, 1, 1, src_pos]: 0 on a real Spanish token, -1e9 on padding (added to scores over Spanish keys). */
  private paddingBias(sourceIds: Tensor): Tensor {
    const [batch, pos] = sourceIds.shape as number[];
    return tf.reshape(tf.mul(tf.cast(tf.equal(sourceIds, PAD), 'float32'), -1e9), [batch, 1, 1, pos]); // [batch, 1, 1, src_pos]
  }

  /**
   * Multi-head attention. Queries from `x` [batch, q_pos, d_model]; keys and values from `memory`
   * (cross-attention) or from `x` itself (self-attention, memory null). `bias` is added to the scores.
   */
  private attention(weights: string, hooks: string, x: Tensor, memory: Tensor | null, bias: Tensor): Tensor {
    const { nHeads } = this.config;
    const [batch, qPos] = x.shape as number[];
    const kv = memory ?? x;
    const kPos = kv.shape[1] as number;
    const w = (name: string) => this.weights[`${weights}.${name}`];
    const heads = (t: Tensor, n: number) => tf.transpose(tf.reshape(t, [batch, n, nHeads, this.dHead]), [0, 2, 1, 3]); // [batch, head, pos, d_head]
    const q = heads(linear(x, w('W_Q'), w('b_Q')), qPos); // [batch, head, q_pos, d_head]
    const k = heads(linear(kv, w('W_K'), w('b_K')), kPos); // [batch, head, k_pos, d_head]
    const v = heads(linear(kv, w('W_V'), w('b_V')), kPos); // [batch, head, k_pos, d_head]
    const scores = this.hook(`${hooks}.hook_attn_scores`, tf.div(tf.matMul(q, k, false, true), Math.sqrt(this.dHead))); // [batch, head, q_pos, k_pos]
    const pattern = this.hook(`${hooks}.hook_pattern`, tf.softmax(tf.add(scores, bias))); // [batch, head, q_pos, k_pos]; masked weights are exactly 0
    const z = this.hook(`${hooks}.hook_z`, tf.transpose(tf.matMul(pattern, v), [0, 2, 1, 3])); // [batch, q_pos, head, d_head]
    return linear(tf.reshape(z, [batch, qPos, nHeads * this.dHead]), w('W_O'), w('b_O')); // [batch, q_pos, d_model]
  }

  private mlp(block: string, x: Tensor): Tensor {
    const w = (name: string) => this.weights[`${block}.mlp.${name}`];
    const hookName = (h: string) => `${block}.mlp.${h}`;
    const pre = this.hook(hookName('hook_pre'), linear(x, w('W_in'), w('b_in'))); // [batch, pos, d_mlp]
    const post = this.hook(hookName('hook_post'), geluTanh(pre)); // [batch, pos, d_mlp]
    return this.hook(`${block}.hook_mlp_out`, linear(post, w('W_out'), w('b_out'))); // [batch, pos, d_model]
  }

  /** LayerNorm over d_model (weights `<name>.w`, `<name>.b`), routed through `hook`. */
  private layerNorm(name: string, hook: string, x: Tensor): Tensor {
    return this.hook(hook, layerNorm(x, this.weights[`${name}.w`], this.weights[`${name}.b`], this.config.layerNormEps)); // [batch, pos, d_model]
  }

  /** The forward pass without validation (training loops); differentiable. */
  logits(input: Tensor): Tensor {
    return tf.tidy(() => this.forwardImpl(input));
  }

  /**
   * Mean cross-entropy (nats per English token, </s> included) of a packed batch [batch, 2, pos]
   * whose row 1 is <s> + English + </s>: position t predicts token t+1; padding is not scored.
   */
  loss(input: Tensor): tf.Scalar {
    return tf.tidy(() => {
      const [batch, , pos] = input.shape;
      const inputs = tf.slice(input, [0, 0, 0], [batch, 2, pos - 1]); // [batch, 2, pos-1]: the last target is never an input
      const targets = tf.reshape(tf.slice(input, [0, 1, 1], [batch, 1, pos - 1]), [batch * (pos - 1)]); // [batch*(pos-1)]
      const logits = tf.reshape(this.forwardImpl(inputs), [batch * (pos - 1), this.target.size]); // [batch*(pos-1), tgt_vocab]
      const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, this.target.size)), 1); // [batch*(pos-1)] log p(target)
      const real = tf.cast(tf.notEqual(targets, PAD), 'float32'); // [batch*(pos-1)]
      return tf.div(tf.neg(tf.sum(tf.mul(picked, real))), tf.sum(real)) as tf.Scalar;
    });
  }

  // ---- decoding: from per-step distributions to a sentence ----------------------------------

  /**
   * The encoder's memory for Spanish id sequences (right-padded to one length), kept until the
   * caller disposes both: decoding reuses it at every step instead of re-encoding the Spanish.
   */
  private memoryOf(sources: number[][]): { memory: Tensor; sourceIds: Tensor } {
    const pos = Math.max(...sources.map((s) => s.length));
    const data = new Int32Array(sources.length * pos); // zeros are <pad>
    sources.forEach((s, b) => data.set(s, b * pos));
    const sourceIds = tf.tensor2d(data, [sources.length, pos], 'int32'); // [batch, src_pos]
    const memory = tf.tidy(() => this.encode(sourceIds)); // [batch, src_pos, d_model]
    return { memory, sourceIds };
  }

  /** log p of the next English token after each prefix (row b reads memory row b): [prefixes][tgt_vocab]. */
  private nextLogProbs(memory: Tensor, sourceIds: Tensor, prefixes: number[][]): Float32Array[] {
    const pos = Math.max(...prefixes.map((p) => p.length));
    const data = new Int32Array(prefixes.length * pos);
    prefixes.forEach((p, b) => data.set(p, b * pos));
    const v = this.target.size;
    const rows = tf.tidy(() => {
      const targetIds = tf.tensor2d(data, [prefixes.length, pos], 'int32'); // [batch, tgt_pos]
      const logits = this.decode(memory, sourceIds, targetIds, prefixes.map((p) => p.length - 1)); // [batch, 1, tgt_vocab]: each prefix's last position
      return tf.logSoftmax(tf.reshape(logits, [prefixes.length, v])); // [batch, tgt_vocab]
    });
    const out = rows.dataSync() as Float32Array;
    rows.dispose();
    return prefixes.map((_, b) => out.subarray(b * v, (b + 1) * v));
  }

  /** Most tokens to produce for Spanish ids `source` (</s> included): twice as many + 10 unless told, within the position embedding. */
  private maxTokensFor(source: number[], asked?: number): number {
    return Math.max(1, Math.min(asked ?? 2 * source.length + 10, this.config.maxLength - 1));
  }

  /**
   * Greedy translations of many Spanish sentences at once (the most likely word at each step),
   * `batchSize` sentences per forward pass: what the held-out BLEU is computed with. Returns
   * English tokens without <s> and </s>. The same words as translate(s) one at a time.
   */
  translateAll(spanish: (string | string[])[], options: { batchSize?: number; maxTokens?: number } = {}): string[][] {
    const batchSize = options.batchSize ?? 64;
    const out: string[][] = [];
    for (let start = 0; start < spanish.length; start += batchSize) {
      const sources = spanish.slice(start, start + batchSize).map((s) => this.sourceIds(s));
      const limits = sources.map((s) => this.maxTokensFor(s, options.maxTokens));
      const { memory, sourceIds } = this.memoryOf(sources);
      try {
        const prefixes = sources.map(() => [BOS]);
        const done = sources.map(() => false);
        for (let step = 0; done.includes(false); step++) {
          const rows = this.nextLogProbs(memory, sourceIds, prefixes);
          rows.forEach((row, b) => {
            if (done[b]) return;
            if (step === limits[b] - 1) done[b] = true; // the last token allowed: stop here, </s> or not
            const id = topIndices(row, 1)[0];
            if (id === EOS) done[b] = true;
            else prefixes[b].push(id);
          });
        }
        for (const p of prefixes) out.push(this.target.decode(p.slice(1)));
      } finally {
        tf.dispose([memory, sourceIds]);
      }
    }
    return out;
  }

  /**
   * Translate Spanish text. Beam width 1 is greedy decoding: at each step the most likely next
   * word. A wider beam keeps the `beamWidth` best prefixes by total log-probability, and ranks
   * finished ones by log p / length^lengthPenalty: search over the same per-step distributions.
   */
  translate(spanish: string | string[], options: TranslateOptions = {}): Translation {
    const source = this.sourceIds(spanish);
    const width = options.beamWidth ?? 1;
    if (!(Number.isInteger(width) && width >= 1)) throw new Error(`beamWidth must be a whole number >= 1, got ${width}.`);
    const alpha = options.lengthPenalty ?? 1;
    const maxTokens = this.maxTokensFor(source, options.maxTokens);
    const topK = options.topK ?? 0;
    type Hypothesis = { ids: number[]; logProb: number; steps: TranslationStep[] };
    let alive: Hypothesis[] = [{ ids: [BOS], logProb: 0, steps: [] }];
    const finished: Hypothesis[] = [];
    const score = (h: Hypothesis) => (alpha === 0 ? h.logProb : h.logProb / Math.pow(h.ids.length - 1, alpha)); // ids.length - 1: tokens produced, </s> included
    const { memory, sourceIds } = this.memoryOf([source]);
    try {
      for (let step = 0; step < maxTokens && alive.length > 0; step++) {
        const copies = tf.tidy(() => [tf.tile(memory, [alive.length, 1, 1]), tf.tile(sourceIds, [alive.length, 1])]); // one copy of the memory per live hypothesis
        let logProbs: Float32Array[];
        try {
          logProbs = this.nextLogProbs(copies[0], copies[1], alive.map((h) => h.ids));
        } finally {
          tf.dispose(copies);
        }
        const candidates: { from: number; id: number; logProb: number }[] = [];
        logProbs.forEach((row, b) => {
          for (const id of topIndices(row, width)) candidates.push({ from: b, id, logProb: alive[b].logProb + row[id] }); // only the `width` best of each prefix can survive
        });
        candidates.sort((a, b) => b.logProb - a.logProb || a.from - b.from || a.id - b.id);
        const next: Hypothesis[] = [];
        for (const c of candidates.slice(0, width)) {
          const parent = alive[c.from];
          const row = logProbs[c.from];
          const steps = width === 1 ? [...parent.steps, { token: this.target.tokens[c.id], p: Math.exp(row[c.id]), top: topIndices(row, topK).map((id) => ({ token: this.target.tokens[id], p: Math.exp(row[id]) })) }] : parent.steps;
          const h = { ids: [...parent.ids, c.id], logProb: c.logProb, steps };
          if (c.id === EOS || step === maxTokens - 1) finished.push(h);
          else next.push(h);
        }
        alive = finished.length >= width ? [] : next.slice(0, width - finished.length);
      }
    } finally {
      tf.dispose([memory, sourceIds]);
    }
    const best = finished.sort((a, b) => score(b) - score(a))[0];
    const tokens = this.target.decode(best.ids.slice(1).filter((id) => id !== EOS));
    return { source: this.source.decode(source.slice(0, -1)), tokens, text: detokenize(tokens), logProb: best.logProb, steps: best.steps };
  }

  /**
   * Cross-attention of every decoder block for one Spanish sentence and English tokens
   * (teacher-forced): [layer][head][English position][Spanish position]. English position t is
   * the query that predicts English token t (its input is token t-1, or <s> for t = 0); the last
   * row predicts </s>. Spanish positions end with </s>.
   */
  crossAttention(spanish: string | string[], english: string[]): number[][][][] {
    const input = this.encodePair(spanish, english);
    const names = Array.from({ length: this.config.decoderLayers }, (_, i) => crossAttentionHook(i));
    const [logits, cache] = this.runWithCache(input, { names });
    try {
      const srcLen = this.sourceIds(spanish).length;
      const tgtLen = english.length + 1;
      return names.map((n) => (cache.get(n).arraySync() as number[][][][])[0].map((head) => head.slice(0, tgtLen).map((row) => row.slice(0, srcLen))));
    } finally {
      tf.dispose([input, logits]);
      cache.dispose();
    }
  }

  override toString(): string {
    const { encoderLayers, decoderLayers, nHeads, dModel } = this.config;
    return `Translator "${this.name}": ${this.parameterCount.toLocaleString('en-US')} parameters, ${encoderLayers} encoder + ${decoderLayers} decoder blocks x ${nHeads} heads, d_model ${dModel}, vocabulary ${this.source.size} Spanish / ${this.target.size} English words; runs in ${this.backend}`;
  }

  async toMimeBundle(): Promise<MimeBundle> {
    const text = this.toString();
    return { 'text/plain': text } as MimeBundle;
  }

  /** Write weights.safetensors + config.json into `dir`. */
  save(dir: string, extra: Record<string, unknown> = {}): void {
    this.saveFiles(dir, 'translator', this.config, extra); // throws on a function transform, naming its hook
  }

  /** Load a model saved by `save` (or the shipped one). Errors name the file and tensor. */
  static load(dir: string, name = path.basename(dir)): Translator {
    return HookedModel.loadFiles<TranslatorConfig, Translator>(dir, 'translator', (config) => new Translator(config, name, null)); // other optimization-format versions refused
  }

  dispose(): void {
    for (const w of Object.values(this.weights)) w.dispose();
    this.transposedEmbedding.dispose();
  }
}

/** Indices of the k largest values, largest first (ties: lower index first). */
function topIndices(values: Float32Array, k: number): number[] {
  const best: number[] = [];
  if (k <= 0) return best;
  for (let i = 0; i < values.length; i++) {
    if (best.length < k) best.push(i);
    else if (values[i] > values[best[k - 1]]) best[k - 1] = i;
    else continue;
    for (let j = best.length - 1; j > 0 && values[best[j - 1]] < values[best[j]]; j--) [best[j - 1], best[j]] = [best[j], best[j - 1]]; // bubble up; equal values keep the lower index first
  }
  return best;
}
