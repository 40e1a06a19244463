// Every lesson page of the web explainer in headless Chromium: it draws every chart of its
// notebook as a live Vega view (one per chart block of the generated lesson), each slider the
// notebook's chart has is there and moves its chart, the page fits the window (charts up to the
// 900 px budget need no scrolling), and the console stays silent: no warning, no error, no CSP
// violation. Screenshots go to test-artifacts/lessons/ (look at them).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { serve } from '../src/server/main';
import { lessonNotebooks } from '../src/server/notebook-lessons';
import { launchBrowser } from './helpers/browser';

const ROOT = path.resolve(__dirname, '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'lessons');
const VIEWPORT = { width: 1280, height: 900 };
const slugs = lessonNotebooks(path.join(ROOT, 'notebooks')).map((f) => f.replace(/\.ipynb$/, ''));

let server: Awaited<ReturnType<typeof serve>>;
let context: BrowserContext;
let userDataDir: string;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  server = await serve({ port: 0 });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-lab-lesson-pages-'));
  context = await launchBrowser(userDataDir, VIEWPORT);
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

/** Bound params (sliders) anywhere in a Vega-Lite spec. */
function boundParams(spec: unknown): string[] {
  const names: string[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) return x.forEach(walk);
    if (!x || typeof x !== 'object') return;
    const params = (x as { params?: unknown }).params;
    if (Array.isArray(params)) for (const p of params) if (p && typeof p === 'object' && (p as { bind?: unknown }).bind) names.push((p as { name: string }).name);
    Object.values(x).forEach(walk);
  };
  walk(spec);
  return names;
}

describe('lesson pages in Chromium', () => {
  test.each(slugs)('%s draws every chart of its notebook, with its sliders, and logs nothing', async (slug) => {
    const markdown = fs.readFileSync(path.join(ROOT, 'lessons', `${slug}.md`), 'utf8');
    const expected = [...markdown.matchAll(/^`{3,}vega-lite notebook=/gm)].length;
    expect(expected).toBeGreaterThan(0);

    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'error') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    try {
      await page.goto(new URL(`/lessons/${slug}`, server.url).href);
      await page.waitForSelector('body[data-charts-ready]', { timeout: 60_000 });

      const figures = page.locator('figure.chart');
      expect(await figures.count()).toBe(expected);
      expect(await page.locator('figure.chart.chart-ready .vega-embed svg').count()).toBe(expected); // one live Vega view per chart
      expect(await page.locator('figure.chart-fallback, figure.chart-failed, .chart-error').count()).toBe(0);

      // Each chart's sliders are on the page, and moving the first one redraws its chart.
      for (let i = 0; i < expected; i++) {
        const figure = figures.nth(i);
        const { spec } = (await (await fetch(new URL(`/lessons/${slug}/charts/${i}.json`, server.url))).json()) as { spec: unknown };
        // Every bound param of the notebook's spec (slider, select, radio, checkbox) has its control on the page.
        expect(await figure.locator('.vega-bindings .vega-bind').count(), `controls of chart ${i} of ${slug}`).toBe(boundParams(spec).length);
        const sliders = figure.locator('.vega-bindings input[type=range]');
        if ((await sliders.count()) === 0) continue;
        const svg = figure.locator('.vega-embed svg').first();
        const before = await svg.innerHTML();
        await sliders.first().evaluate((el: HTMLInputElement) => {
          el.value = el.value === el.max ? el.min : el.max;
          el.dispatchEvent(new Event('input', { bubbles: true }));
        });
        await expect.poll(() => svg.innerHTML(), { message: `slider of chart ${i} of ${slug} redraws it` }).not.toBe(before);
      }

      // The page fits the window; a chart within the 900 px budget fits its column.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(VIEWPORT.width);
      const fits = await figures.evaluateAll((els) =>
        els.map((f) => {
          const svg = f.querySelector('.vega-embed svg') as SVGSVGElement | null;
          return { width: svg ? svg.getBoundingClientRect().width : 0, overflows: f.scrollWidth > f.clientWidth };
        }),
      );
      for (const [i, f] of fits.entries()) if (f.width <= 900) expect(f.overflows, `chart ${i} of ${slug} (${f.width} px) fits its column`).toBe(false);

      await page.screenshot({ path: path.join(ARTIFACTS, `${slug}.png`), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
