// The web explainer in headless Chromium (playwright-core; the browser from test/helpers/browser.ts): a lesson renders a
// live Vega chart, the stepper walks forward and back, the compare page renders its report.
// Screenshots go to test-artifacts/ (look at them). No CSP violations are allowed on any page.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './helpers/browser';
import { serve } from '../src/server/main';

const ARTIFACTS = path.resolve(__dirname, '..', 'test-artifacts');

let server: Awaited<ReturnType<typeof serve>>;
let context: BrowserContext;
let userDataDir: string;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  server = await serve({ port: 0 });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-lab-chromium-'));
  context = await launchBrowser(userDataDir, { width: 1200, height: 900 });
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

/** Open a page and record console errors, page errors and CSP violations. */
async function open(url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(new URL(url, server.url).href);
  return { page, problems };
}

describe('web explainer in Chromium', () => {
  test('the table of contents links the lessons that exist', async () => {
    const { page, problems } = await open('/');
    await expect(page.locator('ol.toc a[href="/lessons/01-the-inference-process"]').count()).resolves.toBe(1);
    expect(await page.locator('ol.toc li').count()).toBeGreaterThanOrEqual(11);
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-toc.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('a lesson renders with a live Vega chart', async () => {
    const { page, problems } = await open('/lessons/01-the-inference-process');
    await page.waitForSelector('figure.chart.chart-ready .vega-embed svg', { timeout: 60_000 });
    expect(await page.locator('h2#the-model').count()).toBe(1);
    expect(await page.locator('article.lesson table').count()).toBeGreaterThan(0);
    // The trace chart is interactive: its slider moves the step shown.
    const trace = page.locator('figure.chart', { has: page.locator('.vega-bindings input[type=range]') }).first();
    const slider = trace.locator('.vega-bindings input[type=range]').first();
    await expect(slider.count()).resolves.toBe(1);
    const before = await trace.locator('.vega-embed svg').first().innerHTML();
    await slider.evaluate((el: HTMLInputElement) => {
      el.value = '8';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await expect.poll(() => trace.locator('.vega-embed svg').first().innerHTML()).not.toBe(before);
    await trace.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-lesson.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('the stepper walks a held-out digit forward and back', async () => {
    const { page, problems } = await open('/stepper');
    await page.waitForSelector('body[data-models]');
    await page.fill('#sample', '24');
    await page.click('#run-sample');
    await page.waitForSelector('body[data-ready="true"]');
    await expect(page.locator('#prediction').textContent()).resolves.toContain('true label 3');
    const steps = await page.locator('#steps li').count();
    expect(steps).toBe(15);
    await expect(page.locator('#step-title').textContent()).resolves.toContain('pre.hook_raw');
    expect(await page.locator('#prev').isDisabled()).toBe(true);
    for (let i = 0; i < 6; i++) await page.click('#next');
    await expect(page.locator('#step-title').textContent()).resolves.toContain('conv.0.hook_relu');
    await expect(page.locator('#step-out').textContent()).resolves.toBe('[1, 26, 26, 8]');
    expect(await page.locator('#step-image').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-stepper-forward.png'), fullPage: true });
    await page.click('#prev');
    await page.keyboard.press('ArrowLeft');
    await expect(page.locator('#step-title').textContent()).resolves.toContain('pre.hook_normalized');
    await page.locator('#steps li').last().locator('button').click();
    await expect(page.locator('#step-title').textContent()).resolves.toContain('post.top_k');
    expect(await page.locator('#next').isDisabled()).toBe(true);
    await expect(page.locator('#step-note').textContent()).resolves.toMatch(/5: \d/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-stepper-end.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('the stepper runs on a drawn digit', async () => {
    const { page, problems } = await open('/stepper');
    await page.waitForSelector('body[data-models]');
    const box = (await page.locator('#pad').boundingBox())!;
    // A "1": one vertical stroke.
    await page.mouse.move(box.x + 140, box.y + 50);
    await page.mouse.down();
    for (let y = 50; y <= 230; y += 10) await page.mouse.move(box.x + 142, box.y + y);
    await page.mouse.up();
    await page.click('#run-drawing');
    await page.waitForSelector('body[data-ready="true"]');
    await expect(page.locator('#prediction').textContent()).resolves.toContain('Prediction: 1');
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-stepper-drawn.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('the stepper walks a typed word through the language-ID model', async () => {
    const { models } = (await (await fetch(new URL('/api/models', server.url))).json()) as { models: { name: string; input: string }[] };
    const text = models.find((m) => m.input === 'word');
    expect(text, 'a word model ships (langid-lstm)').toBeDefined();
    if (!text) return;
    const { page, problems } = await open('/stepper');
    await page.waitForSelector('body[data-models]');
    await page.selectOption('#model', text.name);
    expect(await page.locator('#text-input').isVisible()).toBe(true);
    expect(await page.locator('#image-input').isVisible()).toBe(false);
    await page.fill('#word', 'bonjour');
    await page.click('#run-text');
    await page.waitForSelector('body[data-ready="true"]');
    await expect(page.locator('#prediction').textContent()).resolves.toContain('"bonjour"');
    await page.click('#next');
    await expect(page.locator('#step-title').textContent()).resolves.toContain('Step 1 of');
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-stepper-text.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('the compare page renders the report and its chart', async () => {
    const { page, problems } = await open('/compare');
    await page.waitForSelector('body[data-models]');
    await page.selectOption('select[name=bits]', '4');
    await page.click('#compare-form button[type=submit]');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    expect(await page.locator('#summary tr').count()).toBe(4);
    expect(await page.locator('#layers tr').count()).toBeGreaterThan(10);
    await page.waitForSelector('#error-chart.chart-ready .vega-embed svg');
    await page.waitForSelector('#stepper-chart.chart-ready .vega-embed svg');
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-compare.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('the compare page offers every registered model and compares the tiny GPT, saying slower or faster', async () => {
    const { models } = (await (await fetch(new URL('/api/models', server.url))).json()) as { models: { name: string; notComparable: string | null }[] };
    const { page, problems } = await open('/compare');
    await page.waitForSelector('body[data-models]');
    const offered = await page.locator('#model option:not([disabled])').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(offered).toEqual(models.filter((m) => !m.notComparable).map((m) => m.name));
    // The translator and the regression models are listed greyed out, with the registry's reason, not offered.
    const greyed = await page.locator('#model option[disabled]').evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, (o as HTMLOptionElement).title]));
    expect(greyed.map(([name]) => name)).toEqual(models.filter((m) => m.notComparable).map((m) => m.name));
    expect(greyed.map(([name]) => name)).toContain('translator-es-en');
    for (const [name, title] of greyed) expect(title).toBe(`${name} is ${models.find((m) => m.name === name)!.notComparable}`);
    await page.selectOption('#model', 'tiny-gpt');
    // A GPT's int8 is ONNX Runtime's: the fake-quant options are hidden, the note shown.
    expect(await page.locator('select[name=bits]').isVisible()).toBe(false);
    expect(await page.locator('.choice-note').isVisible()).toBe(true);
    expect(await page.locator('input[name=sample]').isVisible()).toBe(false);
    await expect(page.locator('#items-label').textContent()).resolves.toBe('Windows of the test text');
    await page.fill('#items', '2');
    await page.click('#compare-form button[type=submit]');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    const rows = await page.locator('#summary tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent)));
    expect(rows.map((r) => r[0])).toEqual(['cross-entropy (nats/char) (2 windows of the test text)', 'stored size', 'latency, tfjs', 'latency, ONNX Runtime']);
    expect(rows[1][3]).toMatch(/^\d+\.\d\dx smaller$/);
    expect(rows[3][3]).toMatch(/^\d+\.\d\dx (slower|faster) on ONNX Runtime/);
    await expect(page.locator('#verdict').textContent()).resolves.toMatch(/tiny-gpt-int8\S* is \d+\.\d\dx (slower|faster)/);
    expect(await page.locator('#stepper-section').isVisible()).toBe(false);
    await page.waitForSelector('#error-chart.chart-ready .vega-embed svg');
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-compare-tiny-gpt.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
