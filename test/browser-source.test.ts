// The browser tests' Chromium comes from CHROMIUM_PATH, Debian, or the npm package
// @sparticuz/chromium. The npm one is tested here even where Debian's is installed, so a
// machine without Debian's chromium is known to work.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBrowser, launchBrowser, npmChromium } from './helpers/browser';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'browser-source-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('browser for the browser tests', () => {
  it('falls back to the npm Chromium when there is no CHROMIUM_PATH and no Debian chromium', () => {
    const saved = process.env.CHROMIUM_PATH;
    delete process.env.CHROMIUM_PATH;
    try {
      const b = findBrowser(path.join(tmp, 'no-such-chromium'));
      expect(b.source).toBe('npm');
      expect(b.executablePath).toMatch(/node_modules[\\/]\.cache[\\/]sparticuz-chromium[\\/]/);
      expect(fs.statSync(b.executablePath).size).toBeGreaterThan(50 * 2 ** 20);
      // its flags that would weaken the CSP / mixed-content checks are not passed on
      expect(b.args).not.toContain('--disable-web-security');
      expect(b.args).toContain('--no-zygote');
    } finally {
      if (saved !== undefined) process.env.CHROMIUM_PATH = saved;
    }
  });

  it('CHROMIUM_PATH wins, and a wrong one is an error that names it', () => {
    const saved = process.env.CHROMIUM_PATH;
    try {
      process.env.CHROMIUM_PATH = path.join(tmp, 'missing');
      expect(() => findBrowser()).toThrow(/CHROMIUM_PATH=.*missing does not exist/);
      process.env.CHROMIUM_PATH = process.execPath; // any existing file
      expect(findBrowser()).toMatchObject({ source: 'CHROMIUM_PATH', executablePath: process.execPath });
    } finally {
      if (saved === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = saved;
    }
  });

  it("the npm Chromium runs a page's JavaScript and lays out text with the DejaVu fonts from npm", async () => {
    const context = await launchBrowser(path.join(tmp, 'profile'), { width: 400, height: 200 }, npmChromium());
    try {
      const page = await context.newPage();
      await page.setContent('<p id="t" style="font: 20px sans-serif">Inference Lab</p><script>document.title = String(6 * 7)</script>');
      expect(await page.title()).toBe('42');
      const width = await page.locator('#t').evaluate((el) => { const r = document.createRange(); r.selectNodeContents(el); return r.getBoundingClientRect().width; });
      expect(width).toBeGreaterThan(100); // 13 glyphs at 20 px: real glyphs, not zero-width boxes
      expect(context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent))).toMatch(/\d+\.\d+/);
    } finally {
      await context.close();
    }
  });
});
