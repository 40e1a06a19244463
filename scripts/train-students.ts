// The honest distillation ablation: the same small student (4 and 8 filters, 2,346 parameters),
// the same 2,000 training digits, steps and seed, trained once from the labels alone and once
// from the digits CNN teacher. Writes assets/digits-student-scratch/ and -distilled/.
// `npm run train:students`
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
  // A small-data regime, where a teacher's soft targets carry the most extra information.
  const subset = { images: train.images.subarray(0, 2000 * 784), labels: train.labels.subarray(0, 2000), count: 2000 };
  const epochs = 8;
  const seed = 7;
  const distill = { alpha: 0.7, temperature: 4 };
  for (const variant of ['scratch', 'distilled'] as const) {
    const student = new DigitsCNN({ ...teacher.config, channels: [4, 8] }, `digits-student-${variant}`, seed);
    const started = Date.now();
    const losses = trainCnn(student, subset, { epochs, seed, teacher: variant === 'distilled' ? teacher : undefined, distill });
    const result = evaluateDigits(student, heldOut);
    student.save(path.join(assetsDir(), `digits-student-${variant}`), {
      task: `handwritten digits, small student (${variant === 'distilled' ? 'distilled from digits-cnn' : 'labels only'})`,
      trainedBy: 'scripts/train-students.ts',
      training: { epochs, seed, trainDigits: subset.count, batchSize: 64, optimizer: 'adam 2e-3', teacher: variant === 'distilled' ? 'digits-cnn' : null, ...(variant === 'distilled' ? distill : {}), backend: backendName, seconds: Math.round((Date.now() - started) / 1000), losses },
      heldOut: { metric: 'accuracy', value: result.value, n: result.n },
    });
    console.log(`${variant}: held-out accuracy ${result.value.toFixed(4)} (${student.parameterCount} parameters, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
    student.dispose();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
