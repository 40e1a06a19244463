// Exercises that check the answer. Each notebook's exercises are one list of ExerciseSpec in one
// file (src/exercises/NN-*.ts), registered in src/exercises/index.ts. A learner types an answer in
// a cell and `lab.check('00.2', answer)` says right, wrong, or gives a hint (a known mistake
// recognised, or an answer of the wrong form); the value shows itself as text in the notebook.

/** What an answer may be: a number, a fixed-length list of numbers, or a short text (a name, a choice). */
export type Answer = number | number[] | string;

/** |given - expected| <= abs + rel * |expected|, per number. */
export interface Tolerance {
  /** Absolute slack (default 1e-9). */
  abs?: number;
  /** Relative slack (default 0.01: a hand computation rounded to 3 significant digits passes). */
  rel?: number;
}

/** A wrong answer someone is likely to give, and the hint that points at the slip. */
export interface Mistake {
  /** The wrong answer (compared with the exercise's tolerance), or a test on the given answer. */
  answer: Answer | ((given: Answer) => boolean);
  /** What to say: the slip, not the solution. */
  hint: string;
}

/** One exercise, as its notebook's file declares it. */
export interface ExerciseSpec {
  /** '<notebook>.<n>', e.g. '00.2' for notebook 00's second exercise. */
  id: string;
  /** A few words. */
  title: string;
  /** The question as the notebook's markdown states it (markdown allowed). */
  question: string;
  /** What kind of answer to type, e.g. 'a number (nats)'. Shown when the answer has the wrong form. */
  answerForm: string;
  /** The right answer, or a function computing it (run once, on the first check; e.g. from a model). */
  expected: Answer | (() => Answer);
  /** For numbers (default: abs 1e-9, rel 0.01). */
  tolerance?: Tolerance;
  /** Known wrong answers, each with its hint; checked in order. */
  mistakes?: Mistake[];
  /** Said with any other wrong answer: a nudge, not the solution. */
  hint: string;
  /** Said with the right answer: why it is right (the lesson shows it with the solution). */
  explanation: string;
}

export type VerdictStatus = 'right' | 'mistake' | 'wrong' | 'invalid' | 'unanswered';

const DEFAULT_TOLERANCE: Required<Tolerance> = { abs: 1e-9, rel: 0.01 };

/** A short display of a number or list (4 significant digits). */
export function formatAnswer(a: Answer): string {
  if (typeof a === 'number') return Number.isInteger(a) ? String(a) : String(Number(a.toPrecision(4)));
  if (Array.isArray(a)) return `[${a.map((v) => formatAnswer(v)).join(', ')}]`;
  return JSON.stringify(a);
}

/** The result of one check: shown as one or two lines of text when it is a cell's last value. */
export class Verdict {
  constructor(
    readonly id: string,
    readonly status: VerdictStatus,
    readonly message: string,
  ) {}

  /** True only for the right answer. */
  get right(): boolean {
    return this.status === 'right';
  }

  toString(): string {
    const mark = { right: 'RIGHT', mistake: 'NOT YET', wrong: 'WRONG', invalid: 'NOT AN ANSWER', unanswered: 'NO ANSWER YET' }[this.status];
    return `Exercise ${this.id}: ${mark}. ${this.message}`;
  }

  toMimeBundle(): { 'text/plain': string } {
    return { 'text/plain': this.toString() };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

type Normalized = { ok: true; value: Answer } | { ok: false; why: string };

/** Whatever the learner typed -> an Answer of the expected form, or why not. Accepts tensors and numeric strings. */
function normalize(given: unknown, expected: Answer): Normalized {
  let value: unknown = given;
  const tensorLike = value as { dataSync?: () => ArrayLike<number>; size?: number } | null;
  if (typeof value === 'object' && value !== null && typeof tensorLike!.dataSync === 'function') {
    const data = Array.from(tensorLike!.dataSync!());
    value = data.length === 1 && !Array.isArray(expected) ? data[0] : data;
  }
  if (typeof value === 'bigint') value = Number(value);
  if (typeof expected === 'number') {
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) value = Number(value);
    if (Array.isArray(value) && value.length === 1) value = value[0];
    if (typeof value !== 'number') return { ok: false, why: `got ${describe(value)}` };
    if (!Number.isFinite(value)) return { ok: false, why: `got ${value}, which is not a finite number` };
    return { ok: true, value };
  }
  if (Array.isArray(expected)) {
    if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array) value = Array.from(value);
    if (!Array.isArray(value)) return { ok: false, why: `got ${describe(value)}` };
    if (value.length !== expected.length) return { ok: false, why: `got a list of ${value.length} numbers, not ${expected.length}` };
    if (!value.every((v) => typeof v === 'number' && Number.isFinite(v))) return { ok: false, why: 'not every entry is a finite number' };
    return { ok: true, value: value as number[] };
  }
  if (typeof value === 'number') value = String(value);
  if (typeof value !== 'string') return { ok: false, why: `got ${describe(value)}` };
  return { ok: true, value };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  return `a ${typeof v}`;
}

const canonicalText = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');

/** Whether `given` equals `target` within the tolerance (numbers, lists) or as text (case and spacing ignored). */
export function matches(given: Answer, target: Answer, tolerance: Tolerance = {}): boolean {
  const { abs, rel } = { ...DEFAULT_TOLERANCE, ...tolerance };
  const close = (a: number, b: number) => Math.abs(a - b) <= abs + rel * Math.abs(b);
  if (typeof target === 'number') return typeof given === 'number' && close(given, target);
  if (Array.isArray(target)) return Array.isArray(given) && given.length === target.length && given.every((v, i) => close(v, target[i]));
  return typeof given === 'string' && canonicalText(given) === canonicalText(target);
}

/** An exercise of a notebook: show it (its question) or check an answer. */
export class Exercise {
  private expectedValue: Answer | undefined;

  constructor(readonly spec: ExerciseSpec) {}

  get id(): string {
    return this.spec.id;
  }

  get title(): string {
    return this.spec.title;
  }

  /** The right answer (computed on first use when the spec gives a function). */
  get expected(): Answer {
    this.expectedValue ??= typeof this.spec.expected === 'function' ? this.spec.expected() : this.spec.expected;
    return this.expectedValue;
  }

  /** Right, a known mistake (with its hint), wrong (with the general hint), or not an answer of the right form. */
  check(given: unknown): Verdict {
    const { id, answerForm, tolerance, mistakes = [], hint, explanation } = this.spec;
    if (given === undefined) return new Verdict(id, 'unanswered', `Replace undefined with your answer: ${answerForm}.`);
    const expected = this.expected;
    const n = normalize(given, expected);
    if (!n.ok) return new Verdict(id, 'invalid', `Expected ${answerForm}; ${n.why}.`);
    if (matches(n.value, expected, tolerance)) return new Verdict(id, 'right', `${formatAnswer(n.value)}: ${explanation}`);
    for (const m of mistakes) {
      const hit = typeof m.answer === 'function' ? m.answer(n.value) : matches(n.value, m.answer, tolerance);
      if (hit) return new Verdict(id, 'mistake', `${formatAnswer(n.value)}: ${m.hint}`);
    }
    return new Verdict(id, 'wrong', `${formatAnswer(n.value)} is not it. Hint: ${hint}`);
  }

  toString(): string {
    return `Exercise ${this.id}: ${this.title}\n${this.spec.question}\nAnswer with ${this.spec.answerForm}: lab.check('${this.id}', answer)`;
  }

  toMimeBundle(): { 'text/plain': string } {
    return { 'text/plain': this.toString() };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
