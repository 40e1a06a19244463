// Backend choice: a native TensorFlow binding when the user has one installed, else WASM (SIMD,
// shipped inside the npm package), else the pure-JS cpu backend.
import { tf } from './tf';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as path from 'path';
import { guardAllocations } from './tfjs-internals';
import * as fs from 'fs';
import { spawnSync } from 'child_process';
import { loadNativePackage, nativeBuild, nativeDir, nativePackageDir } from './native';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** How a candidate backend is loaded; injectable so a test can fake the native import. */
export type ModuleLoader = (moduleName: string) => unknown;

/** Native packages tried in order; both register a backend named "tensorflow" when imported. */
export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let chosen: Promise<BackendName> | null = null;

/** Silence tfjs's "install tfjs-node" banner: the choice below is deliberate. */
function quietPlatformBanner(): void {
  tf.env().set('PROD', true); // also skips debug-only checks
}

/** Why the native backend did not load, per package (for `inference-lab backend`). */
const nativeFailures = new Map<string, string>();
/** The native package that loaded, if one did. */
let nativeLoaded: string | null = null;
/** Whether initBackend tried the native packages at all (a forced wasm/cpu does not). */
let nativeTried = false;

function tryNative(load: ModuleLoader): string | null {
  nativeFailures.clear();
  nativeTried = true;
  for (const name of NATIVE_PACKAGES) {
    try {
      load(name);
      nativeLoaded = name;
      return name;
    } catch (err) {
      // not installed (the usual case): fall through to the next candidate
      nativeFailures.set(name, String((err as Error)?.message ?? err).split('\n')[0]);
    }
  }
  return null;
}

async function activate(name: BackendName): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Pick and activate the best backend once. `prefer` forces one (e.g. 'cpu' for a comparison);
 * the environment variable INFERENCE_LAB_BACKEND does the same from outside.
 */
export async function initBackend(
  options: { prefer?: BackendName; load?: ModuleLoader; force?: boolean } = {},
): Promise<BackendName> {
  if (chosen && !options.force && !options.prefer) return chosen;
  chosen = (async () => {
    quietPlatformBanner();
    const load = options.load ?? loadNativePackage;
    const prefer = options.prefer ?? (process.env.INFERENCE_LAB_BACKEND as BackendName | undefined);
    const order: BackendName[] = prefer ? [prefer] : ['tensorflow', 'wasm', 'cpu'];
    for (const name of order) {
      if (name === 'tensorflow' && !tryNative(load)) {
        if (prefer === 'tensorflow') {
          // Forced (INFERENCE_LAB_BACKEND=tensorflow, npm run test:native): never fall back silently.
          throw new Error(`The native backend was asked for but did not load: ${nativeStatus().summary}`);
        }
        continue;
      }
      if (name === 'wasm') {
        // Point the loader at the .wasm files inside the npm package (no network).
        const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
        setWasmPaths(path.join(dir, 'dist') + path.sep);
      }
      if (await activate(name)) {
        guardAllocations(name); // refuse allocations past the heap's real limit (tfjs-internals.ts)
        return name;
      }
    }
    throw new Error(
      `No TensorFlow.js backend could start (tried ${order.join(', ')}). ` +
        `Expected at least the WASM backend from @tensorflow/tfjs-backend-wasm.`,
    );
  })();
  return chosen;
}

/** The backend running now ('tensorflow' means tfjs-node or tfjs-node-gpu). */
export function backend(): string {
  return tf.getBackend();
}

export interface BackendInfo {
  /** tfjs's name for it: 'tensorflow' (tfjs-node or -node-gpu), 'wasm' or 'cpu'. */
  name: string;
  /** The npm package that provides it, e.g. "@tensorflow/tfjs-node". */
  package: string;
  /** That package's version. */
  version: string;
  /** TensorFlow's C library version (native only), e.g. "2.12.1". */
  tensorflow: string | null;
  /** "CPU" or the GPU's name ("GPU: NVIDIA H100 ..."). */
  device: string;
}

function packageVersion(pkg: string, from?: string): string {
  try {
    const file = from ? path.join(from, 'package.json') : require.resolve(`${pkg}/package.json`);
    return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

let gpuName: string | null | undefined;
function firstGpuName(): string | null {
  if (gpuName === undefined) {
    const r = spawnSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000 });
    gpuName = r.status === 0 ? r.stdout.trim().split('\n')[0] || null : null;
  }
  return gpuName;
}

/** The backend running now, as package, TensorFlow version and device. */
export function backendInfo(): BackendInfo {
  const name = tf.getBackend();
  if (name === 'tensorflow') {
    const pkg = nativeLoaded ?? 'tensorflow (unknown package)';
    const dir = nativePackageDir(pkg);
    // tfjs-node's backend object exposes its binding: TF_Version and whether TF placed ops on a GPU.
    const be = tf.backend() as unknown as { binding?: { TF_Version?: string }; isUsingGpuDevice?: boolean };
    const onGpu = be.isUsingGpuDevice === true;
    return {
      name,
      package: pkg,
      version: packageVersion(pkg, dir ?? undefined),
      tensorflow: be.binding?.TF_Version ?? null,
      device: onGpu ? `GPU${firstGpuName() ? `: ${firstGpuName()}` : ''}` : 'CPU',
    };
  }
  const pkg = name === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : name === 'cpu' ? '@tensorflow/tfjs-backend-cpu' : `tfjs backend ${name}`;
  return { name, package: pkg, version: packageVersion(pkg), tensorflow: null, device: 'CPU' };
}

/**
 * One label for the backend, for summaries and headers: "wasm" and "cpu" as tfjs names them, the
 * native one in full, e.g. "tensorflow: @tensorflow/tfjs-node 4.22.0, TensorFlow 2.12.1, CPU".
 */
export function backendLabel(): string {
  const info = backendInfo();
  if (info.name !== 'tensorflow') return info.name;
  return `tensorflow: ${info.package} ${info.version}, TensorFlow ${info.tensorflow ?? '?'}, ${info.device}`;
}

/** Whether a native build is here and why it does or does not load, for `inference-lab backend`. */
export function nativeStatus(): { built: boolean; loaded: boolean; summary: string } {
  const build = nativeBuild();
  const restore = 'run `npm run setup:native` (or `inference-lab backend install cpu`; `gpu` for tfjs-node-gpu)';
  if (nativeLoaded) return { built: build !== null, loaded: true, summary: `${nativeLoaded} loaded` };
  if (!build) {
    return { built: false, loaded: false, summary: `no native build in ${nativeDir()}; to build one, ${restore}` };
  }
  const why = nativeFailures.get(build.package);
  if (!nativeTried) {
    return { built: true, loaded: false, summary: `${build.package} ${build.version} (TensorFlow ${build.tensorflow}) is built in ${nativeDir()} but not in use: INFERENCE_LAB_BACKEND=${process.env.INFERENCE_LAB_BACKEND ?? '?'} chose another backend` };
  }
  if (build.nodeAbi !== process.versions.modules) {
    return { built: true, loaded: false, summary: `the native build in ${nativeDir()} was compiled for another Node (ABI ${build.nodeAbi}, this is ${process.versions.modules}); ${restore} again` };
  }
  if (!nativePackageDir(build.package)) {
    return { built: true, loaded: false, summary: `${build.package} is missing from ${nativeDir()} (deleted?); ${restore} again` };
  }
  return { built: true, loaded: false, summary: `${build.package} in ${nativeDir()} did not load${why ? ` (${why})` : ''}; ${restore} again` };
}
