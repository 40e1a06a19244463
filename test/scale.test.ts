import { describe, it, expect } from 'vitest';
import { PUBLISHED_SHAPES, parameterCount, scaleReport } from '../src/index';

const shape = (name: string) => PUBLISHED_SHAPES.find((s) => s.name === name)!;

describe('model size from its shape', () => {
  // The counts Hugging Face's model.num_parameters() reports for the published checkpoints.
  const published: [string, number][] = [
    ['gpt2', 124_439_808],
    ['gpt2-medium', 354_823_168],
    ['gpt2-large', 774_030_080],
    ['gpt2-xl', 1_557_611_200],
    ['llama-2-7b', 6_738_415_616],
    ['llama-2-70b', 68_976_648_192],
  ];
  for (const [name, count] of published) {
    it(`${name} has ${count.toLocaleString('en-US')} parameters`, () => {
      expect(parameterCount(shape(name)).total).toBe(count);
    });
  }

  it('KV cache per token: 2 (K and V) x layers x kv heads x head size x 2 bytes', () => {
    expect(scaleReport(shape('gpt2')).kvCacheBytesPerToken).toBe(2 * 12 * 768 * 2); // 36 KiB
    expect(scaleReport(shape('llama-2-7b')).kvCacheBytesPerToken).toBe(512 * 1024); // 0.5 MiB, the usual figure
    expect(scaleReport(shape('llama-2-70b')).kvCacheBytesPerToken).toBe(2 * 80 * 8 * 128 * 2); // grouped-query attention: 8 KV heads
  });

  it('FLOPs per token are about twice the parameters, plus attention over the context', () => {
    const r = scaleReport(shape('gpt2'), 0);
    expect(r.flopsPerToken).toBe(2 * r.nonEmbeddingParameters + 2 * 50257 * 768);
    expect(scaleReport(shape('gpt2'), 1024).flopsPerToken - r.flopsPerToken).toBe(2 * 2 * 12 * 1024 * 768);
  });
});
