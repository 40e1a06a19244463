// What optimization did to a model, as one serialisable object that lives in the model:
// quantization (packed weights, activation ranges, stored size), pruning (sparsity, masks) and
// the declarative transforms fixed at hook points. clone, save/load and compile carry it; a file
// written with another format version is refused with a message that says which.
import type { PruningInfo, QuantizationInfo } from './optimization-info';
import type { TransformSpec } from './transforms';

/** Version of the optimization state's file format; bump on any incompatible change. */
export const OPTIMIZATION_FORMAT = 1;

export interface OptimizationState {
  format: number;
  /** Set by quantize(): packed weights, activation ranges, bytes. */
  quantization?: QuantizationInfo;
  /** Set by prune() / pruneChannels() / pruneHeads() / pruneNeurons(). */
  pruning?: PruningInfo;
  /** Real stored size when an optimization changed it (quantize). */
  storedBytes?: number;
  /** Declarative transforms per hook name, in forward order. */
  transforms: Record<string, TransformSpec>;
}

const TYPED: Record<string, { new (buffer: ArrayBuffer): ArrayBufferView }> = {
  f32: Float32Array,
  i32: Int32Array,
  u8: Uint8Array,
};

/** JSON with typed arrays as {"$typed": "f32", "base64": ...} (exact bytes, little endian). */
export function encodeState(value: unknown): unknown {
  if (value instanceof Float32Array || value instanceof Int32Array || value instanceof Uint8Array) {
    const kind = value instanceof Float32Array ? 'f32' : value instanceof Int32Array ? 'i32' : 'u8';
    return { $typed: kind, base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(encodeState);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, encodeState(v)]));
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

export function decodeState(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeState);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$typed === 'string' && typeof o.base64 === 'string') {
      const Ctor = TYPED[o.$typed];
      if (!Ctor) throw new Error(`optimization state: unknown typed array kind ${JSON.stringify(o.$typed)}.`);
      const bytes = Buffer.from(o.base64, 'base64');
      const copy = new Uint8Array(bytes.length);
      copy.set(bytes);
      return new Ctor(copy.buffer);
    }
    if (typeof o.$number === 'string') return Number(o.$number);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decodeState(v)]));
  }
  return value;
}

/** A deep copy (typed arrays copied), so a clone never shares state with its original. */
export function copyState(state: OptimizationState): OptimizationState {
  return decodeState(encodeState(state)) as OptimizationState;
}

/** Check a state read from `where` (a file): the right format version, or a message that says which. */
export function checkStateFormat(raw: unknown, where: string): OptimizationState {
  const format = (raw as { format?: unknown } | null)?.format;
  if (typeof format !== 'number') {
    throw new Error(`${where}: the optimization state has no format version; it was written by an older inference-lab than this one (which reads format ${OPTIMIZATION_FORMAT}). Re-run the optimization and save again.`);
  }
  if (format < OPTIMIZATION_FORMAT) {
    throw new Error(`${where}: the optimization state is format ${format}, older than this inference-lab's format ${OPTIMIZATION_FORMAT}. Re-run the optimization and save again.`);
  }
  if (format > OPTIMIZATION_FORMAT) {
    throw new Error(`${where}: the optimization state is format ${format}, newer than this inference-lab's format ${OPTIMIZATION_FORMAT}. Upgrade inference-lab to load it.`);
  }
  const state = decodeState(raw) as OptimizationState;
  state.transforms ??= {};
  return state;
}
