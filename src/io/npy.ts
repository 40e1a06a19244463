// NumPy's .npy format (version 1.0-3.0), read strictly: the magic string, a header dict with
// 'descr', 'fortran_order' and 'shape', then the raw values in C order. Only the few dtypes an
// engineer's image or label array has are read (uint8, int32, int64, float32, little-endian);
// anything else is refused in one line naming what was found. No pickles, no object arrays.
import { readRegularFile } from './read-file';

/** A parsed .npy array: its dtype (numpy's descr without the byte-order mark), shape and values. */
export interface NpyArray {
  dtype: 'uint8' | 'int32' | 'int64' | 'float32';
  shape: number[];
  /** The values, converted to numbers (an int64 beyond 2^53 is refused). */
  values: Uint8Array | Int32Array | Float32Array | Float64Array;
}

const MAGIC = '\x93NUMPY';
/** numpy descr -> our dtype and bytes per value ('|u1' and '<u1' both mean one byte). */
const DTYPES: Record<string, [NpyArray['dtype'], number]> = {
  '|u1': ['uint8', 1],
  '<u1': ['uint8', 1],
  '<i4': ['int32', 4],
  '<i8': ['int64', 8],
  '<f4': ['float32', 4],
};

/** Read `file` as a .npy array (at most `maxBytes`); every error names the file and what was expected. */
export function readNpy(file: string, maxBytes = 512 * 2 ** 20): NpyArray {
  const bytes = readRegularFile(file, maxBytes, '.npy');
  const bad = (why: string) => new Error(`${file}: ${why}; expected a NumPy .npy array (np.save) of uint8, int32, int64 or float32, C order.`);
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== MAGIC) throw bad('no .npy magic string');
  const major = bytes[6];
  if (major < 1 || major > 3) throw bad(`unknown .npy version ${major}.${bytes[7]}`);
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > bytes.length) throw bad('the header runs past the end of the file');
  const header = bytes.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLength);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad(`a header without descr, fortran_order and shape (${header.trim().slice(0, 80)})`);
  const kind = DTYPES[descr];
  if (!kind) throw bad(`dtype '${descr}'`);
  if (fortran === 'True') throw bad('Fortran order (save np.ascontiguousarray(x))');
  const shape = shapeText
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
    .map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`shape (${shapeText})`);
  const [dtype, size] = kind;
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLength;
  if (bytes.length - dataStart !== count * size) throw bad(`${bytes.length - dataStart} bytes of values for shape (${shape.join(', ')}) of ${descr}, which needs ${count * size}`);
  const data = bytes.subarray(dataStart); // copied below: a Buffer may share an unaligned pool
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let values: NpyArray['values'];
  if (dtype === 'uint8') values = Uint8Array.from(data);
  else if (dtype === 'int32') values = Int32Array.from({ length: count }, (_, i) => view.getInt32(4 * i, true));
  else if (dtype === 'float32') values = Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
  else {
    values = Float64Array.from({ length: count }, (_, i) => {
      const v = view.getBigInt64(8 * i, true);
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw bad(`an int64 value ${v} beyond 2^53`);
      return Number(v);
    });
  }
  return { dtype, shape, values };
}
