// Measuring this machine: matrix-multiply throughput of the engine (tfjs, any backend) and of
// ONNX Runtime, and memory bandwidth, so lessons can compare achieved speed with what is possible.
import { tf } from './tf';
import { timeOneAsync } from './timing';
import { buildOnnxModel, OnnxType } from '../io/onnx-proto';

/** Median seconds of `fn` over `runs` after `warmup` calls (the one clock, timing.ts). */
async function medianSeconds(fn: () => unknown | Promise<unknown>, runs: number, warmup = 2): Promise<number> {
  return (await timeOneAsync('call', fn, { warmup, runs })).medianMs / 1000;
}

export interface MatmulMeasurement {
  engine: string;
  size: number;
  gflops: number;
  /** FLOPs per byte moved for an n x n x n float32 matmul: 2n^3 / (3 * 4n^2) = n / 6. */
  intensity: number;
}

/** GFLOP/s of an n x n by n x n float32 matmul on the current tfjs backend. */
export async function tfjsMatmulGflops(size: number, runs = 5): Promise<MatmulMeasurement> {
  const a = tf.randomNormal([size, size], 0, 1, 'float32', 1); // [n, n]
  const b = tf.randomNormal([size, size], 0, 1, 'float32', 2); // [n, n]
  const seconds = await medianSeconds(() => {
    const c = tf.matMul(a, b); // [n, n]
    c.dataSync();
    c.dispose();
  }, runs);
  tf.dispose([a, b]);
  return { engine: `tfjs ${tf.getBackend()}`, size, gflops: (2 * size ** 3) / seconds / 1e9, intensity: size / 6 };
}

/** GFLOP/s of the same matmul in ONNX Runtime with `threads` intra-op threads. */
export async function onnxMatmulGflops(size: number, threads = 1, runs = 5): Promise<MatmulMeasurement> {
  const ort = await import('onnxruntime-node');
  const bytes = buildOnnxModel({
    nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
    initializers: [],
    inputs: [
      { name: 'a', type: OnnxType.FLOAT, dims: [size, size] },
      { name: 'b', type: OnnxType.FLOAT, dims: [size, size] },
    ],
    outputs: [{ name: 'c', type: OnnxType.FLOAT, dims: [size, size] }],
  }, 13);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads });
  const values = Float32Array.from({ length: size * size }, (_, i) => Math.sin(i));
  const feed = { a: new ort.Tensor('float32', values, [size, size]), b: new ort.Tensor('float32', values, [size, size]) };
  const seconds = await medianSeconds(() => session.run(feed), runs);
  await session.release();
  return { engine: `ONNX Runtime, ${threads} thread${threads > 1 ? 's' : ''}`, size, gflops: (2 * size ** 3) / seconds / 1e9, intensity: size / 6 };
}

/** Memory bandwidth in GB/s: copying a 64 MiB buffer (read + write counted). */
export async function copyBandwidthGBs(runs = 5): Promise<number> {
  const n = 16 * 1024 * 1024; // float32s = 64 MiB
  const src = new Float32Array(n).fill(1);
  const dst = new Float32Array(n);
  const seconds = await medianSeconds(() => dst.set(src), runs);
  return (2 * n * 4) / seconds / 1e9;
}
