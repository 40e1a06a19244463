// The digits CNN on the fast path: exported once to ONNX (export-onnx.ts) and run in ONNX Runtime
// behind the tfjs model's interface (onnx-model.ts). The graph takes 28x28 grey pixels; other
// images (colour, another size) are preprocessed by the tfjs model, which the base class uses
// for inputs the graph was not built for.
import type { Tensor } from '../engine/tf';
import type { OrtSession, OrtValue } from '../engine/ort-session';
import { OnnxHookedModel, type CompileOptions } from './onnx-model';
import { exportDigitsCnnToOnnx } from './export-cnn';
import { checkPixels, type DigitsCNN, type DigitsCNNConfig } from '../models/cnn';
import { appendTopKStep, topK, type Prediction } from '../models/predictions';
import type { Trace } from '../hooks/trace';
import type { MimeBundle } from '../engine/mime';
import { viewOf } from '../engine/display';

export class OnnxCNN extends OnnxHookedModel<DigitsCNN> {
  readonly config: DigitsCNNConfig;
  readonly parameterCount: number;
  protected readonly outputName = 'probs';
  private readonly hookNamesInGraph: Record<string, string>;

  constructor(source: DigitsCNN, options: CompileOptions = {}) {
    if (options.quantize) {
      throw new Error(`${source.name}.compile('onnx', { quantize: '${options.quantize}' }): the CNN's int8 graph needs calibrated activations; use quantize(model, { activations: 'static', ... }) and exportDigitsCnnToOnnx(model, q.quantization).`);
    }
    // The graphs carry the model's optimization state (packed weights, activation quantizers), or the export refuses, saying why.
    const hooked = exportDigitsCnnToOnnx(source, undefined, { hooks: true, carryState: true });
    super(source, options, exportDigitsCnnToOnnx(source, undefined, { carryState: true }).bytes, () => hooked.bytes);
    this.hookNamesInGraph = hooked.hookOutputs;
    this.config = source.config;
    this.parameterCount = source.parameterCount;
  }

  protected validateInput(input: Tensor): void {
    checkPixels(this.name, this.config, input);
  }

  /** The graph is built for [batch, 28, 28] or [batch, 28, 28, 1] grey pixels. */
  protected override runsOnSource(input: Tensor): boolean {
    const s = input.shape;
    const size = this.config.imageSize;
    return !(s[1] === size && s[2] === size && (s.length === 3 || s[3] === 1));
  }

  protected override onnxName(hook: string): string {
    return this.hookNamesInGraph[hook] ?? hook;
  }

  protected feeds(session: OrtSession, input: Tensor): Record<string, OrtValue> {
    const size = this.config.imageSize;
    return { pixels: session.tensor('float32', Float32Array.from(input.dataSync()), [input.shape[0], size, size]) };
  }

  protected override extendTrace(trace: Trace): Trace {
    return appendTopKStep(trace, 'post.hook_probs', this.config.labels);
  }

  classify(input: Tensor, k = 3): Prediction[][] {
    const probs = this.forward(input); // [batch, classes]
    const result = topK(probs, this.config.labels, k);
    probs.dispose();
    return result;
  }

  summary(): { name: string; kind: string; outputShape: number[]; params: number }[] {
    return this.source.summary();
  }

  override toString(): string {
    return `${this.source.toString().split('\n')[0].replace(`"${this.source.name}"`, `"${this.name}"`)}; runs in ${this.backend}; ${this.byteSize.toLocaleString('en-US')} bytes as ONNX`;
  }

  async toMimeBundle(): Promise<MimeBundle> {
    return viewOf('model-summary', { rows: this.summary(), title: `${this.name}: ${this.parameterCount.toLocaleString('en-US')} parameters, runs in ${this.backend}` }, () => this.toString());
  }
}
