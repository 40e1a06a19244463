// `npm run bench`: speed figures measured side by side in one run, printed as ratios.
// Targets are checked here (and printed), never in the unit tests.
import { timeAlternating, timeOne, timeOneAsync } from '../src/engine/timing';
import { tf } from '../src/engine/tf';
import { initBackend, backendLabel, nativeStatus, type BackendName } from '../src/engine/backend';
import { loadModel } from '../src/models/registry';
import { loadMnist, MNIST_SIZE } from '../src/data/mnist';
import type { DigitsCNN } from '../src/models/cnn';
import { quantize } from '../src/optimize/quantize-model';
import { CALIBRATION_METHODS } from '../src/optimize/calibrate';
import { exportDigitsCnnToOnnx } from '../src/fastpath/export-cnn';
import * as ort from 'onnxruntime-node';
import { benchTransformers } from './transformers';

/** p50 and p95 in ms of an async call, after warm-up (the one clock, src/engine/timing.ts). */
async function percentiles(fn: () => Promise<unknown>, runs = 300): Promise<[number, number]> {
  const t = await timeOneAsync('call', fn, { warmup: 20, runs });
  return [t.medianMs, t.p95Ms];
}

/** Median wall time in ms of `fn` after warm-up, over enough runs to fill `budgetMs` (the one clock). */
function timeIt(fn: () => void, budgetMs = 1500, minRuns = 5): number {
  return timeOne('call', fn, { runs: minRuns, budgetMs, maxRuns: 2000 }).medianMs;
}

function digits(n: number): tf.Tensor {
  const px = MNIST_SIZE * MNIST_SIZE;
  return tf.tensor3d(loadMnist().heldOut.images.subarray(0, n * px), [n, MNIST_SIZE, MNIST_SIZE], 'int32'); // [n, 28, 28]
}

async function nativeInstalled(): Promise<boolean> {
  try {
    await initBackend({ prefer: 'tensorflow', force: true });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const native = await nativeInstalled();
  const backends: BackendName[] = [...(native ? (['tensorflow'] as const) : []), 'wasm', 'cpu'];
  const defaultLabel = (await initBackend({ force: true }), backendLabel());
  console.log(`Inference Lab benchmark — ${new Date().toISOString()}, node ${process.version}, backend ${defaultLabel}${native ? '' : ` (native: ${nativeStatus().summary})`}\n`);

  console.log('1. Digits CNN forward latency (median ms; pixels in, probabilities out)');
  const latency: Record<string, Record<number, number>> = {};
  for (const name of backends) {
    await initBackend({ prefer: name, force: true });
    const model = loadModel('digits-cnn') as DigitsCNN;
    latency[name] = {};
    for (const batch of [1, 64]) {
      const x = digits(batch);
      latency[name][batch] = timeIt(() => model.forward(x).dataSync());
      x.dispose();
    }
    model.dispose();
    console.log(`   ${name.padEnd(10)} batch 1: ${latency[name][1].toFixed(2).padStart(8)} ms   batch 64: ${latency[name][64].toFixed(2).padStart(8)} ms  (${((64 * 1000) / latency[name][64]).toFixed(0)} images/s)`);
  }
  if (latency.cpu && latency.wasm) {
    console.log(`   wasm is ${(latency.cpu[64] / latency.wasm[64]).toFixed(1)}x faster than cpu at batch 64, ${(latency.cpu[1] / latency.wasm[1]).toFixed(1)}x at batch 1`);
  }

  console.log('\n2. Instrumentation overhead on the default backend (ratio to a plain forward; same run)');
  const chosen = await initBackend({ force: true });
  const model = loadModel('digits-cnn') as DigitsCNN;
  const targets = { all: 1.3, none: 1.05 };
  let pass = true;
  for (const batch of [1, 64]) {
    const x = digits(batch);
    // Interleave the variants call by call, rotating their order, so drift in machine load and
    // garbage-collection pauses hit all three alike; compare medians.
    const variants: Record<'plain' | 'none' | 'all', () => void> = {
      plain: () => {
        const out = model.forward(x); // freed like the others', so all three pay the same disposal
        out.dataSync();
        out.dispose();
      },
      none: () => {
        const [out, cache] = model.runWithCache(x, { names: [] });
        out.dataSync();
        out.dispose();
        cache.dispose();
      },
      all: () => {
        const [out, cache] = model.runWithCache(x);
        out.dataSync();
        out.dispose();
        cache.dispose();
      },
    };
    const keys = Object.keys(variants) as (keyof typeof variants)[];
    const rounds = batch === 1 ? 3000 : 300;
    const [plain, none, all] = timeAlternating(keys.map((k) => ({ label: k, fn: variants[k] })), { warmup: 5, runs: rounds }); // in alternation
    x.dispose();
    const base = plain.medianMs;
    const rNone = none.medianMs / base;
    const rAll = all.medianMs / base;
    const ok = rAll <= targets.all && rNone <= targets.none;
    pass &&= ok;
    console.log(
      `   ${chosen} batch ${String(batch).padStart(2)}: plain ${base.toFixed(2)} ms | runWithCache(no names) ${rNone.toFixed(3)}x (target <= ${targets.none}) | ` +
        `runWithCache(all ${model.hookNames.length} hooks) ${rAll.toFixed(3)}x (target <= ${targets.all})  ${ok ? 'OK' : 'MISSED'}`,
    );
  }

  console.log('\n3. Quantization: time to quantize + calibrate (512 training digits), and fake-quant latency');
  const { train } = loadMnist();
  const calibration = tf.tensor3d(train.images.subarray(0, 512 * MNIST_SIZE * MNIST_SIZE), [512, MNIST_SIZE, MNIST_SIZE], 'int32');
  const x64 = digits(64);
  const base64 = timeIt(() => model.forward(x64).dataSync());
  for (const calibrationMethod of CALIBRATION_METHODS) {
    const t0 = performance.now();
    const q = quantize(model, { bits: 8, perChannel: true, symmetric: true, activations: 'static', calibration: calibrationMethod, calibrationInputs: calibration, progress: false });
    const seconds = (performance.now() - t0) / 1000;
    const ms = timeIt(() => q.forward(x64).dataSync());
    console.log(`   w8 per channel + a8 (${calibrationMethod.padEnd(10)}): quantize + calibrate ${seconds.toFixed(2)} s; batch 64 ${ms.toFixed(2)} ms = ${(ms / base64).toFixed(2)}x the float model`);
    q.dispose();
  }
  const w4 = quantize(model, { bits: 4, perChannel: true, symmetric: true, activations: 'none' });
  const ms4 = timeIt(() => w4.forward(x64).dataSync());
  console.log(`   w4 per channel, weights only: batch 64 ${ms4.toFixed(2)} ms = ${(ms4 / base64).toFixed(2)}x (fake quantization computes in float32: no speed-up without integer kernels)`);
  w4.dispose();

  console.log('\n4. The same CNN exported to ONNX, in ONNX Runtime (CPU, 1 thread) vs tfjs: latency p50 / p95 (ms)');
  const staticInt8 = quantize(model, { bits: 8, perChannel: true, symmetric: true, activations: 'static', calibrationInputs: calibration, progress: false });
  const sessions: [string, ort.InferenceSession][] = [
    ['ONNX Runtime float32', await ort.InferenceSession.create(exportDigitsCnnToOnnx(model).bytes, { intraOpNumThreads: 1 })],
    ['ONNX Runtime int8 QDQ', await ort.InferenceSession.create(exportDigitsCnnToOnnx(model, staticInt8.quantization).bytes, { intraOpNumThreads: 1 })],
  ];
  for (const batch of [1, 64]) {
    const pixels = Float32Array.from(loadMnist().heldOut.images.subarray(0, batch * MNIST_SIZE * MNIST_SIZE));
    const x = digits(batch);
    const [t50, t95] = await percentiles(async () => model.forward(x).dataSync());
    console.log(`   batch ${String(batch).padStart(2)}  tfjs ${chosen} float32 ${t50.toFixed(3)} / ${t95.toFixed(3)}`);
    for (const [label, session] of sessions) {
      const feed = { pixels: new ort.Tensor('float32', pixels, [batch, MNIST_SIZE, MNIST_SIZE]) };
      const [p50, p95] = await percentiles(() => session.run(feed));
      console.log(`             ${label.padEnd(22)} ${p50.toFixed(3)} / ${p95.toFixed(3)}  (${(t50 / p50).toFixed(1)}x tfjs)`);
    }
    x.dispose();
  }
  staticInt8.dispose();
  tf.dispose([calibration, x64]);
  model.dispose();

  console.log('\n7. Transformers (bench/transformers.ts)');
  await benchTransformers();
  console.log(pass ? '\nAll CNN targets met (transformer targets are marked in section 7).' : '\nSome targets missed (see above).');
  if (!pass) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
