// Reading and writing the safetensors format (Hugging Face): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian bytes.
// Every failure names the file, the tensor and what was expected.
import * as fs from 'fs';
import { tf, type Tensor } from '../engine/tf';

type Dtype = 'F32' | 'F16' | 'I32' | 'I8' | 'U8' | 'I64';
const BYTES: Record<Dtype, number> = { F32: 4, F16: 2, I32: 4, I8: 1, U8: 1, I64: 8 };

export interface TensorEntry {
  dtype: Dtype;
  shape: number[];
  /** Values widened to a JS typed array: F32/F16 -> Float32Array, ints -> Int32Array / Uint8Array. */
  data: Float32Array | Int32Array | Uint8Array | Int8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

export class WeightsError extends Error {
  override name = 'WeightsError';
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Parse safetensors bytes; `source` names the file in error messages. */
export function parseSafetensors(bytes: Uint8Array, source = 'weights'): SafetensorsFile {
  if (bytes.length < 8) throw new WeightsError(`${source}: ${bytes.length} bytes is too short for a safetensors file (expected an 8-byte header length first).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > bytes.length) {
    throw new WeightsError(`${source}: header length ${headerLen} does not fit in a ${bytes.length}-byte file (truncated or not safetensors).`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLen)).toString('utf8'));
  } catch (err) {
    throw new WeightsError(`${source}: the JSON header does not parse (${(err as Error).message}); the file is corrupt.`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const dtype = info.dtype as Dtype;
    if (!(dtype in BYTES)) throw new WeightsError(`${source}: tensor "${name}" has dtype ${info.dtype}; expected one of ${Object.keys(BYTES).join(', ')}.`);
    const [begin, end] = info.data_offsets;
    const count = info.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype]) {
      throw new WeightsError(`${source}: tensor "${name}" [${info.shape}] ${dtype} needs ${count * BYTES[dtype]} bytes, header gives ${end - begin}.`);
    }
    if (end > dataLen) throw new WeightsError(`${source}: tensor "${name}" ends at byte ${end} but the data section has ${dataLen} bytes (file truncated).`);
    const slice = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end)); // a copy, so typed-array views start aligned (Buffer.slice would share the pool)
    const dv = new DataView(slice.buffer);
    let data: TensorEntry['data'];
    switch (dtype) {
      case 'F32':
        data = new Float32Array(slice.buffer);
        break;
      case 'F16':
        data = Float32Array.from({ length: count }, (_, i) => halfToFloat(dv.getUint16(2 * i, true)));
        break;
      case 'I32':
        data = new Int32Array(slice.buffer);
        break;
      case 'I64':
        data = Int32Array.from({ length: count }, (_, i) => Number(dv.getBigInt64(8 * i, true)));
        break;
      case 'I8':
        data = new Int8Array(slice.buffer);
        break;
      case 'U8':
        data = slice;
        break;
    }
    tensors.set(name, { dtype, shape: info.shape, data });
  }
  return { tensors, metadata };
}

export function readSafetensors(file: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new WeightsError(`Cannot read weights file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
  return parseSafetensors(bytes, file);
}

/** Serialise float32 tensors (sorted by name, as the reference implementation does). */
export function serializeSafetensors(named: Record<string, Tensor>, metadata: Record<string, string> = {}): Buffer {
  const names = Object.keys(named).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const values = named[name].dataSync() as Float32Array;
    const buf = Buffer.from(Float32Array.from(values).buffer);
    header[name] = { dtype: 'F32', shape: named[name].shape, data_offsets: [offset, offset + buf.length] };
    chunks.push(buf);
    offset += buf.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // pad so the data section is 8-byte aligned
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...chunks]);
}

/**
 * Take the tensor `name` from a parsed file as a float32 tf.Tensor, checking its shape.
 * A missing tensor or a wrong shape is an error naming both.
 */
export function takeTensor(file: SafetensorsFile, name: string, expectedShape: number[], source = 'weights'): Tensor {
  const entry = file.tensors.get(name);
  if (!entry) {
    throw new WeightsError(`${source}: missing tensor "${name}" (expected shape [${expectedShape}]). Present: ${[...file.tensors.keys()].join(', ')}.`);
  }
  if (entry.shape.join(',') !== expectedShape.join(',')) {
    throw new WeightsError(`${source}: tensor "${name}" has shape [${entry.shape}], expected [${expectedShape}].`);
  }
  for (let i = 0; i < entry.data.length; i++) {
    if (!Number.isFinite(entry.data[i])) throw new WeightsError(`${source}: tensor "${name}" contains a non-finite value at index ${i}.`);
  }
  return tf.tensor(Float32Array.from(entry.data), expectedShape, 'float32');
}
