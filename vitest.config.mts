import { defineConfig } from 'vitest/config';

// `npm test` runs on WASM (the default backend, what a learner without the native build has) even
// where `npm run setup:native` built tfjs-node; `npm run test:native` sets tensorflow instead, and
// initBackend then fails rather than fall back. Child processes (CLI, kernel) inherit it.
process.env.INFERENCE_LAB_BACKEND ??= 'wasm';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The kernel, notebook and CLI tests run the built package (dist/): build it once first.
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Two cores: run files one after another so timings of child processes stay sane.
    fileParallelism: false,
  },
});
