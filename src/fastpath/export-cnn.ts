// Export the digits CNN to ONNX, in float32 or with int8 QuantizeLinear/DequantizeLinear pairs
// (QDQ) that ONNX Runtime fuses into real integer kernels (QLinearConv, QLinearMatMul).
// The graph takes 28x28 grey pixels 0..255 (NCHW inside) and returns probabilities.
import { tf } from '../engine/tf';
import type { DigitsCNN } from '../models/cnn';
import type { QuantizationInfo } from '../optimize/quantize-model';
import { buildOnnxModel, float32Raw, int64Raw, OnnxType, type OnnxNode, type OnnxTensor } from '../io/onnx-proto';
import { quantizePerChannel, unpackIntegers } from '../optimize/quantize';

export interface OnnxExport {
  bytes: Uint8Array;
  /** Name of the input ([batch, 28, 28] float32 pixels 0..255) and the outputs. */
  input: string;
  outputs: { logits: string; probs: string };
  /** With `hooks`: hook name -> the graph output holding its value (NHWC, as in tfjs). */
  hookOutputs: Record<string, string>;
}

/** HWIO (tfjs) -> OIHW (ONNX) kernel layout. */
function toOIHW(kernel: tf.Tensor): { values: Float32Array; dims: number[] } {
  const [kh, kw, ci, co] = kernel.shape;
  const t = tf.transpose(kernel, [3, 2, 0, 1]); // [out, in, kh, kw]
  const values = Float32Array.from(t.dataSync());
  t.dispose();
  return { values, dims: [co, ci, kh, kw] };
}

/**
 * Build the ONNX graph. With `quantization` (a model from quantize() with static activations),
 * weights are stored as int8 per output channel and every activation quantization point gets a
 * QuantizeLinear/DequantizeLinear pair with the calibrated scale and zero point. Weights are
 * re-quantized from the float model (7-bit by default, see reduceRange).
 */
export function exportDigitsCnnToOnnx(model: DigitsCNN, quantization?: QuantizationInfo, options: { reduceRange?: boolean; hooks?: boolean; carryState?: boolean } = {}): OnnxExport {
  if (options.carryState && quantization) throw new Error('exportDigitsCnnToOnnx: carryState exports the model\'s own state; pass no separate quantization with it.');
  // carryState: the graph computes what the tfjs model computes, its optimization state included:
  // packed integer weights behind DequantizeLinear, fake-quant transforms as QuantizeLinear/
  // DequantizeLinear pairs, dynamic-quant ones as DynamicQuantizeLinear/DequantizeLinear.
  const state = options.carryState ? model.optimizationState('compile') : null; // a function transform refuses here, naming its hook
  if (state) {
    const carried = new Set(model.activationQuantPoints);
    for (const [hook, spec] of Object.entries(state.transforms)) {
      const why = !carried.has(hook)
        ? `the exporter places activation nodes only at ${model.activationQuantPoints.join(', ')}`
        : spec.kind === 'fake-quant' && spec.params.bits !== 8
          ? `${spec.params.bits}-bit activations have no ONNX QuantizeLinear type that saturates at their range`
          : spec.kind === 'dynamic-quant' && spec.bits !== 8
            ? 'DynamicQuantizeLinear is 8-bit only'
            : spec.kind === 'mask' || spec.kind === 'ablate'
              ? `the exporter writes no ${spec.kind} node`
              : spec.kind === 'fake-quant' && spec.params.scale.length !== 1
                ? 'per-channel activation parameters are not exported'
                : null;
      if (why) throw new Error(`${model.name}.compile('onnx'): cannot carry the ${spec.kind} transform at "${hook}": ${why}. The model keeps running on tfjs.`);
    }
  }
  // x86 int8 kernels multiply uint8 activations by int8 weights with VPMADDUBSW, which saturates
  // at int16 when two large products add up; 7-bit weights avoid it (ONNX Runtime's reduce_range).
  // Measured here: 8-bit weights lost 0.6 accuracy points more than the same model in tfjs.
  const QMAX = options.reduceRange ?? true ? 63 : 127;
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  const { pixelMean, pixelStd, imageSize, labels } = model.config;
  if (quantization && Object.keys(quantization.activationRanges).length === 0) {
    throw new Error('exportDigitsCnnToOnnx: an int8 export needs a model quantized with activations: "static" (calibrated ranges).');
  }
  const scalar = (name: string, v: number) => inits.push({ name, type: OnnxType.FLOAT, dims: [], raw: float32Raw([v]) });
  const hookOutputs: Record<string, string> = {};
  /** Expose `value` as hook `hook` (NCHW feature maps transposed to tfjs's NHWC; [N, 1, 28, 28] reshaped). */
  const expose = (hook: string, value: string, layout: 'nchw' | 'image' | 'as-is') => {
    if (!options.hooks) return;
    const name = `hook:${hook}`;
    if (layout === 'nchw') nodes.push({ op: 'Transpose', inputs: [value], outputs: [name], attributes: { perm: [0, 2, 3, 1] } });
    else if (layout === 'image') nodes.push({ op: 'Reshape', inputs: [value, 'image_nhwc'], outputs: [name] });
    else nodes.push({ op: 'Identity', inputs: [value], outputs: [name] });
    hookOutputs[hook] = name;
  };
  if (options.hooks) inits.push({ name: 'image_nhwc', type: OnnxType.INT64, dims: [4], raw: int64Raw([-1, imageSize, imageSize, 1]) });

  /** Insert a QDQ pair after `value` when this point is quantized; returns the name to use next. */
  const qdq = (point: string, value: string): string => {
    if (state) return carriedQdq(point, value);
    const range = quantization?.activationRanges[point];
    if (!range) return value;
    const p = range.params;
    const prefix = point.replace(/\./g, '_');
    inits.push({ name: `${prefix}_scale`, type: OnnxType.FLOAT, dims: [], raw: float32Raw([p.scale[0]]) });
    inits.push({ name: `${prefix}_zp`, type: OnnxType.UINT8, dims: [], raw: Uint8Array.of(p.zeroPoint[0]) });
    nodes.push({ op: 'QuantizeLinear', inputs: [value, `${prefix}_scale`, `${prefix}_zp`], outputs: [`${prefix}_q`] });
    nodes.push({ op: 'DequantizeLinear', inputs: [`${prefix}_q`, `${prefix}_scale`, `${prefix}_zp`], outputs: [`${prefix}_dq`] });
    return `${prefix}_dq`;
  };

  /** The model's own transform at `point` as ONNX nodes (carryState). */
  const carriedQdq = (point: string, value: string): string => {
    const spec = state!.transforms[point];
    if (!spec) return value;
    const prefix = point.replace(/\./g, '_');
    if (spec.kind === 'dynamic-quant') {
      nodes.push({ op: 'DynamicQuantizeLinear', inputs: [value], outputs: [`${prefix}_q`, `${prefix}_scale`, `${prefix}_zp`] });
    } else if (spec.kind === 'fake-quant') {
      const p = spec.params;
      inits.push({ name: `${prefix}_scale`, type: OnnxType.FLOAT, dims: [], raw: float32Raw([p.scale[0]]) });
      inits.push({ name: `${prefix}_zp`, type: p.signed ? OnnxType.INT8 : OnnxType.UINT8, dims: [], raw: Uint8Array.of(p.zeroPoint[0] & 0xff) });
      nodes.push({ op: 'QuantizeLinear', inputs: [value, `${prefix}_scale`, `${prefix}_zp`], outputs: [`${prefix}_q`] });
    }
    nodes.push({ op: 'DequantizeLinear', inputs: [`${prefix}_q`, `${prefix}_scale`, `${prefix}_zp`], outputs: [`${prefix}_dq`] });
    return `${prefix}_dq`;
  };

  /**
   * A weight from the model's packed integers (carryState): the exact integers, in an 8-bit
   * container (int4 values fit), behind DequantizeLinear with the packed scales and zero points.
   * `layout` 'hwio->oihw' transposes a conv kernel; the channel axis moves from 3 to 0.
   */
  const packedWeight = (name: string, tfName: string, layout: 'hwio->oihw' | 'as-is'): string | null => {
    const packed = state?.quantization?.packed[tfName];
    if (!packed) return null;
    const p = packed.params;
    const count = packed.shape.reduce((a, b) => a * b, 1);
    const q = unpackIntegers(packed.data, count, p.bits, p.signed);
    let dims = packed.shape;
    let values = q;
    let axis = p.axis;
    if (layout === 'hwio->oihw') {
      const [kh, kw, ci, co] = packed.shape;
      dims = [co, ci, kh, kw];
      values = new Int32Array(count);
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) values[((o * ci + i) * kh + y) * kw + x] = q[((y * kw + x) * ci + i) * co + o];
      axis = p.axis === null ? null : 0;
    }
    const type = p.signed ? OnnxType.INT8 : OnnxType.UINT8;
    const paramDims = axis === null ? [] : [p.scale.length];
    inits.push({ name: `${name}_q`, type, dims, raw: Uint8Array.from(values, (v) => v & 0xff) });
    inits.push({ name: `${name}_scale`, type: OnnxType.FLOAT, dims: paramDims, raw: float32Raw(p.scale) });
    inits.push({ name: `${name}_zp`, type, dims: paramDims, raw: Uint8Array.from(p.zeroPoint, (v) => v & 0xff) });
    nodes.push({ op: 'DequantizeLinear', inputs: [`${name}_q`, `${name}_scale`, `${name}_zp`], outputs: [name], attributes: axis === null ? undefined : { axis } });
    return name;
  };

  /** A weight initializer: float32, or int8 per channel along `axis` followed by DequantizeLinear. */
  const weight = (name: string, values: Float32Array, dims: number[], axis: number): string => {
    if (!quantization) {
      inits.push({ name, type: OnnxType.FLOAT, dims, raw: float32Raw(values) });
      return name;
    }
    const p = quantizePerChannel(values, dims, axis, QMAX); // symmetric int8, one scale per channel along `axis`
    const q = p.q;
    const channels = dims[axis];
    inits.push({ name: `${name}_q`, type: OnnxType.INT8, dims, raw: new Uint8Array(q.buffer) });
    inits.push({ name: `${name}_scale`, type: OnnxType.FLOAT, dims: [channels], raw: float32Raw(p.scale) });
    inits.push({ name: `${name}_zp`, type: OnnxType.INT8, dims: [channels], raw: new Uint8Array(channels) });
    nodes.push({ op: 'DequantizeLinear', inputs: [`${name}_q`, `${name}_scale`, `${name}_zp`], outputs: [name], attributes: { axis } });
    return name;
  };

  // Preprocessing: [N, 28, 28] pixels -> [N, 1, 28, 28], scaled and normalised as in training.
  inits.push({ name: 'channel_axis', type: OnnxType.INT64, dims: [1], raw: int64Raw([1]) });
  scalar('c255', 255);
  scalar('mean', pixelMean);
  scalar('std', pixelStd);
  nodes.push({ op: 'Unsqueeze', inputs: ['pixels', 'channel_axis'], outputs: ['x4'] });
  nodes.push({ op: 'Div', inputs: ['x4', 'c255'], outputs: ['scaled'] });
  nodes.push({ op: 'Sub', inputs: ['scaled', 'mean'], outputs: ['centred'] });
  nodes.push({ op: 'Div', inputs: ['centred', 'std'], outputs: ['normalized'] });
  for (const hook of ['pre.hook_raw', 'pre.hook_grayscale', 'pre.hook_resized']) expose(hook, 'x4', 'image'); // 28x28 grey in: these three are the pixels
  expose('pre.hook_scaled', 'scaled', 'image');
  expose('pre.hook_normalized', 'normalized', 'image');
  let x = qdq('pre.hook_normalized', 'normalized');

  for (const i of [0, 1]) {
    const k = toOIHW(model.weights[`conv.${i}.weight`]);
    const w = packedWeight(`conv${i}_w`, `conv.${i}.weight`, 'hwio->oihw') ?? weight(`conv${i}_w`, k.values, k.dims, 0);
    inits.push({ name: `conv${i}_b`, type: OnnxType.FLOAT, dims: [k.dims[0]], raw: float32Raw(model.weights[`conv.${i}.bias`].dataSync()) });
    nodes.push({ op: 'Conv', inputs: [x, w, `conv${i}_b`], outputs: [`conv${i}`], attributes: { kernel_shape: [k.dims[2], k.dims[3]] } });
    x = qdq(`conv.${i}.hook_conv`, `conv${i}`);
    expose(`conv.${i}.hook_conv`, x, 'nchw');
    nodes.push({ op: 'Relu', inputs: [x], outputs: [`relu${i}`] });
    expose(`conv.${i}.hook_relu`, `relu${i}`, 'nchw');
    nodes.push({ op: 'MaxPool', inputs: [`relu${i}`], outputs: [`pool${i}`], attributes: { kernel_shape: [2, 2], strides: [2, 2] } });
    x = qdq(`conv.${i}.hook_pool`, `pool${i}`);
    expose(`conv.${i}.hook_pool`, x, 'nchw');
  }
  // Flatten in NHWC order, as the tfjs model (and tf.layers.flatten) does.
  inits.push({ name: 'flat_shape', type: OnnxType.INT64, dims: [2], raw: int64Raw([-1, model.flatSize]) });
  nodes.push({ op: 'Transpose', inputs: [x], outputs: ['nhwc'], attributes: { perm: [0, 2, 3, 1] } });
  nodes.push({ op: 'Reshape', inputs: ['nhwc', 'flat_shape'], outputs: ['flat'] });
  expose('flatten.hook_out', 'flat', 'as-is');
  const dense = model.weights['dense.weight'];
  const dw = packedWeight('dense_w', 'dense.weight', 'as-is') ?? weight('dense_w', Float32Array.from(dense.dataSync()), dense.shape, 1);
  inits.push({ name: 'dense_b', type: OnnxType.FLOAT, dims: [labels.length], raw: float32Raw(model.weights['dense.bias'].dataSync()) });
  nodes.push({ op: 'MatMul', inputs: ['flat', dw], outputs: ['matmul'] });
  nodes.push({ op: 'Add', inputs: ['matmul', 'dense_b'], outputs: ['logits_raw'] });
  const logits = qdq('hook_logits', 'logits_raw');
  nodes.push({ op: 'Identity', inputs: [logits], outputs: ['logits'] });
  nodes.push({ op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attributes: { axis: 1 } });
  hookOutputs['hook_logits'] = 'logits';
  hookOutputs['post.hook_probs'] = 'probs';
  if (!options.hooks) for (const k of Object.keys(hookOutputs)) delete hookOutputs[k];
  const featureDims: Record<string, number[]> = {}; // sizes of each exposed hook, for the graph's outputs
  {
    const probe = tf.zeros([1, imageSize, imageSize]);
    const trace = model.trace(probe, { keepTensors: false });
    for (const step of trace.steps) featureDims[step.name] = step.outputShape.slice(1);
    probe.dispose();
  }

  const bytes = buildOnnxModel({
    name: model.name,
    nodes,
    initializers: inits,
    inputs: [{ name: 'pixels', type: OnnxType.FLOAT, dims: [-1, imageSize, imageSize] }],
    outputs: [
      { name: 'logits', type: OnnxType.FLOAT, dims: [-1, labels.length] },
      { name: 'probs', type: OnnxType.FLOAT, dims: [-1, labels.length] },
      ...Object.entries(hookOutputs)
        .filter(([, onnx]) => onnx.startsWith('hook:'))
        .map(([hook, onnx]) => ({ name: onnx, type: OnnxType.FLOAT, dims: [-1, ...featureDims[hook]] })),
    ],
  }, 13);
  return { bytes, input: 'pixels', outputs: { logits: 'logits', probs: 'probs' }, hookOutputs };
}
