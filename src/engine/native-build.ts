// `npm run setup:native` / `inference-lab backend install cpu|gpu`: build tfjs-node (or
// tfjs-node-gpu) for this project from registry packages only, into `.native/`.
//   1. npm: the package, without its install script (which would download libtensorflow).
//   2. PyPI: TensorFlow's wheel (tensorflow-cpu==2.12.1, or tensorflow==2.12.1 for the GPU build),
//      cached in ~/.cache/inference-lab/wheels; it holds the C library and its headers.
//   3. Stage them where the addon's binding.gyp looks (deps/include, deps/lib) and compile the
//      addon with npm's bundled node-gyp against Node's own headers (no download).
//   4. GPU only: the CUDA 11.8 / cuDNN 8.6 runtime wheels from PyPI into .native/cuda.
//   5. Remove the package's own copies of tfjs so it uses the project's, and smoke-test.
// Needs a C++ compiler, make and Python with pip: requirements of this optional step only.
import { spawnSync, type SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { packageRoot } from '../io/paths';
import { nativeDir, NATIVE_PACKAGE, type NativeBuild, type NativeVariant } from './native';
import { tf } from './tf';
import { initBackend, backendLabel } from './backend';

export const TENSORFLOW_VERSION = '2.12.1';
/** The CUDA runtime TensorFlow 2.12 loads (CUDA 11.8, cuDNN 8.6), as PyPI wheels. */
export const CUDA_WHEELS = [
  'nvidia-cuda-runtime-cu11==11.8.89',
  'nvidia-cublas-cu11==11.11.3.6',
  'nvidia-cufft-cu11==10.9.0.58',
  'nvidia-curand-cu11==10.3.0.86',
  'nvidia-cusolver-cu11==11.4.1.48',
  'nvidia-cusparse-cu11==11.7.5.86',
  'nvidia-cudnn-cu11==8.6.0.163',
];

/** A failure the user can act on, in one line (what is missing, what to install). */
export class NativeSetupError extends Error {}

export interface SetupOptions {
  variant: NativeVariant;
  log?: (line: string) => void;
  /** Wheel cache; default ~/.cache/inference-lab/wheels. */
  cacheDir?: string;
}

function run(cmd: string, args: string[], options: SpawnSyncOptions, what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 2 ** 26, ...options });
  if (r.error) throw new NativeSetupError(`${what}: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.trim().split('\n').filter((l) => /err|fatal|not found|No such/i.test(l)).slice(-3).join(' | ');
    throw new NativeSetupError(`${what} failed (exit ${r.status})${tail ? `: ${tail}` : ''}`);
  }
  return String(r.stdout ?? '');
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** Python with pip (Debian's /usr/bin/python3 may lack pip; a pyenv or venv python has it). */
function pythonWithPip(): string | null {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3', 'python'].filter(Boolean) as string[]) {
    if (spawnSync(py, ['-m', 'pip', '--version'], { encoding: 'utf8' }).status === 0) return py;
  }
  return null;
}

/** npm's own node-gyp (npm bundles it), so no global node-gyp is needed. */
function npmNodeGyp(): string | null {
  const npmCli = process.env.npm_execpath;
  const candidates = [
    npmCli ? path.join(path.dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js') : '',
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const root = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' });
  if (root.status === 0) candidates.push(path.join(root.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => c && fs.existsSync(c)) ?? null;
}

/** Node's prefix when it has its headers (include/node/node_api.h), so node-gyp downloads nothing. */
function nodeHeadersDir(): string | null {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

/** Everything the build needs, checked up front; throws one line naming what is missing. */
export function checkRequirements(variant: NativeVariant): { python: string; nodeGyp: string; nodedir: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new NativeSetupError(`setup:native builds for linux x64 only (this is ${process.platform} ${process.arch}); the WASM backend keeps working.`);
  }
  const missing: string[] = [];
  if (!onPath('c++') && !onPath('g++')) missing.push('a C++ compiler (apt-get install g++)');
  if (!onPath('make')) missing.push('make (apt-get install make)');
  const python = pythonWithPip();
  if (!python) missing.push('Python with pip (apt-get install python3-pip)');
  const nodeGyp = npmNodeGyp();
  if (!nodeGyp) missing.push("npm's bundled node-gyp (reinstall npm)");
  const nodedir = nodeHeadersDir();
  if (!nodedir) missing.push(`Node's headers beside ${process.execPath} (include/node; Debian: apt-get install libnode-dev)`);
  if (missing.length) throw new NativeSetupError(`setup:native (${variant}) needs ${missing.join(', ')}; the WASM backend keeps working.`);
  return { python: python!, nodeGyp: nodeGyp!, nodedir: nodedir! };
}

function projectTfjsVersion(): string {
  const pkg = require.resolve('@tensorflow/tfjs-core/package.json', { paths: [packageRoot()] });
  return JSON.parse(fs.readFileSync(pkg, 'utf8')).version;
}

/** The TensorFlow wheel from PyPI (cached): tensorflow-cpu for the CPU build, tensorflow for GPU. */
function fetchWheel(python: string, variant: NativeVariant, cacheDir: string, log: (l: string) => void): string {
  const name = variant === 'cpu' ? 'tensorflow_cpu' : 'tensorflow';
  const find = () => fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).find((f) => f.startsWith(`${name}-${TENSORFLOW_VERSION}-`) && f.endsWith('.whl')) : undefined;
  let wheel = find();
  if (wheel) {
    log(`wheel: ${wheel} (cached in ${cacheDir})`);
  } else {
    log(`wheel: downloading ${name.replace('_', '-')}==${TENSORFLOW_VERSION} from PyPI (${variant === 'cpu' ? '~230' : '~590'} MB) into ${cacheDir}`);
    fs.mkdirSync(cacheDir, { recursive: true });
    run(python, ['-m', 'pip', 'download', `${name.replace('_', '-')}==${TENSORFLOW_VERSION}`, '--no-deps', '--only-binary=:all:', '--python-version', '3.11', '--platform', 'manylinux2014_x86_64', '-d', cacheDir, '-q'], {}, 'pip download of the TensorFlow wheel');
    wheel = find();
    if (!wheel) throw new NativeSetupError(`pip download finished but no ${name}-${TENSORFLOW_VERSION} wheel is in ${cacheDir}`);
  }
  return path.join(cacheDir, wheel);
}

/** Unpack the C library and headers from the wheel into the package's deps/ folder. */
function stageDeps(python: string, wheel: string, pkgDir: string): void {
  const deps = path.join(pkgDir, 'deps');
  fs.rmSync(deps, { recursive: true, force: true });
  fs.mkdirSync(path.join(deps, 'lib'), { recursive: true });
  const script = `
import sys, zipfile, os, shutil
wheel, deps = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        n = info.filename
        if n.startswith('tensorflow/include/tensorflow/') and not n.endswith('/'):
            dest = os.path.join(deps, 'include', n[len('tensorflow/include/'):])
        elif n in ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'):
            dest = os.path.join(deps, 'lib', os.path.basename(n))
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as out:
            shutil.copyfileobj(src, out, 1 << 20)
`;
  run(python, ['-c', script, wheel, deps], {}, 'unpacking the TensorFlow wheel');
  const lib = path.join(deps, 'lib');
  for (const f of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
    if (!fs.existsSync(path.join(lib, f))) throw new NativeSetupError(`${path.basename(wheel)} has no tensorflow/${f}: not a TensorFlow >= 2.12 Linux wheel`);
  }
  // binding.gyp links -ltensorflow -ltensorflow_framework; install.js looks for libtensorflow.so.2.9.1.
  for (const [link, target] of [
    ['libtensorflow.so', 'libtensorflow_cc.so.2'],
    ['libtensorflow.so.2', 'libtensorflow_cc.so.2'],
    ['libtensorflow.so.2.9.1', 'libtensorflow_cc.so.2'],
    ['libtensorflow_framework.so', 'libtensorflow_framework.so.2'],
  ]) fs.symlinkSync(target, path.join(lib, link));
}

/**
 * Build the variant into `.native/` and record it in `.native/build.json`. The caller smoke-tests
 * it (smokeTestNative in native-smoke.ts) before trusting it.
 */
export function buildNative(options: SetupOptions): NativeBuild {
  const { variant } = options;
  const log = options.log ?? ((l: string) => console.log(l));
  const t0 = Date.now();
  const { python, nodeGyp, nodedir } = checkRequirements(variant);
  const pkg = NATIVE_PACKAGE[variant];
  const version = projectTfjsVersion();
  const dir = nativeDir();
  const cacheDir = options.cacheDir ?? process.env.INFERENCE_LAB_WHEEL_CACHE ?? path.join(os.homedir(), '.cache', 'inference-lab', 'wheels');
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(path.join(dir, 'build.json'), { force: true });
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'inference-lab-native', private: true, description: 'Built by `npm run setup:native`; safe to delete.' }, null, 2) + '\n');
  }
  fs.writeFileSync(path.join(dir, '.gitignore'), '*\n');

  log(`npm: ${pkg}@${version} into ${dir} (its install script, which downloads, is skipped)`);
  run('npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', `${pkg}@${version}`], { cwd: dir }, `npm install ${pkg}@${version}`);
  const pkgDir = path.join(dir, 'node_modules', ...pkg.split('/'));

  const wheel = fetchWheel(python, variant, cacheDir, log);
  log(`staging: TensorFlow ${TENSORFLOW_VERSION} C library and headers into ${path.relative(dir, path.join(pkgDir, 'deps'))}`);
  stageDeps(python, wheel, pkgDir);

  log(`compiling the addon (node-gyp from npm, Node's headers from ${nodedir})`);
  const t1 = Date.now();
  const env = { ...process.env, npm_config_node_gyp: nodeGyp, npm_config_nodedir: nodedir, npm_config_build_from_source: 'true' };
  run(process.execPath, [path.join(dir, 'node_modules', '@mapbox', 'node-pre-gyp', 'bin', 'node-pre-gyp'), 'install', '--build-from-source', `--nodedir=${nodedir}`], { cwd: pkgDir, env }, 'compiling the tfjs-node addon (node-pre-gyp)');
  log(`  compiled in ${((Date.now() - t1) / 1000).toFixed(1)} s`);

  if (variant === 'gpu') {
    // --find-links: CUDA wheels already downloaded into the wheel cache (1.7 GB) are used as they are.
    log(`CUDA runtime: ${CUDA_WHEELS.length} wheels from PyPI (CUDA 11.8, cuDNN 8.6: what TensorFlow ${TENSORFLOW_VERSION} loads) into .native/cuda`);
    run(python, ['-m', 'pip', 'install', '--no-deps', '--only-binary=:all:', '--python-version', '3.11', '--platform', 'manylinux2014_x86_64', '--cache-dir', path.join(cacheDir, 'pip'), '--find-links', cacheDir, '--target', path.join(dir, 'cuda'), '-q', ...CUDA_WHEELS], {}, 'pip install of the CUDA wheels');
  }

  // The project's tfjs must be the one the backend registers into: drop the package's copies so
  // Node resolves @tensorflow/tfjs* from the project's node_modules (the folder above .native).
  const scope = path.join(dir, 'node_modules', '@tensorflow');
  for (const name of fs.readdirSync(scope)) {
    if (name !== pkg.split('/')[1]) fs.rmSync(path.join(scope, name), { recursive: true, force: true });
  }

  const build: NativeBuild = {
    variant,
    package: pkg,
    version,
    tensorflow: TENSORFLOW_VERSION,
    wheel: path.basename(wheel),
    nodeAbi: process.versions.modules,
    builtAt: new Date().toISOString(),
  };
  log(`built ${pkg} ${version} against TensorFlow ${TENSORFLOW_VERSION} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return build;
}

/** Record a build that passed its smoke test (only then does `inference-lab backend` trust it). */
export function recordNativeBuild(build: NativeBuild): void {
  fs.writeFileSync(path.join(nativeDir(), 'build.json'), JSON.stringify(build, null, 2) + '\n');
}

/**
 * Load the fresh build in this process and check it against WASM: backend name, a 256x256 matmul
 * and a 3x3 conv on the same random inputs. Returns the lines to print; throws on a mismatch.
 */
export async function smokeTestNative(): Promise<string[]> {
  const inputs = () => {
    const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
    return {
      a: tf.tensor2d(rand(256 * 256, 1), [256, 256]),
      b: tf.tensor2d(rand(256 * 256, 2), [256, 256]),
      x: tf.tensor4d(rand(2 * 16 * 16 * 8, 3), [2, 16, 16, 8]),
      k: tf.tensor4d(rand(3 * 3 * 8 * 16, 4), [3, 3, 8, 16]),
    };
  };
  const compute = () =>
    tf.tidy(() => {
      const { a, b, x, k } = inputs();
      return [tf.matMul(a, b).dataSync().slice(), tf.conv2d(x, k, 1, 'same').dataSync().slice()] as Float32Array[];
    });
  const name = await initBackend({ prefer: 'tensorflow', force: true });
  if (name !== 'tensorflow') throw new NativeSetupError(`smoke test: the backend is ${name}, not tensorflow`);
  const label = backendLabel();
  const [mNative, cNative] = compute();
  await initBackend({ prefer: 'wasm', force: true });
  const [mWasm, cWasm] = compute();
  const maxDiff = (p: Float32Array, q: Float32Array) => p.reduce((m, v, i) => Math.max(m, Math.abs(v - q[i])), 0);
  const dm = maxDiff(mNative, mWasm);
  const dc = maxDiff(cNative, cWasm);
  // float32 sums of 256 (matmul) and 72 (conv) products of magnitude <= 0.25: rounding stays < 1e-3
  if (!(dm < 1e-3 && dc < 1e-3)) throw new NativeSetupError(`smoke test: native and WASM disagree (matmul ${dm.toExponential(1)}, conv ${dc.toExponential(1)})`);
  return [`backend: ${label}`, `smoke test: 256x256 matmul and 3x3 conv agree with WASM (max |diff| ${dm.toExponential(1)}, ${dc.toExponential(1)})`];
}

/** build + smoke test + record, printing what it did; the CLI and `npm run setup:native` call this. */
export async function setupNative(variant: NativeVariant, log: (l: string) => void = (l) => console.log(l)): Promise<NativeBuild> {
  const build = buildNative({ variant, log });
  for (const line of await smokeTestNative()) log(line);
  recordNativeBuild(build);
  log(`recorded in ${path.join(nativeDir(), 'build.json')}; \`inference-lab backend\` now reports it, and every run picks it (INFERENCE_LAB_BACKEND=wasm forces WASM)`);
  return build;
}
