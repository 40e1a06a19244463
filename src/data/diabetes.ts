// The diabetes data set of Efron, Hastie, Johnstone and Tibshirani (2004): ten baseline
// measurements of 442 patients and a number to predict, their disease progression one year later.
// The raw (unstandardised) rows ship in assets/diabetes/diabetes.json, written once from the copy
// inside scikit-learn's wheel by scripts/make-diabetes-data.py (source and licence are in the file).
import * as fs from 'fs';

/** Rows of measurements and the number each row should predict. */
export interface TabularSet {
  /** Feature names, one per column (age, sex, bmi, bp, s1..s6). */
  features: string[];
  /** One row of raw measurements per patient, in `features` order. */
  rows: number[][];
  /** The target of each row (disease progression one year after baseline). */
  targets: number[];
  /** What the target measures, in words. */
  target: string;
}

/** The whole file: the set plus where it comes from. */
export interface DiabetesFile extends TabularSet {
  description: string;
  source: string;
  licence: string;
  featureInfo: Record<string, string>;
}

/** Read assets/diabetes/diabetes.json (or a file of the same shape), checking every row. */
export function readDiabetes(file: string): DiabetesFile {
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DiabetesFile>;
  const features = saved.features;
  if (!Array.isArray(features) || !Array.isArray(saved.rows) || !Array.isArray(saved.targets) || saved.rows.length !== saved.targets.length) {
    throw new Error(`${file}: expected {"features": [...], "rows": [[...]], "targets": [...]}, one target per row.`);
  }
  saved.rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== features.length || !row.every(Number.isFinite)) throw new Error(`${file}: row ${i} should be ${features.length} finite numbers.`);
  });
  return saved as DiabetesFile;
}

/** The fixed split, by rule and not by chance: every 5th patient (index 4, 9, 14, ...) is held out. */
export function isHeldOutPatient(index: number): boolean {
  return index % 5 === 4;
}

/** The training rows and the held-out rows of a set, by `isHeldOutPatient`. */
export function splitDiabetes(set: TabularSet): { train: TabularSet; heldOut: TabularSet } {
  const pick = (keep: (i: number) => boolean): TabularSet => ({
    features: set.features,
    target: set.target,
    rows: set.rows.filter((_, i) => keep(i)),
    targets: set.targets.filter((_, i) => keep(i)),
  });
  return { train: pick((i) => !isHeldOutPatient(i)), heldOut: pick(isHeldOutPatient) };
}

/** Mean and standard deviation (population, divide by n) of each column of `rows`. */
export function columnStats(rows: number[][]): { mean: number[]; std: number[] } {
  const n = rows.length;
  const width = rows[0].length;
  const mean = Array.from({ length: width }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / n);
  const std = mean.map((m, j) => Math.sqrt(rows.reduce((s, r) => s + (r[j] - m) ** 2, 0) / n));
  return { mean, std };
}
