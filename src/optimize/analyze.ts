// Where does the error come from? Compare an optimized model with its original at every hook
// point, the two ways PyTorch's Numeric Suite does:
//   propagated: both models run on the same input; each layer's error includes all error before it;
//   isolated:   the optimized model's layer is fed the ORIGINAL model's values at every input of
//               that layer (HookPoint.inputs, declared by the model), so the error is that layer's own.
import { tf, type Tensor } from '../engine/tf';
import type { HookedModel, HookSpec } from '../hooks/hooked-model';

export interface ErrorMetrics {
  /** Signal-to-quantization-noise ratio, 10 log10(Σx² / Σ(x - x')²), in dB; higher is better. */
  sqnrDb: number;
  mse: number;
  /** Cosine similarity of the flattened values; 1 means the same direction. */
  cosine: number;
  maxAbs: number;
}

export interface LayerError extends ErrorMetrics {
  name: string;
  kind: string;
}

/** Error metrics of `approx` against `reference` (same shape). */
export function errorMetrics(reference: Tensor, approx: Tensor): ErrorMetrics {
  if (reference.shape.join(',') !== approx.shape.join(',')) {
    throw new Error(`errorMetrics: shapes differ, [${reference.shape}] vs [${approx.shape}].`);
  }
  // Sums in float64 on the CPU: float32 sums over ~10^5 values drift enough to push cosine above 1.
  const a = reference.dataSync();
  const b = approx.dataSync();
  let signal = 0;
  let noise = 0;
  let dot = 0;
  let normB2 = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    signal += a[i] * a[i];
    noise += d * d;
    dot += a[i] * b[i];
    normB2 += b[i] * b[i];
    if (Math.abs(d) > maxAbs) maxAbs = Math.abs(d);
  }
  const mse = noise / a.length;
  const normA = Math.sqrt(signal);
  const normB = Math.sqrt(normB2);
  const sqnrDb = noise === 0 ? Infinity : signal === 0 ? -Infinity : 10 * Math.log10(signal / noise);
  const cosine = normA === 0 || normB === 0 ? (normA === normB ? 1 : 0) : Math.max(-1, Math.min(1, dot / (normA * normB)));
  return { sqnrDb, mse, cosine, maxAbs };
}

/** Hook names both models share, in forward order. */
function sharedNames(original: HookedModel, optimized: HookedModel): string[] {
  const theirs = new Set(optimized.hookNames);
  return original.hookNames.filter((n) => theirs.has(n));
}

/** Per-hook-point error of `optimized` against `original` on the same input. */
export function layerErrors(original: HookedModel, optimized: HookedModel, input: Tensor, mode: 'propagated' | 'isolated' = 'propagated'): LayerError[] {
  const names = sharedNames(original, optimized);
  const kindOf = new Map(original.hookPoints.map((p) => [p.name, p.kind]));
  const [refOut, reference] = original.runWithCache(input, { names });
  refOut.dispose();
  try {
    if (mode === 'propagated') {
      const [out, cache] = optimized.runWithCache(input, { names });
      out.dispose();
      try {
        return names.map((name) => ({ name, kind: kindOf.get(name)!, ...errorMetrics(reference.get(name), cache.get(name)) }));
      } finally {
        cache.dispose(); // also when shapes differ (e.g. a structurally pruned model) and errorMetrics throws
      }
    }
    // Isolated: the step at `name` computed by the optimized model from the ORIGINAL's values at
    // every input of that step (the hook points it is computed from, as the model declares them:
    // the step before it in a chain; for a GPT, e.g. ln1.hook_normalized for attn.hook_k), each
    // passed through the optimized model's own transform there (e.g. its activation quantizer).
    // So the error is that step's own op alone, whatever the model's layout.
    return names.map((name) => {
      const inputs = optimized.getHookPoint(name).inputs;
      for (const from of inputs) {
        if (!reference.has(from)) throw new Error(`layerErrors (isolated): "${name}" is computed from "${from}", which ${original.name} does not have; isolated error needs the original's value there.`);
      }
      const patches: HookSpec[] = inputs.map((from): HookSpec => [from, () => optimized.applyTransform(from, reference.get(from))]);
      let value: Tensor | null = null;
      patches.push([name, (v) => void (value = tf.keep(tf.clone(v)))]);
      optimized.runWithHooks(input, patches).dispose();
      try {
        return { name, kind: kindOf.get(name)!, ...errorMetrics(reference.get(name), value!) };
      } finally {
        (value as Tensor | null)?.dispose();
      }
    });
  } finally {
    reference.dispose();
  }
}
