// Turning user-supplied images into raw pixel tensors: PNG files and JSON arrays.
import * as fs from 'fs';
import { PNG } from 'pngjs';
import { tf, type Tensor } from '../engine/tf';
import { readRegularFile } from '../io/read-file';

/** The most bytes readPng reads from one file. */
export const MAX_PNG_FILE_BYTES = 64 * 2 ** 20;

/**
 * Raw pixels `[1, height, width, channels]` (int32, 0..255) from a PNG file. `maxSide` refuses a
 * larger image from its header, before decoding (a 6,800 px PNG decodes to 185 M pixels: seconds
 * and gigabytes); the file must be a regular file of at most MAX_PNG_FILE_BYTES.
 */
export function readPng(file: string, options: { maxSide?: number } = {}): Tensor {
  const bytes = readRegularFile(file, MAX_PNG_FILE_BYTES, 'image');
  const ihdr = bytes.length >= 24 && bytes.toString('latin1', 12, 16) === 'IHDR';
  if (ihdr && options.maxSide !== undefined) {
    const [width, height] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
    if (width > options.maxSide || height > options.maxSide) {
      throw new Error(`${file} is ${width}x${height} pixels; at most ${options.maxSide}x${options.maxSide} is accepted here. Resize it first.`);
    }
  }
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (err) {
    throw new Error(`${file} is not a readable PNG (${(err as Error).message}); expected a PNG image.`);
  }
  // pngjs always decodes to RGBA, 8 bits per channel.
  return tf.tensor4d(Int32Array.from(png.data), [1, png.height, png.width, 4], 'int32');
}

/**
 * Raw pixels `[1, h, w]` or `[1, h, w, ch]` from JSON: a 2-D array `[h][w]` or 3-D `[h][w][ch]`
 * of numbers 0..255, or `{"pixels": <that>}`.
 */
export function pixelsFromJson(value: unknown, source = 'input', options: { maxSide?: number } = {}): Tensor {
  const pixels = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as { pixels?: unknown }).pixels : value;
  const expected = `${source}: expected a JSON array [height][width] (or [height][width][channels]) of numbers 0..255, or {"pixels": ...}`;
  if (!Array.isArray(pixels) || pixels.length === 0 || !Array.isArray(pixels[0])) throw new Error(`${expected}.`);
  const height = pixels.length;
  const width = (pixels[0] as unknown[]).length;
  if (options.maxSide !== undefined && (height > options.maxSide || width > options.maxSide)) {
    throw new Error(`${source}: ${height}x${width} pixels is too large; at most ${options.maxSide}x${options.maxSide} is accepted here.`);
  }
  const is3d = Array.isArray((pixels[0] as unknown[])[0]);
  const channels = is3d ? ((pixels[0] as unknown[][])[0] as unknown[]).length : 1;
  const flat: number[] = [];
  for (const row of pixels as unknown[][]) {
    if (!Array.isArray(row) || row.length !== width) throw new Error(`${expected}; rows have different lengths.`);
    for (const px of row) {
      const values = is3d ? (px as unknown[]) : [px];
      if (!Array.isArray(values) || values.length !== channels) throw new Error(`${expected}; pixels have different channel counts.`);
      for (const v of values) {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 255) {
          throw new Error(`${expected}; found ${JSON.stringify(v)}.`);
        }
        flat.push(v);
      }
    }
  }
  return is3d ? tf.tensor4d(flat, [1, height, width, channels], 'float32') : tf.tensor3d(flat, [1, height, width], 'float32');
}
