/**
 * End to end in real JupyterLab: start JupyterLab from the project's .venv (free localhost port,
 * a token, root_dir = notebooks/), open the first lesson in headless Chromium (the one from
 * test/helpers/browser.ts: CHROMIUM_PATH, Debian chromium or npm @sparticuz/chromium, through playwright-core), run all cells from the Run menu on the
 * "TypeScript (Inference Lab)" kernel of THIS checkout, and check that the step-through chart
 * rendered as a Vega view with no error output. A screenshot goes to test-artifacts/jupyterlab.png.
 * Then, in cells added to the open notebook: a progress bar updates in place (one output in its
 * final state; screenshot test-artifacts/jupyterlab-progress.png), and Kernel > Interrupt Kernel
 * stops `while (true) {}` (the kernelspec's interrupt_mode "message": an interrupt_request on
 * control, through the Jupyter server) with the variables kept.
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
import { createRequire } from 'module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './helpers/browser';
import { kernelspecEnv, ROOT } from './helpers/jupyter';

/** The project's .venv JupyterLab, else one on PATH (as `npm start` picks it). */
const { findJupyter } = createRequire(import.meta.url)(path.join(ROOT, 'dist', 'kernel', 'install.js')) as {
  findJupyter: () => { jupyter: string | null };
};
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
  const jupyter = findJupyter().jupyter;
  if (!jupyter) throw new Error('JupyterLab is missing: run `node dist/scripts/setup.js` (creates .venv with JupyterLab)');
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
  lab = spawn(jupyter, args, { env, cwd: path.dirname(NOTEBOOK), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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
  context = await launchBrowser(path.join(tmp, 'chromium-profile'), { width: 1400, height: 1000 });
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
      // Every code cell now lacks an execution count, so "none pending" below means all ran.
      await waitFor((s) => s.pending === s.codeCells, 30_000, 'the outputs to be cleared');
      await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click();
      await page.locator('.lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }).click();
      const t0 = Date.now();
      const done = await waitFor((s) => s.pending === 0 && s.status === 'idle', RUN_TIMEOUT_MS, 'all cells to run');
      console.log(`[jupyterlab] ran ${done.codeCells} code cells in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      // No error output anywhere, and nothing on stderr (JupyterLab draws both with the stderr
      // renderer, so the outputs are read from the notebook model).
      const bad = await page.evaluate(() =>
        ((window as any).jupyterapp.shell.currentWidget.content.widgets as any[]).flatMap((cell, i) =>
          (cell.model.outputs?.toJSON() ?? [])
            .filter((o: any) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr'))
            .map((o: any) => `cell ${i}: ${o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : o.text}`),
        ),
      );
      expect(bad, 'error or stderr outputs').toEqual([]);

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

  /** Add a code cell at the end of the open notebook with `source` and run it; returns its index. */
  const runNewCell = (source: string) =>
    page.evaluate((code: string) => {
      const app = (window as any).jupyterapp;
      const notebook = app.shell.currentWidget.content;
      notebook.activeCellIndex = notebook.widgets.length - 1;
      app.commands.execute('notebook:insert-cell-below');
      notebook.activeCell.model.sharedModel.setSource(code);
      app.commands.execute('notebook:run-cell');
      return notebook.widgets.indexOf(notebook.activeCell) as number;
    }, source);
  /** A cell as JupyterLab's model has it: execution count (null while running) and outputs. */
  const cellState = (index: number) =>
    page.evaluate((i: number) => {
      const cell = (window as any).jupyterapp.shell.currentWidget.content.widgets[i];
      const outputs = cell.model.outputs.toJSON() as any[];
      return {
        executionCount: cell.model.executionCount as number | null,
        running: /\*/.test(cell.promptNode?.textContent ?? ''),
        outputs: outputs.map((o) => ({
          type: o.output_type as string,
          text: String(o.output_type === 'stream' ? o.text : o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : (o.data?.['text/plain'] ?? '')),
        })),
      };
    }, index);
  const finished = (index: number) =>
    expect.poll(async () => {
      const c = await cellState(index);
      return c.executionCount !== null && !c.running;
    }, { timeout: 60_000 }).toBe(true);

  it('updates a progress bar in place (one output, in its final state)', async () => {
    const cell = await runNewCell(
      "const bar = lab.progressBar(40, 'steps');\n" +
        'for (let i = 0; i < 40; i++) {\n  await new Promise((r) => setTimeout(r, 25));\n  bar.tick(1, `loss ${(1 / (i + 1)).toFixed(3)}`);\n}\n' +
        "bar.done('finished');",
    );
    await finished(cell);
    const { outputs } = await cellState(cell);
    // Each tick was an update_display_data of the same display id: had they been new
    // display_data messages there would be dozens of outputs; had JupyterLab not applied them,
    // the text would still say 0/40.
    expect(outputs.map((o) => o.type)).toEqual(['display_data']);
    expect(outputs[0].text).toMatch(/^steps \[#{30}\] 40\/40 [\d.]+s {2}finished$/);
    const shown = page.locator('.jp-Notebook .jp-Cell').nth(cell).locator('.jp-OutputArea-output');
    expect(await shown.allInnerTexts()).toEqual([outputs[0].text]);
    await shown.first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(path.dirname(SCREENSHOT), 'jupyterlab-progress.png') });
  }, 120_000);

  it('interrupts `while (true) {}` from the Kernel menu and keeps the variables', async () => {
    const before = await runNewCell("const keptAcrossInterrupt = 'still here';");
    await finished(before);
    const loop = await runNewCell("console.log('looping');\nwhile (true) {}");
    // Running: its first line is out (the socket thread publishes it while the loop holds the
    // kernel's main thread).
    await expect.poll(async () => (await cellState(loop)).outputs.map((o) => o.text).join(''), { timeout: 60_000 }).toContain('looping');
    await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Kernel$/ }).click();
    await page.locator('.lm-Menu-itemLabel', { hasText: /^Interrupt Kernel$/ }).click();
    await finished(loop);
    expect((await cellState(loop)).outputs).toEqual([
      { type: 'stream', text: 'looping\n' },
      { type: 'error', text: 'KeyboardInterrupt: Execution interrupted' },
    ]);
    const after = await runNewCell('keptAcrossInterrupt');
    await finished(after);
    expect((await cellState(after)).outputs).toEqual([{ type: 'execute_result', text: "'still here'" }]);
  }, 180_000);
});
