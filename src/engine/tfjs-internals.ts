// The one place the library reaches into TensorFlow.js internals (not part of its public API):
// the engine's gradient depth, backend objects, the WASM module. @tensorflow/tfjs* are pinned
// exactly in package.json; test/contracts.test.ts checks each entry point below by name, so an
// upgrade that moves one fails that test, not a model at run time.
import { tf } from './tf';

/** The tfjs version these internals were checked against (package.json pins it). */
export const TFJS_PINNED = '4.22.0';

/** The engine state field read below (tfjs-core's EngineState, not exported in its types). */
interface EngineStateInternals {
  /** > 0 while tf.grad / optimizer.minimize records a gradient tape. */
  gradientDepth: number;
}

/** tfjs-core's EngineState.gradientDepth: how many gradient tapes are recording now. */
export function gradientDepth(): number {
  const depth = (tf.engine().state as unknown as EngineStateInternals).gradientDepth;
  if (typeof depth !== 'number') throw new Error(`@tensorflow/tfjs-core ${tf.version_core} has no engine().state.gradientDepth (checked against ${TFJS_PINNED}).`);
  return depth;
}

// The allocation guard. tfjs-backend-wasm allocates every tensor with `wasm._malloc(numBytes)`
// and does not check the result: past the WASM heap's real limit (4 GiB, the wasm32 address
// space) malloc returns 0 and tfjs writes the new tensor at address 0, over live tensors (an
// earlier [1,2,3,4] read back 7,7,7,7, then every op failed with "Aborted()"). A byte count of
// 4 GiB or more also wraps to a small allocation in the 32-bit malloc. So the guard sits at that
// entry: it refuses an allocation that would take the tensors past the limit, before malloc, and
// turns a failed malloc into an error instead of a write at address 0. Other backends (cpu, the
// native tensorflow one) get the same check at their `write`/`move` entry against a configurable
// cap (none by default: native memory fails loudly on its own).

/** The WASM heap's real ceiling: wasm32 addresses 4 GiB (tfjs-backend-wasm builds with a 4 GiB maximum). */
export const WASM_HEAP_MAX_BYTES = 4 * 2 ** 30;
/** Kept free below the ceiling for what is not a tensor (stack, static data, kernels' scratch, fragmentation). */
const WASM_HEADROOM_BYTES = 256 * 2 ** 20;

/** Raised instead of an allocation that would corrupt or exhaust the backend's memory. */
export class AllocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AllocationError';
  }
}

let userLimit: number | null = null;

function envLimit(): number | null {
  const raw = process.env.INFERENCE_LAB_MAX_TENSOR_BYTES;
  if (raw === undefined || raw.trim() === '') return null;
  const n = Number(raw);
  if (!(Number.isFinite(n) && n > 0)) throw new AllocationError(`INFERENCE_LAB_MAX_TENSOR_BYTES=${raw}: expected a positive number of bytes.`);
  return n;
}

/**
 * Set (bytes) or clear (null) the cap on the bytes all tensors together may hold. On WASM the cap
 * is never above the heap's real limit; elsewhere there is none unless set here or through the
 * environment variable INFERENCE_LAB_MAX_TENSOR_BYTES.
 */
export function setTensorMemoryLimit(bytes: number | null): void {
  if (bytes !== null && !(Number.isFinite(bytes) && bytes > 0)) throw new AllocationError(`setTensorMemoryLimit(${bytes}): expected a positive number of bytes, or null.`);
  userLimit = bytes;
}

/** The cap that applies now on `backendName` (bytes), or null for none. */
export function tensorMemoryLimit(backendName: string = tf.getBackend()): number | null {
  const chosen = userLimit ?? envLimit();
  if (backendName === 'wasm') return Math.min(chosen ?? Infinity, WASM_HEAP_MAX_BYTES - WASM_HEADROOM_BYTES);
  return chosen;
}

const gib = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} bytes`);

/** Throws when `bytes` more would take the tensors past the limit. */
function check(bytes: number, backendName: string): void {
  if (!(bytes > 0)) return;
  const limit = tensorMemoryLimit(backendName);
  if (limit === null) return;
  const live = tf.engine().state.numBytes; // every tensor the engine tracks, on this backend or another
  if (live + bytes > limit) {
    const set = limit < WASM_HEAP_MAX_BYTES - WASM_HEADROOM_BYTES || backendName !== 'wasm';
    const where = `the ${backendName === 'wasm' ? 'WASM heap' : `${backendName} backend`}'s limit of ${gib(limit)} (${set ? 'set by setTensorMemoryLimit or INFERENCE_LAB_MAX_TENSOR_BYTES' : 'the WASM heap cannot grow past 4 GiB'})`;
    throw new AllocationError(
      `Refused to allocate ${gib(bytes)} for a tensor: ${gib(live)} already live, which would exceed ${where}. ` +
        'Existing tensors are untouched; dispose some (tf.dispose, model.dispose()) or use smaller inputs.',
    );
  }
}

const GUARDED = Symbol('inference-lab allocation guard');

interface WasmModule {
  _malloc(n: number): number;
  [GUARDED]?: true;
}

/**
 * Put the guard on `backendName`'s backend object (idempotent). initBackend calls it for the
 * backend it picks; anything that registers or swaps a backend itself can call it again.
 */
export function guardAllocations(backendName: string = tf.getBackend()): void {
  const backend = tf.engine().registry[backendName] as unknown as Record<string | symbol, unknown> | undefined;
  if (!backend || backend[GUARDED]) return;
  backend[GUARDED] = true;
  const wasm = backendName === 'wasm' ? (backend.wasm as WasmModule | undefined) : undefined;
  if (wasm && !wasm[GUARDED]) {
    // Every allocation of the WASM backend (write, move, kernel outputs, their scratch) goes
    // through this one function of the module. Emscripten's `_malloc` is a stub that replaces
    // itself with the raw export on its first call: the setter keeps that replacement behind
    // the guard instead of letting it remove the guard.
    let malloc = wasm._malloc;
    const guarded = (n: number) => {
      check(n, 'wasm');
      const at = malloc.call(wasm, n);
      if (at === 0 && n > 0) throw new AllocationError(`The WASM heap could not allocate ${gib(n)} (${gib(tf.engine().state.numBytes)} of tensors live): out of WASM memory. Existing tensors are untouched; dispose some or use smaller inputs.`);
      return at;
    };
    Object.defineProperty(wasm, '_malloc', {
      configurable: true,
      enumerable: true,
      get: () => guarded,
      set: (f: (n: number) => number) => {
        malloc = f;
      },
    });
    wasm[GUARDED] = true;
    return;
  }
  const bytesOf = (shape: number[], dtype: tf.DataType) => (dtype === 'string' ? 0 : shape.reduce((a, b) => a * b, 1) * (dtype === 'bool' ? 1 : dtype === 'complex64' ? 8 : 4));
  for (const method of ['write', 'move'] as const) {
    const original = backend[method];
    if (typeof original !== 'function') continue;
    const index = method === 'write' ? 1 : 2; // write(values, shape, dtype); move(dataId, values, shape, dtype, refCount)
    backend[method] = function (this: unknown, ...args: unknown[]) {
      check(bytesOf(args[index] as number[], args[index + 1] as tf.DataType), backendName);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  // tfjs-node: kernel outputs are made by TensorFlow, then registered here one by one. TensorFlow
  // has already allocated them, so a refused output is freed at once and never reaches tfjs.
  const register = backend.createOutputTensor;
  const binding = backend.binding as { TF_BOOL: number; TF_COMPLEX64: number; TF_STRING: number; deleteTensor(id: number): void } | undefined;
  if (typeof register === 'function' && binding) {
    backend.createOutputTensor = function (this: unknown, metadata: { id: number; shape: number[]; dtype: number }) {
      const perValue = metadata.dtype === binding.TF_STRING ? 0 : metadata.dtype === binding.TF_BOOL ? 1 : metadata.dtype === binding.TF_COMPLEX64 ? 8 : 4;
      try {
        check(metadata.shape.reduce((a, b) => a * b, 1) * perValue, backendName);
      } catch (err) {
        binding.deleteTensor(metadata.id);
        throw err;
      }
      return (register as (m: unknown) => unknown).call(this, metadata);
    };
  }
}

// After an interrupt. The kernel stops a cell's synchronous code with V8's termination (vm's
// breakOnSigint), which runs no `finally`: tf.tidy scopes stay open (their tensors leak, 42-49 per
// interrupted `generate`) and the engine's kernel depth stays raised. `cleanupAfterInterrupt`
// closes every open scope (disposing what they tracked, as tidy would have) and runs the
// cleanups registered by code that was running (e.g. generate's KV cache).

const pendingCleanups = new Set<() => void>();

/** Register what to free if the running code is terminated; call the returned function when done normally. */
export function onTerminate(cleanup: () => void): () => void {
  pendingCleanups.add(cleanup);
  return () => void pendingCleanups.delete(cleanup);
}

/** Free what an interrupted (terminated) computation left behind; returns how many tensors that freed. */
export function cleanupAfterInterrupt(): number {
  const engine = tf.engine() as unknown as { state: { numTensors: number; scopeStack: unknown[]; kernelDepth: number }; endScope(result?: unknown): void };
  const before = engine.state.numTensors;
  for (const cleanup of [...pendingCleanups]) {
    pendingCleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // already freed, or half made: nothing more to free there
    }
  }
  while (engine.state.scopeStack.length > 0) engine.endScope();
  engine.state.kernelDepth = 0;
  return before - engine.state.numTensors;
}

// The kernel (kernel/kernel.ts) calls this after a cell it interrupted, when the library is loaded.
(globalThis as Record<symbol, unknown>)[Symbol.for('inference-lab.cleanup-after-interrupt')] = cleanupAfterInterrupt;
