// Where the optional native backend (tfjs-node or tfjs-node-gpu, built by `npm run setup:native`)
// lives and how it is loaded. The build goes into the project folder `.native/` (gitignored), not
// into node_modules: `npm install` leaves it alone, and the WASM backend never depends on it.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { packageRoot } from '../io/paths';

export type NativeVariant = 'cpu' | 'gpu';

/** The npm package each variant builds. */
export const NATIVE_PACKAGE: Record<NativeVariant, string> = {
  cpu: '@tensorflow/tfjs-node',
  gpu: '@tensorflow/tfjs-node-gpu',
};

/** What `setup:native` records in `.native/build.json` after a build that passed its smoke test. */
export interface NativeBuild {
  variant: NativeVariant;
  package: string;
  /** tfjs-node's version, equal to the project's tfjs-core. */
  version: string;
  /** TensorFlow's C library the addon was compiled against, e.g. "2.12.1". */
  tensorflow: string;
  /** The PyPI wheel the library came from. */
  wheel: string;
  /** Node's ABI the addon was compiled for (process.versions.modules). */
  nodeAbi: string;
  builtAt: string;
}

/** `.native/` in the project root. */
export function nativeDir(): string {
  return process.env.INFERENCE_LAB_NATIVE_DIR ?? path.join(packageRoot(), '.native');
}

/** The build record, or null when no build finished here. */
export function nativeBuild(): NativeBuild | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(nativeDir(), 'build.json'), 'utf8')) as NativeBuild;
  } catch {
    return null;
  }
}

/** The folder of a native package inside `.native/`, or null when it is not built there. */
export function nativePackageDir(pkg: string): string | null {
  const dir = path.join(nativeDir(), 'node_modules', ...pkg.split('/'));
  return fs.existsSync(path.join(dir, 'package.json')) ? dir : null;
}

/** Where the CUDA/cuDNN wheels' libraries go for the gpu variant (`.native/cuda/nvidia/<x>/lib`). */
export function cudaLibDirs(): string[] {
  const root = path.join(nativeDir(), 'cuda', 'nvidia');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .map((d) => path.join(root, d, 'lib'))
    .filter((d) => fs.existsSync(d));
}

/**
 * Load the CUDA libraries from the PyPI wheels into this process before TensorFlow looks for
 * them. TensorFlow 2.12 dlopen()s "libcudart.so.11.0" and friends by name, which only finds them
 * on LD_LIBRARY_PATH as it was when the process started; a library already loaded under that
 * soname is found instead. process.dlopen() of a plain library fails ("did not self-register")
 * and Node then closes it again, unless it was opened with RTLD_NODELETE: so it stays, global.
 * Returns how many libraries stayed loaded.
 */
export function preloadCuda(): number {
  const { RTLD_NOW, RTLD_GLOBAL, RTLD_NODELETE } = os.constants.dlopen as Record<string, number>;
  if (RTLD_NODELETE === undefined) return 0;
  const files = cudaLibDirs().flatMap((d) =>
    fs
      .readdirSync(d)
      .filter((f) => /\.so(\.\d+)*$/.test(f))
      .map((f) => path.join(d, f)),
  );
  const loaded = new Set<string>();
  // Libraries depend on each other (cuDNN on cuBLAS...): retry until a pass loads nothing new.
  for (let progress = true; progress; ) {
    progress = false;
    for (const file of files) {
      if (loaded.has(file)) continue;
      try {
        process.dlopen({ exports: {} } as NodeJS.Module, file, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
        loaded.add(file);
        progress = true;
      } catch (err) {
        // "Module did not self-register" means the library loaded (and stays, NODELETE)
        if (/self-register|not a valid|Module did not/i.test(String((err as Error).message))) {
          loaded.add(file);
          progress = true;
        }
      }
    }
  }
  return loaded.size;
}

/**
 * Require a native package: from `.native/` when built there (its own copies of tfjs were removed
 * at build time, so it resolves the project's tfjs-core and registers into the same engine), else
 * from the usual node_modules (a user who installed it themselves).
 */
export function loadNativePackage(pkg: string): unknown {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2'; // TensorFlow's info lines on stderr, once per process
  const dir = nativePackageDir(pkg);
  if (dir && pkg === NATIVE_PACKAGE.gpu) preloadCuda();
  return require(dir ?? pkg);
}
