// The digits CNN: raw pixels -> preprocessing -> conv/relu/pool x2 -> dense -> softmax -> top-k.
// Preprocessing and post-processing are part of the model so they are steps of the same trace.
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { backendLabel } from '../engine/backend';
import { conv2dViaMatmul, variableFrom } from '../engine/ops';
import { HookedModel } from '../hooks/hooked-model';
import { Trace } from '../hooks/trace';
import { appendTopKStep, layerTable, topK, type Prediction } from './predictions';
import type { OnnxCNN } from '../fastpath/cnn-onnx';
import { compileModel, type CompileOptions } from '../hooks/compile';
import type { MimeBundle } from '../engine/mime';
import { viewOf } from '../engine/display';

export interface DigitsCNNConfig {
  /** Side of the square image the network sees after resizing (MNIST: 28). */
  imageSize: number;
  /** Filters of conv.0 and conv.1. */
  channels: [number, number];
  /** Side of each square conv kernel. */
  kernelSize: number;
  /** Class names, one per output logit. */
  labels: string[];
  /** Mean and std of training pixels scaled to [0, 1]; normalisation makes inputs zero-centred. */
  pixelMean: number;
  pixelStd: number;
}

/** The shipped configuration (assets/digits-cnn/config.json stores the trained values). */
export const DIGITS_CNN_DEFAULTS: DigitsCNNConfig = {
  imageSize: 28,
  channels: [8, 16],
  kernelSize: 3,
  labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  pixelMean: 0.1307, // the classic MNIST figures; training overwrites them with this split's
  pixelStd: 0.3081,
};

/** Raw pixels: [batch, h, w] or [batch, h, w, 1|3|4], numeric, at least one kernel wide. */
export function checkPixels(name: string, config: DigitsCNNConfig, input: Tensor): void {
  const shape = input.shape;
  const ok =
    (shape.length === 3 || (shape.length === 4 && [1, 3, 4].includes(shape[3]))) &&
    shape[0] > 0 &&
    shape[1] >= config.kernelSize &&
    shape[2] >= config.kernelSize &&
    input.dtype !== 'string' &&
    input.dtype !== 'complex64' &&
    input.dtype !== 'bool';
  if (!ok) {
    throw new Error(
      `${name} expects raw pixels shaped [batch, height, width] or [batch, height, width, 1|3|4] ` +
        `with values 0..255 (numeric dtype), got [${shape}] ${input.dtype}.`,
    );
  }
}

export class DigitsCNN extends HookedModel {
  readonly name: string;
  readonly config: DigitsCNNConfig;
  /** 'native' runs tf.conv2d; 'im2col' is the trainable path on WASM (see engine/ops). */
  convKernel: 'native' | 'im2col' = 'native';
  readonly weights: Record<string, tf.Variable>;

  constructor(config: DigitsCNNConfig = DIGITS_CNN_DEFAULTS, name = 'digits-cnn', seed = 0) {
    super();
    this.name = name;
    this.config = config;
    const [c0, c1] = config.channels;
    const k = config.kernelSize;
    const classes = config.labels.length;
    // tf.variable shares the initial tensor's data; free the initial tensor itself.
    const heInit = (shape: number[], fanIn: number, s: number) => variableFrom(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed + s)); // He init for ReLU
    this.weights = {
      'conv.0.weight': heInit([k, k, 1, c0], k * k, 1), // [kh, kw, in, out]
      'conv.0.bias': variableFrom(tf.zeros([c0])),
      'conv.1.weight': heInit([k, k, c0, c1], k * k * c0, 2),
      'conv.1.bias': variableFrom(tf.zeros([c1])),
      'dense.weight': heInit([this.flatSize, classes], this.flatSize, 3), // [features, classes]
      'dense.bias': variableFrom(tf.zeros([classes])),
    };

    this.hookPoint('pre.hook_raw', 'input', '[batch, h, w, ch] raw pixels 0..255');
    this.hookPoint('pre.hook_grayscale', 'grayscale', '[batch, h, w, 1]');
    this.hookPoint('pre.hook_resized', 'resize', '[batch, size, size, 1]');
    this.hookPoint('pre.hook_scaled', 'scale', '[batch, size, size, 1] in [0, 1]');
    this.hookPoint('pre.hook_normalized', 'normalize', '[batch, size, size, 1] zero mean, unit std');
    for (const i of [0, 1]) {
      this.hookPoint(`conv.${i}.hook_conv`, 'conv2d', '[batch, h, w, ch]');
      this.hookPoint(`conv.${i}.hook_relu`, 'relu', '[batch, h, w, ch]');
      this.hookPoint(`conv.${i}.hook_pool`, 'maxpool', '[batch, h/2, w/2, ch]');
    }
    this.hookPoint('flatten.hook_out', 'flatten', '[batch, features]');
    this.hookPoint('hook_logits', 'dense', '[batch, classes]');
    this.hookPoint('post.hook_probs', 'softmax', '[batch, classes]');
  }

  /** Features entering the dense layer: two valid convs and two 2x2 pools shrink the image. */
  get flatSize(): number {
    const { imageSize: s, kernelSize: k, channels } = this.config;
    const afterFirst = Math.floor((s - k + 1) / 2);
    const afterSecond = Math.floor((afterFirst - k + 1) / 2);
    return afterSecond * afterSecond * channels[1];
  }

  get parameterCount(): number {
    return Object.values(this.weights).reduce((n, w) => n + w.size, 0);
  }


  get byteSize(): number {
    return this.storedBytes ?? this.parameterCount * 4;
  }

  /**
   * Where a fully integer CNN would quantize activations: the input of each weighted layer and
   * its output (as ONNX Runtime places QuantizeLinear/DequantizeLinear around Conv and MatMul).
   */
  readonly activationQuantPoints = ['pre.hook_normalized', 'conv.0.hook_conv', 'conv.0.hook_pool', 'conv.1.hook_conv', 'conv.1.hook_pool', 'hook_logits'];

  /** A copy with its own weights (same config and hook names). */
  clone(name = `${this.name}-copy`): this {
    return this.copyInto(() => new DigitsCNN(this.config, name) as this);
  }

  /** Where this model runs: tfjs and its backend (the fast path reports onnxruntime). */
  get backend(): string {
    return `tfjs (${backendLabel()})`;
  }

  /** The same model on the fast path (ONNX Runtime), with the same interface; see cnn-onnx.ts. */
  compile(target: 'onnx', options: CompileOptions = {}): OnnxCNN {
    return compileModel(this, 'digits-cnn', target, options) as OnnxCNN;
  }

  protected validateInput(input: Tensor): void {
    checkPixels(this.name, this.config, input);
  }

  private conv(x: Tensor, i: number): Tensor {
    const w = this.weights[`conv.${i}.weight`];
    const y = this.convKernel === 'im2col' ? conv2dViaMatmul(x, w) : tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid');
    return tf.add(y, this.weights[`conv.${i}.bias`]);
  }

  /** Everything up to the logits: preprocessing, both conv blocks, the dense layer. */
  private logitsImpl(input: Tensor): Tensor {
    const { imageSize, pixelMean, pixelStd } = this.config;
    const raw4d = input.rank === 3 ? tf.expandDims(input, 3) : input; // [batch, h, w, ch]
    let x = this.hook('pre.hook_raw', tf.cast(raw4d, 'float32')); // [batch, h, w, ch]
    if (x.shape[3] === 1) {
      x = this.hook('pre.hook_grayscale', x); // [batch, h, w, 1] already grey
    } else {
      const rgb = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 3]); // drop alpha: [batch, h, w, 3]
      x = this.hook('pre.hook_grayscale', tf.sum(tf.mul(rgb, tf.tensor1d([0.299, 0.587, 0.114])), 3, true)); // ITU-R 601 luma: [batch, h, w, 1]
    }
    const needsResize = x.shape[1] !== imageSize || x.shape[2] !== imageSize;
    x = this.hook('pre.hook_resized', needsResize ? tf.image.resizeBilinear(x as tf.Tensor4D, [imageSize, imageSize], true) : x); // [batch, 28, 28, 1]
    x = this.hook('pre.hook_scaled', tf.div(x, 255)); // [batch, 28, 28, 1] in [0, 1]
    x = this.hook('pre.hook_normalized', tf.div(tf.sub(x, pixelMean), pixelStd)); // [batch, 28, 28, 1]

    for (const i of [0, 1]) {
      x = this.hook(`conv.${i}.hook_conv`, this.conv(x, i)); // [batch, h-2, w-2, ch]
      x = this.hook(`conv.${i}.hook_relu`, tf.relu(x)); // [batch, h-2, w-2, ch]
      x = this.hook(`conv.${i}.hook_pool`, tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')); // [batch, (h-2)/2, (w-2)/2, ch]
    }
    x = this.hook('flatten.hook_out', tf.reshape(x, [x.shape[0], -1])); // [batch, 400], NHWC order as tf.layers.flatten
    return this.hook('hook_logits', tf.add(tf.matMul(x, this.weights['dense.weight']), this.weights['dense.bias'])); // [batch, 10]
  }

  protected forwardImpl(input: Tensor): Tensor {
    return this.hook('post.hook_probs', tf.softmax(this.logitsImpl(input))); // [batch, 10]
  }

  /**
   * Logits without the softmax (e.g. for a loss). Differentiable, and safe inside tf.tidy or an
   * optimizer's minimize: nothing escapes the caller's scope.
   */
  logits(input: Tensor): Tensor {
    this.validateInput(input);
    return tf.tidy(() => this.logitsImpl(input));
  }

  /** Top-k labels with probabilities for each image in the batch. */
  classify(input: Tensor, k = 3): Prediction[][] {
    const probs = this.forward(input); // [batch, classes]
    const result = topK(probs, this.config.labels, k);
    probs.dispose();
    return result;
  }

  /** The trace ends with the post-processing step that turns probabilities into labels. */
  protected override extendTrace(trace: Trace): Trace {
    return appendTopKStep(trace, 'post.hook_probs', this.config.labels);
  }

  /** Layer table: hook name, kind, output shape for one input, parameters owned by that layer. */
  summary(): { name: string; kind: string; outputShape: number[]; params: number }[] {
    const { imageSize } = this.config;
    const example = tf.zeros([1, imageSize, imageSize]);
    const trace = this.trace(example, { keepTensors: false });
    example.dispose();
    return layerTable(trace, this.weights);
  }

  override toString(): string {
    const rows = this.summary().map(
      (r) => `  ${r.name.padEnd(22)} ${r.kind.padEnd(10)} ${`[${r.outputShape.join(', ')}]`.padEnd(16)} ${r.params || ''}`,
    );
    return `DigitsCNN "${this.name}": ${this.parameterCount.toLocaleString('en-US')} parameters, ${this.byteSize.toLocaleString('en-US')} bytes (float32)\n${rows.join('\n')}`;
  }

  /** Shown as a summary table when the model is a cell's last value. */
  async toMimeBundle(): Promise<MimeBundle> {
    return viewOf('model-summary', { rows: this.summary(), title: `${this.name}: ${this.parameterCount.toLocaleString('en-US')} parameters` }, () => this.toString());
  }

  /** Write weights.safetensors + config.json into `dir`. */
  save(dir: string, extra: Record<string, unknown> = {}): void {
    this.saveFiles(dir, 'digits-cnn', this.config, extra); // throws on a function transform, naming its hook
  }

  /** Load a model saved by `save` (or the shipped one). Errors name the file and tensor. */
  static load(dir: string, name = path.basename(dir)): DigitsCNN {
    return HookedModel.loadFiles<DigitsCNNConfig, DigitsCNN>(dir, 'digits-cnn', (config) => new DigitsCNN(config, name)); // quantization, pruning, transforms; other format versions refused
  }

  dispose(): void {
    for (const w of Object.values(this.weights)) w.dispose();
  }
}
