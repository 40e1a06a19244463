// Training-cost and decoding-bound arithmetic, against hand computations with the numbers written out.
import { describe, expect, it } from 'vitest';
import { ACCELERATORS, decodingBound, matmulWeights, trainingCost } from '../src/index';

const tiny = { layers: 4, dModel: 128, dMlp: 512, vocab: 63, context: 256 };

describe('compute budget', () => {
  it('the tiny GPT: matmul weights are its 834,176 parameters less embeddings, biases and norms', () => {
    // Per block: q, k, v, o 4 x 128 x 128 = 65,536; MLP 2 x 128 x 512 = 131,072. Head (tied) 63 x 128 = 8,064.
    expect(matmulWeights(tiny)).toBe(4 * (65536 + 131072) + 8064);
    // The shipped model's 834,176 = these + position embeddings 256 x 128 + biases and LayerNorms.
    const biasesAndNorms = 4 * (4 * 128 + 512 + 128 + 4 * 128) + 2 * 128;
    expect(matmulWeights(tiny) + 256 * 128 + biasesAndNorms).toBe(834176);
  });

  it('training costs three forward passes per token: 6 N D plus attention', () => {
    const tokens = 3000 * 8 * 256; // steps x batch x window, as the training script counts them
    const c = trainingCost(tiny, tokens, 1000);
    expect(c.sixND).toBe(6 * 794496 * 6144000);
    expect(c.trainingFlopsPerToken).toBe(3 * (2 * 794496 + 4 * 4 * 256 * 128));
    expect(c.inferenceTokensEquivalent).toBeCloseTo(3 * tokens, 6);
    expect(c.achievedFlops).toBeCloseTo(c.totalTrainingFlops / 1000, 6);
  });

  it('decoding bound: bandwidth / weight bytes at batch 1, growing with batch until compute caps it', () => {
    const a100 = ACCELERATORS.find((a) => a.name === 'NVIDIA A100 80GB SXM')!;
    const weightBytes = 6738415616 * 2; // LLaMA-2-7B fp16
    const one = decodingBound({ bandwidth: a100.bandwidth, peakFlops: a100.peakFlops, weightBytes, flopsPerToken: 13.5e9 });
    expect(one.tokensPerSecond).toBeCloseTo(2039e9 / 13476831232, 6); // 151 tokens/s
    expect(one.limitedBy).toBe('memory');
    const big = decodingBound({ bandwidth: a100.bandwidth, peakFlops: a100.peakFlops, weightBytes, flopsPerToken: 13.5e9, batch: 4096 });
    expect(big.limitedBy).toBe('compute');
    expect(big.tokensPerSecond).toBeCloseTo(312e12 / 13.5e9, 6);
    for (const a of ACCELERATORS) expect(a.source.length).toBeGreaterThan(10);
  });
});
