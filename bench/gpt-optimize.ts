// The figures of optimizing the tiny GPT, measured in one run on whatever teacher is in
// assets/tiny-gpt (the checkpoint step is printed first, so every figure says where it came from):
//   1. head importance on the validation chapters (loss increase when each head is zeroed);
//   2. the sparsity sweep: held-out loss against the share of block weights removed, for
//      magnitude pruning (per layer, global), heads (by importance) and MLP neurons;
//   3. MLP neurons scored by weight norms vs by activations on validation text;
//   4. short fine-tuning with masks (--finetune N steps; 0 skips);
//   5. latency, batch 1 and 16, original vs pruned vs int8, tfjs and ONNX Runtime, measured
//      interleaved (one call of each in turn) so a busy machine slows them all alike;
//   6. the comparison report with the students (when assets/tiny-gpt-student-* exist).
// `npm run bench:gpt-optimize [-- --windows N --finetune N --sections 1,2,5 --png DIR]` (needs Debian's bible-kjv for the validation text).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import '../src/fastpath/register'; // compile('onnx')
import { tf, type Tensor } from '../src/engine/tf';
import { initBackend } from '../src/engine/backend';
import { GPT } from '../src/models/gpt';
import { assetsDir, loadModel, modelNames } from '../src/models/registry';
import { kjvChapters, readHeldOutText, splitChapters } from '../src/data/corpus';
import { headImportance, prune, pruneHeads, pruneNeurons, pruningSweep, fineTunePruned, type HeadImportance, type Pruned } from '../src/optimize/prune';
import { heldOutLoss } from '../src/optimize/lm-eval';
import { compare, type GptVariantModel } from '../src/optimize/compare';
import { timeAlternating } from '../src/engine/timing';
import { lineChart } from '../src/viz/views';
import { headImportanceView, nextTokenTemperatureView } from '../src/viz/gpt-optimize-views';
import type { MimeBundle } from '../src/engine/mime';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** p50 and p95 of each function, timed in rounds of one call each (after warm-up). */
function interleavedLatency(fns: Record<string, () => void>, rounds: number): Record<string, { p50: number; p95: number }> {
  const timings = timeAlternating(Object.entries(fns).map(([label, fn]) => ({ label, fn })), { warmup: 2, runs: rounds });
  return Object.fromEntries(timings.map((t) => [t.label, { p50: t.medianMs, p95: t.p95Ms }]));
}

/** What every section reads: the teacher, its texts, the held-out scorer and where pictures go. */
interface Context {
  teacher: GPT;
  step: number | string;
  heldOut: Int32Array;
  validation: Int32Array;
  train: Int32Array;
  windows: number;
  loss: (m: Parameters<typeof heldOutLoss>[0]) => number;
  savePng: (bundle: MimeBundle, file: string) => void;
}

async function importanceSection(c: Context): Promise<HeadImportance> {
  console.log('\n1. Head importance (16 validation windows): loss increase when the head is zeroed');
  const importance = headImportance(c.teacher, c.validation, { windows: 16, progress: false });
  for (let b = 0; b < c.teacher.config.nLayers; b++) console.log(`   block ${b}: ${importance.heads.filter((h) => h.block === b).map((h) => `+${h.increase.toFixed(4)}`).join('  ')}`);
  c.savePng(await headImportanceView(importance), 'head-importance.png');
  return importance;
}

async function sweepSection(c: Context, importance: HeadImportance): Promise<void> {
  console.log('\n2. Sparsity sweep (no fine-tuning): held-out nats/char against the share of block matrix weights removed');
  const points = pruningSweep(c.teacher, {
    fractions: {
      'magnitude, per layer': [0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
      'magnitude, global': [0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
      'heads (by ablation importance)': [0.125, 0.25, 0.375, 0.5, 0.75],
      'MLP neurons (by weight norms)': [0.125, 0.25, 0.5, 0.75],
      'MLP neurons (by activations)': [0.125, 0.25, 0.5, 0.75],
    },
    evaluate: c.loss,
    importance,
    stream: c.validation,
    progress: false,
  });
  for (const p of points) console.log(`   ${p.method.padEnd(32)} fraction ${p.fraction.toFixed(3)}  removed ${(100 * p.removed).toFixed(1).padStart(5)}%  ${p.metric.toFixed(4)}`);
  const chart = await lineChart(points.map((p) => ({ series: p.method, x: p.removed, y: p.metric })), { title: `tiny GPT (step ${c.step}): held-out loss against weights removed, no fine-tuning`, xTitle: "share of the blocks' matrix weights removed", yTitle: 'nats/char', xFormat: '.0%' });
  c.savePng(chart, 'sweep.png');
}

function neuronScoreSection(c: Context): void {
  console.log('\n3. Half the MLP neurons: scored by weight norms vs by activations on validation text');
  for (const score of ['weights', 'activations'] as const) {
    const m = pruneNeurons(c.teacher, 0.5, { score, stream: c.validation, windows: 16 });
    console.log(`   by ${score.padEnd(12)} ${c.loss(m).toFixed(4)}`);
    m.dispose();
  }
}

function fineTuneSection(c: Context, importance: HeadImportance, steps: number): void {
  console.log(`\n4. Fine-tuning ${steps} steps (batch 8 x 256, lr 3e-4, masks kept): before -> after`);
  const candidates: [string, () => Pruned<GPT>][] = [
    ['70% global magnitude', () => prune(c.teacher, { sparsity: 0.7, scope: 'global' })],
    ['25% of heads (4 of 16)', () => pruneHeads(c.teacher, { fraction: 0.25, importance })],
    ['half the MLP neurons (activations)', () => pruneNeurons(c.teacher, 0.5, { score: 'activations', stream: c.validation, windows: 16 })],
  ];
  for (const [label, make] of candidates) {
    const m = make();
    const before = c.loss(m);
    const t0 = Date.now();
    fineTunePruned(m, c.train, { steps, seed: 3, progress: false });
    console.log(`   ${label.padEnd(36)} ${before.toFixed(4)} -> ${c.loss(m).toFixed(4)}  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    m.dispose();
  }
}

function latencySection(c: Context, variants: Record<string, GPT>): void {
  console.log('\n5. Latency, one forward of 256 characters (ms, p50 / p95; interleaved rounds; ONNX Runtime 1 thread)');
  for (const batch of [1, 16]) {
    const input: Tensor = tf.tensor2d(c.heldOut.subarray(0, batch * 256), [batch, 256], 'int32'); // [batch, 256]
    const fns: Record<string, () => void> = {};
    const sessions: { dispose(): void }[] = [];
    for (const [label, m] of Object.entries(variants)) {
      if (batch === 1) fns[`tfjs  ${label}`] = () => m.forward(input).dispose();
      const fp32 = m.compile('onnx', { threads: 1 });
      sessions.push(fp32);
      fns[`ORT   ${label}`] = () => fp32.forward(input).dispose();
      if (label === 'original' || label === 'half the MLP neurons') {
        const int8 = m.compile('onnx', { threads: 1, quantize: 'int8' });
        sessions.push(int8);
        fns[`ORT   ${label}, int8`] = () => int8.forward(input).dispose();
      }
    }
    const result = interleavedLatency(fns, batch === 1 ? 30 : 12);
    console.log(`   batch ${batch}:`);
    const ref = result['ORT   original'].p50;
    const tfjsRef = result['tfjs  original']?.p50;
    for (const [n, r] of Object.entries(result)) {
      const ratio = n.startsWith('ORT') ? `   (${(ref / r.p50).toFixed(2)}x the float32 original in ORT)` : `   (${(tfjsRef! / r.p50).toFixed(2)}x the original in tfjs)`;
      console.log(`     ${n.padEnd(38)} ${r.p50.toFixed(2).padStart(8)} / ${r.p95.toFixed(2).padStart(8)}${ratio}`);
    }
    for (const s of sessions) s.dispose();
    input.dispose();
  }
}

async function reportSection(c: Context, variants: Record<string, GPT>): Promise<void> {
  console.log('\n6. The comparison report');
  const students = ['tiny-gpt-student-distilled', 'tiny-gpt-student-scratch'].filter((n) => modelNames().includes(n)).map((n) => loadModel(n) as GPT);
  const studentRows = students.flatMap((s) => [
    { label: s.name, model: s as GptVariantModel },
    { label: `${s.name}, int8`, model: s.compile('onnx', { quantize: 'int8', threads: 1 }) as GptVariantModel },
  ]);
  const neurons = variants['half the MLP neurons'];
  const int8 = c.teacher.compile('onnx', { quantize: 'int8', threads: 1 });
  const neuronsInt8 = neurons.compile('onnx', { quantize: 'int8', threads: 1 });
  const latencyInput = tf.tensor2d(c.heldOut.subarray(0, 256), [1, 256], 'int32'); // [1, 256]
  const errorInput = tf.tensor2d(c.heldOut.subarray(256, 5 * 256), [4, 256], 'int32'); // [4, 256]
  const report = await compare(c.teacher, [
    { label: 'int8 (ONNX Runtime)', model: int8 },
    { label: '50% unstructured', model: variants['50% unstructured'] },
    { label: '25% heads (masked)', model: variants['25% heads (masked)'] },
    { label: 'half the MLP neurons', model: neurons },
    { label: 'half the MLP neurons, int8', model: neuronsInt8 },
    ...studentRows,
  ], { heldOut: c.heldOut, windows: c.windows, latencyInput, errorInput });
  console.log(report.toString());
  c.savePng(await report.toMimeBundle(), 'compare.png');
  if (students.length) {
    const text = readHeldOutText(path.join(assetsDir(), 'tiny-gpt')).slice(0, 300);
    c.savePng(await nextTokenTemperatureView(text, { teacher: c.teacher, ...Object.fromEntries(students.map((s) => [s.name.replace('tiny-gpt-', ''), s])) }), 'temperature.png');
  }
  tf.dispose([latencyInput, errorInput]);
  for (const m of [int8, neuronsInt8, ...studentRows.map((r) => r.model)]) m.dispose();
}

async function main(): Promise<void> {
  const windows = arg('windows', 64);
  const fineTuneSteps = arg('finetune', 60);
  const sectionsAt = process.argv.indexOf('--sections');
  const sections = new Set((sectionsAt >= 0 ? process.argv[sectionsAt + 1] : '1,2,3,4,5,6').split(',').map(Number));
  const pngAt = process.argv.indexOf('--png');
  const pngDir = pngAt >= 0 ? path.resolve(process.argv[pngAt + 1]) : null;
  const backendName = await initBackend();
  const dir = path.join(assetsDir(), 'tiny-gpt');
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  // A finished run keeps its best checkpoint: the step with the lowest validation loss in its history.
  const history: { step: number; validationLoss?: number }[] = saved.training?.history ?? [];
  const best = history.reduce<{ step: number; validationLoss?: number } | null>((a, b) => (a && (a.validationLoss ?? Infinity) <= (b.validationLoss ?? Infinity) ? a : b), null);
  const teacher = loadModel('tiny-gpt') as GPT;
  const split = splitChapters(kjvChapters());
  const encode = (text: string) => Int32Array.from(teacher.tokenizer.encode(text));
  const heldOut = encode(readHeldOutText(dir));
  const c: Context = {
    teacher,
    step: saved.checkpointStep ?? best?.step ?? '?',
    heldOut,
    validation: encode(split.validation),
    train: encode(split.train),
    windows,
    loss: (m) => heldOutLoss(m, heldOut, { windows }),
    savePng: (bundle, file) => {
      if (!pngDir) return;
      fs.mkdirSync(pngDir, { recursive: true });
      fs.writeFileSync(path.join(pngDir, file), Buffer.from(bundle['image/png'] as string, 'base64'));
    },
  };
  console.log(`GPT optimization figures — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cores, tfjs ${backendName}`);
  console.log(`teacher: assets/tiny-gpt, checkpoint step ${c.step}, ${teacher.parameterCount.toLocaleString()} parameters; held-out loss over the first ${windows} windows of heldout.txt (${windows * teacher.config.contextLength} characters)`);
  const base = c.loss(teacher);
  console.log(`  original: ${base.toFixed(4)} nats/char (perplexity ${Math.exp(base).toFixed(3)})`);
  const importance = await importanceSection(c);
  if (sections.has(2)) await sweepSection(c, importance);
  if (sections.has(3)) neuronScoreSection(c);
  if (sections.has(4) && fineTuneSteps > 0) fineTuneSection(c, importance, fineTuneSteps);
  if (sections.has(5) || sections.has(6)) {
    const variants: Record<string, GPT> = {
      original: teacher,
      '50% unstructured': prune(teacher, { sparsity: 0.5, scope: 'layer' }),
      '25% heads (masked)': pruneHeads(teacher, { fraction: 0.25, importance }),
      'half the MLP neurons': pruneNeurons(teacher, 0.5, { score: 'activations', stream: c.validation, windows: 16 }),
    };
    if (sections.has(5)) latencySection(c, variants);
    if (sections.has(6)) await reportSection(c, variants);
    for (const m of Object.values(variants)) if (m !== teacher) m.dispose();
  }
  teacher.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
