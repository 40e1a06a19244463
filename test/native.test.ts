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
