/**
 * The browser for browser tests, one place for all of them: $CHROMIUM_PATH when set, else
 * Debian's `chromium`, driven through playwright-core. (A fuller version that falls back to the
 * Chromium of the npm package @sparticuz/chromium replaces this file; callers keep calling
 * launchBrowser.)
 */
import * as fs from 'fs';
import { chromium, type BrowserContext } from 'playwright-core';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A headless browser context with its profile in `userDataDir`. */
export async function launchBrowser(userDataDir: string, viewport: { width: number; height: number }): Promise<BrowserContext> {
  const executablePath = process.env.CHROMIUM_PATH ?? DEBIAN_CHROMIUM;
  if (!fs.existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath}: install it (apt-get install chromium) or set CHROMIUM_PATH.`);
  return chromium.launchPersistentContext(userDataDir, { executablePath, headless: true, viewport, args: ARGS });
}
