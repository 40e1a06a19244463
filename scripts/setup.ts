/**
 * Post-install setup (run by `npm install` through the `prepare` script, after the build):
 *   1. link node_modules/inference-lab -> ..  so notebooks can `import * as lab from 'inference-lab'`
 *      (tslab's type checker does not follow package self-references);
 *   2. install the Jupyter kernelspec "inference-lab" for this user (no Python needed);
 *   3. create .venv with pinned packages (JupyterLab, nbclient, jupyter_kernel_test, and the ONNX
 *      checker the tests use), even when a `jupyter lab` is on PATH; add what an older .venv lacks.
 * Idempotent. Never fails `npm install`: problems are printed with what to do about them.
 * INFERENCE_LAB_SKIP_VENV=1 skips step 3.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ensureJupyterLab, ensureSelfLink, installKernel, installUserKernel, venvKernelDir, VENV_PINS, PROJECT_ROOT } from '../kernel/install';

const say = (s: string) => console.log(`[inference-lab setup] ${s}`);
const warn = (s: string) => console.warn(`[inference-lab setup] WARNING: ${s}`);

/** Create node_modules/inference-lab -> .. (see kernel/install.ts: ensureSelfLink), saying what happened. */
export function linkSelf(root: string = PROJECT_ROOT): void {
  const result = ensureSelfLink(root);
  if (result === 'created') say('linked node_modules/inference-lab -> .. (notebooks import the library by name)');
  else say(`node_modules/inference-lab already exists (${result}); left as is`);
}

async function main(): Promise<void> {
  if (path.basename(path.dirname(PROJECT_ROOT)) === 'node_modules') {
    say('installed as a dependency: skipping the self link and the Python environment');
  } else {
    try {
      linkSelf();
    } catch (e) {
      warn(`could not create node_modules/inference-lab: ${(e as Error).message}`);
    }
  }

  try {
    say((await installUserKernel()).message);
  } catch (e) {
    warn(`could not install the kernelspec: ${(e as Error).message}. Run \`inference-lab kernel install\` later.`);
  }

  if (process.env.INFERENCE_LAB_SKIP_VENV === '1' || path.basename(path.dirname(PROJECT_ROOT)) === 'node_modules') {
    say(`skipping the JupyterLab environment (${process.env.INFERENCE_LAB_SKIP_VENV === '1' ? 'INFERENCE_LAB_SKIP_VENV=1' : 'dependency install'})`);
    return;
  }
  try {
    const where = ensureJupyterLab({ log: say, forceVenv: true });
    if (where.source === 'venv') {
      const dir = await installKernel(venvKernelDir());
      say(`... and in the project's venv (${dir}), which its JupyterLab prefers: \`npm start\` always runs this checkout's kernel`);
    }
  } catch (e) {
    warn((e as Error).message);
    warn(`the library and kernel work without it; to run notebooks and the tests you need a .venv with ${VENV_PINS.join(' ')}.`);
  }
}

if (require.main === module) {
  main().catch((e) => {
    warn(`setup failed: ${(e as Error)?.stack ?? e}`);
  });
}
