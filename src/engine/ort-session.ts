// ONNX Runtime, called synchronously. onnxruntime-node's public InferenceSession.run returns a
// Promise, but its native binding runs synchronously and the package only wraps it in a
// setImmediate. Calling the binding directly lets a model on the fast path keep the same
// synchronous interface (forward, runWithCache, trace) as one on tfjs, so every view and
// comparison works on both. The binding is the package's own dist/binding.js (1.30); a test
// fails loudly if a future version moves it.
import * as os from 'os';

/** A tensor as ONNX Runtime hands it over: element type, sizes and a flat typed array. */
export interface OrtValue {
  type: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;
}

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  readonly inputMetadata: { name: string }[];
  readonly outputMetadata: { name: string }[];
  run(feeds: Record<string, unknown>, fetches: Record<string, null>, options: object): Record<string, OrtValue>;
  dispose(): void;
}

export interface OrtSessionOptions {
  /** Threads for one operator (default: every core). */
  threads?: number;
  /** ONNX Runtime's graph optimisations (default 'all': operator fusion, constant folding). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

type OrtModule = { Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtValue };

/** The onnxruntime-node version whose private binding (dist/binding.js) this file was checked against; package.json pins it. */
export const ORT_PINNED = '1.30.0';

/** onnxruntime-node's public module and its private synchronous binding (test/contracts.test.ts checks it by name). */
export function loadOrt(): { ort: OrtModule; binding: { InferenceSession: new () => NativeSession }; initOrt: () => void } {
  const ort = require('onnxruntime-node') as OrtModule;
  const native = require('onnxruntime-node/dist/binding') as { binding?: { InferenceSession?: new () => NativeSession }; initOrt?: () => void };
  if (!native.binding?.InferenceSession || typeof native.initOrt !== 'function') {
    throw new Error('onnxruntime-node no longer exposes its synchronous binding (dist/binding.js); the fast path needs onnxruntime-node 1.30.');
  }
  return { ort, binding: native.binding as { InferenceSession: new () => NativeSession }, initOrt: native.initOrt };
}

/** One loaded ONNX model, run synchronously. Call `dispose()` to free it. */
export class OrtSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  private native: NativeSession | null;
  private readonly ort: OrtModule;

  constructor(model: Uint8Array, options: OrtSessionOptions = {}) {
    const { ort, binding, initOrt } = loadOrt();
    initOrt();
    this.ort = ort;
    const native = new binding.InferenceSession();
    const threads = options.threads ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
    try {
      // No spinning: a model keeps two sessions (plain and instrumented) and an idle session's
      // spinning workers took the cores from the other (alternating them ran both 1.2-1.4x slower).
      native.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: options.optimization ?? 'all',
        executionMode: 'sequential',
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
    } catch (err) {
      throw new Error(`ONNX Runtime could not load the model: ${(err as Error).message}`);
    }
    this.native = native;
    this.inputNames = native.inputMetadata.map((m) => m.name);
    this.outputNames = native.outputMetadata.map((m) => m.name);
  }

  /** A tensor to feed: float32, int64 (from numbers) or int32. */
  tensor(type: 'float32' | 'int64' | 'int32', data: ArrayLike<number> | Float32Array | BigInt64Array, dims: readonly number[]): OrtValue {
    const values = type === 'int64' && !(data instanceof BigInt64Array) ? BigInt64Array.from(Array.from(data as ArrayLike<number>, (v) => BigInt(v))) : data;
    return new this.ort.Tensor(type, values, dims);
  }

  /** Run; returns only the outputs named in `fetch` (the others are not copied out). */
  run(feeds: Record<string, OrtValue>, fetch: string[]): Record<string, OrtValue> {
    if (!this.native) throw new Error('This ONNX Runtime session was disposed.');
    for (const name of fetch) if (!this.outputNames.includes(name)) throw new Error(`The ONNX model has no output "${name}". Outputs: ${this.outputNames.slice(0, 12).join(', ')}${this.outputNames.length > 12 ? ', ...' : ''}.`);
    const fetches = Object.fromEntries(fetch.map((n) => [n, null]));
    return this.native.run(feeds, fetches, {});
  }

  dispose(): void {
    this.native?.dispose();
    this.native = null;
  }
}
