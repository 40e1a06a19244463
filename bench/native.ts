// `npm run bench:native`: the native backend (tfjs-node, built by `npm run setup:native`) against
// WASM on the teaching path, side by side in one run: digits CNN batch 64, tiny-GPT generation
// with the KV cache, the GPT-2-small shape (64 tokens), hooks overhead on native.
// `--json` prints one object per figure: {figure, engine, backend, value, unit, runs, min, median}.
import { initBackend, backendLabel } from '../src/engine/backend';
import { tf } from '../src/engine/tf';
import { loadModel } from '../src/models/registry';
import { GPT, GPT_PRESETS } from '../src/models/gpt';
import type { DigitsCNN } from '../src/models/cnn';
import { loadMnist, MNIST_SIZE } from '../src/data/mnist';

interface Figure { figure: string; engine: string; backend: string; value: number; unit: string; runs: number; min: number; median: number }
const figures: Figure[] = [];
const json = process.argv.includes('--json');
const say = (line: string) => { if (!json) console.log(line); };

function times(fn: () => void, runs: number, warm = 2): number[] {
  for (let i = 0; i < warm; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b);
}
function record(figure: string, backend: string, t: number[], unit = 'ms'): Figure {
  const f = { figure, engine: 'tfjs', backend, value: t[Math.floor(t.length / 2)], unit, runs: t.length, min: t[0], median: t[Math.floor(t.length / 2)] };
  figures.push(f);
  return f;
}

async function main(): Promise<void> {
  const px = MNIST_SIZE * MNIST_SIZE;
  const images = loadMnist().heldOut.images;
  const results: Record<string, Record<string, Figure>> = {};
  for (const name of ['tensorflow', 'wasm'] as const) {
    await initBackend({ prefer: name, force: true });
    const label = backendLabel();
    const r: Record<string, Figure> = (results[name] = {});
    const cnn = loadModel('digits-cnn') as DigitsCNN;
    const x = tf.tensor3d(images.subarray(0, 64 * px), [64, MNIST_SIZE, MNIST_SIZE], 'int32');
    r.cnn = record('digits CNN forward, batch 64', label, times(() => cnn.forward(x).dataSync(), 40, 5));
    if (name === 'tensorflow') {
      const plain = () => cnn.forward(x).dataSync();
      const none = () => { const [o, c] = cnn.runWithCache(x, { names: [] }); o.dataSync(); o.dispose(); c.dispose(); };
      const all = () => { const [o, c] = cnn.runWithCache(x); o.dataSync(); o.dispose(); c.dispose(); };
      const s: number[][] = [[], [], []];
      for (let i = 0; i < 60; i++) [plain, none, all].forEach((f, k) => { const t0 = performance.now(); f(); s[k].push(performance.now() - t0); });
      const med = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
      const [p, n, a] = s.map(med);
      figures.push({ figure: 'hooks overhead, runWithCache(no names) / forward, CNN batch 64', engine: 'tfjs', backend: label, value: n / p, unit: 'x', runs: 60, min: n / p, median: n / p });
      figures.push({ figure: 'hooks overhead, runWithCache(all hooks) / forward, CNN batch 64', engine: 'tfjs', backend: label, value: a / p, unit: 'x', runs: 60, min: a / p, median: a / p });
      say(`   hooks on native (CNN batch 64, interleaved medians): no names ${(n / p).toFixed(3)}x (target <= 1.05), all hooks ${(a / p).toFixed(3)}x (target <= 1.3)`);
    }
    x.dispose();
    cnn.dispose();
    const tiny = loadModel('tiny-gpt') as GPT;
    const rates = times(() => { tiny.generate('the quick brown fox jumps over the lazy dog and', { maxTokens: 32, temperature: 0, kvCache: true }); }, 3, 1);
    const tps = rates.map((ms) => (32 * 1000) / ms).sort((a, b) => a - b);
    r.gen = { figure: 'tiny GPT generation with KV cache (32 tokens)', engine: 'tfjs', backend: label, value: tps[Math.floor(tps.length / 2)], unit: 'tokens/s', runs: tps.length, min: tps[0], median: tps[Math.floor(tps.length / 2)] };
    figures.push(r.gen);
    tiny.dispose();
    const gpt2 = new GPT(GPT_PRESETS.gpt2, 'gpt2-shape', 7);
    const ids = tf.tensor2d(Array.from({ length: 64 }, (_, i) => (i * 7919) % 50257), [1, 64], 'int32');
    r.gpt2 = record('GPT-2-small shape, forward of 64 tokens', label, times(() => gpt2.forward(ids).dispose(), name === 'wasm' ? 5 : 10, 2));
    ids.dispose();
    gpt2.dispose();
    say(`${label}: CNN b64 ${r.cnn.median.toFixed(2)} ms (min ${r.cnn.min.toFixed(2)}), generation ${r.gen.median.toFixed(0)} tokens/s, GPT-2-small 64 tok ${r.gpt2.median.toFixed(0)} ms (min ${r.gpt2.min.toFixed(0)})`);
  }
  const [n, w] = [results.tensorflow, results.wasm];
  say(`native vs WASM: CNN b64 ${(w.cnn.median / n.cnn.median).toFixed(2)}x, generation ${(n.gen.median / w.gen.median).toFixed(2)}x, GPT-2-small ${(w.gpt2.median / n.gpt2.median).toFixed(2)}x faster`);
  if (json) for (const f of figures) console.log(JSON.stringify(f));
}

main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
