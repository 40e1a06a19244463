// The backend the suite runs on: 'wasm' under `npm test`, 'tensorflow' under `npm run test:native`
// (vitest.config.mts sets INFERENCE_LAB_BACKEND; initBackend refuses to fall back from it).
import { initBackend, type BackendName } from '../../src/engine/backend';

export const SUITE_BACKEND = (process.env.INFERENCE_LAB_BACKEND ?? 'wasm') as BackendName;

/** Run `fn` on the WASM backend (for tests about WASM itself), then return to the suite's backend. */
export async function onWasm<T>(fn: () => Promise<T> | T): Promise<T> {
  await initBackend({ prefer: 'wasm', force: true });
  try {
    return await fn();
  } finally {
    await initBackend({ prefer: SUITE_BACKEND, force: true });
  }
}
