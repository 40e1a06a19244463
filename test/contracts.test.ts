// Contracts with packages we do not own: every private entry point the project uses, by name.
// tslab, onnxruntime-node and @tensorflow/tfjs* are pinned exactly in package.json; an upgrade
// that moves one of these fails here, in one clear test, not in the kernel at load time.
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as tslab from '../kernel/tslab';
import { loadOrt, ORT_PINNED } from '../src/engine/ort-session';
import { gradientDepth, TFJS_PINNED } from '../src/engine/tfjs-internals';
import { tf } from '../src/engine/tf';

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const installed = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;

describe('pins', () => {
  it.each([
    ['tslab', tslab.TSLAB_PINNED],
    ['onnxruntime-node', ORT_PINNED],
    ['@tensorflow/tfjs', TFJS_PINNED],
    ['@tensorflow/tfjs-core', TFJS_PINNED],
    ['@tensorflow/tfjs-backend-wasm', TFJS_PINNED],
  ])('%s is pinned exactly to the version its private use was checked against (%s), and installed', (name, checked) => {
    expect(pkg.dependencies[name]).toBe(checked);
    expect(installed(name)).toBe(checked);
  });
});

describe('tslab internals (kernel/tslab.ts)', () => {
  it('tslab/dist/converter: createConverter converts a cell and names its last expression; isCompleteCode', () => {
    const converter = tslab.createConverter({ isJS: false, isBrowser: false });
    try {
      const out = converter.convert('', 'const a: number = 20;\na + 22');
      expect(out.diagnostics).toEqual([]);
      expect(typeof out.output).toBe('string');
      expect(out.lastExpressionVar).toMatch(/^\w+$/);
    } finally {
      converter.close();
    }
    expect(tslab.isCompleteCode('let x = (')).toMatchObject({ completed: false });
    expect(tslab.isCompleteCode('let x = 1')).toMatchObject({ completed: true });
  });

  it.each(['getCodeMetadata', 'createRequire', 'printQuickInfo', 'normalizeJoin', 'tslabVersion', 'typescriptVersion'] as const)('%s is a function', (name) => {
    expect(typeof tslab[name]).toBe('function');
  });

  it('tslab/dist/metadata, executor, tspath behave as the kernel expects', () => {
    expect(tslab.getCodeMetadata('/**\n * @module helper\n */\nexport const x = 1;')).toMatchObject({ module: 'helper' }); // a cell that defines a module file
    expect(typeof tslab.createRequire(ROOT)).toBe('function');
    expect(tslab.normalizeJoin('/a/b', './c')).toBe('/a/b/c');
  });

  it("the TypeScript tslab bundles is 5.0.4 and has the scanner the kernel reads cells with", () => {
    expect(tslab.typescriptVersion()).toBe('5.0.4');
    expect(typeof tslab.tslabTypeScript().createScanner).toBe('function');
  });

  it('tslab/dist/jupyter lastWriteDisplayData is what tslab.display calls, and the kernel can replace it', () => {
    const sent: unknown[] = [];
    tslab.hookTslabDisplay((content) => sent.push(content));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { display } = require('tslab') as { display: { text(s: string): void } };
    display.text('through the hook');
    expect(JSON.stringify(sent)).toContain('through the hook');
  });
});

describe('onnxruntime-node private binding (src/engine/ort-session.ts)', () => {
  it('dist/binding.js exports binding.InferenceSession and initOrt', () => {
    const { ort, binding, initOrt } = loadOrt();
    expect(typeof binding.InferenceSession).toBe('function');
    expect(typeof initOrt).toBe('function');
    expect(typeof ort.Tensor).toBe('function');
  });
});

describe('tfjs internals (src/engine/tfjs-internals.ts)', () => {
  it('engine().state.gradientDepth is 0 outside a gradient tape and > 0 inside one', () => {
    expect(tf.version_core).toBe(TFJS_PINNED);
    expect(gradientDepth()).toBe(0);
    let inside = -1;
    const g = tf.grad((x: tf.Tensor) => {
      inside = gradientDepth();
      return x.square();
    })(tf.scalar(3));
    expect(inside).toBeGreaterThan(0);
    expect(g.dataSync()[0]).toBe(6);
    g.dispose();
  });
});
