// Reading and writing the safetensors format (Hugging Face): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian bytes.
// Every failure names the file, the tensor and what was expected.
//
// Two ways to read: `readSafetensors` / `parseSafetensors` decode a whole file held in memory
// (the small shipped models); `SafetensorsReader` reads the header, then one tensor at a time
// straight from disk, so a 500 MB checkpoint never sits in memory twice (GPT-2 from a user's files).
import * as fs from 'fs';
import { tf, type Tensor } from '../engine/tf';

type Dtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I32' | 'I8' | 'U8' | 'I64' | 'BOOL';
const BYTES: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I8: 1, U8: 1, I64: 8, BOOL: 1 };

export interface TensorEntry {
  dtype: Dtype;
  shape: number[];
  /** Values widened to a JS typed array: F32/F16/BF16/F64 -> Float32Array, ints -> Int32Array / Int8Array / Uint8Array (BOOL too). */
  data: Float32Array | Int32Array | Uint8Array | Int8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** Where a tensor's bytes lie, from the header: offsets relative to the start of the data section. */
export interface TensorLocation {
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
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

/** The header length and the parsed, checked header of a file whose data section has `dataLen` bytes. */
function parseHeader(headerBytes: Uint8Array, dataLen: number, source: string): { locations: Map<string, TensorLocation>; metadata: Record<string, string> } {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(headerBytes.buffer, headerBytes.byteOffset, headerBytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new WeightsError(`${source}: the JSON header does not parse (${(err as Error).message}); the file is corrupt.`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new WeightsError(`${source}: the header is not a JSON object; the file is corrupt.`);
  const locations = new Map<string, TensorLocation>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const isCount = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
    if (typeof info !== 'object' || info === null || !Array.isArray(info.shape) || !info.shape.every(isCount) || !Array.isArray(info.data_offsets) || info.data_offsets.length !== 2 || !info.data_offsets.every(isCount)) {
      throw new WeightsError(`${source}: tensor "${name}" has a malformed header entry ${JSON.stringify(raw)}; expected {"dtype", "shape": [..], "data_offsets": [begin, end]} (the file is corrupt).`);
    }
    const dtype = info.dtype as Dtype;
    if (!(typeof dtype === 'string' && dtype in BYTES)) throw new WeightsError(`${source}: tensor "${name}" has dtype ${String(info.dtype)}; expected one of ${Object.keys(BYTES).join(', ')}.`);
    const shape = info.shape as number[];
    const [begin, end] = info.data_offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype]) {
      throw new WeightsError(`${source}: tensor "${name}" [${shape}] ${dtype} needs ${count * BYTES[dtype]} bytes, header gives ${end - begin}.`);
    }
    if (end > dataLen) throw new WeightsError(`${source}: tensor "${name}" ends at byte ${end} but the data section has ${dataLen} bytes (file truncated).`);
    locations.set(name, { dtype, shape, begin, end });
  }
  // Two tensors sharing bytes means corrupt offsets (the format stores each tensor once).
  const ordered = [...locations.entries()].filter(([, l]) => l.end > l.begin).sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i][1].begin < ordered[i - 1][1].end) {
      throw new WeightsError(`${source}: tensors "${ordered[i - 1][0]}" and "${ordered[i][0]}" overlap in the data section (bytes ${ordered[i][1].begin}..${ordered[i - 1][1].end}); the header is corrupt.`);
    }
  }
  return { locations, metadata };
}

/** The header length from the first 8 bytes, checked against the file size. */
function headerLength(first8: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8) throw new WeightsError(`${source}: ${fileSize} bytes is too short for a safetensors file (expected an 8-byte header length first).`);
  const headerLen = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > fileSize) {
    throw new WeightsError(`${source}: header length ${headerLen} does not fit in a ${fileSize}-byte file (truncated or not safetensors).`);
  }
  return headerLen;
}

/**
 * Decode a tensor's raw bytes. Float32/int32/int8/uint8 data whose start is aligned is viewed,
 * not copied; other dtypes are widened into a new array.
 */
function decode(location: TensorLocation, bytes: Uint8Array): TensorEntry['data'] {
  const { dtype } = location;
  const count = bytes.byteLength / BYTES[dtype];
  const aligned = (bytes.byteOffset % BYTES[dtype]) === 0;
  const own = aligned ? bytes : new Uint8Array(bytes); // a copy only when a typed view could not start here
  const dv = new DataView(own.buffer, own.byteOffset, own.byteLength);
  switch (dtype) {
    case 'F32':
      return new Float32Array(own.buffer, own.byteOffset, count);
    case 'F16':
      return Float32Array.from({ length: count }, (_, i) => halfToFloat(dv.getUint16(2 * i, true)));
    case 'BF16': {
      // bfloat16 is the top half of a float32: shift it back into place.
      const widened = new Uint32Array(count);
      for (let i = 0; i < count; i++) widened[i] = dv.getUint16(2 * i, true) << 16;
      return new Float32Array(widened.buffer);
    }
    case 'F64':
      return Float32Array.from({ length: count }, (_, i) => dv.getFloat64(8 * i, true));
    case 'I32':
      return new Int32Array(own.buffer, own.byteOffset, count);
    case 'I64':
      return Int32Array.from({ length: count }, (_, i) => Number(dv.getBigInt64(8 * i, true)));
    case 'I8':
      return new Int8Array(own.buffer, own.byteOffset, count);
    case 'U8':
    case 'BOOL':
      return own;
  }
}

/** Parse safetensors bytes; `source` names the file in error messages. Tensors view `bytes` where they can. */
export function parseSafetensors(bytes: Uint8Array, source = 'weights'): SafetensorsFile {
  const headerLen = headerLength(bytes.subarray(0, 8), bytes.length, source);
  const dataStart = 8 + headerLen;
  const { locations, metadata } = parseHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, source);
  const tensors = new Map<string, TensorEntry>();
  for (const [name, location] of locations) {
    const data = decode(location, bytes.subarray(dataStart + location.begin, dataStart + location.end));
    tensors.set(name, { dtype: location.dtype, shape: location.shape, data });
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

/**
 * A safetensors file opened for reading tensor by tensor: the header is read and checked at once
 * (a truncated file or corrupt header fails here, before anything is loaded); each `read` then
 * reads just that tensor's bytes. Call `close()` (also after a failure).
 */
export class SafetensorsReader {
  readonly locations: Map<string, TensorLocation>;
  readonly metadata: Record<string, string>;
  private fd: number | null;
  private readonly dataStart: number;

  constructor(readonly file: string) {
    try {
      this.fd = fs.openSync(file, 'r');
    } catch (err) {
      throw new WeightsError(`Cannot read weights file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
    }
    try {
      const size = fs.fstatSync(this.fd).size;
      const headerLen = headerLength(this.readBytes(0, Math.min(8, size)), size, file);
      this.dataStart = 8 + headerLen;
      ({ locations: this.locations, metadata: this.metadata } = parseHeader(this.readBytes(8, headerLen), size - this.dataStart, file));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  get names(): string[] {
    return [...this.locations.keys()];
  }

  /** One tensor's values, read from disk into memory of its own. */
  read(name: string): TensorEntry {
    const location = this.locations.get(name);
    if (!location) throw new WeightsError(`${this.file}: no tensor "${name}". Present: ${this.names.join(', ')}.`);
    return { dtype: location.dtype, shape: location.shape, data: decode(location, this.readBytes(this.dataStart + location.begin, location.end - location.begin)) };
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private readBytes(position: number, length: number): Uint8Array {
    if (this.fd === null) throw new WeightsError(`${this.file}: read after close.`);
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, bytes, done, Math.min(length - done, 1 << 30), position + done); // at most 1 GiB per call
      if (n === 0) throw new WeightsError(`${this.file}: the file ended at byte ${position + done} while reading ${length} bytes at ${position} (truncated while being read?).`);
      done += n;
    }
    return bytes;
  }
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
 * A decoded tensor's values as float32, after checking its shape and that every value is finite:
 * a wrong shape or a NaN/Inf is an error naming the tensor. `why` says where the expected shape
 * comes from. Float32 data is returned as is (not copied).
 */
export function checkedValues(entry: TensorEntry, name: string, expectedShape: number[], source = 'weights', why = ''): Float32Array {
  if (entry.shape.join(',') !== expectedShape.join(',')) {
    throw new WeightsError(`${source}: tensor "${name}" has shape [${entry.shape}], expected [${expectedShape}]${why ? ` (${why})` : ''}.`);
  }
  const data = entry.data;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new WeightsError(`${source}: tensor "${name}" contains a non-finite value at index ${i}${entry.dtype === 'F32' ? '' : ` (stored as ${entry.dtype})`}; the file is corrupt or the weights diverged.`);
  }
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/**
 * Float32 values as a tf.Tensor. tf.tensor may keep the array itself (cpu backend): it gets data
 * that owns its memory, never a view that would pin a whole file's buffer.
 */
export function floatTensor(values: Float32Array, shape: number[]): Tensor {
  const ownsBuffer = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
  return tf.tensor(ownsBuffer ? values : values.slice(), shape, 'float32');
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
  return floatTensor(checkedValues(entry, name, expectedShape, source), expectedShape);
}
