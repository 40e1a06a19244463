// Hostile inputs against the library surface: allocations past the heap, model files that point
// outside their folder or at devices, non-finite weights and outputs. Each case asserts the clear
// error AND that nothing else was harmed (tensors made before are intact, later ops still work).
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, initBackend, setTensorMemoryLimit, tensorMemoryLimit, AllocationError, WASM_HEAP_MAX_BYTES, loadModel, GPT, firstNonFiniteHook, assertFiniteOutput, NonFiniteError, fileIOHandler, CharRNN } from '../src/index';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-loaders-'));

beforeAll(async () => {
  await initBackend();
});

afterEach(() => setTensorMemoryLimit(null));

/** The WASM heap's own limits are tested on WASM whatever backend the suite runs on (test:native), then the suite's backend is restored. */
async function onWasm(check: () => void): Promise<void> {
  const suite = tf.getBackend() as 'wasm' | 'tensorflow' | 'cpu';
  await initBackend({ prefer: 'wasm', force: true });
  try {
    check();
  } finally {
    await initBackend({ prefer: suite, force: true });
  }
}

describe('allocation guard (tfjs-internals)', () => {
  it('on WASM the cap never exceeds the heap\'s real 4 GiB, whatever is set', async () => {
    await onWasm(() => {
      expect(tf.getBackend()).toBe('wasm');
      setTensorMemoryLimit(64 * 2 ** 30);
      expect(tensorMemoryLimit()).toBeLessThan(WASM_HEAP_MAX_BYTES);
    });
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

  it('on WASM a single allocation of 4 GiB or more (it would wrap in the 32-bit malloc) is refused before any memory is touched', async () => {
    await onWasm(() => {
      const before = tf.tensor1d([5, 6]);
      const rss = process.memoryUsage().rss;
      // 2^30 + 1 float32 values: 4 GiB + 4 bytes, which malloc(uint32) would see as 4 bytes.
      expect(() => tf.zeros([2 ** 30 + 1])).toThrow(/WASM heap.*4 GiB/);
      expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 2 ** 20);
      expect(Array.from(before.dataSync())).toEqual([5, 6]);
      before.dispose();
    });
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

describe('tfjs model importer: weight paths, files and values', () => {
  /** A small saved layers model (Dense 3 -> 2) in its own folder; returns the folder. */
  async function savedModel(name: string): Promise<string> {
    const dir = path.join(tmp, name);
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    await m.save(fileIOHandler(dir));
    m.dispose();
    return dir;
  }
  function setPaths(dir: string, paths: string[]): void {
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.weightsManifest[0].paths = paths;
    fs.writeFileSync(file, JSON.stringify(json));
  }
  const load = (dir: string) => tf.loadLayersModel(fileIOHandler(dir));

  it('refuses shards outside the folder (../, absolute, a link out), devices, wrong sizes and NaN weights; a good model still loads after', async () => {
    const kept = tf.tensor1d([9, 8, 7]);
    fs.writeFileSync(path.join(tmp, 'SECRET.bin'), Buffer.alloc(32, 1)); // the right size for the model's 8 floats
    const escape = await savedModel('escape');
    setPaths(escape, ['../SECRET.bin']);
    await expect(load(escape)).rejects.toThrow(/weight shard "\.\.\/SECRET\.bin" is outside the model's folder/);
    setPaths(escape, [path.join(tmp, 'SECRET.bin')]);
    await expect(load(escape)).rejects.toThrow(/outside the model's folder/);
    fs.symlinkSync(path.join(tmp, 'SECRET.bin'), path.join(escape, 'link.bin'));
    setPaths(escape, ['link.bin']);
    await expect(load(escape)).rejects.toThrow(/a link that leads outside/);

    const device = await savedModel('device');
    fs.symlinkSync('/dev/zero', path.join(device, 'zero.bin'));
    setPaths(device, ['zero.bin']);
    await expect(load(device)).rejects.toThrow(/"zero\.bin" is a link that leads outside/);

    const sized = await savedModel('sized');
    fs.appendFileSync(path.join(sized, 'weights.bin'), Buffer.alloc(4096));
    await expect(load(sized)).rejects.toThrow(/needing only 32/);

    const nan = await savedModel('nan');
    const bin = path.join(nan, 'weights.bin');
    const bytes = fs.readFileSync(bin);
    bytes.writeFloatLE(NaN, 8);
    fs.writeFileSync(bin, bytes);
    await expect(load(nan)).rejects.toThrow(/holds a non-finite value \(NaN or Infinity\) at index 2/);

    // model.json itself must be a regular file.
    await expect(load('/dev/zero')).rejects.toThrow(/is a device/);

    const good = await load(await savedModel('good'));
    const y = good.predict(tf.ones([1, 3])) as tf.Tensor;
    expect(y.shape).toEqual([1, 2]);
    expect(Array.from(kept.dataSync())).toEqual([9, 8, 7]);
    tf.dispose([kept, y]);
    good.dispose();
  });
});

describe('language ID outside its alphabet', () => {
  it('marks words with no known character as not known, words with some as known', () => {
    const model = loadModel('langid-lstm') as CharRNN;
    try {
      const [jp, dashes, word] = model.classifyWords(['日本語', '---', 'house']);
      expect(jp.known).toBe(false);
      expect(dashes.known).toBe(false);
      expect(word.known).toBe(true);
      expect(model.unknownCharacters('日本語')).toEqual(['日', '本', '語']);
    } finally {
      model.dispose();
    }
  });
});
