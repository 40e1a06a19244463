// Distillation over seeds: the experiment of scripts/train-students.ts (the same student, data,
// epochs and distillation settings) repeated with other seeds, so notebook 09 can say whether the
// distilled student's gain is larger than what changing the seed alone does. Writes
// assets/digits-student-seeds.json: per seed, both students' held-out accuracy and the indices of
// the held-out digits each got wrong. `node dist/scripts/train-student-seeds.js [seeds...]`
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../src/engine/backend';
import { loadMnist } from '../src/data/mnist';
import { DigitsCNN } from '../src/models/cnn';
import { loadModel, assetsDir } from '../src/models/registry';
import { evaluateDigits } from '../src/models/evaluate';
import { trainCnn } from '../src/optimize/distill';

async function main(): Promise<void> {
  const backendName = await initBackend();
  const teacher = loadModel('digits-cnn') as DigitsCNN;
  const { train, heldOut } = loadMnist();
  const subset = { images: train.images.subarray(0, 2000 * 784), labels: train.labels.subarray(0, 2000), count: 2000 };
  const epochs = 8; // as scripts/train-students.ts
  const distill = { alpha: 0.7, temperature: 4 };
  const seeds = process.argv.slice(2).map(Number).filter(Number.isFinite);
  const out = path.join(assetsDir(), 'digits-student-seeds.json');
  const runs: { seed: number; scratch: number; distilled: number; scratchMistakes: number[]; distilledMistakes: number[]; seconds: number }[] = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')).runs : [];
  for (const seed of seeds.length ? seeds : [1, 2, 3, 4, 5]) {
    const started = Date.now();
    const result: Record<string, { value: number; mistakes: number[] }> = {};
    for (const variant of ['scratch', 'distilled'] as const) {
      const student = new DigitsCNN({ ...teacher.config, channels: [4, 8] }, `digits-student-${variant}-seed${seed}`, seed);
      trainCnn(student, subset, { epochs, seed, teacher: variant === 'distilled' ? teacher : undefined, distill, progress: false });
      const ev = evaluateDigits(student, heldOut);
      result[variant] = { value: ev.value, mistakes: ev.mistakes.map((m) => m.index) };
      student.dispose();
    }
    const run = { seed, scratch: result.scratch.value, distilled: result.distilled.value, scratchMistakes: result.scratch.mistakes, distilledMistakes: result.distilled.mistakes, seconds: Math.round((Date.now() - started) / 1000) };
    const kept = runs.filter((r) => r.seed !== seed);
    kept.push(run);
    kept.sort((a, b) => a.seed - b.seed);
    runs.splice(0, runs.length, ...kept);
    fs.writeFileSync(out, JSON.stringify({ trainedBy: 'scripts/train-student-seeds.ts', backend: backendName, epochs, trainDigits: subset.count, distill, heldOut: heldOut.count, runs }, null, 1) + '\n');
    console.log(`seed ${seed}: labels only ${(100 * run.scratch).toFixed(2)}%, distilled ${(100 * run.distilled).toFixed(2)}% (${run.seconds} s)`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
