import { describe, it, expect } from 'vitest';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// The optional native build's failure paths (the build itself runs in .ci/run: setup:native + test:native).
const root = path.resolve(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'native-test-'));

describe('setup:native and inference-lab backend without a build', () => {
  it('no compiler on PATH: one line naming what is missing; nothing is built', () => {
    const empty = path.join(tmp, 'bin');
    fs.mkdirSync(empty);
    const dir = path.join(tmp, 'native');
    const r = spawnSync(process.execPath, [path.join(root, 'dist', 'scripts', 'setup-native.js')], {
      encoding: 'utf8',
      env: { ...process.env, PATH: empty, INFERENCE_LAB_NATIVE_DIR: dir },
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/needs a C\+\+ compiler \(apt-get install g\+\+\), make .*; the WASM backend keeps working/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('inference-lab backend runs WASM and says how to build the native backend', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'dist', 'src', 'cli', 'main.js'), 'backend'], {
      encoding: 'utf8',
      env: { ...process.env, INFERENCE_LAB_BACKEND: '', INFERENCE_LAB_NATIVE_DIR: path.join(tmp, 'nothing-here') },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^backend: wasm\nnative: no native build in .*nothing-here; to build one, run `npm run setup:native`/);
  });
});

// scripts/gpu-check.sh: what a user with an NVIDIA GPU runs. This project's machines have no GPU:
// under `npm run test:native` it runs on the native build's CPU (the fallback path: same code, device
// CPU), under `npm test` without a build it must say in one line that the native backend did not load.
describe('scripts/gpu-check.sh', () => {
  const native = process.env.INFERENCE_LAB_BACKEND === 'tensorflow';
  it(native ? 'on the native build without a GPU: says CPU fallback, times CNN and GPT-2 shape against WASM, numbers agree' : 'without a native build: exits 1 saying the native backend did not load', () => {
    const r = spawnSync('bash', [path.join(root, 'scripts', 'gpu-check.sh'), '--quick'], {
      encoding: 'utf8',
      env: { ...process.env, ...(native ? {} : { INFERENCE_LAB_NATIVE_DIR: path.join(tmp, 'no-build') }) },
      timeout: 600_000,
    });
    if (native) {
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^backend: tensorflow: @tensorflow\/tfjs-node(-gpu)? 4\.22\.0, TensorFlow 2\.12\.1, (CPU|GPU)/m);
      if (/, CPU$/m.test(r.stdout)) expect(r.stdout).toMatch(/^device: CPU\. TensorFlow placed no op on a GPU .* the CPU fallback, not a GPU\.$/m);
      for (const figure of ['digits CNN, batch 64', 'digits CNN, batch 512', 'GPT-2-small shape']) {
        expect(r.stdout).toMatch(new RegExp(`^${figure}.*: native [\\d.]+ ms .*CPU path \\(WASM\\) [\\d.]+ ms .* ok$`, 'm'));
      }
      expect(r.stdout).toMatch(/^hooks on native, digits CNN batch 64: runWithCache\(no names\) [\d.]+x .* all hooks [\d.]+x/m);
      expect(r.stdout).toMatch(/^numbers agree with the CPU path; device: (CPU|GPU)/m);
    } else {
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/^native build: none: run `npm run setup:native -- --gpu` first$/m);
      expect(r.stdout).toMatch(/^the native backend did not load: .*npm run setup:native/m);
    }
  });
});

