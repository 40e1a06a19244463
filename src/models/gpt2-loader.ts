// GPT-2 from the user's own Hugging Face files: a directory with config.json and model.safetensors
// (or the sharded form: model.safetensors.index.json + model-0000i-of-0000n.safetensors), as
// `save_pretrained` writes it and the hub serves it. Each tensor is mapped into the GPT of gpt.ts,
// which uses GPT-2's own layout (Conv1D stores W as [in, out], y = x W + b), so the only reshaping
// is cutting c_attn [d, 3d] into W_Q | W_K | W_V and transposing a separate lm_head.
//
// Tensors are read one at a time from disk (SafetensorsReader), checked (shape from config.json,
// every value finite) and copied once into the backend: GPT-2 small's 475 MiB of float32 leaves
// 634 MiB of WASM heap after loading (measured), never two whole copies. Any failure names the
// file and the tensor and frees what was built.
import * as fs from 'fs';
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { checkedValues, floatTensor, SafetensorsReader, WeightsError, type TensorEntry } from '../io/safetensors';
import { GPT, type GPTConfig } from './gpt';

/** The fields of a Hugging Face GPT-2 config.json that shape the model (defaults as transformers' GPT2Config). */
export interface HFGPT2Config {
  model_type: 'gpt2';
  /** Rows of wte (GPT-2: 50257). */
  vocab_size?: number;
  /** Rows of wpe: the longest sequence (GPT-2: 1024). */
  n_positions?: number;
  /** Width of the residual stream (GPT-2 small: 768). */
  n_embd?: number;
  n_layer?: number;
  n_head?: number;
  /** MLP width; null means 4 x n_embd. */
  n_inner?: number | null;
  layer_norm_epsilon?: number;
  /** 'gelu_new' (tanh approximation, GPT-2's) or 'gelu' (exact). */
  activation_function?: string;
  /** lm_head is wte (default true); false: the file has its own lm_head.weight. */
  tie_word_embeddings?: boolean;
  /** Scores divided by sqrt(d_head) (default true); the GPT here always does. */
  scale_attn_weights?: boolean;
  /** Scores further divided by the layer index (default false); not supported. */
  scale_attn_by_inverse_layer_idx?: boolean;
  /** Encoder-decoder cross-attention (default false); not supported. */
  add_cross_attention?: boolean;
}

/** GPT-2's BPE has 50,257 tokens; a model may have fewer rows (small test models), never more. */
const GPT2_BPE_TOKENS = 50257;

/** Files of a directory that hold weights this loader cannot read, and what they are. */
const OTHER_WEIGHT_FILES: Record<string, string> = {
  'pytorch_model.bin': 'a PyTorch pickle',
  'pytorch_model.bin.index.json': 'sharded PyTorch pickles',
  'tf_model.h5': 'TensorFlow/Keras weights',
  'flax_model.msgpack': 'Flax weights',
};

/** True when `dir` holds a Hugging Face GPT-2 (config.json with model_type "gpt2"). */
export function isHuggingFaceGPT2(dir: string): boolean {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).model_type === 'gpt2';
  } catch {
    return false;
  }
}

/** Read and check a directory's config.json. */
export function readHFGPT2Config(dir: string): HFGPT2Config {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new WeightsError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (a Hugging Face GPT-2 directory has config.json and model.safetensors).`);
  }
  let config: HFGPT2Config;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new WeightsError(`${file} is not valid JSON (${(err as Error).message}).`);
  }
  if (config?.model_type !== 'gpt2') throw new WeightsError(`${file}: model_type is ${JSON.stringify(config?.model_type)}; loadGPT2 reads GPT-2 models (model_type "gpt2") only.`);
  return config;
}

/** A Hugging Face GPT-2 config as the GPT's config; anything this GPT cannot run is an error naming the field. */
export function gpt2ConfigFromHF(hf: HFGPT2Config, source = 'config.json'): GPTConfig {
  const whole = (field: keyof HFGPT2Config, fallback: number): number => {
    const value = hf[field] ?? fallback;
    if (!(Number.isInteger(value) && (value as number) > 0)) throw new WeightsError(`${source}: ${field} must be a positive integer, got ${JSON.stringify(value)}.`);
    return value as number;
  };
  const vocabSize = whole('vocab_size', GPT2_BPE_TOKENS);
  const dModel = whole('n_embd', 768);
  const nHeads = whole('n_head', 12);
  const config: GPTConfig = {
    vocabSize,
    contextLength: whole('n_positions', 1024),
    dModel,
    nLayers: whole('n_layer', 12),
    nHeads,
    dMlp: hf.n_inner == null ? 4 * dModel : whole('n_inner', 0),
    layerNormEps: hf.layer_norm_epsilon ?? 1e-5,
    tiedEmbeddings: hf.tie_word_embeddings ?? true,
    activation: 'gelu_new',
    tokenizer: { kind: 'gpt2' },
  };
  if (!(config.layerNormEps > 0)) throw new WeightsError(`${source}: layer_norm_epsilon must be a positive number, got ${JSON.stringify(hf.layer_norm_epsilon)}.`);
  if (typeof config.tiedEmbeddings !== 'boolean') throw new WeightsError(`${source}: tie_word_embeddings must be true or false, got ${JSON.stringify(hf.tie_word_embeddings)}.`);
  const activation = hf.activation_function ?? 'gelu_new';
  if (activation !== 'gelu_new' && activation !== 'gelu') throw new WeightsError(`${source}: activation_function "${activation}" is not supported; expected "gelu_new" (GPT-2's) or "gelu".`);
  config.activation = activation;
  if (vocabSize > GPT2_BPE_TOKENS) throw new WeightsError(`${source}: vocab_size ${vocabSize} is larger than GPT-2's BPE (${GPT2_BPE_TOKENS} tokens); this model needs another tokenizer.`);
  if (dModel % nHeads !== 0) throw new WeightsError(`${source}: n_embd ${dModel} is not divisible by n_head ${nHeads}.`);
  if (hf.scale_attn_weights === false) throw new WeightsError(`${source}: scale_attn_weights false (scores not divided by sqrt(d_head)) is not supported.`);
  if (hf.scale_attn_by_inverse_layer_idx) throw new WeightsError(`${source}: scale_attn_by_inverse_layer_idx (scores divided by the layer number) is not supported.`);
  if (hf.add_cross_attention) throw new WeightsError(`${source}: add_cross_attention (an encoder-decoder GPT-2) is not supported.`);
  return config;
}

/** The weights of a directory, one file or sharded, read tensor by tensor. */
class WeightFiles {
  private readonly readers: SafetensorsReader[] = [];
  /** Tensor name -> the reader of the file that holds it. */
  private readonly where = new Map<string, SafetensorsReader>();

  constructor(readonly dir: string) {
    try {
      this.open();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private open(): void {
    const single = path.join(this.dir, 'model.safetensors');
    const index = path.join(this.dir, 'model.safetensors.index.json');
    if (fs.existsSync(single)) {
      this.add(new SafetensorsReader(single));
      return;
    }
    if (!fs.existsSync(index)) {
      const other = Object.keys(OTHER_WEIGHT_FILES).find((f) => fs.existsSync(path.join(this.dir, f)));
      if (other) {
        throw new WeightsError(
          `${this.dir} has ${other} (${OTHER_WEIGHT_FILES[other]}) but no model.safetensors; loadGPT2 reads safetensors only. ` +
            `Convert it once with transformers: python3 -c "from transformers import GPT2LMHeadModel as M; M.from_pretrained('${this.dir}').save_pretrained('${this.dir}', safe_serialization=True)"`,
        );
      }
      throw new WeightsError(`${this.dir}: no weights; expected model.safetensors (or model.safetensors.index.json with its shards) next to config.json.`);
    }
    let weightMap: Record<string, string>;
    try {
      weightMap = JSON.parse(fs.readFileSync(index, 'utf8')).weight_map;
    } catch (err) {
      throw new WeightsError(`${index}: cannot read it as JSON (${(err as Error).message}).`);
    }
    if (typeof weightMap !== 'object' || weightMap === null || Object.values(weightMap).some((f) => typeof f !== 'string')) {
      throw new WeightsError(`${index}: expected {"weight_map": {"<tensor>": "<file>.safetensors", ...}}.`);
    }
    const shards = new Map<string, SafetensorsReader>();
    for (const [name, file] of Object.entries(weightMap)) {
      if (path.basename(file) !== file) throw new WeightsError(`${index}: shard "${file}" of tensor "${name}" must be a file name in the same directory.`);
      let reader = shards.get(file);
      if (!reader) {
        reader = new SafetensorsReader(path.join(this.dir, file)); // a missing shard fails here, naming it
        shards.set(file, reader);
        this.readers.push(reader);
      }
      if (!reader.locations.has(name)) throw new WeightsError(`${index} puts tensor "${name}" in ${file}, which has no such tensor.`);
      this.where.set(name, reader);
    }
  }

  private add(reader: SafetensorsReader): void {
    this.readers.push(reader);
    for (const name of reader.names) this.where.set(name, reader);
  }

  get names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  /** The shape the header gives, without reading the data. */
  shapeOf(name: string): number[] | undefined {
    return this.where.get(name)?.locations.get(name)?.shape;
  }

  fileOf(name: string): string {
    return this.where.get(name)?.file ?? this.dir;
  }

  read(name: string): TensorEntry {
    const reader = this.where.get(name);
    if (!reader) throw new WeightsError(`${this.dir}: no tensor "${name}" in the weights.`);
    return reader.read(name);
  }

  close(): void {
    for (const reader of this.readers) reader.close();
  }
}

/** Buffers transformers keeps in old checkpoints (the causal mask and its fill value): not weights. */
const IGNORED = /(^|\.)attn\.(bias|masked_bias)$/;

/** Columns [from, from + count) of a row-major [rows, cols] matrix. */
function columns(values: Float32Array, rows: number, cols: number, from: number, count: number): Float32Array {
  const out = new Float32Array(rows * count);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * cols + from, r * cols + from + count), r * count);
  return out;
}

/** The transpose of a row-major [rows, cols] matrix. */
function transposed(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

/** Parameters of a GPT of this shape (GPT-2 small: 124,439,808). */
export function gptParameterCount(c: GPTConfig): number {
  const { vocabSize: v, contextLength: n, dModel: d, nLayers, dMlp: m } = c;
  const block = 4 * d /* two LayerNorms */ + 4 * d * d + 4 * d /* Q, K, V, O */ + 2 * d * m + m + d; /* MLP */
  return v * d + n * d + nLayers * block + 2 * d + (c.tiedEmbeddings ? 0 : d * v);
}

/**
 * Bytes of WASM memory a GPT holds once it has run: its float32 weights, the transposed copy of a
 * tied embedding (the unembedding), the packed copy XNNPACK makes of every matrix a matmul reads,
 * and one embedding-sized block left over from loading. GPT-2 small: 1,240 MiB (measured: 1,242).
 */
export function wasmBytesNeeded(c: GPTConfig): number {
  const embedding = c.vocabSize * c.dModel;
  const matrices = c.nLayers * (4 * c.dModel * c.dModel + 2 * c.dModel * c.dMlp) + embedding;
  return 4 * (gptParameterCount(c) + (c.tiedEmbeddings ? embedding : 0) + matrices + embedding);
}

/**
 * The WASM heap is 32-bit: 4 GiB at most, and an allocation past it fails without an error
 * (measured here: malloc returns 0 and the tensor is written over the start of the heap, over
 * other tensors; or the process aborts). Keep the model to 3.5 GiB so activations have room.
 */
const WASM_MODEL_BUDGET = 3.5 * 2 ** 30;

/** One tensor of the file: its full name, the shape config.json implies (and why), and where its values go. */
interface PlannedTensor {
  name: string;
  shape: number[];
  why: string;
  /** The token embedding and the LM head: the large ones, loaded last. */
  embedding: boolean;
  fill: (values: Float32Array, put: (weight: string, values: Float32Array) => void) => void;
}

/** Every tensor a GPT-2 language model of this config has, mapped to the GPT's weights. */
function weightPlan(config: GPTConfig, files: WeightFiles, dir: string): PlannedTensor[] {
  const prefix = files.has('transformer.wte.weight') ? 'transformer.' : '';
  if (!files.has(`${prefix}wte.weight`)) {
    throw new WeightsError(`${dir}: no token embedding; expected "transformer.wte.weight" or "wte.weight" in the weights. Present: ${files.names.slice(0, 8).join(', ')}${files.names.length > 8 ? ', ...' : ''}.`);
  }
  const { vocabSize: v, contextLength: n, dModel: d, nLayers, dMlp } = config;
  const plan: PlannedTensor[] = [];
  const copy = (hf: string, ours: string, shape: number[], why: string, embedding = false) =>
    plan.push({ name: prefix + hf, shape, why, embedding, fill: (values, put) => put(ours, values) });
  const ln = (hf: string, ours: string) => {
    copy(`${hf}.weight`, `${ours}.w`, [d], 'n_embd');
    copy(`${hf}.bias`, `${ours}.b`, [d], 'n_embd');
  };
  copy('wte.weight', 'embed.W_E', [v, d], 'vocab_size x n_embd', true); // [vocab, d_model]
  copy('wpe.weight', 'pos_embed.W_pos', [n, d], 'n_positions x n_embd'); // [context, d_model]
  for (let i = 0; i < nLayers; i++) {
    const hf = `h.${i}`;
    const ours = `blocks.${i}`;
    ln(`${hf}.ln_1`, `${ours}.ln1`);
    // c_attn [d_model, 3 d_model] holds Q | K | V side by side: three [d_model, d_model] matrices.
    plan.push({ name: `${prefix}${hf}.attn.c_attn.weight`, shape: [d, 3 * d], why: 'n_embd x 3 n_embd', embedding: false,
      fill: (qkv, put) => ['Q', 'K', 'V'].forEach((part, j) => put(`${ours}.attn.W_${part}`, columns(qkv, d, 3 * d, j * d, d))) }); // [d_model, d_model] each
    plan.push({ name: `${prefix}${hf}.attn.c_attn.bias`, shape: [3 * d], why: '3 n_embd', embedding: false,
      fill: (bias, put) => ['Q', 'K', 'V'].forEach((part, j) => put(`${ours}.attn.b_${part}`, bias.slice(j * d, (j + 1) * d))) }); // [d_model] each
    copy(`${hf}.attn.c_proj.weight`, `${ours}.attn.W_O`, [d, d], 'n_embd x n_embd'); // [d_model, d_model]
    copy(`${hf}.attn.c_proj.bias`, `${ours}.attn.b_O`, [d], 'n_embd');
    ln(`${hf}.ln_2`, `${ours}.ln2`);
    copy(`${hf}.mlp.c_fc.weight`, `${ours}.mlp.W_in`, [d, dMlp], 'n_embd x n_inner'); // [d_model, d_mlp]
    copy(`${hf}.mlp.c_fc.bias`, `${ours}.mlp.b_in`, [dMlp], 'n_inner');
    copy(`${hf}.mlp.c_proj.weight`, `${ours}.mlp.W_out`, [dMlp, d], 'n_inner x n_embd'); // [d_mlp, d_model]
    copy(`${hf}.mlp.c_proj.bias`, `${ours}.mlp.b_out`, [d], 'n_embd');
  }
  ln('ln_f', 'ln_final');
  if (!config.tiedEmbeddings) {
    // lm_head is a torch Linear, stored [out, in]: transposed into W_U [d_model, vocab].
    plan.push({ name: 'lm_head.weight', shape: [v, d], why: 'vocab_size x n_embd, tie_word_embeddings false', embedding: true,
      fill: (values, put) => put('unembed.W_U', transposed(values, v, d)) });
  }
  return plan;
}

export interface LoadGPT2Options {
  /** The model's name (default: the directory's name). */
  name?: string;
}

/**
 * Load a Hugging Face GPT-2 directory (the user's own files) as a GPT with every hook point and
 * GPT-2's tokenizer (offline). Keys may carry the `transformer.` prefix (GPT2LMHeadModel) or not
 * (GPT2Model); the attention-mask buffers of old checkpoints are skipped. Float16 and bfloat16
 * weights are widened to float32. Errors name the file, the tensor and the shape config.json implies.
 */
export function loadGPT2(dir: string, options: LoadGPT2Options = {}): GPT {
  const source = path.join(dir, 'config.json');
  const config = gpt2ConfigFromHF(readHFGPT2Config(dir), source);
  if (tf.getBackend() === 'wasm' && wasmBytesNeeded(config) > WASM_MODEL_BUDGET) {
    const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
    throw new WeightsError(
      `${source}: this GPT-2 (${(gptParameterCount(config) / 1e6).toFixed(0)} M parameters) needs about ${gib(wasmBytesNeeded(config))} GiB of memory on the WASM backend, ` +
        `which addresses at most 4 GiB (${gib(WASM_MODEL_BUDGET)} GiB for the model). gpt2 and gpt2-medium fit; for larger ones install @tensorflow/tfjs-node (the native backend).`,
    );
  }
  const files = new WeightFiles(dir);
  let model: GPT | null = null;
  try {
    const plan = weightPlan(config, files, dir);
    // Every tensor's presence and shape, from the headers alone: a mismatch fails before anything is allocated.
    for (const { name, shape, why } of plan) {
      const found = files.shapeOf(name);
      if (!found) throw new WeightsError(`${dir}: missing tensor "${name}" (expected shape [${shape}]: ${why}).`);
      if (found.join(',') !== shape.join(',')) throw new WeightsError(`${files.fileOf(name)}: tensor "${name}" has shape [${found}], expected [${shape}] (${why} in config.json).`);
    }
    const planned = new Set(plan.map((p) => p.name));
    if (config.tiedEmbeddings) planned.add('lm_head.weight'); // tied: transformers makes lm_head share wte, whatever the file holds
    const unexpected = files.names.filter((name) => !planned.has(name) && !IGNORED.test(name));
    if (unexpected.length) {
      throw new WeightsError(`${dir}: ${unexpected.length} tensor(s) that a GPT-2 language model with n_layer ${config.nLayers} does not have: ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', ...' : ''} (does config.json match the weights?).`);
    }

    model = new GPT(config, options.name ?? path.basename(path.resolve(dir)), null); // zeros: every weight is filled below
    const target = model;
    const put = (weight: string, values: Float32Array) => {
      const variable = target.weights[weight];
      const tensor: Tensor = floatTensor(values, variable.shape); // [same as the variable]
      variable.assign(tensor);
      tensor.dispose(); // the variable holds the data now
    };
    // The embeddings last: the big zero blocks they free are then still whole when the first
    // forward allocates the transposed embedding (WASM memory grows but never shrinks).
    const order = [...plan.filter((p) => !p.embedding), ...plan.filter((p) => p.embedding)];
    for (const { name, shape, why, fill } of order) fill(checkedValues(files.read(name), name, shape, files.fileOf(name), `${why} in config.json`), put);
    return model;
  } catch (err) {
    model?.dispose();
    throw err;
  } finally {
    files.close();
  }
}
