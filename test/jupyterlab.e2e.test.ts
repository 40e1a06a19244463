/**
 * End to end in real JupyterLab: start JupyterLab from the project's .venv (free localhost port,
 * a token, root_dir = notebooks/), open the first lesson in headless Chromium (Debian's
 * /usr/bin/chromium through playwright-core), run all cells from the Run menu on the
 * "TypeScript (Inference Lab)" kernel of THIS checkout, and check that the step-through chart
 * rendered as a Vega view with no error output. A screenshot goes to test-artifacts/jupyterlab.png.
 *
 * The notebook is never saved: autosave is off in a throw-away settings dir, and the server is
 * shut down through its REST API at the end. Fails loudly (no skip) when Chromium or the venv
 * is missing. INFERENCE_LAB_E2E_NOTEBOOK=<path> runs another notebook (any directory).
 */
import { spawn, type ChildProcess } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { kernelspecEnv, ROOT } from './helpers/jupyter';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const JUPYTER = path.join(ROOT, '.venv', 'bin', 'jupyter');
const NOTEBOOK = process.env.INFERENCE_LAB_E2E_NOTEBOOK ?? path.join(ROOT, 'notebooks', '01-the-inference-process.ipynb');
const SCREENSHOT = path.join(ROOT, 'test-artifacts', 'jupyterlab.png');
const RUN_TIMEOUT_MS = 8 * 60_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Settings that keep the run hermetic: no autosave (the lesson file is never rewritten), no news/update checks, every cell in the DOM. */
function writeLabSettings(dir: string): void {
  const put = (plugin: string, file: string, value: unknown) => {
    fs.mkdirSync(path.join(dir, plugin), { recursive: true });
    fs.writeFileSync(path.join(dir, plugin, file), JSON.stringify(value));
  };
  put('@jupyterlab/docmanager-extension', 'plugin.jupyterlab-settings', { autosave: false });
  put('@jupyterlab/apputils-extension', 'notification.jupyterlab-settings', { fetchNews: 'false', checkForUpdates: false });
  put('@jupyterlab/notebook-extension', 'tracker.jupyterlab-settings', { windowingMode: 'none' });
}

let lab: ChildProcess | null = null;
let labLog = '';
let baseUrl = '';
let token = '';
let context: BrowserContext | null = null;
let page: Page;
let tmp = '';

interface RunState {
  kernel: string | null;
  status: string | null;
  codeCells: number;
  pending: number;
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  if (!fs.existsSync(JUPYTER)) throw new Error(`${JUPYTER} is missing: run \`node dist/scripts/setup.js\` (creates .venv with JupyterLab)`);
  if (!fs.existsSync(NOTEBOOK)) throw new Error(`${NOTEBOOK} is missing`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-lab-e2e-'));
  writeLabSettings(path.join(tmp, 'settings'));
  const env = {
    ...kernelspecEnv(), // JUPYTER_PATH -> this checkout's dist/kernel/main.js
    JUPYTER_CONFIG_DIR: path.join(tmp, 'config'),
    JUPYTER_RUNTIME_DIR: path.join(tmp, 'runtime'),
    JUPYTER_DATA_DIR: path.join(tmp, 'data'),
  };
  const port = await freePort();
  token = randomBytes(16).toString('hex');
  baseUrl = `http://127.0.0.1:${port}`;
  const args = [
    'lab',
    '--no-browser',
    `--port=${port}`,
    '--ServerApp.ip=127.0.0.1',
    '--ServerApp.port_retries=0',
    `--ServerApp.token=${token}`,
    `--ServerApp.root_dir=${path.dirname(NOTEBOOK)}`,
    `--LabApp.user_settings_dir=${path.join(tmp, 'settings')}`,
    `--LabApp.workspaces_dir=${path.join(tmp, 'workspaces')}`,
    '--LabApp.expose_app_in_browser=True',
  ];
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--allow-root');
  lab = spawn(JUPYTER, args, { env, cwd: path.dirname(NOTEBOOK), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  lab.stdout!.on('data', (d) => (labLog += d));
  lab.stderr!.on('data', (d) => (labLog += d));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (lab.exitCode !== null) throw new Error(`JupyterLab exited (${lab.exitCode}):\n${labLog.slice(-3000)}`);
    try {
      const r = await fetch(`${baseUrl}/api/status`, { headers: { Authorization: `token ${token}` } });
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`JupyterLab did not answer on ${baseUrl} within 90 s:\n${labLog.slice(-3000)}`);
    await sleep(500);
  }
  context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 180_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  if (lab && lab.exitCode === null) {
    // Shut down kernels and the server cleanly; then make sure the whole process group is gone.
    await fetch(`${baseUrl}/api/shutdown`, { method: 'POST', headers: { Authorization: `token ${token}` } }).catch(() => {});
    for (let i = 0; i < 40 && lab.exitCode === null; i++) await sleep(250);
    if (lab.exitCode === null) {
      try {
        process.kill(-lab.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describe('JupyterLab (real server, headless Chromium)', () => {
  it(
    `runs ${path.basename(NOTEBOOK)} on the Inference Lab kernel and renders its charts as Vega views`,
    async () => {
      const name = encodeURIComponent(path.basename(NOTEBOOK));
      await page.goto(`${baseUrl}/lab/tree/${name}?token=${token}`, { waitUntil: 'domcontentloaded' });
      // The notebook is open and its kernel (from the notebook's kernelspec metadata) is idle.
      const state = () =>
        page.evaluate((): RunState => {
          const app = (window as any).jupyterapp;
          const panel = app?.shell?.currentWidget;
          const kernel = panel?.sessionContext?.session?.kernel;
          const cells = (panel?.content?.widgets ?? []).filter((c: any) => c.model.type === 'code');
          return {
            kernel: kernel?.name ?? null,
            status: kernel?.status ?? null,
            codeCells: cells.length,
            pending: cells.filter((c: any) => c.model.executionCount === null || /\*/.test(c.promptNode?.textContent ?? '')).length,
          };
        });
      const waitFor = async (ok: (s: RunState) => boolean, ms: number, what: string) => {
        const deadline = Date.now() + ms;
        let s: RunState | null = null;
        while (Date.now() < deadline) {
          s = await state().catch(() => null);
          if (s && ok(s)) return s;
          await sleep(500);
        }
        await page.screenshot({ path: SCREENSHOT }).catch(() => {});
        throw new Error(`timed out waiting for ${what}; last state ${JSON.stringify(s)}\n${labLog.slice(-3000)}`);
      };
      await waitFor((s) => s.kernel === 'inference-lab' && s.status === 'idle' && s.codeCells > 0, 120_000, 'the kernel to be idle');

      // Before running: the stored outputs of an untrusted notebook (never `jupyter trust`ed
      // here). JupyterLab renders Vega-Lite for untrusted outputs too, and PNG is "safe" anyway;
      // SVG is not shown untrusted. Either way every stored chart must show as something.
      const storedCharts = await page.evaluate(() => {
        const panel = (window as any).jupyterapp.shell.currentWidget;
        const outs = Array.from(panel.node.querySelectorAll('.jp-OutputArea-output')) as Element[];
        return {
          trusted: Boolean(panel.context?.model?.cells && panel.content.widgets.every((c: any) => c.model.trusted)),
          vega: outs.filter((o) => o.querySelector('.vega-embed')).length,
          png: outs.filter((o) => o.querySelector('img')).length,
        };
      });
      console.log(`[jupyterlab] stored outputs before running: ${JSON.stringify(storedCharts)}`);

      // Start from a clean slate (so "executed" means executed now), then Run > Run All Cells.
      await page.evaluate(() => (window as any).jupyterapp.commands.execute('notebook:clear-all-cell-outputs'));
      await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click();
      await page.locator('.lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }).click();
      const t0 = Date.now();
      await sleep(1000);
      const done = await waitFor((s) => s.pending === 0 && s.status === 'idle', RUN_TIMEOUT_MS, 'all cells to run');
      console.log(`[jupyterlab] ran ${done.codeCells} code cells in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      // No error output anywhere (an `error` message renders as application/vnd.jupyter.error;
      // stderr as application/vnd.jupyter.stderr).
      const errors = await page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]').allInnerTexts();
      const stderr = await page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').allInnerTexts();
      expect(errors, 'error outputs').toEqual([]);
      expect(stderr, 'stderr outputs').toEqual([]);

      // Every chart is a Vega view (Vega-Lite v5 ranks first in JupyterLab), drawn as svg/canvas.
      const views = page.locator('.jp-OutputArea-output .vega-embed');
      await expect.poll(() => views.count(), { timeout: 30_000 }).toBeGreaterThan(0);
      const drawn = page.locator('.jp-OutputArea-output .vega-embed :is(svg, canvas)');
      await expect.poll(() => drawn.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(await views.count());
      const vegaOutputs = await views.count();
      console.log(`[jupyterlab] ${vegaOutputs} Vega views rendered`);

      // The step-through chart: the output of the cell whose source is just `trace`.
      const traceCell = page.locator('.jp-CodeCell').filter({ has: page.locator('.jp-InputArea-editor', { hasText: /^\s*trace\s*$/ }) });
      if (path.basename(NOTEBOOK).startsWith('01-')) {
        await expect.poll(() => traceCell.count()).toBe(1);
        const chart = traceCell.locator('.jp-OutputArea-output .vega-embed :is(svg, canvas)').first();
        await chart.waitFor({ state: 'visible', timeout: 30_000 });
        const box = await chart.boundingBox();
        expect(box!.width).toBeGreaterThan(100);
        expect(box!.height).toBeGreaterThan(50);
        // The step-through works in the page: moving the step slider redraws the view.
        const slider = traceCell.locator('.vega-embed input[type="range"]').first();
        expect(await slider.count(), 'the step slider').toBe(1);
        {
          const title = () => traceCell.locator('.vega-embed').first().innerText();
          const before = await title();
          await slider.evaluate((el: HTMLInputElement) => {
            el.value = String(Math.min(Number(el.max), Number(el.min) + 3));
            el.dispatchEvent(new Event('input', { bubbles: true }));
            el.dispatchEvent(new Event('change', { bubbles: true }));
          });
          await expect.poll(title, { timeout: 10_000 }).not.toBe(before);
          await slider.evaluate((el: HTMLInputElement) => {
            el.value = el.min;
            el.dispatchEvent(new Event('input', { bubbles: true }));
          });
        }
        await traceCell.scrollIntoViewIfNeeded();
        expect(storedCharts.vega + storedCharts.png, 'stored charts shown before running').toBeGreaterThan(0);
      } else {
        await views.first().scrollIntoViewIfNeeded();
      }
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
    },
    RUN_TIMEOUT_MS + 120_000,
  );
});
