// `npm run setup:native [-- --gpu]`: build tfjs-node (or tfjs-node-gpu) for this project from npm
// and PyPI packages into .native/ (see src/engine/native-build.ts). Optional: WASM needs nothing.
import { setupNative, NativeSetupError } from '../src/engine/native-build';

const variant = process.argv.includes('--gpu') || process.argv.includes('gpu') ? 'gpu' : 'cpu';
setupNative(variant).catch((err) => {
  console.error(err instanceof NativeSetupError ? err.message : `setup:native failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
