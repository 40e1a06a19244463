// Forward passes served by child processes, so the benchmark can time engines that cannot share
// one process in alternation (src/engine/timing.ts): PyTorch (bench/torch_gpt2.py --serve) and
// tfjs with a thread count TensorFlow only reads when it loads (TF_NUM_INTRAOP_THREADS). Each
// worker loads the model once, answers one JSON line, then runs one forward per request line and
// answers with its own ms; the benchmark's clock times the round trip, and both are reported.
import { spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import * as path from 'path';
import { packageRoot } from '../src/io/paths';

export interface ForwardWorker {
  /** What the worker said when it was ready (version, BLAS, logits...). */
  readonly hello: Record<string, unknown>;
  /** One forward; resolves with the worker's own ms (its clock, without the round trip). */
  run(request: string): Promise<number>;
  close(): void;
}

/** Start `command args` with `env` added, and wait for its first JSON line. */
export function startWorker(label: string, command: string, args: string[], env: Record<string, string> = {}): Promise<ForwardWorker> {
  const child: ChildProcessWithoutNullStreams = spawn(command, args, { env: { ...process.env, ...env }, stdio: 'pipe' });
  let buffered = '';
  let stderr = '';
  const waiting: ((line: string) => void)[] = [];
  const lines: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const next = waiting.shift();
      if (next) next(line);
      else lines.push(line);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const failed = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${label} exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`))));
  failed.catch(() => undefined); // reported through whichever read is waiting
  const nextLine = () => Promise.race([new Promise<string>((resolve) => (lines.length ? resolve(lines.shift()!) : waiting.push(resolve))), failed]);
  return nextLine().then((first) => {
    const hello = JSON.parse(first) as Record<string, unknown>;
    return {
      hello,
      run: async (request: string) => {
        child.stdin.write(request + '\n');
        return (JSON.parse(await nextLine()) as { ms: number }).ms;
      },
      close: () => {
        child.stdin.end();
        child.kill();
      },
    };
  });
}

/**
 * PyTorch serving the GPT saved in `dir` (weights.safetensors + config.json) on `ids`, with
 * `threads` threads: run(String(threads)). torch.set_num_threads does not reach Debian's torch's
 * BLAS (OpenBLAS keeps its own pool, one thread per core: "1 thread" ran its matmuls on 2), so
 * the worker's OpenBLAS pool is set to the same count when it starts.
 */
export function startTorch(dir: string, ids: number[], threads: number): Promise<ForwardWorker> {
  const script = path.join(packageRoot(), 'bench', 'torch_gpt2.py');
  const env = { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  return startWorker(`PyTorch (${threads} threads)`, '/usr/bin/python3', [script, '--serve', path.join(dir, 'weights.safetensors'), path.join(dir, 'config.json'), ids.join(',')], env);
}

/** tfjs on `backend` with TensorFlow's intra-op pool at `threads` (native only), serving the GPT in `dir`. */
export function startTfjs(dir: string, ids: number[], backend: string, threads?: number): Promise<ForwardWorker> {
  const env: Record<string, string> = { INFERENCE_LAB_BACKEND: backend, TF_CPP_MIN_LOG_LEVEL: '2' };
  if (threads !== undefined) env.TF_NUM_INTRAOP_THREADS = String(threads);
  return startWorker(`tfjs (${backend}${threads ? `, ${threads} threads` : ''})`, process.execPath, [path.join(__dirname, 'gpt-worker.js'), dir, ids.join(',')], env);
}
