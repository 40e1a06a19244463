/**
 * Helpers for tests that talk to the real kernel through Python's jupyter_client / nbclient.
 * The kernelspec used is written to a temporary JUPYTER_PATH (highest priority for Jupyter), so
 * the tests always start THIS checkout's dist/kernel/main.js, whatever is installed for the user.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fileURLToPath } from 'url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KERNEL_MAIN = path.join(ROOT, 'dist', 'kernel', 'main.js');
export const PY_DIR = path.join(ROOT, 'test', 'python');
export const KERNEL_NAME = 'inference-lab';

export { findPython, requirePythonModules } from './python';

/** A temp dir holding kernels/inference-lab/kernel.json for this checkout; env to use it. */
export function kernelspecEnv(): NodeJS.ProcessEnv {
  if (!fs.existsSync(KERNEL_MAIN)) throw new Error(`${KERNEL_MAIN} is missing: run \`npm run build\` first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-lab-kernels-'));
  const spec = path.join(dir, 'kernels', KERNEL_NAME);
  fs.mkdirSync(spec, { recursive: true });
  fs.writeFileSync(
    path.join(spec, 'kernel.json'),
    JSON.stringify({
      argv: [process.execPath, KERNEL_MAIN, '--connection-file', '{connection_file}'],
      display_name: 'TypeScript (Inference Lab, test)',
      language: 'typescript',
      interrupt_mode: 'message',
    }),
  );
  return { ...process.env, JUPYTER_PATH: dir, JUPYTER_PLATFORM_DIRS: '1', PYTHONUNBUFFERED: '1' };
}

export interface PyResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runPython(python: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<PyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { env: opts.env ?? process.env, cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Last line of stdout parsed as JSON, with stderr in the error when it is not JSON. */
export function parseJsonOutput<T>(r: PyResult): T {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`python exited ${r.code} without JSON output.\nstdout:\n${r.stdout.slice(-2000)}\nstderr:\n${r.stderr.slice(-4000)}`);
  }
}
