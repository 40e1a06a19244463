// Reading a file the user named, safely: only a regular file (never /dev/zero, a FIFO or a
// folder, which would hang or fail obscurely), and never more than a stated size.
import * as fs from 'fs';

/** Raised for a path that is not a regular file, or one larger than allowed. */
export class FileInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileInputError';
  }
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 3 : 0)} MiB`;

/**
 * The size of `file` after checking it is a regular file (symlinks followed) of at most
 * `maxBytes`; `what` names it in the errors ("image", "weight shard").
 */
export function regularFileSize(file: string, maxBytes: number, what: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    throw new FileInputError(`Cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
  if (!stat.isFile()) {
    const kind = stat.isDirectory() ? 'a folder' : stat.isCharacterDevice() || stat.isBlockDevice() ? 'a device' : stat.isFIFO() ? 'a pipe' : stat.isSocket() ? 'a socket' : 'not a regular file';
    throw new FileInputError(`${what} ${file} is ${kind}; expected a regular file.`);
  }
  if (stat.size > maxBytes) throw new FileInputError(`${what} ${file} is ${mib(stat.size)}; at most ${mib(maxBytes)} is read.`);
  return stat.size;
}

/** The bytes of `file`, a regular file of at most `maxBytes` (see regularFileSize). */
export function readRegularFile(file: string, maxBytes: number, what: string): Buffer {
  regularFileSize(file, maxBytes, what);
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new FileInputError(`Cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
}

/** A JSON file parsed, with the file's name in every error (a config that fails to parse says which one). */
export function readJsonFile(file: string, what = 'JSON file', maxBytes = 64 * 2 ** 20): any {
  const text = readRegularFile(file, maxBytes, what).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FileInputError(`${what} ${file} is not valid JSON (${(err as Error).message}).`);
  }
}
