/**
 * The browser for browser tests, one place for all of them, driven through playwright-core:
 *   1. $CHROMIUM_PATH when set;
 *   2. else Debian's `chromium` (/usr/bin/chromium) when installed;
 *   3. else the Chromium inside the npm package @sparticuz/chromium (a devDependency), unpacked
 *      once into node_modules/.cache/ (about 210 MB; no network).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { chromium, type BrowserContext } from 'playwright-core';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** @sparticuz/chromium's own flags that would weaken what the tests check (CSP, mixed content), or that playwright sets itself. */
const NPM_ARGS_DROPPED = /^--(disable-web-security|allow-running-insecure-content|disable-site-isolation-trials|headless)/;

export interface BrowserSource {
  executablePath: string;
  source: 'CHROMIUM_PATH' | 'debian' | 'npm';
  /** Extra flags and environment that executable needs. */
  args: string[];
  env?: Record<string, string>;
}

/** Unpack @sparticuz/chromium into `cacheDir` (once; atomically, so an interrupted unpack is redone). */
export function npmChromium(cacheDir: string = path.join(ROOT, 'node_modules', '.cache', 'sparticuz-chromium')): BrowserSource {
  const pkgDir = path.dirname(fs.realpathSync(path.join(ROOT, 'node_modules', '@sparticuz', 'chromium', 'package.json')));
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version as string;
  const dir = path.join(cacheDir, version);
  const argsFile = path.join(dir, 'args.json');
  if (!fs.existsSync(argsFile)) {
    // The package unpacks into os.tmpdir(): run it in a child whose TMPDIR is a fresh folder here.
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const script = `import c from '@sparticuz/chromium'; const p = await c.executablePath(); console.log(JSON.stringify({ p, args: c.args }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`@sparticuz/chromium could not unpack its Chromium: ${(r.stderr || r.error?.message || '').slice(-2000)}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { p: string; args: string[] };
    if (path.resolve(out.p) !== path.join(tmp, 'chromium')) throw new Error(`@sparticuz/chromium unpacked to ${out.p}, expected ${path.join(tmp, 'chromium')}`);
    fs.writeFileSync(path.join(tmp, 'args.json'), JSON.stringify(out.args));
    // Chromium finds fonts through fontconfig: point it at the DejaVu files from npm.
    const fontDir = path.join(path.dirname(fs.realpathSync(path.join(ROOT, 'node_modules', 'dejavu-fonts-ttf', 'package.json'))), 'ttf');
    fs.writeFileSync(path.join(tmp, 'fonts.conf'), `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${fontDir}</dir>\n  <cachedir>${path.join(dir, 'fontconfig-cache')}</cachedir>\n</fontconfig>\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  }
  const args = (JSON.parse(fs.readFileSync(argsFile, 'utf8')) as string[]).filter((a) => !NPM_ARGS_DROPPED.test(a));
  // Its SwiftShader libraries sit beside the binary.
  const env = { FONTCONFIG_FILE: path.join(dir, 'fonts.conf'), LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  return { executablePath: path.join(dir, 'chromium'), source: 'npm', args, env };
}

/** Which Chromium the browser tests use (see the file comment for the order). */
export function findBrowser(debianPath: string = DEBIAN_CHROMIUM): BrowserSource {
  if (process.env.CHROMIUM_PATH) {
    if (!fs.existsSync(process.env.CHROMIUM_PATH)) throw new Error(`CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist.`);
    return { executablePath: process.env.CHROMIUM_PATH, source: 'CHROMIUM_PATH', args: [] };
  }
  if (fs.existsSync(debianPath)) return { executablePath: debianPath, source: 'debian', args: [] };
  return npmChromium();
}

/** A headless browser context with its profile in `userDataDir`. */
export async function launchBrowser(userDataDir: string, viewport: { width: number; height: number }, browser: BrowserSource = findBrowser()): Promise<BrowserContext> {
  const args = [...ARGS, ...browser.args.filter((a) => !ARGS.includes(a))];
  const env = browser.env ? { ...(process.env as Record<string, string>), ...browser.env } : undefined;
  return chromium.launchPersistentContext(userDataDir, { executablePath: browser.executablePath, headless: true, viewport, args, env });
}
