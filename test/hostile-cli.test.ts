// Hostile command lines against `inference-lab` (the built dist/): each case asserts one clear
// line on stderr, a non-zero exit, no stack trace, and that it finished promptly (no hang).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { tf, initBackend, loadModel, GPT } from '../src/index';

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-cli-'));

function run(args: string[], env: Record<string, string> = {}, timeout = 60_000): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: tmp, encoding: 'utf8', timeout, env: { ...process.env, ...env } });
  if (r.error) throw r.error; // a timeout (a hang) fails the test here
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function expectCleanError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code, r.stderr).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

function writePng(file: string, width: number, height: number): void {
  const png = new PNG({ width, height });
  png.data.fill(255);
  fs.writeFileSync(file, PNG.sync.write(png));
}

describe('hostile CLI: images and memory', () => {
  it('a PNG wider than the cap is refused from its header, before decoding', () => {
    const file = path.join(tmp, 'wide.png');
    writePng(file, 3000, 1);
    expectCleanError(run(['run', 'digits-cnn', '--input', file]), /wide\.png is 3000x1 pixels; at most 1024x1024/);
  });

  it('--input naming a device (a .png link to /dev/zero) is refused at once, not read for ever', () => {
    const link = path.join(tmp, 'zero.png');
    fs.symlinkSync('/dev/zero', link);
    expectCleanError(run(['run', 'digits-cnn', '--input', link], {}, 20_000), /zero\.png is a device; expected a regular file/);
  });

  it('a tensor memory cap set through the environment refuses the allocation with a clear line', () => {
    const file = path.join(tmp, 'ok.png');
    writePng(file, 28, 28);
    expectCleanError(run(['run', 'digits-cnn', '--input', file], { INFERENCE_LAB_MAX_TENSOR_BYTES: '2000' }), /Refused to allocate .*limit of 2000 bytes/);
  });
});

describe('hostile CLI: non-finite outputs', () => {
  /** tiny-gpt with its weights scaled to huge but finite values: its forward pass overflows float32. */
  async function hugeGpt(): Promise<string> {
    await initBackend();
    const dir = path.join(tmp, 'huge-gpt');
    const model = loadModel('tiny-gpt') as GPT;
    try {
      for (const w of Object.values(model.weights)) {
        const scaled = tf.mul(w, 1e30);
        w.assign(scaled);
        scaled.dispose();
      }
      model.save(dir);
    } finally {
      model.dispose();
    }
    return dir;
  }

  it('run and generate refuse NaN/Infinity logits, name the first hook point, exit non-zero', async () => {
    const dir = await hugeGpt();
    const r = run(['run', dir, '--text', 'And God said']);
    expectCleanError(r, /the logits are not finite .*first appears at hook point \S+/);
    expect(r.stdout).toBe('');
    const g = run(['generate', dir, '--prompt', 'And God said', '--max-tokens', '3', '--temperature', '0']);
    expectCleanError(g, /not finite at 3 of 3 generation steps.*first appears at hook point \S+/);
    expect(g.stdout).toBe('');
  });

  it('compare refuses a model that computes NaN/Infinity, naming the hook point, before any timing: a GPT, and a CNN whose ReLU hides the NaN from its outputs', async () => {
    const dir = await hugeGpt();
    const text = path.join(tmp, 'text.txt');
    fs.writeFileSync(text, 'And God said, Let there be light: and there was light. '.repeat(12));
    const g = run(['compare', dir, '--prune', '0.5', '--data', text, '--json']);
    expectCleanError(g, /^inference-lab: compare .*huge-gpt: the original computes NaN\/Infinity on 2 inputs of .*text\.txt; it first appears at hook point blocks\.\d\.\S+\. .*no comparison is reported/);
    expect(g.stdout).toBe('');
    // The digits CNN: 1e30 x 1e30 overflows in conv.1 to NaN, which ReLU (in tfjs) turns into 0:
    // the probabilities stay finite and an "accuracy" of chance level would be printed as a figure.
    const cnnDir = path.join(tmp, 'huge-cnn');
    const cnn = loadModel('digits-cnn');
    try {
      for (const w of Object.values((cnn as unknown as { weights: Record<string, tf.Variable> }).weights)) {
        const scaled = tf.mul(w, 1e30);
        w.assign(scaled);
        scaled.dispose();
      }
      (cnn as unknown as { save(dir: string): void }).save(cnnDir);
    } finally {
      cnn.dispose();
    }
    const c = run(['compare', cnnDir, '--quantize', 'int8', '--json']);
    expectCleanError(c, /compare .*huge-cnn: the original computes NaN\/Infinity .*first appears at hook point conv\.1\.hook_conv\. .*no comparison is reported/);
    expect(c.stdout).toBe('');
  });
});

describe('hostile CLI: sizes and seeds', () => {
  it('--max-tokens and --windows above the stated maximum are refused at once, naming the maximum', () => {
    expectCleanError(run(['generate', 'tiny-gpt', '--prompt', 'a', '--max-tokens', '1e9'], {}, 20_000), /--max-tokens expects a whole number 1\.\.4096; got 1e9/);
    expectCleanError(run(['compare', 'tiny-gpt', '--quantize', 'int8', '--windows', '1e9'], {}, 20_000), /--windows expects a whole number 1\.\.1024 .*got 1e9/);
  });

  it('seeds of 2^32 and above are refused (they would alias smaller seeds); 2^32-1 is accepted', () => {
    expectCleanError(run(['generate', 'tiny-gpt', '--prompt', 'a', '--seed', '4294967296'], {}, 20_000), /--seed expects a whole number 0\.\.4294967295/);
    expectCleanError(run(['train', 'digits', '--seed', '4294967296'], {}, 20_000), /--seed expects a whole number 0\.\.4294967295/);
    const ok = run(['generate', 'tiny-gpt', '--prompt', 'a', '--seed', '4294967295', '--max-tokens', '2', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).settings.seed).toBe(4294967295);
  });
});

describe('hostile CLI: broken config files', () => {
  it('a model config.json that fails to parse is reported with its file name', () => {
    const dir = path.join(tmp, 'broken-config');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), '{"architecture": "gpt", ');
    const file = path.join(dir, 'config.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expectCleanError(run(['run', dir, '--text', 'a'], {}, 20_000), new RegExp(`model config ${file} is not valid JSON`));
  });
});
