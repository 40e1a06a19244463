// Hostile inputs against the library surface: allocations past the heap, model files that point
// outside their folder or at devices, non-finite weights and outputs. Each case asserts the clear
// error AND that nothing else was harmed (tensors made before are intact, later ops still work).
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, initBackend, setTensorMemoryLimit, tensorMemoryLimit, AllocationError, WASM_HEAP_MAX_BYTES, loadModel, GPT, firstNonFiniteHook, assertFiniteOutput, NonFiniteError } from '../src/index';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-loaders-'));

beforeAll(async () => {
  await initBackend();
});

afterEach(() => setTensorMemoryLimit(null));

describe('allocation guard (tfjs-internals)', () => {
  it('on WASM the cap never exceeds the heap\'s real 4 GiB, whatever is set', () => {
    expect(tf.getBackend()).toBe('wasm');
    setTensorMemoryLimit(64 * 2 ** 30);
    expect(tensorMemoryLimit()).toBeLessThan(WASM_HEAP_MAX_BYTES);
  });

  it('refuses a tensor past the limit with a clear error; earlier tensors keep their values and ops still work', () => {
    const before = tf.tensor1d([1, 2, 3, 4]);
    const live = tf.memory().numBytes;
    setTensorMemoryLimit(live + 4096); // room for 1024 floats more
    expect(() => tf.zeros([2048])).toThrow(AllocationError);
    expect(() => tf.fill([2048], 7)).toThrow(/Refused to allocate 8192 bytes.*limit of/);
    // A kernel output past the limit is refused too (matMul of 64x64 -> 16 KiB).
    setTensorMemoryLimit(null);
    const a = tf.ones([64, 64]);
    setTensorMemoryLimit(tf.memory().numBytes + 1024);
    expect(() => tf.matMul(a, a)).toThrow(AllocationError);
    setTensorMemoryLimit(null);
    expect(Array.from(before.dataSync())).toEqual([1, 2, 3, 4]);
    const sum = tf.matMul(a, a).sum();
    expect(sum.dataSync()[0]).toBe(64 * 64 * 64);
    tf.dispose([before, a, sum]);
  });

  it('a single allocation of 4 GiB or more (it would wrap in the 32-bit malloc) is refused before any memory is touched', () => {
    const before = tf.tensor1d([5, 6]);
    const rss = process.memoryUsage().rss;
    // 2^30 + 1 float32 values: 4 GiB + 4 bytes, which malloc(uint32) would see as 4 bytes.
    expect(() => tf.zeros([2 ** 30 + 1])).toThrow(/WASM heap.*4 GiB/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 2 ** 20);
    expect(Array.from(before.dataSync())).toEqual([5, 6]);
    before.dispose();
  });

  it('the environment variable sets the cap when no call does', () => {
    process.env.INFERENCE_LAB_MAX_TENSOR_BYTES = '1000';
    try {
      expect(tensorMemoryLimit()).toBe(1000);
      expect(() => tf.zeros([300 + tf.memory().numBytes / 4])).toThrow(AllocationError);
    } finally {
      delete process.env.INFERENCE_LAB_MAX_TENSOR_BYTES;
    }
  });
});

describe('non-finite values in the library', () => {
  it('a forward that overflows does not throw; the trace summary says where it stops being finite; the check names the hook', () => {
    const model = loadModel('tiny-gpt') as GPT;
    const ids = model.encode('And God said');
    try {
      for (const w of Object.values(model.weights)) {
        const scaled = tf.mul(w, 1e30);
        w.assign(scaled);
        scaled.dispose();
      }
      const logits = model.forward(ids); // the library does not throw: a notebook may show this on purpose
      const values = logits.dataSync();
      expect(values.some((v) => !Number.isFinite(v))).toBe(true);
      const first = firstNonFiniteHook(model, ids);
      expect(first).toMatch(/^blocks\.0\./);
      expect(() => assertFiniteOutput(model, ids, values, 'the logits')).toThrow(NonFiniteError);
      const trace = model.trace(ids, { keepTensors: false });
      expect(trace.toString()).toContain(`NOT FINITE: NaN/Infinity first appears at ${first}`);
      logits.dispose();
    } finally {
      ids.dispose();
      model.dispose();
    }
  });
});
