import { describe, it, expect, beforeAll } from 'vitest';
import { tf, initBackend, compareRuntimes, RuntimeComparison } from '../src/index';
import { nativeBuild } from '../src/engine/native';

// compareRuntimes runs the same forward pass on WASM, the native backend (when `setup:native` built
// it: in CI `npm test` runs before the build, `npm run test:native` after it) and ONNX Runtime.
describe('compareRuntimes', () => {
  let result: RuntimeComparison;
  let backendBefore: string;
  let tensorsBefore: number;

  beforeAll(async () => {
    backendBefore = await initBackend();
    tensorsBefore = tf.memory().numTensors;
    result = await compareRuntimes({ batch: 16, tokens: 32, runs: 3, budgetMs: 0 });
  });

  it('times WASM and ONNX Runtime for both models, each with min <= median <= p95 over the runs asked for', () => {
    for (const model of ['digits-cnn', 'tiny-gpt'] as const) {
      for (const backend of ['wasm', 'onnxruntime']) {
        const row = result.rows.find((r) => r.model === model && r.backend === backend);
        expect(row, `${model} on ${backend}`).toBeDefined();
        const t = row!.timing!;
        expect(t.runs).toBeGreaterThanOrEqual(3);
        expect(t.minMs).toBeGreaterThan(0);
        expect(t.minMs).toBeLessThanOrEqual(t.medianMs);
        expect(t.medianMs).toBeLessThanOrEqual(t.p95Ms);
      }
    }
    expect(result.rows.find((r) => r.model === 'digits-cnn' && r.backend === 'wasm')!.input).toBe('batch of 16 digits');
    expect(result.rows.find((r) => r.model === 'tiny-gpt' && r.backend === 'wasm')!.input).toBe('32 tokens');
  });

  it('every runtime computes the same logits as WASM (float32 summation order differs, nothing more)', () => {
    for (const row of result.rows.filter((r) => r.timing)) {
      // Logits of a few units' size; float32 sums in another order differ by ~1e-6 relative.
      // Measured here (2026-12-06): CNN 4.2e-7 native, 6.0e-7 ORT; tiny GPT 1.5e-5 native, 9.5e-6 ORT.
      expect(row.maxAbsDiff!, `${row.model} on ${row.label}`).toBeLessThan(1e-4);
    }
    // The ONNX graph is an independent implementation (ONNX Runtime kernels): agreement is a check, not an identity.
    const wasm = result.rows.find((r) => r.model === 'digits-cnn' && r.backend === 'wasm')!;
    expect(wasm.maxAbsDiff).toBe(0);
  });

  it('the native backend: measured with its package, TensorFlow version and device when built, else a row saying how to build it', () => {
    const rows = result.rows.filter((r) => r.backend === 'tensorflow');
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      if (nativeBuild()) {
        expect(row.timing).not.toBeNull();
        expect(row.label).toMatch(/^tensorflow: @tensorflow\/tfjs-node(-gpu)? \d+\.\d+\.\d+, TensorFlow \d+\.\d+\.\d+, (CPU|GPU)/);
      } else {
        expect(row.timing).toBeNull();
        expect(row.note).toMatch(/npm run setup:native/);
      }
    }
  });

  it('leaves the backend it found, and no tensors behind', () => {
    expect(tf.getBackend()).toBe(backendBefore);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('the text table names every runtime and the ratio to WASM', () => {
    const text = result.toString();
    expect(text).toMatch(/onnxruntime-node \d+\.\d+\.\d+, CPU/);
    expect(text).toMatch(/^digits-cnn\s+batch of 16 digits\s+wasm\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+\s+1\.00x/m);
    expect(text.split('\n')).toHaveLength(2 + result.rows.length);
  });

  it('its view: a bar chart of speed relative to WASM (Vega-Lite, SVG, PNG) whose text is the table', async () => {
    const bundle = (await result.toMimeBundle()) as Record<string, unknown>;
    expect(Object.keys(bundle).sort()).toEqual(['application/vnd.vegalite.v5+json', 'image/png', 'image/svg+xml', 'text/plain']);
    expect(bundle['text/plain']).toBe(result.toString());
    const bars = (bundle['application/vnd.vegalite.v5+json'] as { data: { values: { label: string; value: number }[] } }).data.values;
    expect(bars).toHaveLength(result.rows.filter((r) => r.timing).length);
    for (const bar of bars.filter((b) => / tfjs wasm$/.test(b.label))) expect(bar.value).toBe(1);
  });

  it('bad options: one line saying what was expected', async () => {
    await expect(compareRuntimes({ models: ['resnet' as never] })).rejects.toThrow(/^compareRuntimes: unknown model "resnet"; expected one of digits-cnn, tiny-gpt\.$/);
    await expect(compareRuntimes({ batch: 0 })).rejects.toThrow(/batch must be a whole number from 1 to 1000; got 0/);
    expect(tf.getBackend()).toBe(backendBefore);
  });
});
