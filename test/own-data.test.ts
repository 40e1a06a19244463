// Models and data that do not ship: a Hugging Face GPT-2 directory and a TensorFlow.js model
// folder through `models`, `eval`, `run` and `compare`, and `--data` in each documented format
// (JSON, a WAV folder for the keyword spotter, NumPy .npy for images). References: hand counts
// and hand-computed losses from logits, numpy's own writer, and `run` on each clip one at a time.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, initBackend, fileIOHandler, loadKeywordHeldOut, Gpt2Tokenizer, readNpy } from '../src/index';
import { loadMnist, MNIST_SIZE } from '../src/data/mnist';
import { findPython, requirePythonModules } from './helpers/python';

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const gpt2Dir = path.join(root, 'test', 'fixtures', 'gpt2-tiny');
let tmp: string;

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: tmp, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const json = (r: { code: number; stdout: string; stderr: string }) => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

/** An error is one line naming the problem, with no stack trace. */
function expectCleanError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

beforeAll(async () => {
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'own-data-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a Hugging Face GPT-2 directory through models, eval --data, run and compare --data', () => {
  // 65 tokens of the fixture's vocabulary (ids < 1000): one window of the 64-token context + 1.
  const sentence = 'The man said that he is not in it, and that is all there is to it.';
  let text: string;
  let ids: number[];
  beforeAll(() => {
    const tokenizer = new Gpt2Tokenizer();
    text = Array(4).fill(sentence).join(' ');
    ids = tokenizer.encode(text);
    expect(ids.length).toBeGreaterThanOrEqual(65);
    expect(ids.length).toBeLessThan(129); // exactly one window
    expect(Math.max(...ids)).toBeLessThan(1000);
    fs.writeFileSync(path.join(tmp, 'gpt2.txt'), text);
  });

  it('models DIR --json describes it: parameters counted by hand, no shipped figure', () => {
    const [info] = json(run('models', gpt2Dir, '--json'));
    // wte 1000x64 + wpe 64x64 + 2 blocks x (ln 2x64, c_attn 64x192+192, c_proj 64x64+64, ln 2x64, fc 64x256+256, proj 256x64+64) + ln_f 2x64; lm_head tied
    const block = 128 + (64 * 192 + 192) + (64 * 64 + 64) + 128 + (64 * 256 + 256) + (256 * 64 + 64);
    expect(info.params).toBe(1000 * 64 + 64 * 64 + 2 * block + 128);
    expect(info).toMatchObject({ architecture: 'gpt', input: 'text', heldOut: null });
  });

  it('eval DIR without --data says in one line to give it; with --data it equals the loss computed by hand from the logits, in nats per TOKEN', () => {
    expectCleanError(run('eval', gpt2Dir), /ships no held-out data; give your own with --data FILE \(a UTF-8 \.txt file/);
    const out = json(run('eval', gpt2Dir, '--data', path.join(tmp, 'gpt2.txt'), '--json'));
    expect(out.metric).toBe('cross-entropy (nats/token)'); // BPE tokens, not characters
    expect(out.n).toBe(64);
    // The reference: `run --tokens` logits (checked against transformers in cli.test.ts), log-softmax by hand.
    const logits: number[][] = json(run('run', gpt2Dir, '--tokens', ids.slice(0, 64).join(','), '--json')).logits;
    let total = 0;
    logits.forEach((row, p) => {
      const max = Math.max(...row);
      const logSum = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      total += logSum - row[ids[p + 1]];
    });
    expect(out.value).toBeCloseTo(total / 64, 4);
  });

  it('compare DIR --prune --data scores the original exactly as eval does; a text shorter than one window is one line', () => {
    const data = path.join(tmp, 'gpt2.txt');
    const e = json(run('eval', gpt2Dir, '--data', data, '--json'));
    const c = json(run('compare', gpt2Dir, '--prune', '0.5', '--data', data, '--json'));
    expect(c.data).toBe(data);
    expect(c.original.metric).toBe('cross-entropy (nats/token)');
    expect(c.original.value).toBeCloseTo(e.value, 6);
    expect(c.variants[0].value).not.toBeCloseTo(e.value, 3); // half the weights gone changes the loss
    // The paired interval over windows: one window here, so the interval is the difference itself.
    expect(c.original.difference).toBeNull();
    expect(c.variants[0].difference).toMatchObject({ n: 1, level: 0.95 });
    expect(c.variants[0].difference.value).toBeCloseTo(c.variants[0].value - c.original.value, 5);
    expect(c.variants[0].difference.lo).toBeCloseTo(c.variants[0].difference.value, 10);
    fs.writeFileSync(path.join(tmp, 'short.txt'), 'The man');
    expectCleanError(run('compare', gpt2Dir, '--prune', '0.5', '--data', path.join(tmp, 'short.txt')), /The text \(2 tokens\) is shorter than one window of 65 tokens/);
  });
});

describe('a TensorFlow.js model folder: models describes it, eval/run/compare say in one line why not', () => {
  let dir: string;
  let params: number;
  beforeAll(async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 5, inputShape: [7], activation: 'relu', name: 'hidden' }), tf.layers.dense({ units: 3, activation: 'softmax', name: 'probs' })] });
    params = model.countParams();
    dir = path.join(tmp, 'tfjs-model');
    await model.save(fileIOHandler(dir));
    model.dispose();
  });

  it('models DIR --json: format, input shape, parameters (7x5+5 + 5x3+3 by hand), no task', () => {
    const info = json(run('models', dir, '--json'));
    expect(params).toBe(7 * 5 + 5 + 5 * 3 + 3);
    expect(info).toMatchObject({ architecture: 'tfjs layers-model', params, bytes: params * 4, task: null, heldOut: null });
    expect(info.input.shape).toEqual([-1, 7]);
  });

  it('eval, run and compare refuse it in one line that says why and what to use instead', () => {
    for (const args of [['eval', dir], ['eval', dir, '--data', path.join(tmp, 'x.json')], ['run', dir, '--input', 'x.json'], ['compare', dir, '--quantize', 'int8']]) {
      const r = run(...args);
      expectCleanError(r, new RegExp(`^inference-lab: ${args[0]} .*a TensorFlow\\.js model folder \\(model\\.json\\) declares no task, labels or held-out data.*lab\\.loadImportedModel`));
      expect(r.code).toBe(2);
    }
  });
});

describe('a word longer than the word models read', () => {
  it('run and eval --data refuse it in one line instead of classifying its first 20 letters', () => {
    expectCleanError(run('run', 'langid-lstm', '--input', 'donaudampfschifffahrt'), /"donaudampfschifffahrt" has 21 characters; the word models read words of at most 20/);
    const words = path.join(tmp, 'long-words.json');
    fs.writeFileSync(words, JSON.stringify({ words: ['haus', 'donaudampfschifffahrtsgesellschaft'], labels: ['german', 'german'] }));
    expectCleanError(run('eval', 'langid-gru', '--data', words), /"donaudampfschifffahrtsgesellschaft" has 34 characters; .*at most 20/);
  });
});

describe('--data FILE for eval and compare, per input kind', () => {
  it('compare --data words.json scores the original exactly as eval --data does (a count over 6 words)', () => {
    const words = path.join(tmp, 'words.json');
    fs.writeFileSync(words, JSON.stringify({ words: ['the', 'und', 'avec', 'house', 'zeitung', 'pourquoi'], labels: ['english', 'german', 'french', 'english', 'german', 'french'] }));
    const e = json(run('eval', 'langid-lstm', '--data', words, '--json'));
    const c = json(run('compare', 'langid-lstm', '--quantize', 'int8', '--data', words, '--json'));
    expect(c.data).toBe(words);
    expect(c.original.value).toBe(e.value);
    expect(c.optimized.value * 6).toBeCloseTo(Math.round(c.optimized.value * 6), 10); // right answers over 6
  }, 300_000);

  it('a folder of <keyword>/<clip>.wav (real held-out clips written as 16-bit PCM): eval --data equals running each clip alone', () => {
    const set = loadKeywordHeldOut();
    const folder = path.join(tmp, 'clips');
    const picked = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => i * 31); // 8 clips spread over the held-out set
    const files: [string, string][] = [];
    for (const i of picked) {
      const keyword = set.keywords[set.labels[i]];
      fs.mkdirSync(path.join(folder, keyword), { recursive: true });
      const file = path.join(folder, keyword, `clip${i}.wav`);
      fs.writeFileSync(file, pcm16Wav(set.clips[i], set.sampleRate));
      files.push([file, keyword]);
    }
    const e = json(run('eval', 'kws-cnn', '--data', folder, '--json'));
    expect(e).toMatchObject({ n: picked.length, data: folder });
    let right = 0;
    for (const [file, keyword] of files) if (json(run('run', 'kws-cnn', '--input', file, '--json')).top[0].label === keyword) right++;
    expect(e.value).toBeCloseTo(right / picked.length, 10);
    const c = json(run('compare', 'kws-cnn', '--prune', '0.5', '--data', folder, '--json'));
    expect(c.original.value).toBeCloseTo(e.value, 10);
    fs.mkdirSync(path.join(folder, 'maybe'));
    expectCleanError(run('eval', 'kws-cnn', '--data', folder), /"maybe" is not a keyword; expected folders named yes, no/);
  }, 300_000);

  describe('images as NumPy .npy (a folder with images.npy and labels.npy), written by numpy itself', () => {
    const python = findPython();
    let raw: string;
    const count = 40;
    /** Run numpy on the raw held-out digits; `code` sees `x` (uint8 [count, 28, 28]), `y` (labels) and `out`. */
    function numpy(out: string, code: string): void {
      requirePythonModules(python, ['numpy']);
      fs.mkdirSync(out, { recursive: true });
      const script = `import numpy as np, sys\nx = np.fromfile(sys.argv[1], dtype=np.uint8)[:${count * 784}].reshape(${count}, 28, 28)\ny = np.fromfile(sys.argv[1] + '.labels', dtype=np.uint8)[:${count}]\nout = sys.argv[2]\n${code}\n`;
      const r = spawnSync(python, ['-c', script, raw, out], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    beforeAll(() => {
      const set = loadMnist().heldOut;
      raw = path.join(tmp, 'digits.u8');
      fs.writeFileSync(raw, set.images.subarray(0, count * MNIST_SIZE * MNIST_SIZE));
      fs.writeFileSync(raw + '.labels', set.labels.subarray(0, count));
    });

    it('readNpy reads uint8, int32, int64 and float32 arrays exactly as numpy wrote them', () => {
      const out = path.join(tmp, 'npy-kinds');
      numpy(out, `np.save(out + '/u8.npy', x)\nnp.save(out + '/i8.npy', y.astype(np.int64) - 3)\nnp.save(out + '/i4.npy', np.arange(-5, 7, dtype=np.int32).reshape(3, 4))\nnp.save(out + '/f4.npy', (x[:2] / 7).astype(np.float32))`);
      const set = loadMnist().heldOut;
      const u8 = readNpy(path.join(out, 'u8.npy'));
      expect(u8).toMatchObject({ dtype: 'uint8', shape: [count, 28, 28] });
      expect(Array.from(u8.values)).toEqual(Array.from(set.images.subarray(0, count * 784)));
      const i8 = readNpy(path.join(out, 'i8.npy'));
      expect(i8.shape).toEqual([count]);
      expect(Array.from(i8.values)).toEqual(Array.from(set.labels.subarray(0, count), (l) => l - 3));
      expect(Array.from(readNpy(path.join(out, 'i4.npy')).values)).toEqual(Array.from({ length: 12 }, (_, i) => i - 5));
      const f4 = readNpy(path.join(out, 'f4.npy'));
      expect(f4.shape).toEqual([2, 28, 28]);
      expect(f4.values[200]).toBe(Math.fround(set.images[200] / 7));
    });

    it('eval digits-cnn --data DIR (uint8, and float32 0..255) equals eval on the same digits as JSON', () => {
      const u8 = path.join(tmp, 'npy-u8');
      const f32 = path.join(tmp, 'npy-f32');
      numpy(u8, `np.save(out + '/images.npy', x)\nnp.save(out + '/labels.npy', y.astype(np.int64))`);
      numpy(f32, `np.save(out + '/images.npy', x.astype(np.float32))\nnp.save(out + '/labels.npy', y)`);
      const set = loadMnist().heldOut;
      const px = MNIST_SIZE * MNIST_SIZE;
      const images = Array.from({ length: count }, (_, i) => Array.from({ length: MNIST_SIZE }, (_, y) => Array.from(set.images.subarray(i * px + y * MNIST_SIZE, i * px + (y + 1) * MNIST_SIZE))));
      const jsonFile = path.join(tmp, 'digits.json');
      fs.writeFileSync(jsonFile, JSON.stringify({ images, labels: Array.from(set.labels.subarray(0, count)) }));
      const reference = json(run('eval', 'digits-cnn', '--data', jsonFile, '--json'));
      expect(reference.n).toBe(count);
      for (const dir of [u8, f32]) {
        const out = json(run('eval', 'digits-cnn', '--data', dir, '--json'));
        expect(out).toMatchObject({ n: count, data: dir });
        expect(out.value).toBe(reference.value);
      }
    });

    it('refuses a wrong shape, pixels on a 0..1 scale, Fortran order and a missing labels.npy in one line', () => {
      const cases: [string, string, RegExp][] = [
        ['npy-shape', `np.save(out + '/images.npy', x.reshape(${count}, 784))\nnp.save(out + '/labels.npy', y)`, /images\.npy: shape \(40, 784\); expected \(n, 28, 28\)/],
        ['npy-unit', `np.save(out + '/images.npy', (x / 255).astype(np.float32))\nnp.save(out + '/labels.npy', y)`, /every pixel is within 0\.\.1; the models read 0\.\.255/],
        ['npy-fortran', `np.save(out + '/images.npy', np.asfortranarray(x))\nnp.save(out + '/labels.npy', y)`, /Fortran order/],
        ['npy-nolabels', `np.save(out + '/images.npy', x)`, /a folder without images\.npy and labels\.npy/],
        ['npy-f64', `np.save(out + '/images.npy', x.astype(np.float64))\nnp.save(out + '/labels.npy', y)`, /dtype '<f8'/],
      ];
      for (const [name, code, pattern] of cases) {
        const dir = path.join(tmp, name);
        numpy(dir, code);
        expectCleanError(run('eval', 'digits-cnn', '--data', dir), pattern);
      }
    });
  });
});

/** A mono 16-bit PCM WAV of samples in [-1, 1) (the held-out clips are int16 / 32768: exact). */
function pcm16Wav(samples: Float32Array, sampleRate: number): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(Math.round(v * 32768), 2 * i));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
