// Backend choice: a native TensorFlow binding when the user has one installed, else WASM (SIMD,
// shipped inside the npm package), else the pure-JS cpu backend.
import { tf } from './tf';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as path from 'path';
import { guardAllocations } from './tfjs-internals';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** How a candidate backend is loaded; injectable so a test can fake the native import. */
export type ModuleLoader = (moduleName: string) => unknown;

/** Native packages tried in order; both register a backend named "tensorflow" when imported. */
export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let chosen: Promise<BackendName> | null = null;

/** Silence tfjs's "install tfjs-node" banner: the choice below is deliberate. */
function quietPlatformBanner(): void {
  tf.env().set('PROD', true); // also skips debug-only checks
}

function tryNative(load: ModuleLoader): string | null {
  for (const name of NATIVE_PACKAGES) {
    try {
      load(name);
      return name;
    } catch {
      // not installed (the usual case): fall through to the next candidate
    }
  }
  return null;
}

async function activate(name: BackendName): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Pick and activate the best backend once. `prefer` forces one (e.g. 'cpu' for a comparison);
 * the environment variable INFERENCE_LAB_BACKEND does the same from outside.
 */
export async function initBackend(
  options: { prefer?: BackendName; load?: ModuleLoader; force?: boolean } = {},
): Promise<BackendName> {
  if (chosen && !options.force && !options.prefer) return chosen;
  chosen = (async () => {
    quietPlatformBanner();
    const load = options.load ?? ((m: string) => require(m));
    const prefer = options.prefer ?? (process.env.INFERENCE_LAB_BACKEND as BackendName | undefined);
    const order: BackendName[] = prefer ? [prefer] : ['tensorflow', 'wasm', 'cpu'];
    for (const name of order) {
      if (name === 'tensorflow' && !tryNative(load)) continue;
      if (name === 'wasm') {
        // Point the loader at the .wasm files inside the npm package (no network).
        const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
        setWasmPaths(path.join(dir, 'dist') + path.sep);
      }
      if (await activate(name)) {
        guardAllocations(name); // refuse allocations past the heap's real limit (tfjs-internals.ts)
        return name;
      }
    }
    throw new Error(
      `No TensorFlow.js backend could start (tried ${order.join(', ')}). ` +
        `Expected at least the WASM backend from @tensorflow/tfjs-backend-wasm.`,
    );
  })();
  return chosen;
}

/** The backend running now ('tensorflow' means tfjs-node or tfjs-node-gpu). */
export function backend(): string {
  return tf.getBackend();
}
