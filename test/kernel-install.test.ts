/**
 * The kernelspec the installer writes (kernel/install.ts), into a temporary JUPYTER_DATA_DIR:
 * what Jupyter reads from it, and that an older spec (interrupt_mode "signal") counts as stale so
 * `inference-lab lab` rewrites it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRequire } from 'module';
import { spawnSync } from 'child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/jupyter';
import { PNG } from 'pngjs';

const install = createRequire(import.meta.url)(path.join(ROOT, 'dist', 'kernel', 'install.js')) as typeof import('../kernel/install');

let dataDir = '';
const saved = process.env.JUPYTER_DATA_DIR;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-lab-kernelspec-'));
  process.env.JUPYTER_DATA_DIR = dataDir;
});
afterEach(() => {
  if (saved === undefined) delete process.env.JUPYTER_DATA_DIR;
  else process.env.JUPYTER_DATA_DIR = saved;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('kernelspec', () => {
  it('installs kernel.json with this checkout\'s entry point and interrupt_mode "message"', async () => {
    expect(install.kernelStatus()).toMatchObject({ installed: false, current: false });
    const dir = await install.installKernel();
    expect(dir).toBe(path.join(dataDir, 'kernels', 'inference-lab'));
    const spec = JSON.parse(fs.readFileSync(path.join(dir, 'kernel.json'), 'utf8'));
    expect(spec).toMatchObject({
      argv: [process.execPath, path.join(ROOT, 'dist', 'kernel', 'main.js'), '--connection-file', '{connection_file}'],
      display_name: 'TypeScript (Inference Lab)',
      language: 'typescript',
      interrupt_mode: 'message',
    });
    for (const size of [32, 64]) {
      const logo = PNG.sync.read(fs.readFileSync(path.join(dir, `logo-${size}x${size}.png`))); // Jupyter's sizes, decodable
      expect([logo.width, logo.height]).toEqual([size, size]);
    }
    expect(fs.readFileSync(path.join(dir, 'logo-svg.svg'), 'utf8')).toMatch(/^<svg [^>]*viewBox="0 0 64 64"/);
    expect(install.kernelStatus()).toMatchObject({ installed: true, current: true });
  });

  it('calls a spec from before interrupt_mode "message" stale', async () => {
    const dir = await install.installKernel();
    const file = path.join(dir, 'kernel.json');
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), interrupt_mode: 'signal' }));
    expect(install.kernelStatus()).toMatchObject({ installed: true, current: false });
  });
});

describe('a second clone and the user kernelspec (issue 17 item 11)', () => {
  const otherClone = () => {
    const main = path.join(dataDir, 'other-clone', 'dist', 'kernel', 'main.js');
    fs.mkdirSync(path.dirname(main), { recursive: true });
    fs.writeFileSync(main, '// another checkout\'s kernel');
    return main;
  };
  const pointAt = (dir: string, entry: string) => {
    const file = path.join(dir, 'kernel.json');
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), argv: [process.execPath, entry, '--connection-file', '{connection_file}'] }));
  };
  const entryOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'kernel.json'), 'utf8')).argv[1];
  const mine = path.join(ROOT, 'dist', 'kernel', 'main.js');

  it('keeps a spec that runs another clone which still exists, and says how to switch', async () => {
    const dir = await install.installKernel();
    const other = otherClone();
    pointAt(dir, other);
    const r = await install.installUserKernel();
    expect(r).toMatchObject({ action: 'kept', previous: other });
    expect(r.message).toMatch(/another clone .*still exists.*inference-lab kernel install --force/);
    expect(entryOf(dir)).toBe(other); // untouched
    expect(install.kernelStatus()).toMatchObject({ entry: other, entryExists: true });
  });

  it('--force switches it; a spec whose clone is gone is replaced and says so; its own is updated', async () => {
    const dir = await install.installKernel();
    const other = otherClone();
    pointAt(dir, other);
    expect(await install.installUserKernel({ force: true })).toMatchObject({ action: 'switched', previous: other });
    expect(entryOf(dir)).toBe(mine);
    pointAt(dir, '/gone/clone/dist/kernel/main.js');
    expect(install.kernelStatus()).toMatchObject({ entry: '/gone/clone/dist/kernel/main.js', entryExists: false });
    const r = await install.installUserKernel();
    expect(r).toMatchObject({ action: 'replaced', previous: '/gone/clone/dist/kernel/main.js' });
    expect(r.message).toMatch(/which is gone: it now runs this clone/);
    expect(entryOf(dir)).toBe(mine);
    expect((await install.installUserKernel()).action).toBe('updated');
  });

  it('`inference-lab kernel status` says where the kernel points and that the clone is gone', async () => {
    const dir = await install.installKernel();
    pointAt(dir, '/gone/clone/dist/kernel/main.js');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'kernel', 'status'], { env: { ...process.env, JUPYTER_DATA_DIR: dataDir }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/runs: \/gone\/clone\/dist\/kernel\/main\.js \(MISSING: that clone is gone; run: inference-lab kernel install\)/);
  });
});

describe('kernelspec in the project venv', () => {
  it("is what the venv's Jupyter starts, even when the user's spec points at another (deleted) clone", async () => {
    const python = path.join(ROOT, '.venv', 'bin', 'python');
    expect(fs.existsSync(python), 'the project .venv (made by npm install) is missing').toBe(true);
    // What scripts/setup.ts writes at install (idempotent); the user's spec (temp JUPYTER_DATA_DIR) is stale.
    const venvDir = await install.installKernel(install.venvKernelDir());
    expect(venvDir).toBe(path.join(ROOT, '.venv', 'share', 'jupyter', 'kernels', 'inference-lab'));
    const userDir = await install.installKernel();
    const stale = { ...JSON.parse(fs.readFileSync(path.join(userDir, 'kernel.json'), 'utf8')), argv: ['/usr/bin/node', '/gone/clone/dist/kernel/main.js', '--connection-file', '{connection_file}'] };
    fs.writeFileSync(path.join(userDir, 'kernel.json'), JSON.stringify(stale));
    const env: NodeJS.ProcessEnv = { ...process.env, JUPYTER_DATA_DIR: dataDir };
    delete env.JUPYTER_PATH;
    const r = spawnSync(python, ['-m', 'jupyter', 'kernelspec', 'list', '--json'], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const found = JSON.parse(r.stdout).kernelspecs['inference-lab'];
    expect(found.resource_dir).toBe(venvDir);
    expect(found.spec.argv[1]).toBe(path.join(ROOT, 'dist', 'kernel', 'main.js'));
  });
});
