// TensorFlow.js models on disk without tfjs-node: a tf.io handler that reads (and writes) the
// converter's layout, model.json + binary weight shards in the same folder. tfjs only ships
// file:// handlers inside tfjs-node, which cannot be installed here.
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../engine/tf';
import { readRegularFile, regularFileSize } from './read-file';

/** What a model.json holds: `layers-model` (Keras topology) or `graph-model` (TensorFlow GraphDef). */
export type TfjsFormat = 'layers-model' | 'graph-model';

/** Bytes per stored value, by the dtype the shard holds (a quantized weight stores its quantization dtype). */
const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, int8: 1, int16: 2 };

/** `model.json` itself when given a folder; the path unchanged when given the file. */
export function modelJsonPath(fileOrDir: string): string {
  const stat = fs.statSync(fileOrDir, { throwIfNoEntry: false });
  if (!stat) throw new Error(`No TensorFlow.js model at ${fileOrDir}: expected a model.json file or a folder that contains one.`);
  if (!stat.isDirectory()) return fileOrDir;
  const inside = path.join(fileOrDir, 'model.json');
  if (!fs.existsSync(inside)) {
    const jsons = fs.readdirSync(fileOrDir).filter((f) => f.endsWith('.json'));
    throw new Error(`No model.json in ${fileOrDir}.${jsons.length ? ` JSON files there: ${jsons.join(', ')}; pass the model's file itself.` : ''}`);
  }
  return inside;
}

/** Which kind of model a parsed model.json describes; a clear error for anything else. */
export function detectFormat(json: unknown, file: string): TfjsFormat {
  if (Array.isArray(json)) {
    throw new Error(
      `${file} is a weights manifest only (a JSON array of weight groups, as face-api.js ships): it has no model topology. ` +
        'Expected a TensorFlow.js model.json with "modelTopology" and "weightsManifest".',
    );
  }
  const m = json as { format?: unknown; modelTopology?: Record<string, unknown>; weightsManifest?: unknown };
  if (typeof m !== 'object' || m === null || typeof m.modelTopology !== 'object' || m.modelTopology === null) {
    throw new Error(`${file} has no "modelTopology" object: not a TensorFlow.js model.json (expected "modelTopology" and "weightsManifest").`);
  }
  if (!Array.isArray(m.weightsManifest)) throw new Error(`${file} has no "weightsManifest" array: expected the list of weight shards and their tensors.`);
  const topology = m.modelTopology;
  // Older converters leave out "format"; the topology itself tells the kind apart.
  const looksGraph = Array.isArray(topology.node);
  const looksLayers = 'class_name' in topology || 'model_config' in topology;
  const format = m.format ?? (looksGraph ? 'graph-model' : looksLayers ? 'layers-model' : undefined);
  if (format === 'graph-model' && looksGraph) return 'graph-model';
  if (format === 'layers-model' && looksLayers) return 'layers-model';
  throw new Error(
    `${file}: unknown model format ${JSON.stringify(m.format ?? null)} with a topology of keys [${Object.keys(topology).slice(0, 6).join(', ')}]. ` +
      'Expected "layers-model" (topology with class_name/config, from tf.LayersModel.save or tensorflowjs_converter --output_format=tfjs_layers_model) ' +
      'or "graph-model" (topology with a node list, from tensorflowjs_converter --output_format=tfjs_graph_model).',
  );
}

/** Read and parse model.json, naming the file in every error. */
export function readModelJson(file: string): tf.io.ModelJSON {
  const text = readRegularFile(file, 256 * 2 ** 20, 'model file').toString('utf8'); // a regular file: never /dev/zero
  try {
    return JSON.parse(text) as tf.io.ModelJSON;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); expected a TensorFlow.js model.json.`);
  }
}

/** The most bytes of weight shards one model may list (all shards together). */
export const MAX_WEIGHT_BYTES = 4 * 2 ** 30;

/**
 * `shard` (a path from a weights manifest) resolved inside `dir`, the model's folder: an absolute
 * path, a `..` that climbs out, or a link that leads out is refused (a model.json must not make
 * the loader read ../SECRET.bin or /dev/zero).
 */
function shardPath(dir: string, shard: unknown, file: string): string {
  if (typeof shard !== 'string' || shard === '' || shard.includes('\0')) throw new Error(`${file}: a weight shard path is ${JSON.stringify(shard)}; expected a file name next to model.json.`);
  const root = fs.realpathSync(dir);
  const full = path.resolve(root, shard);
  const inside = (p: string) => p === root || p.startsWith(root + path.sep);
  if (path.isAbsolute(shard) || !inside(full)) throw new Error(`${file}: weight shard "${shard}" is outside the model's folder ${root}; shards must be files inside it.`);
  if (!fs.existsSync(full)) {
    throw new Error(`Missing weight shard "${shard}" of ${file}: model.json lists it, but ${full} does not exist. Copy every shard next to model.json.`);
  }
  if (!inside(fs.realpathSync(full))) throw new Error(`${file}: weight shard "${shard}" is a link that leads outside the model's folder ${root}.`);
  return full;
}

/** The first float32 weight (not quantized) holding NaN or Infinity, with its index; null when all are finite. */
function nonFiniteWeight(specs: tf.io.WeightsManifestEntry[], data: ArrayBuffer): { name: string; index: number } | null {
  let offset = 0;
  for (const w of specs) {
    const count = w.shape.reduce((a, b) => a * b, 1);
    const stored = w.quantization?.dtype ?? w.dtype;
    const bytes = count * (STORED_BYTES[stored] ?? 4);
    if (stored === 'float32' && offset % 4 === 0 && offset + bytes <= data.byteLength) {
      const values = new Float32Array(data, offset, count);
      for (let i = 0; i < count; i++) if (!Number.isFinite(values[i])) return { name: w.name, index: i };
    }
    offset += bytes;
  }
  return null;
}

/**
 * Concatenate a manifest's shards: each a regular file inside the model's folder, together
 * exactly the bytes the listed tensors need, and every float32 weight finite.
 */
function readShards(dir: string, manifest: tf.io.WeightsManifestConfig, file: string): [tf.io.WeightsManifestEntry[], ArrayBuffer] {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  let expected = 0;
  let exact = true; // string weights have no fixed size
  const files: string[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const w of group.weights) {
      const stored = w.quantization?.dtype ?? w.dtype;
      if (stored === 'string') exact = false;
      expected += (w.shape.reduce((a, b) => a * b, 1) || (w.shape.length ? 0 : 1)) * (STORED_BYTES[stored] ?? 4);
    }
    for (const shard of group.paths) files.push(shardPath(dir, shard, file));
  }
  // Sizes first (regular files only: a device or a FIFO would be read for ever), then the bytes.
  let total = 0;
  for (const f of files) total += regularFileSize(f, MAX_WEIGHT_BYTES, 'weight shard');
  if (total > MAX_WEIGHT_BYTES) throw new Error(`Weight shards of ${file} hold ${total} bytes; at most ${MAX_WEIGHT_BYTES} are read.`);
  if (total < expected) {
    throw new Error(`Weight shards of ${file} hold ${total} bytes, but its weightsManifest lists tensors needing ${expected}: a shard is truncated or from another model.`);
  }
  if (exact && total > expected) {
    throw new Error(`Weight shards of ${file} hold ${total} bytes, but its weightsManifest lists tensors needing only ${expected}: a shard is from another model, or the manifest is cut.`);
  }
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  }
  const data = tf.io.concatenateArrayBuffers(buffers);
  const bad = nonFiniteWeight(specs, data);
  if (bad) throw new Error(`${file}: weight "${bad.name}" holds a non-finite value (NaN or Infinity) at index ${bad.index}; the model would answer NaN. Refusing to load it.`);
  return [specs, data];
}

/**
 * A tf.io handler for a model.json (or a folder holding one) and its shards. `load` reads the
 * artifacts; `save` writes model.json + weights.bin into the folder (for tf.LayersModel.save).
 */
export function fileIOHandler(fileOrDir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const file = modelJsonPath(fileOrDir);
      const json = readModelJson(file);
      detectFormat(json, file);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => readShards(path.dirname(file), manifest, file));
    },
    save: async (artifacts) => {
      const dir = fileOrDir.endsWith('.json') ? path.dirname(fileOrDir) : fileOrDir;
      const jsonFile = fileOrDir.endsWith('.json') ? fileOrDir : path.join(dir, 'model.json');
      fs.mkdirSync(dir, { recursive: true });
      const weightsFile = 'weights.bin';
      const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const manifest: tf.io.WeightsManifestConfig = [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }];
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: manifest,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.signature ? { signature: artifacts.signature } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      fs.writeFileSync(path.join(dir, weightsFile), Buffer.from(data));
      fs.writeFileSync(jsonFile, JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}
