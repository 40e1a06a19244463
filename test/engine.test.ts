import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { SUITE_BACKEND } from './helpers/backend';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { tf, initBackend, backend, HookedModel, type Tensor } from '../src/index';

/** A two-step model whose numbers are easy to check by hand: y = relu(x * 2) + 1. */
class Toy extends HookedModel {
  readonly name = 'toy';
  constructor() {
    super();
    this.hookPoint('hook_double', 'mul', '[batch, n]');
    this.hookPoint('hook_relu', 'relu', '[batch, n]');
    this.hookPoint('hook_out', 'add', '[batch, n]');
  }
  protected validateInput(input: Tensor): void {
    if (input.rank !== 2) throw new Error(`toy expects [batch, n], got [${input.shape}]`);
  }
  protected forwardImpl(x: Tensor): Tensor {
    const doubled = this.hook('hook_double', tf.mul(x, 2)); // [batch, n]
    const rectified = this.hook('hook_relu', tf.relu(doubled)); // [batch, n]
    return this.hook('hook_out', tf.add(rectified, 1)); // [batch, n]
  }
}

beforeAll(async () => {
  await initBackend();
});

describe('backend choice', () => {
  it('runs the backend the suite asks for (WASM under npm test, tensorflow under test:native)', async () => {
    expect(await initBackend()).toBe(SUITE_BACKEND);
    expect(backend()).toBe(SUITE_BACKEND);
  });

  it('prefers a native binding when its import succeeds (import faked, math real)', async () => {
    // The fake "tfjs-node" registers a backend named "tensorflow" backed by the cpu kernels.
    const loaded: string[] = [];
    // Under test:native the real tfjs-node is already registered: then the fake registers nothing
    // (and the finally keeps the real one).
    let registeredHere = false;
    const fakeLoad = (name: string) => {
      loaded.push(name);
      if (name !== '@tensorflow/tfjs-node') throw new Error('not installed');
      if (!tf.findBackend('tensorflow')) {
        registeredHere = true;
        tf.registerBackend('tensorflow', () => new MathBackendCPU(), 0);
        for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'tensorflow' });
      }
      return {};
    };
    try {
      expect(await initBackend({ load: fakeLoad, prefer: 'tensorflow' })).toBe('tensorflow');
      expect(loaded).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
      const product = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
      expect(Array.from(product.dataSync())).toEqual([11]); // 1*3 + 2*4
    } finally {
      if (registeredHere) {
        for (const kernel of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(kernel.kernelName, 'tensorflow');
        tf.removeBackend('tensorflow');
      }
      expect(await initBackend({ force: true })).toBe(SUITE_BACKEND);
    }
  });
});

describe('hooks', () => {
  const model = new Toy();
  const x = () => tf.tensor2d([[-1, 0.5, 3]]);

  it('forward matches a hand computation', () => {
    const input = x();
    const y = model.forward(input);
    expect(Array.from(y.dataSync())).toEqual([1, 2, 7]); // relu(2x) + 1
    tf.dispose([input, y]);
  });

  it('runWithCache keeps every hook by default, and only the names asked for', () => {
    const input = x();
    const [out, cache] = model.runWithCache(input);
    expect(cache.names).toEqual(['hook_double', 'hook_relu', 'hook_out']);
    expect(Array.from(cache.get('hook_double').dataSync())).toEqual([-2, 1, 6]);
    expect(Array.from(cache.get('relu').dataSync())).toEqual([0, 1, 6]); // shorthand
    cache.dispose();
    out.dispose();
    const [out2, only] = model.runWithCache(input, { names: ['hook_relu'] });
    expect(only.names).toEqual(['hook_relu']);
    only.dispose();
    tf.dispose([out2, input]);
  });

  it('an unknown hook name is an error that lists the valid names', () => {
    const input = x();
    expect(() => model.runWithCache(input, { names: ['hook_nope'] })).toThrow(/Unknown hook point "hook_nope".*hook_double, hook_relu, hook_out/);
    expect(() => model.runWithHooks(input, [['blocks.0', (v) => v]])).toThrow(/Expected one of/);
    input.dispose();
  });

  it('runWithHooks can replace a value (ablation) and the hook is gone afterwards', () => {
    const input = x();
    const ablated = model.runWithHooks(input, [['hook_relu', (v) => tf.zerosLike(v)]]);
    expect(Array.from(ablated.dataSync())).toEqual([1, 1, 1]);
    const clean = model.forward(input);
    expect(Array.from(clean.dataSync())).toEqual([1, 2, 7]);
    tf.dispose([input, ablated, clean]);
  });

  it('hooks are removed even when the forward pass throws', () => {
    const input = x();
    expect(() =>
      model.runWithHooks(input, [
        ['hook_double', (v) => tf.zerosLike(v)],
        ['hook_relu', () => { throw new Error('boom'); }],
      ]),
    ).toThrow('boom');
    expect(model.hookPoints.every((p) => !p.hasHooks)).toBe(true);
    input.dispose();
  });

  it('a replacement of the wrong shape is rejected with the expected shape', () => {
    const input = x();
    expect(() => model.runWithHooks(input, [['hook_relu', () => tf.zeros([2, 2])]])).toThrow(/expected \[1,3\]/);
    input.dispose();
  });

  it('the trace lists every step in order with shapes and hand-checkable stats', () => {
    const input = x();
    const trace = model.trace(input);
    expect(trace.names).toEqual(['hook_double', 'hook_relu', 'hook_out']);
    const relu = trace.step('hook_relu');
    expect(relu.inputShape).toEqual([1, 3]);
    expect(relu.stats.min).toBe(0);
    expect(relu.stats.max).toBe(6);
    expect(relu.stats.mean).toBeCloseTo(7 / 3, 5);
    expect(relu.stats.std).toBeCloseTo(Math.sqrt(((0 - 7 / 3) ** 2 + (1 - 7 / 3) ** 2 + (6 - 7 / 3) ** 2) / 3), 5);
    trace.dispose();
    input.dispose();
  });

  it('leaks no tensors: forward, cache (after dispose), hooks, trace (after dispose)', () => {
    const input = x();
    const before = tf.memory().numTensors;
    model.forward(input).dispose();
    const [out, cache] = model.runWithCache(input);
    out.dispose();
    cache.dispose();
    model.runWithHooks(input, [['hook_relu', (v) => tf.mul(v, 0.5)]]).dispose();
    model.trace(input).dispose();
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
  });
});

describe('tensorValues', () => {
  it('reads the built tensor as float32 and frees everything it made, not what it was given', async () => {
    const { tensorValues } = await import('../src/engine/ops');
    const given = tf.tensor1d([1, 2, 3]);
    const before = tf.memory().numTensors;
    const doubled = tensorValues(() => tf.mul(tf.add(given, 1), 2)); // (x + 1) * 2, by hand: 4, 6, 8
    expect(Array.from(doubled)).toEqual([4, 6, 8]);
    const counts = tensorValues(() => tf.argMax(tf.tensor2d([[0, 5], [7, 1]]), 1)); // int32 [1, 0]
    expect(counts).toBeInstanceOf(Float32Array);
    expect(Array.from(counts)).toEqual([1, 0]);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(given.dataSync())).toEqual([1, 2, 3]); // still alive
    given.dispose();
  });
});
