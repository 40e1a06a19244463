import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { tf, initBackend, loadModel, loadMnist, quantize, evaluateDigits, exportDigitsCnnToOnnx, MNIST_SIZE, type DigitsCNN } from '../src/index';
import { onnxCheck } from './helpers/python';

const px = MNIST_SIZE * MNIST_SIZE;
let model: DigitsCNN;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-'));

beforeAll(async () => {
  await initBackend();
  model = loadModel('digits-cnn') as DigitsCNN;
});
afterAll(() => model.dispose());

async function onnxLogits(bytes: Uint8Array, pixels: Uint8Array, n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ pixels: new ort.Tensor('float32', Float32Array.from(pixels), [n, MNIST_SIZE, MNIST_SIZE]) });
  return out.logits.data as Float32Array;
}

function accuracy(logits: Float32Array, labels: Uint8Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
    if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
  }
  return correct / labels.length;
}

describe('ONNX export of the digits CNN', () => {
  it('float32: ONNX Runtime gives the same logits as tfjs (1e-4)', async () => {
    const { heldOut } = loadMnist();
    const exported = exportDigitsCnnToOnnx(model);
    const pixels = heldOut.images.subarray(0, 64 * px);
    const theirs = await onnxLogits(exported.bytes, pixels, 64);
    const x = tf.tensor3d(pixels, [64, MNIST_SIZE, MNIST_SIZE], 'int32');
    const ours = model.logits(x);
    const diff = Math.max(...Array.from(ours.dataSync(), (v, i) => Math.abs(v - theirs[i])));
    expect(diff).toBeLessThan(1e-4);
    tf.dispose([x, ours]);
    const file = path.join(tmp, 'cnn-fp32.onnx');
    fs.writeFileSync(file, exported.bytes);
    expect(onnxCheck(file)).toMatchObject({ status: 0, output: expect.stringContaining('valid') });
  });

  it('int8 QDQ: passes the checker, and ONNX Runtime integer kernels keep accuracy within 0.5 points of tfjs', async () => {
    const { train, heldOut } = loadMnist();
    const calibration = tf.tensor3d(train.images.subarray(0, 512 * px), [512, MNIST_SIZE, MNIST_SIZE], 'int32');
    const q = quantize(model, { bits: 8, perChannel: true, symmetric: true, activations: 'static', calibrationInputs: calibration, progress: false });
    const exported = exportDigitsCnnToOnnx(model, q.quantization);
    const file = path.join(tmp, 'cnn-int8.onnx');
    fs.writeFileSync(file, exported.bytes);
    expect(onnxCheck(file)).toMatchObject({ status: 0 });
    const ortAccuracy = accuracy(await onnxLogits(exported.bytes, heldOut.images, heldOut.count), heldOut.labels);
    const tfjsAccuracy = evaluateDigits(q, heldOut).value;
    expect(Math.abs(ortAccuracy - tfjsAccuracy)).toBeLessThanOrEqual(0.005);
    expect(ortAccuracy).toBeGreaterThan(0.96);
    q.dispose();
    calibration.dispose();
  });

  it('an int8 export without calibrated activations says what it needs', () => {
    const weightsOnly = quantize(model, { bits: 8, perChannel: true, symmetric: true, activations: 'none' });
    expect(() => exportDigitsCnnToOnnx(model, weightsOnly.quantization)).toThrow(/needs a model quantized with activations: "static"/);
    weightsOnly.dispose();
  });
});
