/**
 * Vitest globalSetup: build once (tsc) so integration tests run the real dist/ output.
 * A type error fails the run: the notebooks type-check against the same declarations.
 * INFERENCE_LAB_SKIP_BUILD=1 skips the build (e.g. when CI has just run `npm run build`).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default function setup(): void {
  if (process.env.INFERENCE_LAB_SKIP_BUILD === '1') return;
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`[global-setup] the build failed (tsc):\n${(r.stdout + r.stderr).slice(0, 4000)}`);
  }
  if (!fs.existsSync(path.join(ROOT, 'dist', 'kernel', 'main.js'))) {
    throw new Error('[global-setup] dist/kernel/main.js was not built');
  }
}
