/**
 * The Python the tests use: the project's .venv, which `npm install` (scripts/setup.ts) creates
 * with pinned JupyterLab, nbclient, jupyter_kernel_test and onnx (the official ONNX checker).
 * No test relies on a system package (Debian python3-onnx and the like).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fileURLToPath } from 'url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The project's .venv python if it exists (made by scripts/setup), else python3 / python. */
export function findPython(): string {
  const venv =
    process.platform === 'win32' ? path.join(ROOT, '.venv', 'Scripts', 'python.exe') : path.join(ROOT, '.venv', 'bin', 'python');
  if (fs.existsSync(venv)) return venv;
  return process.platform === 'win32' ? 'python' : 'python3';
}

/** Throws a readable error when `python` cannot import the modules the tests need. */
export function requirePythonModules(python: string, modules: string[]): void {
  const r = spawnSync(python, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `${python} cannot import ${modules.join(', ')} (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}). ` +
        'Run `npm install` (or `node dist/scripts/setup.js`): it creates .venv with jupyterlab, nbclient, jupyter_kernel_test and onnx.',
    );
  }
}

/** The official ONNX checker (PyPI `onnx` in the project's .venv), with full shape inference. */
export function onnxCheck(model: string | Uint8Array): { status: number | null; output: string } {
  const python = findPython();
  requirePythonModules(python, ['onnx']);
  let file = model as string;
  if (typeof model !== 'string') {
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-check-')), 'model.onnx');
    fs.writeFileSync(file, model);
  }
  const r = spawnSync(python, ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("valid")', file], { encoding: 'utf8' });
  if (typeof model !== 'string') fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return { status: r.status, output: r.stdout + r.stderr };
}
