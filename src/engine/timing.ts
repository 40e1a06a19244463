// The one clock: every latency the library, the CLI, the server and the benches print is measured
// here. Warm-up first, then the contenders timed in alternation (run i times A then B, run i+1
// B then A, ...), so a slow phase of a shared machine hits every contender alike instead of the
// one that happened to run then; each contender reports min, median and p95 over its runs.

export interface Timing {
  label: string;
  /** Timed runs (after warm-up). */
  runs: number;
  minMs: number;
  medianMs: number;
  p95Ms: number;
}

export interface TimingOptions {
  /** Untimed calls of each contender first (default 3). */
  warmup?: number;
  /** Timed runs of each contender (default 30). */
  runs?: number;
  /** Keep going past `runs` until this many ms have passed in all (default 0), up to `maxRuns`. */
  budgetMs?: number;
  /** Upper bound on runs when `budgetMs` extends them (default 200). */
  maxRuns?: number;
}

/** `before` runs untimed before each call of `fn` (e.g. switching tfjs to the contender's backend). */
export type Contender = { label: string; fn: () => unknown; before?: () => void };
export type AsyncContender = { label: string; fn: () => unknown | Promise<unknown>; before?: () => void };

/** Min, median and p95 of a list of times (ms). */
export function summarizeTimes(label: string, times: number[]): Timing {
  if (times.length === 0) throw new Error(`timing ${label}: no runs.`);
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
  return { label, runs: sorted.length, minMs: sorted[0], medianMs: at(0.5), p95Ms: at(0.95) };
}

function plan(options: TimingOptions): Required<TimingOptions> {
  const runs = options.runs ?? 30;
  if (!(Number.isInteger(runs) && runs >= 1)) throw new Error(`timing: runs must be a whole number >= 1; got ${runs}.`);
  return { warmup: options.warmup ?? 3, runs, budgetMs: options.budgetMs ?? 0, maxRuns: Math.max(runs, options.maxRuns ?? 200) };
}

/** Time synchronous contenders in alternation; one Timing per contender, in the order given. */
export function timeAlternating(contenders: Contender[], options: TimingOptions = {}): Timing[] {
  const { warmup, runs, budgetMs, maxRuns } = plan(options);
  for (let i = 0; i < warmup; i++) for (const c of contenders) { c.before?.(); c.fn(); }
  const times = contenders.map(() => [] as number[]);
  const start = performance.now();
  for (let r = 0; r < runs || (performance.now() - start < budgetMs && r < maxRuns); r++) {
    for (let k = 0; k < contenders.length; k++) {
      const j = (k + r) % contenders.length; // rotate who goes first
      contenders[j].before?.();
      const t0 = performance.now();
      contenders[j].fn();
      times[j].push(performance.now() - t0);
    }
  }
  return contenders.map((c, j) => summarizeTimes(c.label, times[j]));
}

/** The same for contenders that may return a promise (ONNX Runtime sessions). */
export async function timeAlternatingAsync(contenders: AsyncContender[], options: TimingOptions = {}): Promise<Timing[]> {
  const { warmup, runs, budgetMs, maxRuns } = plan(options);
  for (let i = 0; i < warmup; i++) for (const c of contenders) { c.before?.(); await c.fn(); }
  const times = contenders.map(() => [] as number[]);
  const start = performance.now();
  for (let r = 0; r < runs || (performance.now() - start < budgetMs && r < maxRuns); r++) {
    for (let k = 0; k < contenders.length; k++) {
      const j = (k + r) % contenders.length;
      contenders[j].before?.();
      const t0 = performance.now();
      await contenders[j].fn();
      times[j].push(performance.now() - t0);
    }
  }
  return contenders.map((c, j) => summarizeTimes(c.label, times[j]));
}

/** One contender (a single measurement, e.g. a matmul's throughput). */
export function timeOne(label: string, fn: () => unknown, options: TimingOptions = {}): Timing {
  return timeAlternating([{ label, fn }], options)[0];
}

export async function timeOneAsync(label: string, fn: () => unknown | Promise<unknown>, options: TimingOptions = {}): Promise<Timing> {
  return (await timeAlternatingAsync([{ label, fn }], options))[0];
}

/** Wall time of one call (ms), for progress lines and "took N s" notes, not for comparisons. */
export function elapsedMs<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

/** "0.123 ms (min 0.110, p95 0.140, n=30)". */
export function formatTiming(t: Timing, digits = 3): string {
  return `${t.medianMs.toFixed(digits)} ms (min ${t.minMs.toFixed(digits)}, p95 ${t.p95Ms.toFixed(digits)}, n=${t.runs})`;
}
