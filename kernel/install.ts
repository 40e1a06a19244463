/**
 * Installing the kernel into Jupyter and finding / provisioning JupyterLab, without Python for
 * the kernelspec part. Used by scripts/setup.ts (npm install) and by the `inference-lab` CLI.
 *
 * The kernelspec goes where `jupyter kernelspec install --user` puts it (and, when the project
 * has its own .venv, also into that venv, whose JupyterLab then prefers it):
 *   $JUPYTER_DATA_DIR/kernels, else
 *   Linux   $XDG_DATA_HOME/jupyter/kernels (default ~/.local/share/jupyter/kernels)
 *   macOS   ~/Library/Jupyter/kernels
 *   Windows %APPDATA%\jupyter\kernels
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import { DISPLAY_NAME, KERNEL_NAME } from './names';

/** Repository / package root (this file runs as dist/kernel/install.js). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
/** The kernel's entry point that Jupyter starts. */
export const KERNEL_MAIN = path.join(__dirname, 'main.js');
/** Python packages put in the project-local venv (pinned: the versions the tests ran against). */
export const JUPYTER_PINS = ['jupyterlab==4.5.0', 'nbclient==0.10.2', 'jupyter_kernel_test==0.7.0'];
/** What the tests need besides: the official ONNX checker (1.19.1: the last with wheels for Python 3.9), and sacreBLEU (the reference BLEU of test/translator.test.ts). */
export const TEST_PINS = ['onnx==1.19.1', 'sacrebleu==2.6.0'];
/** Everything `npm install` puts in the project's .venv, and the module each one is imported as. */
export const VENV_PINS = [...JUPYTER_PINS, ...TEST_PINS];
const VENV_MODULES = ['jupyterlab', 'nbclient', 'jupyter_kernel_test', 'onnx', 'sacrebleu'];

const isWindows = process.platform === 'win32';

/** Jupyter's per-user data directory (jupyter_core's `jupyter_data_dir()`). */
export function jupyterDataDir(): string {
  if (process.env.JUPYTER_DATA_DIR) return process.env.JUPYTER_DATA_DIR;
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Jupyter');
  if (isWindows) return path.join(process.env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'jupyter');
  return path.join(process.env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'jupyter');
}

export function kernelDir(): string {
  return path.join(jupyterDataDir(), 'kernels', KERNEL_NAME);
}

/**
 * The kernelspec inside the project's venv (its sys.prefix). jupyter_core looks in a venv's own
 * share/jupyter before the user's directory, so the venv's JupyterLab always starts THIS
 * checkout's kernel, even when another clone has since registered itself for the user.
 */
export function venvKernelDir(venv: string = VENV_DIR): string {
  return path.join(venv, 'share', 'jupyter', 'kernels', KERNEL_NAME);
}

export function kernelArgv(): string[] {
  return [process.execPath, KERNEL_MAIN, '--connection-file', '{connection_file}'];
}

export function kernelSpec(): Record<string, unknown> {
  return {
    argv: kernelArgv(),
    display_name: DISPLAY_NAME,
    language: 'typescript',
    // "message": clients send interrupt_request on control, which the socket thread serves even while
    // a cell keeps the main thread busy; SIGINT cannot reach a loop that runs after an await.
    interrupt_mode: 'message',
    metadata: { debugger: false },
  };
}

/** Write the kernelspec (kernel.json + logos) unconditionally. Returns the kernelspec directory. */
export async function installKernel(dir: string = kernelDir()): Promise<string> {
  await fs.promises.mkdir(dir, { recursive: true });
  await fs.promises.writeFile(path.join(dir, 'kernel.json'), JSON.stringify(kernelSpec(), null, 2) + '\n');
  for (const file of LOGO_FILES) await fs.promises.copyFile(path.join(LOGO_DIR, file), path.join(dir, file));
  return dir;
}

export interface UserKernelInstall {
  dir: string;
  /**
   * installed: there was none; updated: it was this clone's (rewritten); replaced: it pointed at a
   * clone that is gone; kept: it points at another clone that still exists (not overwritten
   * without `force`); switched: it pointed at another existing clone and `force` took it.
   */
  action: 'installed' | 'updated' | 'replaced' | 'kept' | 'switched';
  /** The kernel entry point the spec named before (null when there was none). */
  previous: string | null;
  /** One line for the user saying what happened and, when kept, how to switch. */
  message: string;
}

/**
 * The user's kernelspec, without taking it from another clone: a second clone must not silently
 * re-point JupyterLab and VS Code at itself (deleting it would leave them a dead kernel). A spec
 * whose clone is gone is replaced; one of another existing clone is kept unless `force`.
 */
export async function installUserKernel(options: { force?: boolean; dir?: string } = {}): Promise<UserKernelInstall> {
  const dir = options.dir ?? kernelDir();
  const before = kernelStatus(dir);
  const previous = before.entry;
  const mine = previous !== null && path.resolve(previous) === KERNEL_MAIN;
  if (before.installed && previous !== null && !mine && before.entryExists && !options.force) {
    return {
      dir,
      action: 'kept',
      previous,
      message: `kept the user kernel "${DISPLAY_NAME}": it runs another clone (${previous}), which still exists. \`inference-lab kernel install --force\` switches it to this one; \`npm start\` here uses this clone's kernel anyway.`,
    };
  }
  await installKernel(dir);
  const action: UserKernelInstall['action'] = !before.installed || previous === null ? 'installed' : mine ? 'updated' : before.entryExists ? 'switched' : 'replaced';
  const message = {
    installed: `installed kernel "${DISPLAY_NAME}" in ${dir}`,
    updated: `updated kernel "${DISPLAY_NAME}" in ${dir}`,
    replaced: `kernel "${DISPLAY_NAME}" in ${dir} pointed at ${previous}, which is gone: it now runs this clone (${KERNEL_MAIN})`,
    switched: `kernel "${DISPLAY_NAME}" in ${dir} switched from ${previous} to this clone (${KERNEL_MAIN})`,
    kept: '',
  }[action];
  return { dir, action, previous, message };
}

/** Remove the kernelspec. Returns false when it was not installed. */
export async function removeKernel(dir: string = kernelDir()): Promise<boolean> {
  if (!fs.existsSync(dir)) return false;
  await fs.promises.rm(dir, { recursive: true, force: true });
  return true;
}

export interface KernelStatus {
  installed: boolean;
  dir: string;
  /** argv of the installed kernel.json (null when not installed or unreadable). */
  argv: string[] | null;
  /** true when the installed argv and interrupt_mode are the ones this copy of the package would write. */
  current: boolean;
  /** The kernel entry point the spec runs (argv[1]), and whether that file still exists. */
  entry: string | null;
  entryExists: boolean;
}

export function kernelStatus(dir: string = kernelDir()): KernelStatus {
  let spec: Record<string, unknown> | null = null;
  try {
    spec = JSON.parse(fs.readFileSync(path.join(dir, 'kernel.json'), 'utf8'));
  } catch {
    spec = null;
  }
  const argv = Array.isArray(spec?.argv) ? (spec!.argv as string[]) : null;
  // A spec from before interrupt_mode "message" is stale too (`inference-lab lab` rewrites it).
  const current = JSON.stringify(argv) === JSON.stringify(kernelArgv()) && spec?.interrupt_mode === kernelSpec().interrupt_mode;
  const entry = argv && typeof argv[1] === 'string' ? argv[1] : null;
  return { installed: argv !== null, dir, argv, current, entry, entryExists: entry !== null && fs.existsSync(entry) };
}

// ---- JupyterLab --------------------------------------------------------------------------

export const VENV_DIR = path.join(PROJECT_ROOT, '.venv');

function venvBin(venv: string, name: string): string {
  return isWindows ? path.join(venv, 'Scripts', name + '.exe') : path.join(venv, 'bin', name);
}

function works(cmd: string, args: string[]): boolean {
  try {
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 60_000 });
    return r.status === 0;
  } catch {
    return false;
  }
}

export interface JupyterLocation {
  /** A python that has jupyter_client (the venv's, or the one next to `jupyter`), or null. */
  python: string | null;
  /** A `jupyter` command on which `jupyter lab` works, or null. */
  jupyter: string | null;
  /** Where it was found. */
  source: 'venv' | 'path' | null;
}

/** Find JupyterLab: the project's .venv first, then `jupyter` on PATH. */
export function findJupyter(venv: string = VENV_DIR): JupyterLocation {
  const vj = venvBin(venv, 'jupyter');
  const vlab = venvBin(venv, 'jupyter-lab');
  if (fs.existsSync(vj) && fs.existsSync(vlab)) return { python: venvBin(venv, 'python'), jupyter: vj, source: 'venv' };
  if (works('jupyter', ['lab', '--version'])) {
    const py = isWindows ? 'python' : 'python3';
    return { python: works(py, ['-c', 'import jupyter_client']) ? py : null, jupyter: 'jupyter', source: 'path' };
  }
  return { python: null, jupyter: null, source: null };
}

/** A Python 3.9+ interpreter to create the venv with, or null. */
export function findSystemPython(): string | null {
  const candidates = isWindows ? ['py', 'python', 'python3'] : ['python3', 'python'];
  for (const c of candidates) {
    const args = c === 'py' ? ['-3', '-c'] : ['-c'];
    if (works(c, [...args, 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 9) else 1)'])) return c;
  }
  return null;
}

export interface EnsureOptions {
  venv?: string;
  /** Progress lines (default: console.log). */
  log?: (line: string) => void;
  /** Create the venv even if a `jupyter lab` is on PATH (npm install's setup always does: the tests need its `onnx`). */
  forceVenv?: boolean;
}

/** The modules of VENV_PINS that the venv's python cannot import. */
export function missingVenvModules(venv: string = VENV_DIR): string[] {
  const vpy = venvBin(venv, 'python');
  if (!fs.existsSync(vpy)) return [...VENV_MODULES];
  return VENV_MODULES.filter((m) => !works(vpy, ['-c', `import ${m}`]));
}

/**
 * Make sure JupyterLab can be started: use one on PATH, or create a project-local venv
 * (.venv) with the pinned packages (VENV_PINS: JupyterLab, nbclient, jupyter_kernel_test and
 * the ONNX checker the tests use). A venv that lacks one of them (made by an older version) gets
 * it. Never installs into the user's own Python.
 * Throws an Error with a readable message when Python (with venv + pip) is missing.
 */
export function ensureJupyterLab(opts: EnsureOptions = {}): JupyterLocation {
  const venv = opts.venv ?? VENV_DIR;
  const log = opts.log ?? ((s: string) => console.log(s));
  const found = findJupyter(venv);
  if (found.source === 'path' && !opts.forceVenv) {
    log(`JupyterLab: using ${found.jupyter} (found on PATH)`);
    return found;
  }
  const vpy = venvBin(venv, 'python');
  if (!fs.existsSync(vpy)) {
    const python = findSystemPython();
    if (!python) {
      throw new Error(
        'JupyterLab is not installed and no Python >= 3.9 (with the venv module) was found. ' +
          'Install Python 3 (e.g. `apt-get install python3 python3-venv`), then run `npm run setup` ' +
          'or `node dist/scripts/setup.js` again.',
      );
    }
    const pyArgs = python === 'py' ? ['-3'] : [];
    log(`JupyterLab: creating a project-local Python environment in ${venv} (with ${python})`);
    const r = spawnSync(python, [...pyArgs, '-m', 'venv', venv], { stdio: 'inherit' });
    if (r.status !== 0) {
      throw new Error(`\`${python} -m venv ${venv}\` failed (on Debian/Ubuntu: apt-get install python3-venv).`);
    }
  }
  const missing = missingVenvModules(venv);
  if (missing.length === 0) {
    const ready = findJupyter(venv);
    log(`JupyterLab: using ${ready.jupyter} (project .venv, with ${VENV_MODULES.join(', ')})`);
    return ready;
  }
  log(`JupyterLab: installing ${VENV_PINS.join(' ')} into ${venv} (missing: ${missing.join(', ')}; about 1-2 minutes the first time)`);
  const r = spawnSync(vpy, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', ...VENV_PINS], { stdio: 'inherit' });
  if (r.status !== 0) {
    throw new Error(`pip install into ${venv} failed (is PyPI reachable?). Remove ${venv} and run setup again.`);
  }
  const done = findJupyter(venv);
  if (done.source !== 'venv') throw new Error(`pip finished but ${venvBin(venv, 'jupyter-lab')} is missing.`);
  const still = missingVenvModules(venv);
  if (still.length > 0) throw new Error(`pip finished but ${venv} still cannot import ${still.join(', ')}.`);
  log(`JupyterLab: ready (${done.jupyter})`);
  return done;
}

/**
 * Start `jupyter lab` on `notebooksDir` with inherited stdio. Installs / refreshes the
 * kernelspec first. Resolves with the exit code.
 */
export async function startLab(notebooksDir: string, extraArgs: string[] = []): Promise<number> {
  if (!kernelStatus().current) await installKernel();
  const where = findJupyter();
  if (!where.jupyter) {
    throw new Error('JupyterLab was not found. Run `node dist/scripts/setup.js` (creates .venv with JupyterLab) or install it yourself.');
  }
  if (where.source === 'venv' && !kernelStatus(venvKernelDir()).current) await installKernel(venvKernelDir());
  const env = { ...process.env };
  if (where.source === 'venv') env.PATH = path.dirname(where.jupyter) + path.delimiter + (env.PATH ?? '');
  const args = ['lab', ...extraArgs];
  // Jupyter refuses to start as root (containers, CI) unless told to.
  if (typeof process.getuid === 'function' && process.getuid() === 0 && !args.includes('--allow-root')) args.push('--allow-root');
  const child = spawn(where.jupyter, args, { cwd: notebooksDir, stdio: 'inherit', env });
  const forward = () => child.kill('SIGINT');
  process.on('SIGINT', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1)));
    });
  } finally {
    process.off('SIGINT', forward);
  }
}

// ---- logo --------------------------------------------------------------------------------

/** The kernel's logos, committed in kernel/logo/ (the PNGs were rasterised once from the SVG with resvg). */
export const LOGO_DIR = path.join(PROJECT_ROOT, 'kernel', 'logo');
export const LOGO_FILES = ['logo-svg.svg', 'logo-64x64.png', 'logo-32x32.png'];

/**
 * Make node_modules/inference-lab point at the project, so notebooks in notebooks/ can
 * `import * as lab from 'inference-lab'` (tslab's type checker does not follow package
 * self-references). npm removes this link whenever it installs another package, so the kernel
 * calls this at every start too. Returns 'created', or what is already there.
 */
export function ensureSelfLink(root: string = PROJECT_ROOT): string {
  const link = path.join(root, 'node_modules', 'inference-lab');
  try {
    const existing = fs.lstatSync(link);
    return existing.isSymbolicLink() ? `-> ${fs.readlinkSync(link)}` : 'not a link';
  } catch {
    // missing: create it below
  }
  fs.mkdirSync(path.dirname(link), { recursive: true });
  if (process.platform === 'win32') fs.symlinkSync(root, link, 'junction');
  else fs.symlinkSync('..', link, 'dir');
  return 'created';
}
