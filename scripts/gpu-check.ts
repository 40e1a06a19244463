// The body of scripts/gpu-check.sh: on the native backend (tfjs-node-gpu after
// `npm run setup:native -- --gpu`, or tfjs-node), which device runs; the digits CNN and a
// GPT-2-small-shaped forward timed there against the CPU path (WASM, in the same process, in
// alternation: the one clock); the hooks overhead there; and the logits checked against the CPU
// path. Exit status 1 when the numbers disagree or the native backend does not load.
import { tf, initBackend, loadModel, loadMnist, MNIST_SIZE, GPT, GPT_PRESETS, errorMetrics, compareRuntimes, timeAlternating, type Tensor, type DigitsCNN } from '../src/index';
import { backendInfo, backendLabel } from '../src/engine/backend';
import { nativeBuild } from '../src/engine/native';

const quick = process.argv.includes('--quick'); // fewer runs (CI uses this to test the script itself)
let failed = false;
const say = (line: string) => console.log(line);
const switchTo = (name: string) => { if (tf.getBackend() !== name) void tf.setBackend(name); };

/** Build a model on each backend (weights made there), time `forward` in alternation, compare logits. */
function sideBySide(title: string, make: () => { forward: (x: Tensor) => Tensor; input: Tensor; dispose: () => void }, runs: number, minSqnrDb: number): void {
  const sides = (['tensorflow', 'wasm'] as const).map((b) => { switchTo(b); return { b, ...make() }; });
  const outputs = sides.map((s) => { switchTo(s.b); return tf.tidy(() => s.forward(s.input)); });
  const m = errorMetrics(outputs[1], outputs[0]); // reference: the CPU path (WASM)
  const [native, cpu] = timeAlternating(
    sides.map((s) => ({ label: s.b, before: () => switchTo(s.b), fn: () => tf.tidy(() => void s.forward(s.input).dataSync()) })),
    { warmup: 1, runs },
  );
  const ok = m.sqnrDb >= minSqnrDb;
  if (!ok) failed = true;
  say(`${title}: native ${native.medianMs.toFixed(2)} ms (min ${native.minMs.toFixed(2)}), CPU path (WASM) ${cpu.medianMs.toFixed(2)} ms (min ${cpu.minMs.toFixed(2)}), ${(cpu.medianMs / native.medianMs).toFixed(2)}x; logits vs CPU path: max |diff| ${m.maxAbs.toExponential(1)}, SQNR ${Number.isFinite(m.sqnrDb) ? m.sqnrDb.toFixed(1) : 'exact'} dB ${ok ? 'ok' : `BELOW ${minSqnrDb} dB`}`);
  outputs.forEach((o) => o.dispose());
  sides.forEach((s) => s.dispose());
}

async function main(): Promise<void> {
  const build = nativeBuild();
  say(`native build: ${build ? `${build.package} ${build.version}, TensorFlow ${build.tensorflow} (${build.variant})` : 'none: run `npm run setup:native -- --gpu` first'}`);
  await initBackend({ prefer: 'wasm', force: true }); // the CPU path every learner has
  try {
    await initBackend({ prefer: 'tensorflow', force: true });
  } catch (err) {
    say(`the native backend did not load: ${(err as Error).message}`);
    process.exit(1);
  }
  const info = backendInfo();
  say(`backend: ${backendLabel()}`);
  if (!info.device.startsWith('GPU')) {
    say(`device: CPU. TensorFlow placed no op on a GPU (no NVIDIA GPU visible, the CUDA libraries did not load, or this is the cpu build); the figures below are the CPU fallback, not a GPU.`);
  }
  // TF32: on Ampere and newer GPUs TensorFlow multiplies float32 matrices with 10-bit mantissas
  // unless NVIDIA_TF32_OVERRIDE=0; logits then differ from the CPU path by ~1e-3 relative (about
  // 60 dB SQNR), so the check asks for 40 dB, not float32 rounding.
  const minSqnrDb = 40;
  const runs = quick ? 3 : 20;

  const images = loadMnist().heldOut.images;
  for (const batch of [64, 512]) {
    sideBySide(`digits CNN, batch ${batch}`, () => {
      const cnn = loadModel('digits-cnn') as DigitsCNN;
      const input = tf.tensor3d(images.subarray(0, batch * MNIST_SIZE * MNIST_SIZE), [batch, MNIST_SIZE, MNIST_SIZE], 'int32'); // [batch, 28, 28]
      return { forward: (x) => cnn.forward(x), input, dispose: () => { cnn.dispose(); input.dispose(); } };
    }, runs, minSqnrDb);
  }
  sideBySide('GPT-2-small shape (124 M, seeded random weights), forward of 64 tokens', () => {
    const gpt2 = new GPT(GPT_PRESETS.gpt2, 'gpt2-shape', 7); // same seed on both backends: same weights
    const input = tf.tensor2d(Array.from({ length: 64 }, (_, i) => (i * 7919) % 50257), [1, 64], 'int32'); // [1, 64]
    return { forward: (x) => gpt2.forward(x), input, dispose: () => { gpt2.dispose(); input.dispose(); } };
  }, quick ? 2 : 5, minSqnrDb);

  // Hooks on the native backend: a cache of no hook points, and of all of them, against a plain forward.
  switchTo('tensorflow');
  for (const [title, make] of [
    ['digits CNN batch 64', () => ({ model: loadModel('digits-cnn'), input: tf.tensor3d(images.subarray(0, 64 * MNIST_SIZE * MNIST_SIZE), [64, MNIST_SIZE, MNIST_SIZE], 'int32') })],
    ['GPT-2-small shape, 64 tokens', () => ({ model: new GPT(GPT_PRESETS.gpt2, 'gpt2-shape', 7), input: tf.tensor2d(Array.from({ length: 64 }, (_, i) => (i * 7919) % 50257), [1, 64], 'int32') })],
  ] as const) {
    const { model, input } = make();
    const cached = (names?: string[]) => () => { const [o, c] = model.runWithCache(input, names ? { names } : {}); o.dataSync(); o.dispose(); c.dispose(); };
    const [plain, none, all] = timeAlternating(
      [
        { label: 'forward', fn: () => { const o = model.forward(input); o.dataSync(); o.dispose(); } }, // the same steps as the cached runs, minus the hooks
        { label: 'no names', fn: cached([]) },
        { label: 'all hooks', fn: cached() },
      ],
      { warmup: 1, runs: quick ? 3 : title.startsWith('GPT') ? 5 : 30 },
    );
    say(`hooks on native, ${title}: runWithCache(no names) ${(none.medianMs / plain.medianMs).toFixed(3)}x a plain forward, all hooks ${(all.medianMs / plain.medianMs).toFixed(3)}x (medians, in alternation)`);
    model.dispose();
    input.dispose();
  }

  // The notebook's view: the same forward on WASM, native and ONNX Runtime.
  say((await compareRuntimes({ runs: quick ? 3 : 20, budgetMs: quick ? 0 : 2000 })).toString());
  say(failed ? 'FAILED: the native backend disagrees with the CPU path (above).' : `numbers agree with the CPU path; device: ${info.device}`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(`gpu-check: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
