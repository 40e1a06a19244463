// Every interactive chart committed in a notebook, drawn in headless Chromium (the browser from
// test/helpers/browser.ts) by Vega 5 + Vega-Lite 5, the versions JupyterLab ships, at the log level
// JupyterLab's renderer uses (warnings): the browser console must stay empty. Reads the committed
// outputs only, so it checks what a learner opening the notebooks sees.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRequire } from 'module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser } from './helpers/browser';

const req = createRequire(__filename);
const VEGA = req.resolve('vega-v5/build/vega.min.js');
const VEGA_LITE = req.resolve('vega-lite-v5/build/vega-lite.min.js');
const VEGA_LITE_MIME = 'application/vnd.vegalite.v5+json';
const dir = path.resolve(__dirname, '..', 'notebooks');
const notebooks = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();

interface Notebook {
  cells: { outputs?: { data?: Record<string, unknown> }[] }[];
}

/** The notebook's Vega-Lite specs, each with the index of the cell it is an output of. */
function chartSpecs(name: string): { cell: number; spec: unknown }[] {
  const nb = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as Notebook;
  return nb.cells.flatMap((cell, c) => (cell.outputs ?? []).filter((o) => o.data?.[VEGA_LITE_MIME] !== undefined).map((o) => ({ cell: c, spec: o.data![VEGA_LITE_MIME] })));
}

let context: BrowserContext;
let userDataDir: string;

beforeAll(async () => {
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-lab-nb-charts-'));
  context = await launchBrowser(userDataDir, { width: 1000, height: 800 });
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

/** Draw each spec in one page as JupyterLab does; the console warnings and errors, and each SVG's width. */
async function drawAll(specs: { cell: number; spec: unknown }[]): Promise<{ messages: string[]; widths: number[] }> {
  const page = await context.newPage();
  const messages: string[] = [];
  let current = '';
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') messages.push(`${current}: console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => messages.push(`${current}: page error: ${e.message}`));
  await page.setContent('<!doctype html><html><body><div id="charts"></div></body></html>');
  await page.addScriptTag({ path: VEGA });
  await page.addScriptTag({ path: VEGA_LITE });
  const widths: number[] = [];
  for (const { cell, spec } of specs) {
    current = `cell ${cell}`;
    // As JupyterLab's renderer (vega-embed) does: one logger at Warn for compile and view, SVG renderer.
    widths.push(
      await page.evaluate(async (s) => {
        const w = window as unknown as { vega: any; vegaLite: any };
        const logger = w.vega.logger(w.vega.Warn);
        const compiled = w.vegaLite.compile(s, { logger }).spec;
        const host = document.createElement('div');
        document.getElementById('charts')!.appendChild(host);
        const view = new w.vega.View(w.vega.parse(compiled), { renderer: 'svg', container: host, logLevel: w.vega.Warn, hover: true });
        await view.runAsync();
        const svg = host.querySelector('svg');
        const width = svg ? Number(svg.getAttribute('width')) : -1;
        view.finalize();
        host.remove();
        return width;
      }, spec),
    );
  }
  await page.close();
  return { messages, widths };
}

describe('committed notebook charts draw in Chromium without a console warning', () => {
  it('the notebooks hold charts to check', () => {
    expect(notebooks.length).toBeGreaterThanOrEqual(12);
    expect(notebooks.reduce((n, name) => n + chartSpecs(name).length, 0)).toBeGreaterThan(40);
  });

  it('a chart that warns is caught (the check can fail)', async () => {
    const stacked = { data: { values: [{ a: 'x', v: 1 }, { a: 'y', v: 1000 }] }, mark: 'bar', encoding: { y: { field: 'a', type: 'nominal' }, x: { field: 'v', type: 'quantitative', scale: { type: 'log' } } } };
    const { messages, widths } = await drawAll([{ cell: 0, spec: stacked }]);
    expect(widths[0]).toBeGreaterThan(0);
    expect(messages.join('\n')).toMatch(/cell 0: console.warning: WARN .*(stack|Log scale)/i); // a log scale under a stacked bar
  });

  it.each(notebooks)('%s', async (name) => {
    const { messages, widths } = await drawAll(chartSpecs(name));
    expect(widths.filter((w) => !(w > 0)), `${name}: charts that drew no SVG`).toEqual([]);
    expect(messages).toEqual([]);
  });
});
