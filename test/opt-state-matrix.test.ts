// Every shipped model kind x every quantization scheme and pruning mode: optimize, then clone,
// save + load, and compile('onnx') where a fast path exists; the outputs must agree (clone and
// reload exactly: the same weights, quantizers and ops). Small inputs keep it fast.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, initBackend, loadModel, quantize, prune, type HookedModel, type QuantizeConfig, type Tensor } from '../src/index';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opt-matrix-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
});

type Model = HookedModel & { weights: Record<string, tf.Variable>; byteSize: number; parameterCount: number; activationQuantPoints: string[]; clone(name?: string): Model; save(dir: string): void; dispose(): void; compile?: (t: 'onnx', o?: object) => HookedModel & { dispose(): void } };

/** Each shipped kind, with a small input and whether it has a fast path. */
const KINDS: { asset: string; input: () => Tensor; fastPath: 'cnn' | 'gpt' | null }[] = [
  { asset: 'digits-cnn', input: () => tf.randomUniform([4, 28, 28], 0, 255, 'int32', 1), fastPath: 'cnn' },
  { asset: 'digits-student-distilled', input: () => tf.randomUniform([4, 28, 28], 0, 255, 'int32', 2), fastPath: 'cnn' },
  { asset: 'digits-student-scratch', input: () => tf.randomUniform([4, 28, 28], 0, 255, 'int32', 3), fastPath: 'cnn' },
  { asset: 'langid-lstm', input: () => tf.tensor2d([[3, 4, 5, 6, 0], [7, 8, 9, 10, 11]], [2, 5], 'int32'), fastPath: null },
  { asset: 'langid-gru', input: () => tf.tensor2d([[3, 4, 5, 6, 0], [7, 8, 9, 10, 11]], [2, 5], 'int32'), fastPath: null },
  { asset: 'kws-cnn', input: () => tf.randomUniform([2, 16000], -0.3, 0.3, 'float32', 4), fastPath: null },
  { asset: 'tiny-gpt', input: () => tf.tensor2d([[10, 20, 30, 40, 50, 5], [1, 2, 3, 4, 5, 6]], [2, 6], 'int32'), fastPath: 'gpt' },
];

type Optimization = { label: string; run: (m: Model, input: Tensor) => Model; activations: 'none' | 'dynamic' | 'static' | 'pruned' };
const q = (config: Omit<QuantizeConfig, 'progress'>): Optimization['run'] => (m, input) => quantize(m, { ...config, calibrationInputs: config.activations === 'static' ? input : undefined, progress: false }) as Model;
const OPTIMIZATIONS: Optimization[] = [
  { label: 'w8 symmetric per-tensor, weight-only', run: q({ bits: 8, symmetric: true, perChannel: false, activations: 'none' }), activations: 'none' },
  { label: 'w4 asymmetric per-channel, dynamic a8', run: q({ bits: 4, symmetric: false, perChannel: true, activations: 'dynamic' }), activations: 'dynamic' },
  { label: 'w8 symmetric per-channel, static a8', run: q({ bits: 8, symmetric: true, perChannel: true, activations: 'static' }), activations: 'static' },
  { label: 'w4 symmetric per-tensor, static a8 (percentile)', run: q({ bits: 4, symmetric: true, perChannel: false, activations: 'static', calibration: 'percentile' }), activations: 'static' },
  { label: 'pruned 50% per layer', run: (m) => prune(m, { sparsity: 0.5, scope: 'layer' }) as unknown as Model, activations: 'pruned' },
  { label: 'pruned 30% global', run: (m) => prune(m, { sparsity: 0.3, scope: 'global' }) as unknown as Model, activations: 'pruned' },
];

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe.each(KINDS)('$asset', ({ asset, input: makeInput, fastPath }) => {
  let model: Model;
  let input: Tensor;
  beforeAll(() => {
    model = loadModel(asset) as Model;
    input = makeInput();
    model.forward(input).dispose(); // a model may keep a derived tensor from its first run (the GPT's transposed embedding)
  });
  afterAll(() => {
    input.dispose();
    model.dispose();
  });

  it.each(OPTIMIZATIONS)('$label: clone, save + load and compile carry it', ({ label, run, activations }) => {
    const optimized = run(model, input);
    const reference = optimized.forward(input);
    const before = tf.memory().numTensors;
    const copy = optimized.clone(`${asset}-copy`);
    const dir = path.join(tmp, `${asset}-${label.replace(/[^a-z0-9]+/gi, '-')}`);
    optimized.save(dir);
    const loaded = loadModel(dir) as Model;
    try {
      expect(copy.transformKinds).toEqual(optimized.transformKinds);
      if (activations === 'dynamic' || activations === 'static') expect(Object.keys(optimized.transformKinds)).toEqual(optimized.activationQuantPoints);
      for (const other of [copy, loaded]) {
        const out = other.forward(input);
        expect(maxAbsDiff(reference, out)).toBe(0); // bit for bit: the same weights, quantizers and ops
        out.dispose();
        expect(other.byteSize).toBe(optimized.byteSize);
        expect(other.quantization?.byteSize).toBe(optimized.quantization?.byteSize);
        expect(other.pruning?.sparsity).toEqual(optimized.pruning?.sparsity);
      }
    } finally {
      copy.dispose();
      loaded.dispose();
    }
    expect(tf.memory().numTensors).toBe(before); // clone and load leave nothing behind once disposed
    if (fastPath === 'cnn' || (fastPath === 'gpt' && (activations === 'none' || activations === 'pruned'))) {
      const compiled = optimized.compile!('onnx', { threads: 1 });
      const out = compiled.forward(input);
      const diff = maxAbsDiff(reference, out);
      // Float graphs (pruned, GPT weight-only) compute the same; QDQ graphs run ONNX Runtime's integer kernels.
      const bound = activations === 'pruned' || fastPath === 'gpt' ? 1e-3 : 0.2;
      expect(diff, `${asset} ${label}: max |output difference| ${diff}`).toBeLessThan(bound);
      tf.dispose(out);
      compiled.dispose();
    } else if (fastPath === 'gpt') {
      expect(() => optimized.compile!('onnx')).toThrow(/cannot carry the (dynamic|fake)-quant transform at "blocks\.0\.ln1\.hook_normalized"/);
    }
    reference.dispose();
    optimized.dispose();
  });
});
