// Export a GPT to ONNX: the same forward as src/models/gpt.ts, op for op, with keys and values
// of earlier positions as inputs and the updated ones as outputs (generation with a KV cache),
// optionally every hook point as an extra graph output (traces and caches on the fast path), and
// optionally int8 weights with activations quantized on the fly (dynamic quantization, the
// scheme ONNX Runtime's quantize_dynamic uses for transformers: the matmuls run as integer
// kernels, everything else in float32).
//
// Graph inputs:  input_ids [batch, pos] int64; position_ids [pos] int64 (past..past+pos-1);
//                attention_bias [pos, past+pos] float (0 = may attend, -1e9 = may not);
//                past_key.{i}, past_value.{i} [batch, head, past, d_head] (past may be 0).
// Graph outputs: logits [batch, pos, vocab]; present_key.{i}, present_value.{i}
//                [batch, head, past+pos, d_head]; with hooks, one output per hook point,
//                named exactly as the hook ("blocks.0.attn.hook_pattern").
import { blockHook, gptHookLayout, type GPT } from '../models/gpt';
import { OnnxGraph, OnnxType } from '../io/onnx-proto';
import { quantizePerChannel } from '../optimize/quantize';

export interface GptOnnxOptions {
  /** Expose every hook point as a graph output (default false). */
  hooks?: boolean;
  /** 'int8': int8 weights per output column and activations quantized per call. Default float32. */
  quantize?: 'int8';
  /** Int8 weights use 7 bits (x86 u8s8 kernels saturate with 8; default true). */
  reduceRange?: boolean;
}

export interface GptOnnxExport {
  bytes: Uint8Array;
  nLayers: number;
  /** Hook names exposed as outputs (empty without `hooks`). */
  hookOutputs: string[];
  quantized: boolean;
}

export const pastKeyName = (i: number) => `past_key.${i}`;
export const pastValueName = (i: number) => `past_value.${i}`;
export const presentKeyName = (i: number) => `present_key.${i}`;
export const presentValueName = (i: number) => `present_value.${i}`;

/** Build the ONNX graph of `model` (weights read from it now). */
export function exportGptToOnnx(model: GPT, options: GptOnnxOptions = {}): GptOnnxExport {
  const { dModel: d, nLayers, nHeads, vocabSize, layerNormEps, activation } = model.config;
  const dHead = d / nHeads;
  const int8 = options.quantize === 'int8';
  const qmax = options.reduceRange ?? true ? 63 : 127;
  const g = new OnnxGraph(model.name);
  const hooks: string[] = [];
  const value = (w: string) => model.weights[w].dataSync() as Float32Array;
  /** Name an intermediate after its hook point, and expose it when hooks are exported. */
  const hook = (name: string) => {
    if (options.hooks) hooks.push(name);
    return name;
  };

  // Constants shared by the blocks (per head count: a block whose heads were pruned has fewer).
  const shapeHeads = (h: number) => g.constantOnce(`shape_heads_${h}`, () => g.int64s(`shape_heads_${h}`, [0, 0, h, dHead])); // 0 = keep that input dim
  const shapeConcat = (h: number) => g.constantOnce(`shape_concat_${h}`, () => g.int64s(`shape_concat_${h}`, [0, 0, h * dHead]));
  const scaleScores = g.scalar('inv_sqrt_d_head', 1 / Math.sqrt(dHead));
  const half = g.scalar('half', 0.5);
  const one = g.scalar('one', 1);

  /** x W + b; in int8, DynamicQuantizeLinear -> MatMulInteger -> rescale (fused by ONNX Runtime). */
  const linear = (x: string, weight: Float32Array, dims: [number, number], bias: Float32Array | null, name: string, output?: string): string => {
    let y: string;
    if (!int8) {
      y = g.op('MatMul', [x, g.floats(`${name}.W`, weight, dims)]);
    } else {
      const { q, scale } = quantizePerChannel(weight, dims, 1, qmax); // one scale per output column
      const [xq, xScale, xZero] = [`${name}.x_q`, `${name}.x_scale`, `${name}.x_zero`];
      g.op('DynamicQuantizeLinear', [x], undefined, [xq, xScale, xZero]);
      const acc = g.op('MatMulInteger', [xq, g.int8s(`${name}.W_q`, q, dims), xZero]); // int32 sums
      const rescale = g.op('Mul', [xScale, g.floats(`${name}.W_scale`, scale, [dims[1]])]); // [out]
      y = g.op('Mul', [g.op('Cast', [acc], { to: OnnxType.FLOAT }), rescale]);
    }
    return bias ? g.op('Add', [y, g.floats(`${name}.b`, bias, [dims[1]])], undefined, output) : output ? g.op('Identity', [y], undefined, output) : y;
  };
  const layerNorm = (x: string, prefix: string, hookName: string): string =>
    g.op('LayerNormalization', [x, g.floats(`${prefix}.w`, value(`${prefix}.w`), [d]), g.floats(`${prefix}.b`, value(`${prefix}.b`), [d])], { axis: -1, epsilon: { float: layerNormEps } }, hook(hookName));
  const gelu = (x: string, output: string): string => {
    if (activation === 'gelu') {
      const phi = g.op('Add', [one, g.op('Erf', [g.op('Div', [x, g.scalar('sqrt2', Math.SQRT2)])])]);
      return g.op('Mul', [g.op('Mul', [x, half]), phi], undefined, output);
    }
    const cube = g.op('Mul', [x, g.op('Mul', [x, x])]);
    const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, g.scalar('gelu_c', 0.044715)])]), g.scalar('sqrt_2_over_pi', Math.sqrt(2 / Math.PI))]);
    return g.op('Mul', [g.op('Mul', [x, half]), g.op('Add', [one, g.op('Tanh', [inner])])], undefined, output);
  };

  // Inputs.
  const ids = g.input('input_ids', OnnxType.INT64, ['batch', 'pos']);
  const positions = g.input('position_ids', OnnxType.INT64, ['pos']);
  const bias = g.input('attention_bias', OnnxType.FLOAT, ['pos', 'total']);
  for (let i = 0; i < nLayers; i++) {
    g.input(pastKeyName(i), OnnxType.FLOAT, ['batch', model.headsIn(i), 'past', dHead]);
    g.input(pastValueName(i), OnnxType.FLOAT, ['batch', model.headsIn(i), 'past', dHead]);
  }

  // Embeddings.
  const embed = g.op('Gather', [g.floats('embed.W_E', value('embed.W_E'), [vocabSize, d]), ids], { axis: 0 }, hook('hook_embed')); // [batch, pos, d]
  const posRows = g.op('Gather', [g.floats('pos_embed.W_pos', value('pos_embed.W_pos'), [model.config.contextLength, d]), positions], { axis: 0 }); // [pos, d]
  const posEmbed = g.op('Expand', [posRows, g.op('Shape', [embed])], undefined, hook('hook_pos_embed')); // [batch, pos, d]
  let resid = g.op('Add', [embed, posEmbed]);

  for (let i = 0; i < nLayers; i++) {
    const b = `blocks.${i}`;
    resid = g.op('Identity', [resid], undefined, hook(blockHook(i, 'hook_resid_pre')));
    const x = layerNorm(resid, `${b}.ln1`, blockHook(i, 'ln1.hook_normalized'));
    // Q, K and V as one matmul against [W_Q | W_K | W_V], split after: one big GEMM beats three.
    const heads = model.headsIn(i);
    const hd = heads * dHead; // this block's heads x d_head
    const wq = value(`${b}.attn.W_Q`), wk = value(`${b}.attn.W_K`), wv = value(`${b}.attn.W_V`); // [d, hd] each
    const fused = new Float32Array(d * 3 * hd);
    for (let r = 0; r < d; r++) {
      fused.set(wq.subarray(r * hd, (r + 1) * hd), r * 3 * hd);
      fused.set(wk.subarray(r * hd, (r + 1) * hd), r * 3 * hd + hd);
      fused.set(wv.subarray(r * hd, (r + 1) * hd), r * 3 * hd + 2 * hd);
    }
    const fusedBias = Float32Array.from([...value(`${b}.attn.b_Q`), ...value(`${b}.attn.b_K`), ...value(`${b}.attn.b_V`)]);
    const qkv = linear(x, fused, [d, 3 * hd], fusedBias, `${b}.attn.qkv`); // [batch, pos, 3 hd]
    const [qFlat, kFlat, vFlat] = [`${b}.attn.q_flat`, `${b}.attn.k_flat`, `${b}.attn.v_flat`];
    g.op('Split', [qkv, g.int64s(`${b}.attn.split`, [hd, hd, hd])], { axis: -1 }, [qFlat, kFlat, vFlat]);
    const q = g.op('Reshape', [qFlat, shapeHeads(heads)], undefined, hook(blockHook(i, 'attn.hook_q'))); // [batch, pos, head, d_head]
    const k = g.op('Reshape', [kFlat, shapeHeads(heads)], undefined, hook(blockHook(i, 'attn.hook_k')));
    const v = g.op('Reshape', [vFlat, shapeHeads(heads)], undefined, hook(blockHook(i, 'attn.hook_v')));
    const headsFirst = (t: string) => g.op('Transpose', [t], { perm: [0, 2, 1, 3] }); // [batch, head, pos, d_head]
    const keys = g.op('Concat', [pastKeyName(i), headsFirst(k)], { axis: 2 }, presentKeyName(i)); // [batch, head, past+pos, d_head]
    const values = g.op('Concat', [pastValueName(i), headsFirst(v)], { axis: 2 }, presentValueName(i));
    const keysT = g.op('Transpose', [keys], { perm: [0, 1, 3, 2] }); // [batch, head, d_head, past+pos]
    const scores = g.op('Mul', [g.op('MatMul', [headsFirst(q), keysT]), scaleScores], undefined, hook(blockHook(i, 'attn.hook_attn_scores'))); // [batch, head, pos, past+pos]
    const pattern = g.op('Softmax', [g.op('Add', [scores, bias])], { axis: -1 }, hook(blockHook(i, 'attn.hook_pattern')));
    const z = g.op('Transpose', [g.op('MatMul', [pattern, values])], { perm: [0, 2, 1, 3] }, hook(blockHook(i, 'attn.hook_z'))); // [batch, pos, head, d_head]
    const zFlat = g.op('Reshape', [z, shapeConcat(heads)]); // [batch, pos, hd]
    const attnOut = linear(zFlat, value(`${b}.attn.W_O`), [hd, d], value(`${b}.attn.b_O`), `${b}.attn.out`, hook(blockHook(i, 'hook_attn_out')));
    const residMid = g.op('Add', [resid, attnOut], undefined, hook(blockHook(i, 'hook_resid_mid')));
    const x2 = layerNorm(residMid, `${b}.ln2`, blockHook(i, 'ln2.hook_normalized'));
    const dMlp = model.config.dMlp;
    const pre = linear(x2, value(`${b}.mlp.W_in`), [d, dMlp], value(`${b}.mlp.b_in`), `${b}.mlp.in`, hook(blockHook(i, 'mlp.hook_pre')));
    const post = gelu(pre, hook(blockHook(i, 'mlp.hook_post')));
    const mlpOut = linear(post, value(`${b}.mlp.W_out`), [dMlp, d], value(`${b}.mlp.b_out`), `${b}.mlp.out`, hook(blockHook(i, 'hook_mlp_out')));
    resid = g.op('Add', [residMid, mlpOut], undefined, hook(blockHook(i, 'hook_resid_post')));
  }
  const final = layerNorm(resid, 'ln_final', 'ln_final.hook_normalized');
  const unembed = model.config.tiedEmbeddings ? transpose2d(value('embed.W_E'), vocabSize, d) : value('unembed.W_U'); // [d, vocab]
  linear(final, unembed, [d, vocabSize], null, 'unembed', 'logits');
  if (options.hooks) hooks.push('hook_logits');

  g.output('logits', OnnxType.FLOAT, ['batch', 'pos', vocabSize]);
  for (let i = 0; i < nLayers; i++) {
    g.output(presentKeyName(i), OnnxType.FLOAT, ['batch', model.headsIn(i), 'total', dHead]);
    g.output(presentValueName(i), OnnxType.FLOAT, ['batch', model.headsIn(i), 'total', dHead]);
  }
  for (const name of hooks) if (name !== 'hook_logits') g.output(name, OnnxType.FLOAT, hookDims(name, model));
  return { bytes: g.build(17), nLayers, hookOutputs: hooks, quantized: int8 };
}

/** Sizes of a hook's value, read from the shape the model declares for it (GPT_BLOCK_HOOKS), free dimensions named. */
function hookDims(name: string, model: GPT): (number | string)[] {
  const declared = gptHookLayout(model.config.nLayers).find((p) => p.name === name);
  if (!declared) throw new Error(`exportGptToOnnx: "${name}" is not a hook point of ${model.name}.`);
  const block = /^blocks\.(\d+)\./.exec(name);
  const sizes: Record<string, number | string> = {
    batch: 'batch', pos: 'pos', query_pos: 'pos', key_pos: 'total', head: block ? model.headsIn(Number(block[1])) : model.config.nHeads,
    d_head: model.dHead, d_model: model.config.dModel, d_mlp: model.config.dMlp, vocab: model.config.vocabSize,
  };
  return /^\[([^\]]*)\]/.exec(declared.shape)![1].split(',').map((dim) => {
    const size = sizes[dim.trim()];
    if (size === undefined) throw new Error(`exportGptToOnnx: unknown dimension "${dim.trim()}" in the declared shape of ${name}.`);
    return size;
  });
}

function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}
