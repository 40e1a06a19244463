// Where the package's own files are: the repository root and its assets/ (shipped models and data).
import * as fs from 'fs';
import * as path from 'path';

/** The repository root: the nearest ancestor with this package's package.json. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'inference-lab') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the inference-lab package root above ${__dirname}.`);
    dir = parent;
  }
}

export function assetsDir(): string {
  return path.join(packageRoot(), 'assets');
}
