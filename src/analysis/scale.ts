// What makes a model large, from its shape alone: parameters, bytes at each precision, FLOPs per
// token and KV-cache memory, for decoder-only transformers (GPT-2 style and LLaMA style).
// Published shapes are listed so the numbers can be checked against the published counts.

export interface TransformerShape {
  name: string;
  /** Transformer blocks. */
  layers: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Attention heads (query heads). */
  heads: number;
  /** Key/value heads: equal to heads for multi-head attention, fewer for grouped-query attention. */
  kvHeads: number;
  /** Hidden width of the MLP. */
  dFf: number;
  vocab: number;
  /** Longest context the model was trained for. */
  context: number;
  /** 'gelu': two matrices with biases (GPT-2); 'swiglu': three matrices, no biases (LLaMA). */
  mlp: 'gelu' | 'swiglu';
  /** GPT-2 learns position embeddings and has biases and LayerNorm; LLaMA uses RoPE and RMSNorm. */
  style: 'gpt2' | 'llama';
  /** Output projection shares the token embedding matrix. */
  tiedEmbeddings: boolean;
}

const gpt2 = (name: string, layers: number, dModel: number, heads: number): TransformerShape => ({
  name, layers, dModel, heads, kvHeads: heads, dFf: 4 * dModel, vocab: 50257, context: 1024, mlp: 'gelu', style: 'gpt2', tiedEmbeddings: true,
});

/** Published shapes (from the models' configuration files). */
export const PUBLISHED_SHAPES: TransformerShape[] = [
  gpt2('gpt2', 12, 768, 12),
  gpt2('gpt2-medium', 24, 1024, 16),
  gpt2('gpt2-large', 36, 1280, 20),
  gpt2('gpt2-xl', 48, 1600, 25),
  { name: 'llama-2-7b', layers: 32, dModel: 4096, heads: 32, kvHeads: 32, dFf: 11008, vocab: 32000, context: 4096, mlp: 'swiglu', style: 'llama', tiedEmbeddings: false },
  { name: 'llama-2-70b', layers: 80, dModel: 8192, heads: 64, kvHeads: 8, dFf: 28672, vocab: 32000, context: 4096, mlp: 'swiglu', style: 'llama', tiedEmbeddings: false },
];

export interface ScaleReport {
  name: string;
  parameters: number;
  /** Weights only: embeddings excluded (what the per-token matmuls touch). */
  nonEmbeddingParameters: number;
  bytes: { fp32: number; fp16: number; int8: number; int4: number };
  /** Forward FLOPs to process one token at position `position` (2 per multiply-add). */
  flopsPerToken: number;
  /** Bytes of keys and values cached per token (fp16), all layers. */
  kvCacheBytesPerToken: number;
  /** KV cache for a full context (fp16). */
  kvCacheBytesFullContext: number;
}

/** Parameter count, exactly as the reference implementations build the model. */
export function parameterCount(s: TransformerShape): { total: number; embedding: number } {
  const d = s.dModel;
  const headDim = d / s.heads;
  const kvDim = s.kvHeads * headDim;
  const bias = s.style === 'gpt2';
  const attention = d * d + 2 * d * kvDim + d * d + (bias ? d + 2 * kvDim + d : 0); // q, k, v, out
  const mlp = s.mlp === 'gelu' ? 2 * d * s.dFf + (bias ? s.dFf + d : 0) : 3 * d * s.dFf;
  const norms = s.style === 'gpt2' ? 2 * 2 * d : 2 * d; // LayerNorm has scale and shift; RMSNorm a scale
  const perLayer = attention + mlp + norms;
  const finalNorm = s.style === 'gpt2' ? 2 * d : d;
  const embedding = s.vocab * d + (s.style === 'gpt2' ? s.context * d : 0); // tokens (+ learned positions)
  const head = s.tiedEmbeddings ? 0 : s.vocab * d;
  return { total: embedding + s.layers * perLayer + finalNorm + head, embedding: embedding + head };
}

/** Everything the lesson tabulates for one shape. Position defaults to a full context. */
export function scaleReport(s: TransformerShape, position = s.context): ScaleReport {
  const { total, embedding } = parameterCount(s);
  const nonEmbedding = total - embedding;
  const headDim = s.dModel / s.heads;
  // Matmuls: 2 FLOPs per weight per token, plus the LM head; attention: QK^T and AV over `position` keys.
  const flopsPerToken = 2 * nonEmbedding + 2 * s.vocab * s.dModel + 2 * 2 * s.layers * position * s.heads * headDim;
  const kvPerToken = 2 * s.layers * s.kvHeads * headDim * 2; // keys and values, fp16
  return {
    name: s.name,
    parameters: total,
    nonEmbeddingParameters: nonEmbedding,
    bytes: { fp32: total * 4, fp16: total * 2, int8: total, int4: total / 2 },
    flopsPerToken,
    kvCacheBytesPerToken: kvPerToken,
    kvCacheBytesFullContext: kvPerToken * s.context,
  };
}

/** 1234567 -> "1.23 M", 6.7e9 -> "6.74 B": the units people quote model sizes in. */
export function humanCount(n: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [v, u] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(2)} ${u}`;
  return String(n);
}

/** Bytes in binary units: 1536 -> "1.50 KiB". */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 2)} ${units[i]}`;
}
