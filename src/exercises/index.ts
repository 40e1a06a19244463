// The exercises of every notebook, by id ('00.1' = notebook 00, exercise 1). To add a notebook's
// exercises: write src/exercises/NN-name.ts exporting an ExerciseSpec[] and add it to NOTEBOOKS.
import { Exercise, Verdict, type ExerciseSpec } from './exercise';
import { PRIMER_EXERCISES } from './00-primer';
import { INFERENCE_EXERCISES } from './01-inference';
import { CONVOLUTION_EXERCISES } from './02-convolution';
import { RECURRENT_EXERCISES } from './03-recurrent';
import { ATTENTION_EXERCISES } from './04-attention';
import { SCALE_EXERCISES } from './05-scale';
import { TRAINING_EXERCISES } from './06-training';
import { QUANTIZATION_EXERCISES } from './07-quantization';
import { PRUNING_EXERCISES } from './08-pruning';
import { DISTILLATION_EXERCISES } from './09-distillation';
import { OPTIMIZED_EXERCISES } from './10-optimized';
import { APPLICATIONS_EXERCISES } from './11-applications';
import { TRANSLATION_EXERCISES } from './12-translation';
import { VISION_EXERCISES } from './13-vision';

/** Each notebook's exercises, in notebook order. */
const NOTEBOOKS: ExerciseSpec[][] = [
  PRIMER_EXERCISES,
  INFERENCE_EXERCISES,
  CONVOLUTION_EXERCISES,
  RECURRENT_EXERCISES,
  ATTENTION_EXERCISES,
  SCALE_EXERCISES,
  TRAINING_EXERCISES,
  QUANTIZATION_EXERCISES,
  PRUNING_EXERCISES,
  DISTILLATION_EXERCISES,
  OPTIMIZED_EXERCISES,
  APPLICATIONS_EXERCISES,
  TRANSLATION_EXERCISES,
  VISION_EXERCISES,
];

let registry: Map<string, Exercise> | null = null;

function all(): Map<string, Exercise> {
  if (registry) return registry;
  registry = new Map();
  for (const spec of NOTEBOOKS.flat()) {
    if (!/^\d\d\.\d+$/.test(spec.id)) throw new Error(`Exercise id "${spec.id}" should look like "00.1" (notebook.number).`);
    if (registry.has(spec.id)) throw new Error(`Exercise id "${spec.id}" is declared twice.`);
    registry.set(spec.id, new Exercise(spec));
  }
  return registry;
}

/** One exercise by id: its question as the last value of a cell; `.check(answer)` for a verdict. */
export function exercise(id: string): Exercise {
  const found = all().get(String(id));
  if (!found) throw new Error(`Unknown exercise "${id}". Known exercises: ${[...all().keys()].join(', ')}.`);
  return found;
}

/** Check an answer: `lab.check('00.2', answer)` shows RIGHT, NOT YET (a hint), WRONG or NOT AN ANSWER. */
export function check(id: string, answer: unknown): Verdict {
  return exercise(id).check(answer);
}

/** The exercises of one notebook ('00', '01', ...), or all of them. */
export function exercises(notebook?: string): Exercise[] {
  const list = [...all().values()];
  return notebook === undefined ? list : list.filter((e) => e.id.startsWith(`${notebook}.`));
}
