// Notebook 05 (what makes a model large): exercises 05.1-05.2. The context at which LLaMA-2-7B's
// KV cache outweighs its int4 weights (computed with the library's scaleReport, checked by hand in
// the tests), and the batch size at which weight-only int4 decoding stops being memory-bound (published A100 figures).
import { PUBLISHED_SHAPES, scaleReport } from '../analysis/scale';
import type { ExerciseSpec } from './exercise';

const llama7b = () => scaleReport(PUBLISHED_SHAPES.find((s) => s.name === 'llama-2-7b')!);

/** Within 0.2% of a value (the mistakes' tolerance). */
const near = (g: unknown, v: number) => typeof g === 'number' && Math.abs(g - v) <= 0.002 * Math.abs(v);

export const SCALE_EXERCISES: ExerciseSpec[] = [
  {
    id: '05.1',
    title: 'When the KV cache outweighs the weights',
    question:
      'With `lab.scaleReport`, LLaMA-2-7B stores 512 KiB of fp16 keys and values per token. From what context length (tokens) ' +
      'does one sequence\'s KV cache weigh more than the model\'s int4 weights?',
    answerForm: 'a number (tokens)',
    expected: () => {
      const r = llama7b();
      return Math.floor(r.bytes.int4 / r.kvCacheBytesPerToken) + 1;
    },
    tolerance: { rel: 0.002 },
    mistakes: [
      { answer: (g: unknown) => near(g, llama7b().bytes.int8 / llama7b().kvCacheBytesPerToken), hint: 'that is for int8 weights (1 byte per parameter); int4 is half a byte.' },
      { answer: (g: unknown) => near(g, llama7b().bytes.fp16 / llama7b().kvCacheBytesPerToken), hint: 'that is for fp16 weights; int4 is half a byte per parameter.' },
      { answer: (g: unknown) => near(g, llama7b().bytes.int4 / 512000), hint: 'a KiB is 1,024 bytes: 512 KiB = 524,288 bytes.' },
    ],
    hint: 'int4 weights take half a byte per parameter: divide that by the cache bytes per token.',
    explanation:
      '6.74 B parameters x 0.5 byte = 3.37 GB; 3.37e9 / 524,288 bytes = 6,426.25, so from 6,427 tokens the cache is larger. ' +
      'At long contexts and large batches the KV cache, not the weights, fills the memory: why grouped-query attention shrinks it.',
  },
  {
    id: '05.2',
    title: 'When batching stops helping',
    question:
      'Weight-only int4, as GPTQ and AWQ run it: LLaMA-2-7B\'s weights are stored in 4 bits (half a byte per parameter) and turned back ' +
      'into fp16 for the arithmetic, 2 FLOPs per parameter per token. Decoding at batch B reads the weights once per step and makes B tokens. ' +
      'Ignore the KV cache. On an NVIDIA A100 80GB SXM (2,039 GB/s, 312 TFLOP/s of dense fp16: NVIDIA\'s A100 datasheet), from about ' +
      'what batch size does arithmetic, not memory, limit a step?',
    answerForm: 'a number (the batch size)',
    // a step moves N/2 bytes and does 2N·B FLOPs: 4B FLOPs per byte, against the ridge peak / bandwidth
    expected: 312e12 / 2039e9 / 4,
    tolerance: { rel: 0.025 }, // 2.0 TB/s (the rounded figure) gives 39 and passes
    mistakes: [
      { answer: 312e12 / 2039e9, hint: 'that is for fp16 weights (2 bytes per parameter); int4 weights are half a byte, so each byte read feeds more FLOPs.' },
      { answer: (312e12 / 2039e9) * 4, hint: 'fewer bytes per step make the memory time shorter, so the arithmetic becomes the limit sooner, at a smaller batch.' },
      { answer: 312e12 / 2039e9 / 2, hint: 'that would be int8 weights (1 byte per parameter); int4 is half a byte.' },
      { answer: 1, hint: 'at batch 1 a step does 4 FLOPs per byte read, far below what the A100 can do per byte: memory limits it.' },
    ],
    hint: 'compare the time to read the weights (bytes / bandwidth) with the time to do B tokens\' arithmetic (FLOPs / peak): where are they equal?',
    explanation:
      'a step reads N/2 bytes and does 2N x B FLOPs: 4B FLOPs per byte. The A100 does 312e12 / 2.039e12 = 153 FLOPs in the time it reads ' +
      'one byte (its ridge), so from B = 153 / 4 = 38 the arithmetic, not the memory, limits a step (fp16 weights: 153). Int4 weights speed ' +
      'up small batches by reading fewer bytes, but bring the compute limit 4 times closer, unless the arithmetic gets cheaper too. The ' +
      'KV cache, read per sequence in fp16, adds bytes that grow with B and moves the crossover further out.',
  },
];
