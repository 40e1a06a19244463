// `npm run bench:native`: the native backend (tfjs-node, built by `npm run setup:native`) against
// WASM on the teaching path, and against PyTorch, side by side in one run: digits CNN batch 64,
// tiny-GPT generation with the KV cache, the GPT-2-small shape (64 tokens; tfjs at 1 and 2
// TensorFlow threads and PyTorch at 1 and 2 threads, each in its own process, all timed in
// alternation), hooks overhead on native, and training (digits CNN and tiny GPT steps, with the
// whole run they make projected from them). Every figure comes from the one clock
// (src/engine/timing.ts) with its contenders in alternation, so load from other jobs on a shared
// machine hits them alike; the load average is printed beside each figure.
// `--json` prints one object per figure: {figure, engine, backend, value, unit, runs, min, median, load}; value is the
// median, min the fastest run's value in the figure's unit (for tokens/s, the highest rate), load the 1-minute load average.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, backendLabel, type BackendName } from '../src/engine/backend';
import { tf } from '../src/engine/tf';
import { timeAlternating, timeAlternatingAsync, type Timing } from '../src/engine/timing';
import { loadModel, packageRoot } from '../src/models/registry';
import { GPT, GPT_PRESETS } from '../src/models/gpt';
import { DigitsCNN, DIGITS_CNN_DEFAULTS } from '../src/models/cnn';
import { loadMnist, MNIST_SIZE } from '../src/data/mnist';
import { seededRandom } from '../src/data/random';
import { digitsTrainingStep } from '../src/train/digits';
import { trainLanguageModel } from '../src/train/language-model';
import { startTfjs, startTorch, type ForwardWorker } from './forward-workers';

interface Figure { figure: string; engine: string; backend: string; value: number; unit: string; runs: number; min: number; median: number; load: number }
const figures: Figure[] = [];
const json = process.argv.includes('--json');
const say = (line: string) => { if (!json) console.log(line); };
const load = () => os.loadavg()[0];
const loadNote = () => `load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`;

/** Record a timing (ms), or a figure derived from one (`per` turns ms into the unit's value); `min` is always the fastest run's. */
function record(figure: string, engine: string, backend: string, t: Timing, unit = 'ms', per?: (ms: number) => number): Figure {
  const f: Figure = per
    ? { figure, engine, backend, value: per(t.medianMs), unit, runs: t.runs, min: per(t.minMs), median: per(t.medianMs), load: load() }
    : { figure, engine, backend, value: t.medianMs, unit, runs: t.runs, min: t.minMs, median: t.medianMs, load: load() };
  figures.push(f);
  return f;
}
const ms = (f: Figure) => `${f.median.toFixed(f.median < 10 ? 2 : 0)} ms (min ${f.min.toFixed(f.min < 10 ? 2 : 0)}, n=${f.runs})`;

/** Switch to a backend already initialised (synchronous then), as compareRuntimes does. */
function switchTo(name: BackendName): void {
  if (tf.getBackend() !== name) void tf.setBackend(name);
}

const BACKENDS = ['tensorflow', 'wasm'] as const;

async function perBackend<T>(make: (name: BackendName) => T): Promise<Record<(typeof BACKENDS)[number], T>> {
  const out = {} as Record<(typeof BACKENDS)[number], T>;
  for (const name of BACKENDS) {
    await initBackend({ prefer: name, force: true });
    out[name] = make(name); // made on this backend, so no call moves its tensors
  }
  return out;
}

async function main(): Promise<void> {
  await initBackend({ prefer: 'tensorflow', force: true });
  const labels: Record<string, string> = { tensorflow: backendLabel() };
  await initBackend({ prefer: 'wasm', force: true });
  labels.wasm = backendLabel();
  const cpu = os.cpus();
  say(`Inference Lab native benchmark — ${new Date().toISOString()}, node ${process.version}, ${cpu.length} cores (${cpu[0]?.model.trim()}), ${loadNote()}`);
  say(`native: ${labels.tensorflow}\n`);

  // ---- 1. Digits CNN forward, batch 64 ----
  const px = MNIST_SIZE * MNIST_SIZE;
  const { train, heldOut } = loadMnist();
  const cnn = await perBackend(() => ({ model: loadModel('digits-cnn') as DigitsCNN, x: tf.tensor3d(heldOut.images.subarray(0, 64 * px), [64, MNIST_SIZE, MNIST_SIZE], 'int32') })); // x: [64, 28, 28]
  const cnnT = timeAlternating(BACKENDS.map((b) => ({ label: b, before: () => switchTo(b), fn: () => tf.tidy(() => void cnn[b].model.forward(cnn[b].x).dataSync()) })), { warmup: 5, runs: 40 });
  const cnnF = BACKENDS.map((b, i) => record('digits CNN forward, batch 64', 'tfjs', labels[b], cnnT[i]));
  say(`1. digits CNN forward, batch 64: native ${ms(cnnF[0])} | WASM ${ms(cnnF[1])} -> native runs at ${(cnnF[1].median / cnnF[0].median).toFixed(2)}x the speed of WASM  [${loadNote()}]`);

  // ---- 2. Hooks overhead on native: runWithCache with no names / with every hook, against a plain forward ----
  switchTo('tensorflow');
  const { model: nativeCnn, x: nativeX } = cnn.tensorflow;
  const cached = (names?: string[]) => () => {
    const [out, cache] = nativeCnn.runWithCache(nativeX, names ? { names } : {});
    out.dataSync();
    out.dispose();
    cache.dispose();
  };
  const [plain, none, all] = timeAlternating([
    { label: 'plain', fn: () => { const out = nativeCnn.forward(nativeX); out.dataSync(); out.dispose(); } }, // disposed like the others
    { label: 'none', fn: cached([]) },
    { label: 'all', fn: cached() },
  ], { warmup: 10, runs: 300 });
  const ratio = (t: Timing): Timing => ({ label: t.label, runs: t.runs, minMs: t.minMs / plain.minMs, medianMs: t.medianMs / plain.medianMs, p95Ms: t.p95Ms / plain.p95Ms });
  const hooksNone = record('hooks overhead, runWithCache(no names) / forward, CNN batch 64', 'tfjs', labels.tensorflow, ratio(none), 'x');
  const hooksAll = record('hooks overhead, runWithCache(all hooks) / forward, CNN batch 64', 'tfjs', labels.tensorflow, ratio(all), 'x');
  say(`2. hooks on native (CNN batch 64, plain ${plain.medianMs.toFixed(2)} ms): no names ${hooksNone.median.toFixed(3)}x (min/min ${hooksNone.min.toFixed(3)}; target <= 1.05), all ${nativeCnn.hookNames.length} hooks ${hooksAll.median.toFixed(3)}x (min/min ${hooksAll.min.toFixed(3)}; target <= 1.3), n=${plain.runs}  [${loadNote()}]`);
  for (const b of BACKENDS) (cnn[b].x.dispose(), cnn[b].model.dispose());

  // ---- 3. Tiny GPT generation with the KV cache ----
  const prompt = 'the quick brown fox jumps over the lazy dog and';
  const tiny = await perBackend(() => loadModel('tiny-gpt') as GPT);
  const genT = timeAlternating(BACKENDS.map((b) => ({ label: b, before: () => switchTo(b), fn: () => tiny[b].generate(prompt, { maxTokens: 32, temperature: 0, kvCache: true }) })), { warmup: 1, runs: 5 });
  const genF = BACKENDS.map((b, i) => record('tiny GPT generation with KV cache (32 tokens)', 'tfjs', labels[b], genT[i], 'tokens/s', (t) => (32 * 1000) / t));
  say(`3. tiny GPT generation, KV cache, 32 tokens: native ${genF[0].median.toFixed(0)} tokens/s | WASM ${genF[1].median.toFixed(0)} -> native ${(genF[0].median / genF[1].median).toFixed(2)}x  [${loadNote()}]`);

  // ---- 4. GPT-2-small shape, 64 tokens: tfjs (native at 1 and 2 threads, WASM) and PyTorch (1 and 2 threads) ----
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-native-gpt2-'));
  const workers: ForwardWorker[] = [];
  try {
    switchTo('tensorflow');
    const gpt2 = new GPT(GPT_PRESETS.gpt2, 'gpt2-shape', 7);
    gpt2.save(dir);
    gpt2.dispose();
    const ids = Array.from({ length: 64 }, (_, i) => (i * 7919) % 50257);
    const contenders: { label: string; engine: string; backend: string; threads: string; start: () => Promise<ForwardWorker> }[] = [
      { label: 'tfjs native, 2 threads', engine: 'tfjs', backend: `${labels.tensorflow}, 2 intra-op threads`, threads: '2', start: () => startTfjs(dir, ids, 'tensorflow', 2) },
      { label: 'tfjs native, 1 thread', engine: 'tfjs', backend: `${labels.tensorflow}, 1 intra-op thread`, threads: '1', start: () => startTfjs(dir, ids, 'tensorflow', 1) },
      { label: 'tfjs WASM', engine: 'tfjs', backend: labels.wasm, threads: '1', start: () => startTfjs(dir, ids, 'wasm') },
      { label: 'PyTorch, 1 thread', engine: 'pytorch', backend: 'CPU, 1 thread', threads: '1', start: () => startTorch(dir, ids, 1) },
      { label: 'PyTorch, 2 threads', engine: 'pytorch', backend: 'CPU, 2 threads', threads: '2', start: () => startTorch(dir, ids, 2) },
    ];
    for (const c of contenders) workers.push(await c.start());
    const torchHello = workers[3].hello as { torch: string; blas: string; last_logits: number[] };
    const agree = Math.max(...workers.slice(0, 3).flatMap((w) => (w.hello.last_logits as number[]).map((v, i) => Math.abs(v - torchHello.last_logits[i]))));
    const own = contenders.map(() => [] as number[]);
    const t = await timeAlternatingAsync(contenders.map((c, i) => ({ label: c.label, fn: async () => own[i].push(await workers[i].run(c.threads)) })), { warmup: 1, runs: 10 });
    say(`4. GPT-2-small shape (124 M parameters, random weights), one forward of 64 tokens, each engine in its own process, timed in alternation (round trip; the worker's own time in brackets):`);
    const f = contenders.map((c, i) => {
      const r = record('GPT-2-small shape, forward of 64 tokens', c.engine, c.engine === 'pytorch' ? `PyTorch ${torchHello.torch} (${torchHello.blas} BLAS), ${c.backend}` : c.backend, t[i]);
      const mine = [...own[i]].sort((a, b) => a - b);
      say(`   ${c.label.padEnd(24)} ${ms(r)}  [own ${mine[mine.length >> 1].toFixed(0)} ms]`);
      return r;
    });
    say(`   logits agree across engines to ${agree.toExponential(1)}; PyTorch ${torchHello.torch} on ${torchHello.blas} BLAS  [${loadNote()}]`);
    const bestNative = Math.min(f[0].median, f[1].median);
    const bestTorch = Math.min(f[3].median, f[4].median);
    const r = bestNative / bestTorch;
    const rMin = Math.min(f[0].min, f[1].min) / Math.min(f[3].min, f[4].min);
    figures.push({ figure: 'GPT-2-small shape, 64 tokens: tfjs native / PyTorch, best thread count of each', engine: 'tfjs/pytorch', backend: labels.tensorflow, value: r, unit: 'x', runs: t[0].runs, min: rMin, median: r, load: load() });
    if (torchHello.blas === 'reference') say('   PyTorch runs on the reference BLAS here (~40x slower than it can): the ratio means nothing; apt-get install libopenblas0-pthread');
    else say(`   native / PyTorch, best thread count of each: ${r.toFixed(2)}x by medians, ${rMin.toFixed(2)}x by minima (target <= 1.5x: ${r <= 1.5 ? 'met' : 'MISSED'}); native ${(f[2].median / bestNative).toFixed(2)}x faster than WASM`);
  } finally {
    for (const w of workers) w.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // ---- 5. Training steps: the digits CNN (npm run train:digits) and the tiny GPT (npm run train:gpt), native vs WASM ----
  const steps = await perBackend(() => {
    const model = new DigitsCNN(DIGITS_CNN_DEFAULTS, 'digits-cnn', 42);
    model.convKernel = 'im2col'; // as train:digits (trainable on WASM)
    return { model, optimizer: tf.train.adam(2e-3), random: seededRandom(42) };
  });
  let cursor = 0;
  const batchOf = () => Array.from({ length: 64 }, () => (cursor = (cursor + 1) % train.count)); // indices of one batch of 64
  const digitT = timeAlternating(BACKENDS.map((b) => ({ label: b, before: () => switchTo(b), fn: () => digitsTrainingStep(steps[b].model, steps[b].optimizer, train, batchOf(), steps[b].random, 2) })), { warmup: 3, runs: 40 });
  const epochs = 15; // train:digits' default
  const stepsPerRun = Math.floor(train.count / 64) * epochs;
  const digitF = BACKENDS.map((b, i) => record('digits CNN training step, batch 64 (train:digits)', 'tfjs', labels[b], digitT[i]));
  const digitP = BACKENDS.map((b, i) => record(`npm run train:digits, ${epochs} epochs x ${stepsPerRun / epochs} steps, PROJECTED from the step time (evaluation not included)`, 'tfjs', labels[b], digitT[i], 's', (t) => (t * stepsPerRun) / 1000));
  say(`5. training, digits CNN step (batch 64): native ${ms(digitF[0])} | WASM ${ms(digitF[1])} -> native ${(digitF[1].median / digitF[0].median).toFixed(2)}x; whole train:digits projected ${digitP[0].median.toFixed(0)} s vs ${digitP[1].median.toFixed(0)} s  [${loadNote()}]`);
  for (const b of BACKENDS) (switchTo(b), steps[b].model.dispose(), steps[b].optimizer.dispose());

  const text = fs.readFileSync(path.join(packageRoot(), 'assets', 'tiny-gpt', 'validation.txt'), 'utf8');
  const stream = Int32Array.from(tiny.wasm.tokenizer.encode(text));
  const trainChars = Object.values((JSON.parse(fs.readFileSync(path.join(packageRoot(), 'assets', 'tiny-gpt', 'config.json'), 'utf8')) as { trainCharacterCounts: Record<string, number> }).trainCharacterCounts).reduce((a, n) => a + n, 0);
  const batch = 8; // train:gpt's
  const block = 3; // steps per timed call (each call builds its optimizer once)
  const epochSteps = Math.ceil(trainChars / (batch * GPT_PRESETS.tiny.contextLength));
  const gptT = timeAlternating(BACKENDS.map((b) => ({ label: b, before: () => switchTo(b), fn: () => trainLanguageModel(tiny[b], stream, { steps: block, batchSize: batch, progress: false }) })), { warmup: 1, runs: 4 });
  const perStep = (t: Timing): Timing => ({ label: t.label, runs: t.runs * block, minMs: t.minMs / block, medianMs: t.medianMs / block, p95Ms: t.p95Ms / block });
  const gptF = BACKENDS.map((b, i) => record(`tiny GPT training step, batch ${batch} x 256 characters (train:gpt)`, 'tfjs', labels[b], perStep(gptT[i])));
  const gptP = BACKENDS.map((b, i) => record(`tiny GPT, one epoch of train:gpt's corpus (${epochSteps} steps), PROJECTED from the step time`, 'tfjs', labels[b], perStep(gptT[i]), 's', (t) => (t * epochSteps) / 1000));
  say(`   tiny GPT step (batch ${batch} x 256): native ${ms(gptF[0])} | WASM ${ms(gptF[1])} -> native ${(gptF[1].median / gptF[0].median).toFixed(2)}x; one epoch (${epochSteps} steps) projected ${(gptP[0].median / 60).toFixed(1)} min vs ${(gptP[1].median / 60).toFixed(1)} min  [${loadNote()}]`);
  for (const b of BACKENDS) tiny[b].dispose();

  if (json) for (const f of figures) console.log(JSON.stringify(f));
}

main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
