import { describe, it, expect } from 'vitest';
import { SUITE_BACKEND } from './helpers/backend';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { loadMnist, MNIST_SIZE } from '../src/data/mnist';
import { Gpt2Tokenizer } from '../src/data/tokenizers';

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: tmp, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** An error is one line naming the problem, with no stack trace. */
function expectCleanError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('inference-lab CLI', () => {
  it('models --json lists the digits CNN with its parameter count and file size', () => {
    const r = run('models', '--json');
    expect(r.code).toBe(0);
    const models = JSON.parse(r.stdout);
    const cnn = models.find((m: { name: string }) => m.name === 'digits-cnn');
    // conv.0: 3*3*1*8 + 8, conv.1: 3*3*8*16 + 16, dense: 400*10 + 10 (by hand)
    expect(cnn.params).toBe(80 + 1168 + 4010);
    expect(cnn.bytes).toBe(cnn.params * 4); // float32 weights: the same bytes compare reports for the original
    expect(cnn.heldOut.metric).toBe('accuracy');
  });

  it('eval --json prints exactly the contract fields', () => {
    const r = run('eval', 'digits-cnn', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['data', 'lower_is_better', 'metric', 'model', 'n', 'value']);
    expect(out).toMatchObject({ model: 'digits-cnn', metric: 'accuracy', n: loadMnist().heldOut.count });
    expect(out.value).toBeGreaterThanOrEqual(0.97);
  });

  it('run --json on a held-out digit gives its label, top-k and every step', () => {
    const r = run('run', 'digits-cnn', '--input', 'heldout:3', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model).toBe('digits-cnn');
    expect(out.top[0].label).toBe(String(loadMnist().heldOut.labels[3]));
    expect(out.top).toHaveLength(3);
    expect(out.top[0].p).toBeGreaterThan(out.top[1].p);
    expect(out.steps[0]).toEqual({ name: 'pre.hook_raw', shape: [1, 28, 28, 1] });
    expect(out.steps.at(-1).name).toBe('post.top_k');
    expect(out.steps.map((s: { name: string }) => s.name)).toContain('conv.1.hook_pool');
  });

  it('run reads a PNG (RGBA, another size) and writes the trace', () => {
    const { heldOut } = loadMnist();
    const side = 56;
    const png = new PNG({ width: side, height: side });
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const v = heldOut.images[7 * MNIST_SIZE * MNIST_SIZE + Math.floor(y / 2) * MNIST_SIZE + Math.floor(x / 2)];
        png.data.set([v, v, v, 255], (y * side + x) * 4);
      }
    }
    const file = path.join(tmp, 'digit.png');
    fs.writeFileSync(file, PNG.sync.write(png));
    const traceFile = path.join(tmp, 'trace.json');
    const r = run('run', 'digits-cnn', '--input', file, '--trace', traceFile, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).top[0].label).toBe(String(heldOut.labels[7]));
    const trace = JSON.parse(fs.readFileSync(traceFile, 'utf8'));
    expect(trace.steps[0].outputShape).toEqual([1, side, side, 4]);
    expect(trace.steps.find((s: { name: string }) => s.name === 'pre.hook_resized').outputShape).toEqual([1, 28, 28, 1]);
    expect(trace.steps.find((s: { name: string }) => s.name === 'pre.hook_scaled').stats.max).toBeLessThanOrEqual(1);
  });

  it('run reads a JSON pixel array', () => {
    const { heldOut } = loadMnist();
    const rows = Array.from({ length: 28 }, (_, y) => Array.from(heldOut.images.subarray(11 * 784 + y * 28, 11 * 784 + (y + 1) * 28)));
    const file = path.join(tmp, 'digit.json');
    fs.writeFileSync(file, JSON.stringify({ pixels: rows }));
    const r = run('run', 'digits-cnn', '--input', file, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).top[0].label).toBe(String(heldOut.labels[11]));
  });

  it('an unknown model lists the known ones, in one line', () => {
    expectCleanError(run('eval', 'gpt-17'), /Unknown model "gpt-17". Known models: .*digits-cnn/);
  });

  it('a missing file, a malformed JSON and a wrong-shape JSON say what was expected', () => {
    expectCleanError(run('run', 'digits-cnn', '--input', 'nope.png'), /Cannot read image nope.png: ENOENT/);
    fs.writeFileSync(path.join(tmp, 'bad.json'), '{"pixels": [[1, 2,');
    expectCleanError(run('run', 'digits-cnn', '--input', 'bad.json'), /not valid JSON; expected a pixel array/);
    fs.writeFileSync(path.join(tmp, 'flat.json'), JSON.stringify([1, 2, 3]));
    expectCleanError(run('run', 'digits-cnn', '--input', 'flat.json'), /expected a JSON array \[height\]\[width\]/);
    fs.writeFileSync(path.join(tmp, 'fake.png'), 'not a png');
    expectCleanError(run('run', 'digits-cnn', '--input', 'fake.png'), /is not a readable PNG/);
  });

  it('compare --json reports both models, every weight and every layer', () => {
    const r = run('compare', 'digits-cnn', '--quantize', 'int8', '--per-channel', '--activations', 'static', '--calibration', 'percentile', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    for (const side of [out.original, out.optimized]) for (const key of ['bytes', 'latency_ms', 'metric', 'value']) expect(side).toHaveProperty(key); // the README's fields
    expect(out.original.bytes).toBe(5258 * 4);
    expect(out.optimized.bytes / out.original.bytes).toBeLessThanOrEqual(0.27);
    expect(out.original.value - out.optimized.value).toBeLessThanOrEqual(0.005);
    expect(out.weights.map((w: { name: string }) => w.name)).toEqual(['conv.0.weight', 'conv.1.weight', 'dense.weight']);
    expect(out.weights.every((w: { sqnr_db: number }) => w.sqnr_db > 30)).toBe(true); // 8 bits give ~6 dB per bit
    expect(out.layers[0]).toMatchObject({ name: 'pre.hook_raw', sqnr_db: null, mse: 0, cosine: 1 }); // exact: infinite SQNR as null
    expect(out.layers.find((l: { name: string }) => l.name === 'hook_logits').cosine).toBeGreaterThan(0.999);
  });

  it('compare adds pruned and distilled variants, and their quantized combinations', () => {
    const r = run('compare', 'digits-cnn', '--quantize', 'int8', '--prune', '0.5', '--structured', '--distill-into', 'student', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const names = out.variants.map((v: { name: string }) => v.name);
    expect(names).toEqual(['digits-cnn-w8', 'digits-cnn-channels4x8', 'digits-cnn-channels4x8-w8', 'digits-student-distilled', 'digits-student-distilled-w8']);
    const byName = Object.fromEntries(out.variants.map((v: { name: string }) => [v.name, v]));
    // 4 and 8 channels: 3*3*1*4+4 + 3*3*4*8+8 + 200*10+10 = 2,346 parameters as float32.
    expect(byName['digits-cnn-channels4x8'].bytes).toBe(2346 * 4);
    expect(byName['digits-student-distilled-w8'].bytes).toBeLessThan(byName['digits-student-distilled'].bytes / 3);
    expect(out.weights).toHaveLength(3); // the quantization details still describe digits-cnn-w8
  });

  it('compare tiny-gpt adds int8 in ONNX Runtime, neurons removed, the distilled student and their int8 versions, scored on the held-out text', async () => {
    const r = run('compare', 'tiny-gpt', '--quantize', 'int8', '--prune', '0.5', '--structured', '--distill-into', 'student', '--windows', '8', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.variants.map((v: { name: string }) => v.name)).toEqual(['tiny-gpt-int8-onnx', 'tiny-gpt-mlp256', 'tiny-gpt-mlp256-int8-onnx', 'tiny-gpt-student-distilled', 'tiny-gpt-student-distilled-int8-onnx']);
    for (const key of ['metric', 'value', 'bytes', 'latency_ms']) expect(out.original).toHaveProperty(key); // the quantization JSON's fields
    expect(out.data).toBe('assets/tiny-gpt/heldout.txt (the test chapters), first 8 windows'); // a slice, named
    // Neurons are ranked on the validation chapters shipped beside the model (never the test text).
    expect(out.structured_score).toBe('activations on the validation chapters');
    // The original's loss, computed here on the same 8 windows through the library's own loop.
    const { loadModel, evaluateLanguageModel, readHeldOutText, initBackend, assetsDir } = await import('../src/index');
    await initBackend();
    const gpt = loadModel('tiny-gpt') as import('../src/index').GPT;
    const stream = Int32Array.from(gpt.tokenizer.encode(readHeldOutText(path.join(assetsDir(), 'tiny-gpt'))));
    expect(out.original.value).toBeCloseTo(evaluateLanguageModel(gpt, stream, { windows: 8 }), 4);
    expect(out.original.bytes).toBe(gpt.parameterCount * 4);
    gpt.dispose();
    const byName = Object.fromEntries(out.variants.map((v: { name: string }) => [v.name, v]));
    // Half of 512 neurons in each of 4 blocks: 256 x (128 + 1 + 128) parameters each, float32.
    expect(byName['tiny-gpt-mlp256'].bytes).toBe(out.original.bytes - 4 * 256 * 257 * 4);
    expect(byName['tiny-gpt-int8-onnx'].bytes).toBeLessThan(out.original.bytes / 3);
    expect(byName['tiny-gpt-int8-onnx'].engine).toMatch(/onnxruntime .*int8/);
    expect(byName['tiny-gpt-int8-onnx'].latency_ms).toBeNull(); // it runs in ONNX Runtime only
    expect(Math.abs(byName['tiny-gpt-int8-onnx'].value - out.original.value)).toBeLessThan(0.02); // int8 barely moves the loss
    expect(out.weights).toHaveLength(4 * 6); // W_Q, W_K, W_V, W_O, W_in, W_out of each block
    expect(out.weights.every((w: { sqnr_db: number }) => w.sqnr_db > 25)).toBe(true);
    expect(out.layers.find((l: { name: string }) => l.name === 'hook_logits').cosine).toBeGreaterThan(0.99);
  });

  it('compare tiny-gpt rejects flags that only the digits CNN has, naming what a GPT takes', () => {
    expectCleanError(run('compare', 'tiny-gpt', '--quantize', 'int4'), /--quantize expects one of int8; got int4/);
    expectCleanError(run('compare', 'tiny-gpt', '--quantize', 'int8', '--activations', 'static'), /--activations does not apply to tiny-gpt: its --quantize int8 is ONNX Runtime's dynamic int8/);
    expectCleanError(run('compare', 'tiny-gpt', '--distill-into', 'digits-student-distilled'), /--distill-into expects one of student, scratch for tiny-gpt/);
    expectCleanError(run('compare', 'tiny-gpt', '--prune', '0.5', '--windows', '0'), /--windows expects a whole number 1\.\.1024 /);
    expectCleanError(run('compare', 'tiny-gpt', '--structured'), /--structured needs --prune S/);
  });

  it('compare rejects an unknown scheme, naming the allowed ones', () => {
    expectCleanError(run('compare', 'digits-cnn', '--quantize', 'int3'), /--quantize expects one of int8, int4; got int3/);
    expectCleanError(run('compare', 'digits-cnn', '--prune', '2'), /--prune expects a fraction in \[0, 1\)/);
    expectCleanError(run('compare', 'digits-cnn', '--distill-into', 'gpt'), /--distill-into expects one of student, scratch for digits-cnn; got gpt/);
  });

  it('usage errors exit 2', () => {
    const r = run('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown command "frobnicate"/);
    expect(run('run', 'digits-cnn').code).toBe(2);
  });

  it('flags are checked per command (node:util parseArgs): each mistake is one line saying what was expected', () => {
    const models = run('models', '--prompt', 'x');
    expect(models.code).toBe(2);
    expectCleanError(models, /^inference-lab: Unknown option --prompt; models takes --json\.$/);
    expectCleanError(run('run', 'digits-cnn', '--frobnicate'), /Unknown option --frobnicate; run takes --input, --trace, --text, --tokens, --json\./);
    expectCleanError(run('run', 'digits-cnn', '--input'), /--input needs a value\./);
    expectCleanError(run('run', 'digits-cnn', '--input', '--json'), /--input needs a value\./);
    expectCleanError(run('models', '--json=yes'), /--json takes no value; got --json=yes\./);
    expectCleanError(run('eval', 'digits-cnn', '--json', '--json'), /--json is given twice; give it once\./);
    expectCleanError(run('-x'), /Unknown option -x; run `inference-lab help` for the options\./);
    // --flag=value is the same as --flag value; a value may start with '-' (it is then checked as a number).
    const inline = run('run', 'digits-cnn', '--input=heldout:3', '--json');
    expect(inline.code).toBe(0);
    expect(JSON.parse(inline.stdout).top[0].label).toBe(String(loadMnist().heldOut.labels[3]));
    expectCleanError(run('generate', 'tiny-gpt', '--prompt', 'a', '--seed', '-3'), /--seed expects a whole number 0\.\.4294967295 .*; got -3/);
  });

  it('prints the backend it runs on', () => {
    const r = run('backend', '--json');
    const out = JSON.parse(r.stdout);
    expect(out.backend).toBe(SUITE_BACKEND);
    if (SUITE_BACKEND === 'wasm') expect(out).toMatchObject({ package: '@tensorflow/tfjs-backend-wasm', tensorflow: null, device: 'CPU' });
    else expect(out).toMatchObject({ package: expect.stringMatching(/^@tensorflow\/tfjs-node(-gpu)?$/), tensorflow: '2.12.1', device: expect.stringMatching(/^(CPU|GPU)/) });
  });
});

describe('inference-lab CLI on GPT models', () => {
  // A random GPT-2 saved by Hugging Face transformers, with what transformers computed from it
  // (made by scripts/fixtures/make-gpt2-fixture.py).
  const fixture = path.join(root, 'test', 'fixtures', 'gpt2-tiny');
  const expected = JSON.parse(fs.readFileSync(path.join(fixture, 'expected.json'), 'utf8'));
  const reference = expected.sequences[0] as { ids: number[]; logits: number[][] };
  const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j]))));
  const softmax = (row: number[]) => {
    const top = Math.max(...row);
    const e = row.map((v) => Math.exp(v - top));
    const total = e.reduce((s, v) => s + v, 0);
    return e.map((v) => v / total);
  };

  it('run --tokens --json on a Hugging Face GPT-2 directory gives transformers\' logits and the top-5 next tokens', () => {
    const r = run('run', fixture, '--tokens', reference.ids.join(','), '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tokens).toEqual(reference.ids);
    expect(out.logits).toHaveLength(reference.ids.length);
    expect(out.logits[0]).toHaveLength(1000);
    expect(maxDiff(out.logits, reference.logits)).toBeLessThan(1e-4);
    // top: per position the 5 most likely next tokens, with transformers' probabilities.
    expect(out.top).toHaveLength(reference.ids.length);
    out.top.forEach((next: { id: number; text: string; p: number }[], i: number) => {
      const p = softmax(reference.logits[i]);
      const ranked = p.map((v, id) => [id, v]).sort((a, b) => b[1] - a[1]);
      expect(next).toHaveLength(5);
      expect(next[0].id).toBe(ranked[0][0]);
      next.forEach((t) => expect(t.p).toBeCloseTo(p[t.id], 5));
      for (let k = 1; k < 5; k++) expect(next[k].p).toBeLessThanOrEqual(next[k - 1].p);
      expect(next[4].p).toBeGreaterThanOrEqual(ranked[5][1] - 1e-6);
    });
    const bpe = new Gpt2Tokenizer();
    expect(out.top[3].map((t: { id: number; text: string }) => t.text)).toEqual(out.top[3].map((t: { id: number }) => bpe.decode([t.id])));
    expect(out.pieces.join('')).toBe(expected.text);
  });

  it('run --text tokenizes with GPT-2 BPE', () => {
    const r = run('run', fixture, '--text', expected.text, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tokens).toEqual(reference.ids);
    expect(maxDiff(out.logits, reference.logits)).toBeLessThan(1e-4);
    const text = run('run', fixture, '--text', 'The man');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/2 tokens; after each, the 5 most likely next tokens/);
    expect(text.stdout).toMatch(/464 {2}"The"/);
  });

  it('generate --temperature 0 continues exactly as transformers\' greedy generate, with and without the KV cache', () => {
    const prompt = 'The man said that he'; // GPT-2 BPE: the first 5 ids of the reference text
    expect(reference.ids.slice(0, 5)).toEqual(expected.greedy.prompt);
    for (const extra of [[], ['--no-kv-cache']]) {
      const r = run('generate', fixture, '--prompt', prompt, '--max-tokens', String(expected.greedy.continuation.length), '--temperature', '0', '--json', ...extra);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.tokens.map((t: { id: number }) => t.id)).toEqual(expected.greedy.continuation);
      expect(out.text).toBe(prompt + out.continuation);
      expect(out.settings.kv_cache).toBe(extra.length === 0);
    }
  });

  it('generate samples reproducibly by seed; top-k 1 is greedy', () => {
    const sample = (...extra: string[]) => JSON.parse(run('generate', fixture, '--prompt', 'The man', '--max-tokens', '12', '--json', ...extra).stdout);
    const a = sample('--seed', '7', '--temperature', '1.5');
    expect(sample('--seed', '7', '--temperature', '1.5').continuation).toBe(a.continuation);
    expect(sample('--seed', '8', '--temperature', '1.5').continuation).not.toBe(a.continuation);
    const greedy = sample('--temperature', '0');
    expect(sample('--top-k', '1', '--seed', '3').continuation).toBe(greedy.continuation);
    const nucleus = sample('--top-p', '0.5', '--top-k', '40', '--seed', '1');
    expect(nucleus.tokens.every((t: { p: number }) => t.p > 0 && t.p <= 1)).toBe(true);
    const plain = run('generate', fixture, '--prompt', 'The man', '--max-tokens', '3', '--temperature', '0');
    expect(plain.code).toBe(0);
    expect(plain.stdout.startsWith(`The man${greedy.tokens.slice(0, 3).map((t: { text: string }) => t.text).join('')}\n`)).toBe(true);
  });

  it('bad GPT arguments give one-line errors saying what was expected', () => {
    expectCleanError(run('run', fixture), /needs --text STR or --tokens 1,2,3/);
    expectCleanError(run('run', fixture, '--tokens', '1,x'), /--tokens expects comma-separated token ids like 1,2,3; got "1,x"/);
    expectCleanError(run('run', fixture, '--tokens', '1,5000'), /token id 5000 at index 1 is outside the vocabulary 0\.\.999/);
    expectCleanError(run('run', fixture, '--text', 'Hello'), /token id 15496 at index 0 is outside the vocabulary 0\.\.999/);
    expectCleanError(run('run', fixture, '--text', 'a', '--tokens', '1'), /--text or --tokens, not both/);
    expectCleanError(run('run', 'gpt-17', '--text', 'a'), /Unknown model "gpt-17"/);
    expectCleanError(run('run', 'digits-cnn', '--text', 'a'), /run digits-cnn: --text and --tokens are for language models; digits-cnn takes --input/);
    expectCleanError(run('generate', fixture), /generate needs --prompt STR/);
    expectCleanError(run('generate', 'digits-cnn', '--prompt', 'a'), /generate digits-cnn: digits-cnn is not a language model \(it reads image/);
    expectCleanError(run('generate', fixture, '--prompt', 'a', '--max-tokens', 'ten'), /--max-tokens expects a whole number 1\.\.4096; got ten/);
    expectCleanError(run('generate', fixture, '--prompt', 'a', '--temperature', '-1'), /--temperature expects a number >= 0/);
    expectCleanError(run('generate', fixture, '--prompt', 'a', '--top-k', '0'), /--top-k expects a whole number >= 1; got 0/);
    expectCleanError(run('generate', fixture, '--prompt', 'a', '--top-p', '1.5'), /--top-p expects a number in \(0, 1\]; got 1\.5/);
    expectCleanError(run('generate', fixture, '--prompt', 'a', '--seed', '-3'), /--seed expects a whole number 0\.\.4294967295 .*; got -3/);
    expectCleanError(run('generate', path.join(tmp, 'no-such-dir'), '--prompt', 'a'), /No model at .*no-such-dir/);
    expect(run('generate', fixture, '--prompt', 'a', '--top-p', '2').code).toBe(2);
  });

  it('run and generate work on the shipped tiny GPT (characters)', () => {
    const text = 'And God said';
    const r = run('run', 'tiny-gpt', '--text', text, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tokens).toHaveLength(text.length); // one token per character
    expect(out.pieces.join('')).toBe(text);
    expect(out.logits).toHaveLength(text.length);
    const vocab = out.logits[0].length;
    const p = softmax(out.logits[text.length - 1]);
    expect(out.top.at(-1)[0].p).toBeCloseTo(Math.max(...p), 5);
    expect(out.top.at(-1).reduce((s: number, t: { p: number }) => s + t.p, 0)).toBeLessThanOrEqual(1 + 1e-6);
    expect(vocab).toBeGreaterThan(30);
    const cached = JSON.parse(run('generate', 'tiny-gpt', '--prompt', text, '--max-tokens', '40', '--temperature', '0', '--json').stdout);
    const uncached = JSON.parse(run('generate', 'tiny-gpt', '--prompt', text, '--max-tokens', '40', '--temperature', '0', '--no-kv-cache', '--json').stdout);
    expect(cached.tokens).toHaveLength(40);
    expect(cached.continuation).toBe(uncached.continuation);
    expect(cached.text).toBe(text + cached.continuation);
  });
});

describe('every registered model through the same commands', () => {
  const heldOut = (name: string) => JSON.parse(fs.readFileSync(path.join(root, 'assets', name, 'config.json'), 'utf8')).heldOut as { value: number; n: number };
  const figure = (name: string) => heldOut(name).value;

  it('compare <model> --quantize int8 --json: the digits CNN, an LSTM, the keyword CNN and the tiny GPT give the same fields', () => {
    const cases: [string, string[]][] = [
      ['digits-cnn', []],
      ['langid-lstm', []],
      ['kws-cnn', []],
      ['tiny-gpt', ['--windows', '2']],
    ];
    const keySets: string[] = [];
    for (const [name, extra] of cases) {
      const r = spawnSync(process.execPath, [cli, 'compare', name, '--quantize', 'int8', ...extra, '--json'], { cwd: tmp, encoding: 'utf8', timeout: 300_000 });
      expect(r.stderr, name).toBe('');
      expect(r.status, name).toBe(0);
      const out = JSON.parse(r.stdout);
      keySets.push(Object.keys(out.original).sort().join(','));
      for (const key of ['metric', 'value', 'bytes', 'latency_ms']) expect(out.original, name).toHaveProperty(key); // the README's fields
      expect(out.variants, name).toHaveLength(1);
      expect(out.optimized.bytes, name).toBeLessThan(out.original.bytes / 3); // int8 weights: about a quarter of float32
      expect(out.layers.length, name).toBeGreaterThan(2);
      expect(out.weights.length, name).toBeGreaterThan(0);
      // Every kind carries the paired interval: variant - original over the same examples (or windows).
      const d = out.optimized.difference;
      expect(d, name).not.toBeNull();
      expect(d.value, name).toBeCloseTo(out.optimized.value - out.original.value, 5); // the difference of the two printed figures (a language model's per-window means are summed in float32: 4e-7 apart)
      expect(d.lo, name).toBeLessThanOrEqual(d.value);
      expect(d.hi, name).toBeGreaterThanOrEqual(d.value);
      expect(d.excludes_zero, name).toBe(d.lo > 0 || d.hi < 0);
      if (name === 'tiny-gpt') {
        expect(d.n).toBe(2); // windows
        expect(out.data).toMatch(/first 2 windows/); // a named slice, not the model's figure
        expect(out.original.lower_is_better).toBe(true);
      } else {
        // On the whole held-out set the original's value IS the model's one figure.
        expect(out.original.value, name).toBeCloseTo(figure(name), 10);
        expect(d.n, name).toBe(heldOut(name).n); // one entry per held-out example
        expect(out.original.latency_runs, name).toBe(30);
        expect(out.original.latency_min_ms).toBeLessThanOrEqual(out.original.latency_ms);
        expect(out.original.latency_ms).toBeLessThanOrEqual(out.original.latency_p95_ms);
      }
    }
    expect(new Set(keySets).size).toBe(1); // one code path: one set of fields
  }, 900_000);

  it('eval takes --data FILE in the documented format of the input kind', () => {
    const words = path.join(tmp, 'words.json');
    fs.writeFileSync(words, JSON.stringify({ words: ['the', 'und', 'avec', 'house', 'zeitung', 'pourquoi'], labels: ['english', 'german', 'french', 'english', 'german', 'french'] }));
    const r = run('eval', 'langid-lstm', '--data', words, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ model: 'langid-lstm', metric: 'accuracy', n: 6, data: words });
    expect(out.value * 6).toBe(Math.round(out.value * 6)); // a count of right answers over 6

    const set = loadMnist().heldOut;
    const px = MNIST_SIZE * MNIST_SIZE;
    const images = [0, 1, 2, 3].map((i) => Array.from({ length: MNIST_SIZE }, (_, y) => Array.from(set.images.subarray(i * px + y * MNIST_SIZE, i * px + (y + 1) * MNIST_SIZE))));
    const digits = path.join(tmp, 'digits.json');
    fs.writeFileSync(digits, JSON.stringify({ images, labels: [0, 1, 2, 3].map((i) => set.labels[i]) }));
    const d = JSON.parse(run('eval', 'digits-cnn', '--data', digits, '--json').stdout);
    expect(d).toMatchObject({ n: 4, data: digits });

    const text = path.join(tmp, 'text.txt');
    fs.writeFileSync(text, 'In the beginning God created the heaven and the earth. '.repeat(12).slice(0, 300));
    const g = JSON.parse(run('eval', 'tiny-gpt-student-scratch', '--data', text, '--json').stdout);
    expect(g).toMatchObject({ metric: 'cross-entropy (nats/char)', lower_is_better: true, n: 256 }); // one window of 256 characters
    expect(g.value).toBeGreaterThan(0);

    expectCleanError(run('eval', 'langid-lstm', '--data', digits), /expected a \.json file \{"words"/);
    expectCleanError(run('eval', 'kws-cnn', '--data', words), /expected a folder of <keyword>\/<clip>\.wav/);
  }, 300_000);

  it('run dispatches on the input kind: a word for the LSTM, a held-out clip for the keyword CNN, and tells a wrong input in one line', () => {
    const w = JSON.parse(run('run', 'langid-lstm', '--input', 'zeitung', '--json').stdout);
    expect(w.top).toHaveLength(3);
    expect(w.top[0].label).toBe('german');
    const k = JSON.parse(run('run', 'kws-cnn', '--input', 'heldout:0', '--json').stdout);
    expect(k.top).toHaveLength(3);
    expect(k.steps.length).toBeGreaterThan(3);
    expectCleanError(run('run', 'tiny-gpt', '--input', 'heldout:0'), /run tiny-gpt needs --text STR or --tokens 1,2,3/);
    expectCleanError(run('run', 'kws-cnn', '--text', 'yes'), /--text and --tokens are for language models; kws-cnn takes --input <clip\.wav\|heldout:N>/);
  }, 300_000);
});
