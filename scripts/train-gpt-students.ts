// The honest distillation ablation for the tiny GPT: the same small student (2 blocks, d_model 64,
// 4 heads, d_mlp 256, the teacher's 256 characters of context and alphabet), the same training
// characters, steps, batches, schedule and seed, trained once on the next character alone and
// once (per distillation setting) from the tiny GPT teacher. The distilled setting is chosen on
// the VALIDATION chapters; both students are then scored once on the test chapters (the teacher's
// heldout.txt). Writes assets/tiny-gpt-student-scratch/ and assets/tiny-gpt-student-distilled/.
//
// `npm run train:gpt-students [-- --steps N --batch B --seed S --settings 0.5:2,0.9:1 --teacher DIR --out DIR]`
// (--settings: alpha:temperature pairs, each trained in full; needs Debian's bible-kjv for the corpus).
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../src/engine/backend';
import { kjvChapters, splitChapters } from '../src/data/corpus';
import { GPT, type GPTConfig } from '../src/models/gpt';
import { assetsDir } from '../src/models/registry';
import { evaluateLanguageModel, type LanguageModelRecord } from '../src/train/language-model';
import { trainGptStudent, type DistillOptions } from '../src/optimize/distill';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

function parseSettings(spec: string): DistillOptions[] {
  return spec.split(',').map((pair) => {
    const [alpha, temperature] = pair.split(':').map(Number);
    if (!(alpha > 0 && alpha <= 1 && temperature > 0)) throw new Error(`--settings: expected alpha:temperature pairs with alpha in (0, 1] and temperature > 0, like 0.5:2; got ${JSON.stringify(pair)}.`);
    return { alpha, temperature };
  });
}

/** The student's shape: a quarter of the teacher's width per block and half its depth. */
export const STUDENT_SHAPE = { dModel: 64, nLayers: 2, nHeads: 4, dMlp: 256 } as const;

interface Run {
  variant: 'scratch' | 'distilled';
  distill: DistillOptions | null;
  validation: number;
  seconds: number;
  history: LanguageModelRecord[];
  model: GPT;
}

async function main(): Promise<void> {
  const steps = Number(arg('steps', '1000'));
  const batchSize = Number(arg('batch', '8'));
  const seed = Number(arg('seed', '11'));
  const settings = parseSettings(arg('settings', '0.5:2,0.9:1'));
  const teacherDir = path.resolve(arg('teacher', path.join(assetsDir(), 'tiny-gpt')));
  const outRoot = path.resolve(arg('out', assetsDir()));
  if (!(Number.isInteger(steps) && steps > 0 && Number.isInteger(batchSize) && batchSize > 0)) throw new Error('--steps and --batch expect positive whole numbers.');
  const backendName = await initBackend();

  const teacher = GPT.load(teacherDir, 'tiny-gpt');
  const teacherSaved = JSON.parse(fs.readFileSync(path.join(teacherDir, 'config.json'), 'utf8'));
  // A finished run saves its best checkpoint: the step with the lowest validation loss in its history.
  const history: { step: number; validationLoss?: number }[] = teacherSaved.training?.history ?? [];
  const bestStep = history.reduce<{ step: number; validationLoss?: number } | null>((a, b) => (a && (a.validationLoss ?? Infinity) <= (b.validationLoss ?? Infinity) ? a : b), null)?.step;
  const teacherStep: number | null = teacherSaved.checkpointStep ?? bestStep ?? null;
  const split = splitChapters(kjvChapters());
  const encode = (text: string) => Int32Array.from(teacher.tokenizer.encode(text));
  const train = encode(split.train);
  const validation = encode(split.validation);
  const test = encode(split.test);
  const config: GPTConfig = { ...teacher.config, ...STUDENT_SHAPE };
  const schedule = { steps, batchSize, seed, learningRate: 3e-3, warmupSteps: 100, evalEvery: 250, evalWindows: 32 };
  console.log(`backend ${backendName}; teacher ${teacherDir} (checkpoint step ${teacherStep ?? '?'}, ${teacher.parameterCount.toLocaleString()} parameters); student ${JSON.stringify(STUDENT_SHAPE)}; ${steps} steps of ${batchSize} x ${config.contextLength} characters, seed ${seed}`);

  const runs: Run[] = [];
  for (const distill of [null, ...settings]) {
    const variant = distill ? 'distilled' : 'scratch';
    const student = new GPT(config, `tiny-gpt-student-${variant}`, seed); // the same initial weights every run
    const started = Date.now();
    const history = trainGptStudent(student, train, {
      ...schedule,
      validation,
      teacher: distill ? teacher : undefined,
      distill: distill ?? undefined,
      onEval: (r) => console.log(`  ${variant}${distill ? ` alpha ${distill.alpha} T ${distill.temperature}` : ''}: step ${r.step}  train ${r.trainLoss.toFixed(3)}  validation ${r.validationLoss?.toFixed(4)}  ${r.seconds.toFixed(0)} s`),
    });
    const seconds = Math.round((Date.now() - started) / 1000);
    const validationLoss = evaluateLanguageModel(student, validation); // every validation window
    console.log(`${variant}${distill ? ` (alpha ${distill.alpha}, T ${distill.temperature})` : ''}: validation ${validationLoss.toFixed(4)} nats/char after ${seconds} s`);
    runs.push({ variant, distill, validation: validationLoss, seconds, history, model: student });
  }

  // Choose the distillation setting on validation text; only then look at the test chapters.
  const scratch = runs[0];
  const best = runs.slice(1).reduce((a, b) => (b.validation < a.validation ? b : a));
  const testLoss = (r: Run) => evaluateLanguageModel(r.model, test);
  const tried = runs.slice(1).map((r) => ({ ...r.distill!, validation: r.validation, test: testLoss(r), chosen: r === best }));
  const teacherInfo = { name: 'tiny-gpt', checkpointStep: teacherStep, heldOut: teacherSaved.heldOut ?? null, parameters: teacher.parameterCount };
  for (const r of [scratch, best]) {
    const value = r === scratch ? testLoss(r) : tried.find((t) => t.chosen)!.test;
    r.model.save(path.join(outRoot, `tiny-gpt-student-${r.variant}`), {
      task: `next character of King James Bible text, small student (${r.variant === 'distilled' ? 'distilled from tiny-gpt' : 'next character only'})`,
      trainedBy: 'npm run train:gpt-students',
      corpus: 'King James Bible (Debian bible-kjv-text), the tiny GPT split: validation chapters i % 25 == 6, test chapters i % 25 == 12 (assets/tiny-gpt/heldout.txt)',
      teacher: r.variant === 'distilled' ? teacherInfo : null,
      training: { ...schedule, optimizer: 'adam (0.9, 0.95), warm-up then cosine decay, gradients clipped to norm 1', distill: r.distill, backend: backendName, seconds: r.seconds, history: r.history },
      validation: { metric: 'cross-entropy (nats/char)', value: r.validation, n: validation.length - 1 },
      heldOut: { metric: 'cross-entropy (nats/char)', value, n: test.length - 1, perplexity: Math.exp(value) },
      ...(r.variant === 'distilled' ? { settingsTried: tried, sameRunWithoutTeacher: 'tiny-gpt-student-scratch' } : { sameRunWithTeacher: 'tiny-gpt-student-distilled' }),
    });
    console.log(`${r.variant}: test ${value.toFixed(4)} nats/char (perplexity ${Math.exp(value).toFixed(3)}), ${r.model.parameterCount.toLocaleString()} parameters`);
  }
  for (const t of tried) console.log(`  tried alpha ${t.alpha} T ${t.temperature}: validation ${t.validation.toFixed(4)}, test ${t.test.toFixed(4)}${t.chosen ? '  (chosen on validation)' : ''}`);
  for (const r of runs) r.model.dispose();
  teacher.dispose();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
