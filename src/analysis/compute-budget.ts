// What training costs next to inference, and what bounds decoding speed on an accelerator.
// Training: each token costs a forward pass (2 FLOPs per weight) and a backward pass (twice that:
// gradients for the activations and for the weights), about 6 N FLOPs per token against 2 N for
// inference (Kaplan et al. 2020, "Scaling Laws for Neural Language Models", section 2.1).
// Decoding at batch B: every weight is read once per step for B tokens, so
// tokens/s <= B x bandwidth / bytes of weights (until the arithmetic, FLOP/s, becomes the limit).

/** The matmul-relevant parameters of a GPT: the blocks' weights and the LM head. */
export interface GptCostShape {
  layers: number;
  dModel: number;
  dMlp: number;
  vocab: number;
  context: number;
}

/** Weights a token's matmuls use: 4 d^2 (attention) + 2 d dMlp (MLP) per block, plus the LM head v x d. */
export function matmulWeights(s: GptCostShape): number {
  return s.layers * (4 * s.dModel * s.dModel + 2 * s.dModel * s.dMlp) + s.vocab * s.dModel;
}

/** FLOPs of attention scores and weighted sums per token that attends over `keys` positions: 2 x 2 x layers x keys x d. */
export function attentionFlopsPerToken(s: GptCostShape, keys: number): number {
  return 2 * 2 * s.layers * keys * s.dModel;
}

export interface TrainingCost {
  /** Weights the matmuls use (biases and norms left out: they are a rounding error). */
  n: number;
  tokens: number;
  /** 2 N + attention over the whole window (as the training graph computes it, masked or not). */
  forwardFlopsPerToken: number;
  /** 3 x forward: forward + backward (activation and weight gradients). */
  trainingFlopsPerToken: number;
  /** 6 N D alone. */
  sixND: number;
  /** 3 x forward x tokens: with attention. */
  totalTrainingFlops: number;
  /** Inference at the end of a full context: 2 N + attention over `context` keys. */
  inferenceFlopsPerToken: number;
  /** How many inference tokens the training run would have paid for. */
  inferenceTokensEquivalent: number;
  /** If seconds are given: FLOP/s achieved by the training run. */
  achievedFlops?: number;
}

/** Cost of a training run of `tokens` tokens on windows of `s.context`, against inference per token. */
export function trainingCost(s: GptCostShape, tokens: number, seconds?: number): TrainingCost {
  const n = matmulWeights(s);
  const forward = 2 * n + attentionFlopsPerToken(s, s.context);
  const training = 3 * forward;
  const inference = 2 * n + attentionFlopsPerToken(s, s.context);
  const total = training * tokens;
  return {
    n,
    tokens,
    forwardFlopsPerToken: forward,
    trainingFlopsPerToken: training,
    sixND: 6 * n * tokens,
    totalTrainingFlops: total,
    inferenceFlopsPerToken: inference,
    inferenceTokensEquivalent: total / inference,
    ...(seconds ? { achievedFlops: total / seconds } : {}),
  };
}

/** One accelerator's published memory bandwidth and dense 16-bit tensor throughput, with its source. */
export interface Accelerator {
  name: string;
  /** HBM bandwidth, bytes per second. */
  bandwidth: number;
  /** Dense fp16/bf16 tensor FLOP/s (no structured sparsity). */
  peakFlops: number;
  memoryGB: number;
  source: string;
}

/** Published figures (vendor datasheets and documentation, as named in `source`). */
export const ACCELERATORS: Accelerator[] = [
  { name: 'NVIDIA V100 SXM2 32GB', bandwidth: 900e9, peakFlops: 125e12, memoryGB: 32, source: 'NVIDIA Tesla V100 GPU datasheet' },
  { name: 'NVIDIA A100 40GB SXM', bandwidth: 1555e9, peakFlops: 312e12, memoryGB: 40, source: 'NVIDIA A100 Tensor Core GPU datasheet' },
  { name: 'NVIDIA A100 80GB SXM', bandwidth: 2039e9, peakFlops: 312e12, memoryGB: 80, source: 'NVIDIA A100 Tensor Core GPU datasheet' },
  { name: 'NVIDIA H100 SXM 80GB', bandwidth: 3.35e12, peakFlops: 989e12, memoryGB: 80, source: 'NVIDIA H100 Tensor Core GPU datasheet' },
  { name: 'NVIDIA H100 PCIe 80GB', bandwidth: 2.0e12, peakFlops: 756e12, memoryGB: 80, source: 'NVIDIA H100 Tensor Core GPU datasheet' },
  { name: 'NVIDIA H200 SXM 141GB', bandwidth: 4.8e12, peakFlops: 989e12, memoryGB: 141, source: 'NVIDIA H200 Tensor Core GPU datasheet' },
  { name: 'Google TPU v4', bandwidth: 1.2e12, peakFlops: 275e12, memoryGB: 32, source: 'Google Cloud TPU documentation, "TPU v4"; Jouppi et al., ISCA 2023' },
  { name: 'Google TPU v5e', bandwidth: 819e9, peakFlops: 197e12, memoryGB: 16, source: 'Google Cloud TPU documentation, "TPU v5e"' },
];

/**
 * Upper bound on decoding tokens/s at batch `batch`: each step reads the weights once (and each
 * sequence's KV cache) and yields one token per sequence; capped by peak FLOP/s.
 */
export function decodingBound(opts: {
  bandwidth: number;
  peakFlops: number;
  weightBytes: number;
  flopsPerToken: number;
  batch?: number;
  kvBytesPerSequence?: number;
}): { tokensPerSecond: number; memoryBound: number; computeBound: number; limitedBy: 'memory' | 'compute' } {
  const batch = opts.batch ?? 1;
  const bytesPerStep = opts.weightBytes + batch * (opts.kvBytesPerSequence ?? 0);
  const memoryBound = (batch * opts.bandwidth) / bytesPerStep;
  const computeBound = opts.peakFlops / opts.flopsPerToken;
  return { tokensPerSecond: Math.min(memoryBound, computeBound), memoryBound, computeBound, limitedBy: memoryBound <= computeBound ? 'memory' : 'compute' };
}
