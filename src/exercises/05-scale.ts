// Notebook 05 (what makes a model large): exercises 05.1-05.2. The context at which LLaMA-2-7B's
// KV cache outweighs its int4 weights (computed with the library's scaleReport, checked by hand in
// the tests), and the batch size at which decoding stops being memory-bound (published A100 figures).
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
      '6.74 B parameters x 0.5 byte = 3.37 GB; 3.37e9 / 524,288 bytes = 6,426.2, so from 6,427 tokens the cache is larger. ' +
      'At long contexts and large batches the KV cache, not the weights, fills the memory: why grouped-query attention shrinks it.',
  },
  {
    id: '05.2',
    title: 'When batching stops helping',
    question:
      'Decoding at batch B, each step reads LLaMA-2-7B\'s fp16 weights once (2 bytes per parameter) and makes B tokens, each costing ' +
      'about 2 FLOPs per parameter. Ignore the KV cache. An NVIDIA A100 80GB SXM reads 2,039 GB/s and computes 312 TFLOP/s in dense fp16 ' +
      '(NVIDIA\'s A100 datasheet). From about what batch size does arithmetic, not memory, limit a step?',
    answerForm: 'a number (the batch size)',
    expected: 312e12 / 2039e9, // a step moves 2N bytes and does 2N·B FLOPs: B FLOPs per byte, against the ridge peak / bandwidth
    tolerance: { rel: 0.025 }, // 2.0 TB/s (the rounded figure) gives 156 and passes
    mistakes: [
      { answer: (2 * 312e12) / 2039e9, hint: 'fp16 weights are 2 bytes and cost 2 FLOPs each per token: one FLOP per byte per sequence, not two.' },
      { answer: 312e12 / (2 * 2039e9), hint: 'fp16 weights are 2 bytes and cost 2 FLOPs each per token: one FLOP per byte per sequence, not a half.' },
      { answer: 1, hint: 'at batch 1 a step does 1 FLOP per byte read, far below what the A100 can do per byte: memory limits it.' },
    ],
    hint: 'compare the time to read the weights (bytes / bandwidth) with the time to do B tokens\' arithmetic (FLOPs / peak): where are they equal?',
    explanation:
      'a step reads 2N bytes and does 2N x B FLOPs: B FLOPs per byte. The A100 does 312e12 / 2.039e12 = 153 FLOPs in the time it reads ' +
      'one byte (its ridge), so below batch 153 the arithmetic units wait on memory and each extra sequence is nearly free. The KV cache, ' +
      'read per sequence, adds bytes that grow with B too: at long contexts decoding may never reach the ridge.',
  },
];
