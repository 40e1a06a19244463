// Notebook 05 (what makes a model large): exercises 05.1-05.2. The context at which LLaMA-2-7B's
// KV cache outweighs its int4 weights (computed with the library's scaleReport, checked by hand in
// the tests), and the memory-bound decoding limit from a published HBM bandwidth.
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
    title: 'The memory-bound speed limit of decoding',
    question:
      'An NVIDIA A100 80GB reads its HBM at 2.0 TB/s (2.0e12 bytes/s, NVIDIA\'s A100 datasheet). Generating one token at batch 1, LLaMA-2-7B in fp16 ' +
      'must read every weight once (6.74e9 parameters). At most how many tokens per second can it generate, whatever its FLOP/s?',
    answerForm: 'a number (tokens per second)',
    expected: () => 2.0e12 / llama7b().bytes.fp16,
    tolerance: { rel: 0.02 },
    mistakes: [
      { answer: 2.0e12 / 6.738e9, hint: 'fp16 is 2 bytes per parameter.' },
      { answer: 2.0e12 / (6.738e9 * 4), hint: 'fp16 is 2 bytes, not 4.' },
      { answer: (2.0 * 2 ** 40) / 12.55e9, hint: 'mixing units: TB/s here means 10^12 bytes per second, and 12.55 GiB is 13.5e9 bytes.' },
      { answer: 2.0e12 / 12.55e9, hint: 'the weights are 12.55 GiB = 13.5e9 bytes, not 12.55e9: a GiB is 2^30 bytes.' },
    ],
    hint: 'tokens/s <= bandwidth / bytes read per token; at batch 1 the bytes read are the weights (2 bytes each in fp16).',
    explanation:
      '2.0e12 / 13.48e9 bytes = 148 tokens/s at most, with the A100\'s 312 TFLOP/s of fp16 nearly idle (a token needs 13.5 GFLOP: ' +
      '2 TFLOP/s at 148 tokens/s, under 1%). A batch of B sequences reads the weights once for B tokens, which is why servers batch; int8 and int4 ' +
      'raise the limit by reading fewer bytes.',
  },
];
