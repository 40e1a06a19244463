import { defineConfig } from 'vitest/config';

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
