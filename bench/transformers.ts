// Transformer figures for `npm run bench` (or `npm run bench:gpt` alone), measured in one run:
//   1. the tiny GPT's generation speed with and without the KV cache, at 32, 128 and 256 tokens of
//      context, on tfjs and on the fast path (ONNX Runtime);
//   2. a GPT-2-small-shaped model (random weights): one forward of 64 tokens in tfjs, ONNX Runtime
//      float32 and int8, and PyTorch (Debian python3-torch, its own process, timed in alternation
//      with tfjs) on the same weights, with the ratios the issues set targets for; and the fast path with a full read-only cache against without;
//   3. int8 against float32 in ONNX Runtime at batch 1 and 64 (p50/p95).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import '../src/fastpath/register'; // compile('onnx')
import { tf } from '../src/engine/tf';
import { GPT, GPT_PRESETS } from '../src/models/gpt';
import type { OnnxGPT } from '../src/fastpath/gpt-onnx';
import { loadModel, packageRoot } from '../src/models/registry';
import { initBackend, backendLabel } from '../src/engine/backend';
import { latencyPercentiles } from '../src/optimize/compare';
import { timeAlternating, timeAlternatingAsync } from '../src/engine/timing';
import { startTorch, type ForwardWorker } from './forward-workers';

/**
 * Medians of two calls timed in alternation (a, b, a, b, ...), so that a machine getting busier
 * or quieter during the measurement moves both alike: for ratios of two ways of doing one thing.
 */
export function alternatingMedians(a: () => void, b: () => void, runs = 15): [number, number] {
  const [ta, tb] = timeAlternating([{ label: 'a', fn: a }, { label: 'b', fn: b }], { warmup: 2, runs });
  return [ta.medianMs, tb.medianMs];
}

const verdict = (ok: boolean) => (ok ? 'meets the target' : 'MISSES the target');

function generationSpeed(tiny: GPT, fast: OnnxGPT): void {
  console.log('\nA. Tiny GPT generation, tokens/s (16 new tokens after a prompt that fills the context to N)');
  const text = fs.readFileSync(path.join(packageRoot(), 'assets', 'tiny-gpt', 'heldout.txt'), 'utf8');
  for (const context of [32, 128, 256]) {
    const prompt = text.slice(0, context - 16);
    const rate = (run: () => { tokensPerSecond: number }) => {
      run(); // warm-up
      return Math.max(run().tokensPerSecond, run().tokensPerSecond);
    };
    const opts = { maxTokens: 16, temperature: 0 };
    const tfjsCached = rate(() => tiny.generate(prompt, { ...opts, kvCache: true }));
    const tfjsFull = rate(() => tiny.generate(prompt, { ...opts, kvCache: false }));
    const ortCached = rate(() => fast.generate(prompt, { ...opts, kvCache: true }));
    const ortFull = rate(() => fast.generate(prompt, { ...opts, kvCache: false }));
    console.log(`   context ${String(context).padStart(3)}: tfjs ${tfjsCached.toFixed(0).padStart(5)} with KV cache, ${tfjsFull.toFixed(0).padStart(5)} without (${(tfjsCached / tfjsFull).toFixed(1)}x)   ` +
      `ONNX Runtime ${ortCached.toFixed(0).padStart(5)} / ${ortFull.toFixed(0).padStart(5)} (${(ortCached / ortFull).toFixed(1)}x); fast path ${(ortCached / tfjsCached).toFixed(1)}x tfjs`);
  }
}

/**
 * PyTorch on the same weights, in its own process, timed in alternation with the tfjs forward
 * (bench/forward-workers.ts): {threads: median ms}, the tfjs median from the same rounds, and the
 * last position's first logits.
 */
async function torchAlongside(model: GPT, ids: number[], threads: number[], tfjs: () => void): Promise<{ ms: Record<string, number>; tfjsMs: number; last: number[]; version: string; blas: string } | string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gpt2-'));
  const workers: ForwardWorker[] = [];
  try {
    model.save(dir);
    for (const n of threads) workers.push(await startTorch(dir, ids, n));
    const hello = workers[0].hello as { torch: string; blas: string; last_logits: number[] };
    const t = await timeAlternatingAsync([{ label: 'tfjs', fn: tfjs }, ...threads.map((n, i) => ({ label: `torch ${n}`, fn: () => workers[i].run(String(n)) }))], { warmup: 1, runs: 10 });
    return { ms: Object.fromEntries(threads.map((n, i) => [n, t[i + 1].medianMs])), tfjsMs: t[0].medianMs, last: hello.last_logits, version: hello.torch, blas: hello.blas ?? 'unknown' };
  } catch (err) {
    return `PyTorch run failed (${(err as Error).message}); apt-get install python3-torch`;
  } finally {
    for (const w of workers) w.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function gpt2Small(): Promise<void> {
  console.log('\nB. GPT-2-small shape (124 M parameters, random weights), one forward of 64 tokens, batch 1 (median ms)');
  const model = new GPT(GPT_PRESETS.gpt2, 'gpt2-shape', 7);
  const pos = 64;
  const ids = Array.from({ length: pos }, (_, i) => (i * 7919) % 50257);
  const input = tf.tensor2d(ids, [1, pos], 'int32');
  let tfjsMs = latencyPercentiles(() => model.forward(input).dispose(), 3, 4000).p50;
  const tfjsLast = tf.tidy(() => Array.from(tf.slice(model.forward(input), [0, pos - 1, 0], [1, 1, 16]).dataSync()));
  console.log(`   tfjs (${tf.getBackend()}):              ${tfjsMs.toFixed(0).padStart(6)} ms`);
  const threads = [1, 2];
  const ort: Record<string, Record<number, number>> = { float32: {}, int8: {} };
  let hookedMs = 0;
  let plainAtBest = 0;
  for (const quantize of [undefined, 'int8'] as const) {
    for (const t of threads) {
      const fast = model.compile('onnx', { threads: t, quantize });
      ort[quantize ?? 'float32'][t] = latencyPercentiles(() => fast.forward(input).dispose(), 5, 3000).p50;
      if (!quantize && t === threads[threads.length - 1]) {
        // The full read-only cache: every hook point copied out of ONNX Runtime.
        fast.runWithCache(input)[1].dispose(); // builds the instrumented session
        [plainAtBest, hookedMs] = alternatingMedians(
          () => fast.forward(input).dispose(),
          () => {
            const [out, cache] = fast.runWithCache(input);
            out.dispose();
            cache.dispose();
          },
        );
      }
      fast.dispose();
    }
  }
  const bestFloat = Math.min(...threads.map((t) => ort.float32[t]));
  const bestInt8 = Math.min(...threads.map((t) => ort.int8[t]));
  for (const kind of ['float32', 'int8']) console.log(`   ONNX Runtime ${kind.padEnd(8)}         ${threads.map((t) => `${ort[kind][t].toFixed(0).padStart(6)} ms (${t} thread${t > 1 ? 's' : ''})`).join('  ')}`);
  const torch = await torchAlongside(model, ids, threads, () => model.forward(input).dispose());
  if (typeof torch === 'string') {
    console.log(`   PyTorch: ${torch}`);
  } else {
    tfjsMs = torch.tfjsMs; // the ratio compares rounds timed in alternation
    console.log(`   tfjs (${tf.getBackend()}) again, in alternation with PyTorch: ${tfjsMs.toFixed(0).padStart(6)} ms`);
    const bestTorch = Math.min(...Object.values(torch.ms));
    const agree = Math.max(...torch.last.map((v, i) => Math.abs(v - tfjsLast[i])));
    console.log(`   PyTorch ${torch.version.padEnd(14)}        ${threads.map((t) => `${torch.ms[t].toFixed(0).padStart(6)} ms (${t} thread${t > 1 ? 's' : ''})`).join('  ')}   (logits agree with tfjs to ${agree.toExponential(1)})`);
    console.log(`   PyTorch's BLAS (the libblas.so.3 it loaded): ${torch.blas}`);
    if (torch.blas === 'reference') {
      console.log('   PyTorch runs on the reference BLAS here (~40x slower than it can): ratios against it are left out.');
      console.log('   To measure PyTorch at its real speed: apt-get install libopenblas0-pthread');
      console.log(`   int8 / float32 in ONNX Runtime: ${(bestFloat / bestInt8).toFixed(2)}x faster`);
      input.dispose();
      model.dispose();
      return;
    }
    console.log(`   tfjs (${backendLabel()}) / PyTorch, best thread count of each: ${(tfjsMs / bestTorch).toFixed(2)}x (target for the native backend <= 1.5x${tf.getBackend() === 'tensorflow' ? `: ${verdict(tfjsMs / bestTorch <= 1.5)}` : ''})`);
    console.log(`   fast path / PyTorch, best thread count of each: ${(bestFloat / bestTorch).toFixed(2)}x (target <= 1.0x: ${verdict(bestFloat / bestTorch <= 1)})`);
    console.log(`   tfjs / PyTorch: ${(tfjsMs / bestTorch).toFixed(1)}x`);
  }
  console.log(`   int8 / float32 in ONNX Runtime: ${(bestFloat / bestInt8).toFixed(2)}x faster (target >= 1.5x: ${verdict(bestFloat / bestInt8 >= 1.5)})`);
  console.log(`   fast path with every hook cached / without (${threads[threads.length - 1]} threads, timed in alternation): ${hookedMs.toFixed(0)} / ${plainAtBest.toFixed(0)} ms = ${(hookedMs / plainAtBest).toFixed(2)}x (target <= 1.3x: ${verdict(hookedMs / plainAtBest <= 1.3)})`);
  input.dispose();
  model.dispose();
}

function int8Batches(tiny: GPT): void {
  console.log('\nC. Tiny GPT in ONNX Runtime, float32 vs int8, one forward of 256 characters (ms, p50 / p95)');
  const text = fs.readFileSync(path.join(packageRoot(), 'assets', 'tiny-gpt', 'heldout.txt'), 'utf8');
  for (const batch of [1, 64]) {
    const windows = Array.from({ length: batch }, (_, b) => tiny.tokenizer.encode(text.slice(b * 256, b * 256 + 256)));
    const input = tf.tensor2d(windows, [batch, 256], 'int32');
    const row: string[] = [];
    for (const quantize of [undefined, 'int8'] as const) {
      const fast = tiny.compile('onnx', { quantize });
      const l = latencyPercentiles(() => fast.forward(input).dispose(), 10, 2000);
      row.push(`${(quantize ?? 'float32').padEnd(7)} ${l.p50.toFixed(1).padStart(7)} / ${l.p95.toFixed(1).padStart(7)}`);
      fast.dispose();
    }
    const tfjs = latencyPercentiles(() => tiny.forward(input).dispose(), 5, 2000);
    console.log(`   batch ${String(batch).padStart(2)}:  ${row.join('   ')}   tfjs ${tfjs.p50.toFixed(1)} / ${tfjs.p95.toFixed(1)}`);
    input.dispose();
  }
}

export async function benchTransformers(only?: string): Promise<void> {
  if (only === 'gpt2') return gpt2Small();
  const tiny = loadModel('tiny-gpt') as GPT;
  const fast = tiny.compile('onnx');
  generationSpeed(tiny, fast);
  fast.dispose();
  int8Batches(tiny);
  tiny.dispose();
  await gpt2Small();
}

if (require.main === module) {
  (async () => {
    await initBackend();
    console.log(`Inference Lab transformer benchmark — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cores, backend ${backendLabel()}`);
    await benchTransformers(process.argv[2]);
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
