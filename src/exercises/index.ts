// The exercises of every notebook, by id ('00.1' = notebook 00, exercise 1). To add a notebook's
// exercises: write src/exercises/NN-name.ts exporting an ExerciseSpec[] and add it to NOTEBOOKS.
import { Exercise, Verdict, type ExerciseSpec } from './exercise';
import { PRIMER_EXERCISES } from './00-primer';

/** Each notebook's exercises, in notebook order. */
const NOTEBOOKS: ExerciseSpec[][] = [PRIMER_EXERCISES];

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
