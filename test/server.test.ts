// The web explainer's API and its security: real HTTP against app.listen(0) with Node's fetch
// (and raw http.request where fetch would normalise a hostile path before sending it).
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp, type AppOptions } from '../src/server/app';
import { serve } from '../src/server/main';
import { BusyError, ComputeQueue, RateLimiter, resolveInside } from '../src/server/security';

const ROOT = path.resolve(__dirname, '..');

async function start(options: AppOptions = {}): Promise<{ base: string; close(): Promise<void> }> {
  const app = createApp(options);
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        app.locals.service.dispose();
      }),
  };
}

let srv: Awaited<ReturnType<typeof start>>;
beforeAll(async () => {
  srv = await start();
});
afterAll(async () => {
  await srv?.close();
});

const post = (p: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(srv.base + p, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** GET with the path sent byte for byte (fetch would resolve `..` and `%2e%2e` first). */
function rawGet(base: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const digit = (v: (y: number, x: number) => number) => Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => v(y, x)));

describe('API', () => {
  test('GET /api/models lists the shipped models', async () => {
    const r = await fetch(`${srv.base}/api/models`);
    expect(r.status).toBe(200);
    const body = await r.json();
    const cnn = body.models.find((m: { name: string }) => m.name === 'digits-cnn');
    expect(cnn).toMatchObject({ architecture: 'digits-cnn', params: 5258, stepper: true, input: 'image' });
    expect(body.samples.count).toBe(2000);
  });

  test('POST /api/run on a held-out digit returns every step with its picture, shape and stats', async () => {
    const r = await post('/api/run', { model: 'digits-cnn', sample: 24 });
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.input).toEqual({ kind: 'sample', index: 24, label: '3' });
    expect(body.steps.map((s: { name: string }) => s.name)).toEqual([
      'pre.hook_raw', 'pre.hook_grayscale', 'pre.hook_resized', 'pre.hook_scaled', 'pre.hook_normalized',
      'conv.0.hook_conv', 'conv.0.hook_relu', 'conv.0.hook_pool', 'conv.1.hook_conv', 'conv.1.hook_relu', 'conv.1.hook_pool',
      'flatten.hook_out', 'hook_logits', 'post.hook_probs', 'post.top_k',
    ]);
    const relu = body.steps[6];
    expect(relu.outputShape).toEqual([1, 26, 26, 8]);
    expect(relu.inputShape).toEqual([1, 26, 26, 8]);
    expect(relu.stats.min).toBe(0);
    expect(relu.image).toMatch(/^data:image\/png;base64,/);
    expect(relu.layout).toBe('8 channels tiled');
    for (const s of body.steps) expect(s.image).toMatch(/^data:image\/png;base64,/);
    // The notebook's documented mistake: held-out #24 is a 3 read as a 5.
    expect(body.top[0].label).toBe('5');
    expect(body.top).toHaveLength(3);
    expect(body.steps[14].note).toMatch(/^5: /);
    const probs = body.steps[13];
    expect(probs.stats.mean).toBeCloseTo(0.1, 5);
  });

  test('POST /api/run on pixels (grey and RGB), any size up to the limit', async () => {
    const one = digit((y, x) => (x >= 13 && x <= 15 && y >= 4 && y <= 23 ? 255 : 0));
    const r = await post('/api/run', { model: 'digits-cnn', pixels: one, k: 2 });
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.input).toEqual({ kind: 'pixels', shape: [28, 28] });
    expect(body.top).toHaveLength(2);
    expect(body.top[0].label).toBe('1');
    const rgb = Array.from({ length: 56 }, () => Array.from({ length: 40 }, () => [10, 20, 30]));
    const r2 = await post('/api/run', { model: 'digits-cnn', pixels: rgb });
    expect(r2.status).toBe(200);
    const b2 = await r2.json();
    expect(b2.steps[0].outputShape).toEqual([1, 56, 40, 3]);
    expect(b2.steps[2].outputShape).toEqual([1, 28, 28, 1]);
  });

  test.each([
    ['no model', { sample: 1 }, /model: expected one of ("[a-z0-9-]+", )*"digits-cnn"(, "[a-z0-9-]+")*; got undefined\./],
    ['unknown model', { model: 'gpt-5', sample: 1 }, /model: expected one of/],
    ['a path instead of a model name', { model: './assets/digits-cnn', sample: 1 }, /model: expected one of/],
    ['no input', { model: 'digits-cnn' }, /exactly one input/],
    ['two inputs', { model: 'digits-cnn', sample: 1, pixels: [[0]] }, /exactly one input/],
    ['negative sample', { model: 'digits-cnn', sample: -1 }, /sample: expected an integer 0\.\.1999/],
    ['sample out of range', { model: 'digits-cnn', sample: 2000 }, /sample: expected an integer 0\.\.1999/],
    ['fractional sample', { model: 'digits-cnn', sample: 1.5 }, /sample: expected an integer/],
    ['sample as a string', { model: 'digits-cnn', sample: '3' }, /sample: expected an integer/],
    ['pixels not an array', { model: 'digits-cnn', pixels: 'abc' }, /pixels: expected an array/],
    ['pixel out of range', { model: 'digits-cnn', pixels: digit(() => 300) }, /0\.\.255.*found 300/],
    ['pixel not a number', { model: 'digits-cnn', pixels: digit((y, x) => (x === 3 ? ('x' as unknown as number) : 0)) }, /found "x"/],
    ['ragged rows', { model: 'digits-cnn', pixels: [[0, 0, 0], [0, 0], [0, 0, 0]] }, /rows have different lengths/],
    ['too large', { model: 'digits-cnn', pixels: Array.from({ length: 257 }, () => [0, 0, 0]) }, /too large; at most 256x256/],
    ['too small', { model: 'digits-cnn', pixels: [[0, 0], [0, 0]] }, /too small/],
    ['two channels', { model: 'digits-cnn', pixels: digit(() => [0, 0] as unknown as number) }, /1, 3 or 4 channels/],
    ['bad k', { model: 'digits-cnn', sample: 1, k: 0 }, /k: expected an integer 1\.\.10/],
  ])('POST /api/run with %s is a 400 with a clear message', async (_name, body, message) => {
    const r = await post('/api/run', body);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect((await r.json()).error).toMatch(message);
  });

  test('the stepper takes every registered model: a word, a text, a held-out clip', async () => {
    const { models } = await (await fetch(`${srv.base}/api/models`)).json();
    // Every model but a regression model (notebook 13: a row of numbers in, one number out) and a translator (a sentence is many forward passes), which the page lists as not in the stepper yet.
    expect(models.every((m: { stepper: boolean; input: string }) => m.stepper === (m.input !== 'tabular' && m.input !== 'sentence'))).toBe(true);
    const translation = await post('/api/run', { model: 'translator-es-en', text: 'Dios es amor.' });
    expect(translation.status).toBe(400);
    expect((await translation.json()).error).toMatch(/is a translation model; the stepper shows one forward pass of image, word, audio and text models/);
    const byInput = (kind: string) => models.find((m: { input: string }) => m.input === kind);
    for (const kind of ['image', 'word', 'audio', 'text']) expect(byInput(kind), kind).toBeDefined();
    const gpt = await post('/api/run', { model: byInput('text').name, text: 'In the beginning' });
    expect(gpt.status).toBe(200);
    const g = await gpt.json();
    expect(g.input).toMatchObject({ kind: 'text', text: 'In the beginning' });
    expect(g.input.ids).toHaveLength(16); // one id per character
    expect(g.top).toHaveLength(3);
    const clip = await post('/api/run', { model: byInput('audio').name, sample: 0 });
    expect(clip.status).toBe(200);
    const c = await clip.json();
    expect(c.steps.length).toBeGreaterThan(3);
    expect(c.top[0].p).toBeGreaterThan(c.top[2].p);
    expect((await post('/api/run', { model: byInput('audio').name, sample: 100000 })).status).toBe(400);
    expect((await post('/api/run', { model: byInput('text').name, text: '' })).status).toBe(400);

    const text = byInput('word');
    const r = await post('/api/run', { model: text.name, text: 'bonjour' });
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.input.kind).toBe('text');
    expect(body.steps.length).toBeGreaterThan(3);
    expect(body.top[0].p).toBeGreaterThan(0);
    for (const bad of [{ text: 'two words' }, { text: '' }, { text: 42 }, { sample: 1 }]) {
      expect((await post('/api/run', { model: text.name, ...bad })).status).toBe(400);
    }
  });

  test('malformed bodies: not JSON, wrong content type, not an object, too large', async () => {
    const bad = await post('/api/run', '{"model": "digits-cnn", ');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/not valid JSON/);
    const text = await post('/api/run', 'model=digits-cnn', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(text.status).toBe(415);
    const arr = await post('/api/run', [1, 2]);
    expect(arr.status).toBe(400);
    expect((await arr.json()).error).toMatch(/JSON object body/);
    const huge = await post('/api/run', { model: 'digits-cnn', pixels: 'x'.repeat(1_100_000) });
    expect(huge.status).toBe(413);
    expect((await huge.json()).error).toMatch(/too large/);
  });

  test('unknown API endpoints and methods are JSON errors', async () => {
    const r = await fetch(`${srv.base}/api/nope`);
    expect(r.status).toBe(404);
    expect((await r.json()).error).toMatch(/No API endpoint/);
    const put = await fetch(`${srv.base}/api/run`, { method: 'PUT' });
    expect(put.status).toBe(405);
  });

  test('POST /api/compare: int4 weights vs the original, with accuracy, size and per-step error', async () => {
    const r = await post('/api/compare', { model: 'digits-cnn', optimization: { kind: 'quantize', bits: 4, perChannel: true }, digits: 200, sample: 24 });
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.optimization).toMatchObject({ bits: 4, perChannel: true, activations: 'none' });
    expect(body.original.accuracy).toBeGreaterThan(0.9);
    expect(body.optimized.accuracy).toBeGreaterThan(0.8);
    expect(body.optimized.bytes).toBeLessThan(body.original.bytes / 4);
    const names = body.layers.map((l: { name: string }) => l.name);
    expect(names).toContain('conv.0.hook_conv');
    const conv0 = body.layers.find((l: { name: string }) => l.name === 'conv.0.hook_conv');
    expect(conv0.sqnrDb).toBeGreaterThan(5);
    expect(conv0.sqnrDb).toBeLessThan(60);
    // Preprocessing is not quantized: exact, reported as infinite SQNR (JSON has no Infinity).
    expect(body.layers[0].sqnrDb).toBe('inf');
    expect(body.chart.spec.$schema).toMatch(/vega-lite\/v5/);
    expect(body.chart.svg).toMatch(/^<svg/);
  });

  test('POST /api/compare on the tiny GPT: ONNX Runtime int8 against ONNX Runtime float, its loss, and slower/faster in words', async () => {
    const r = await post('/api/compare', { model: 'tiny-gpt', optimization: { kind: 'quantize', bits: 8 }, items: 2 });
    const body = await r.json();
    expect(r.status, JSON.stringify(body).slice(0, 300)).toBe(200);
    expect(body.input).toBe('text');
    expect(body.optimization).toMatchObject({ kind: 'quantize', engine: 'onnx-dynamic' });
    expect(body.metric).toEqual({ name: 'cross-entropy (nats/char)', lowerIsBetter: true });
    expect(body.data.source).toMatch(/^the first 2 windows of assets\/tiny-gpt\/heldout\.txt/);
    // A character model that learned anything beats uniform guessing over its vocabulary, ln(vocab) nats.
    expect(body.original.value).toBeGreaterThan(0.3);
    expect(body.original.value).toBeLessThan(Math.log(65));
    expect(Math.abs(body.optimized.value - body.original.value)).toBeLessThan(0.1);
    expect(body.optimized.perplexity).toBeCloseTo(Math.exp(body.optimized.value), 10);
    expect(body.optimized.bytes).toBeLessThan(body.original.bytes / 2); // int8 matrices: a quarter of float32, embeddings aside
    expect(body.optimized.latency).toBeNull(); // the int8 model runs on ONNX Runtime only
    expect(body.speed.engine).toBe('onnxruntime');
    const ratio = body.optimized.onnxLatency.medianMs / body.original.onnxLatency.medianMs;
    expect(body.speed.ratio).toBeCloseTo(ratio, 10);
    expect(body.speed.verdict).toBe(ratio > 1 ? 'slower' : 'faster');
    expect(body.speed.text).toMatch(ratio > 1 ? /x slower on ONNX Runtime/ : /x faster on ONNX Runtime/);
    expect(body.sample).toBeNull();
    expect(body.layers.length).toBeGreaterThan(0);
    expect(body.chart.spec.$schema).toMatch(/vega-lite\/v5/);
  });

  test('POST /api/compare on the LSTM and the keyword CNN: pruning and int4 through the same comparison', async () => {
    const a = await post('/api/compare', { model: 'langid-lstm', optimization: { kind: 'prune', sparsity: 0.5 }, items: 100, chart: false });
    const lstm = await a.json();
    expect(a.status, JSON.stringify(lstm).slice(0, 300)).toBe(200);
    expect(lstm.input).toBe('word');
    expect(lstm.data.source).toMatch(/^100 of \d+, evenly spaced words of assets\/langid-lstm\/heldout\.json/);
    expect(lstm.original.accuracy).toBeGreaterThan(0.5);
    expect(lstm.original.accuracy).toBeLessThanOrEqual(1);
    // Half the weights zeroed and stored sparse (value + index): not free, but less than float32 of all.
    expect(lstm.optimized.bytes).toBeLessThan(lstm.original.bytes);
    expect(lstm.speed.engine).toBe('tfjs');
    expect(lstm.layers.every((l: { isolated: unknown }) => l.isolated === null)).toBe(true);
    const b = await post('/api/compare', { model: 'kws-cnn', optimization: { kind: 'quantize', bits: 4 }, items: 20, chart: false });
    const kws = await b.json();
    expect(b.status, JSON.stringify(kws).slice(0, 300)).toBe(200);
    expect(kws.input).toBe('audio');
    expect(kws.optimized.bytes).toBeLessThan(kws.original.bytes / 4);
    expect(kws.data.items).toBe(20);
  });

  test('POST /api/compare: every registered model answers a comparison', async () => {
    const { models } = (await (await fetch(`${srv.base}/api/models`)).json()) as { models: { name: string; input: string }[] };
    expect(models.length).toBeGreaterThanOrEqual(9);
    for (const m of models) {
      const optimization = m.name.startsWith('tiny-gpt') ? { kind: 'prune', sparsity: 0.5 } : { kind: 'quantize', bits: 8 };
      const r = await post('/api/compare', { model: m.name, optimization, items: m.input === 'text' ? 1 : 10, chart: false });
      const body = await r.json();
      if (m.input === 'sentence') {
        // A translator's figure is BLEU of decoded sentences, which a comparison does not score: one clear line.
        expect(r.status, m.name).toBe(400);
        expect(body.error).toMatch(/is a translation model: .*compare supports the digits CNN/);
        continue;
      }
      if (m.input === 'tabular') {
        // A regression model (notebook 13) has no accuracy or cross-entropy to compare: a clear 400, in one line.
        expect(r.status, m.name).toBe(400);
        expect(JSON.stringify(body)).toMatch(/is a regression model/);
        continue;
      }
      expect(r.status, `${m.name}: ${JSON.stringify(body).slice(0, 200)}`).toBe(200);
      expect(body.input).toBe(m.input);
      expect(Number.isFinite(body.original.value) && Number.isFinite(body.optimized.value), m.name).toBe(true);
      expect(['slower', 'faster', 'same']).toContain(body.speed.verdict);
    }
  });

  test('the latency change says slower or faster, on which engine, and when the ranges overlap', async () => {
    const { speedChange } = await import('../src/server/compute');
    const t = (medianMs: number, minMs: number, p95Ms: number) => ({ label: '', runs: 11, medianMs, minMs, p95Ms });
    const row = (latency: ReturnType<typeof t> | null, onnxLatency: ReturnType<typeof t> | null) => ({ latency, onnxLatency }) as never;
    const slower = speedChange(row(t(10, 9, 11), null), row(t(12.8, 12, 14), null))!;
    expect(slower).toMatchObject({ engine: 'tfjs', verdict: 'slower', overlap: false });
    expect(slower.text).toBe('1.28x slower on tfjs (median 12.80 vs 10.00 ms)');
    const faster = speedChange(row(t(40, 30, 50), t(20, 19, 22)), row(null, t(10, 9, 25)))!;
    expect(faster).toMatchObject({ engine: 'onnxruntime', verdict: 'faster', overlap: true });
    expect(faster.text).toBe('2.00x faster on ONNX Runtime (median 10.00 vs 20.00 ms); the min–p95 ranges overlap, so this is within run-to-run spread');
    expect(speedChange(row(t(1, 1, 1), null), row(null, t(1, 1, 1)))).toBeNull();
  });

  test('POST /api/compare: calibration only counts for static activations; configs are cached apart', async () => {
    const a = await (await post('/api/compare', { model: 'digits-cnn', optimization: { bits: 4, symmetric: true, calibration: 'mse' }, digits: 100, chart: false })).json();
    expect(a.optimization.calibration).toBe('minmax');
    expect(a.chart).toBeNull();
    const b = await (await post('/api/compare', { model: 'digits-cnn', optimization: { bits: 4, symmetric: false }, digits: 100, chart: false })).json();
    expect(b.optimization.symmetric).toBe(false);
    // Different schemes give different quantized weights, so different per-step errors.
    expect(b.layers.find((l: { name: string }) => l.name === 'conv.0.hook_conv').mse).not.toBe(a.layers.find((l: { name: string }) => l.name === 'conv.0.hook_conv').mse);
  });

  test.each([
    ['bits 3', { model: 'digits-cnn', optimization: { bits: 3 } }, /bits: expected 8 or 4/],
    ['unknown kind', { model: 'digits-cnn', optimization: { kind: 'distill' } }, /expected "quantize" or "prune"/],
    ['sparsity 1', { model: 'digits-cnn', optimization: { kind: 'prune', sparsity: 1 } }, /sparsity: expected a fraction/],
    ['int4 for a GPT', { model: 'tiny-gpt', optimization: { kind: 'quantize', bits: 4 } }, /ONNX Runtime's dynamic int8/],
    ['channels of an LSTM', { model: 'langid-lstm', optimization: { kind: 'prune', structured: true } }, /whole channels applies to the digits CNN/],
    ['static activations for words', { model: 'langid-lstm', optimization: { activations: 'static' } }, /ship for the digits models only/],
    ['too many windows', { model: 'tiny-gpt', items: 65 }, /items: expected an integer 1\.\.64 \(windows of the test text\)/],
    ['bad activations', { model: 'digits-cnn', optimization: { activations: 'int2' } }, /activations: expected/],
    ['bad calibration', { model: 'digits-cnn', optimization: { activations: 'static', calibration: 'magic' } }, /calibration: expected/],
    ['too many digits', { model: 'digits-cnn', digits: 100000 }, /digits: expected an integer 10\.\.1000/],
    ['unknown model', { model: 'x' }, /model: expected one of/],
  ])('POST /api/compare with %s is a 400', async (_name, body, message) => {
    const r = await post('/api/compare', body);
    expect(r.status).toBe(400);
    expect((await r.json()).error).toMatch(message);
  });
});

describe('pages', () => {
  test('the table of contents follows the curriculum', async () => {
    const r = await fetch(`${srv.base}/`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('href="/lessons/01-the-inference-process"');
    for (const title of ['Recurrent networks', 'Transformers and attention', 'Knowledge distillation', 'Applications']) expect(html).toContain(title);
  });

  test('a lesson has heading ids, its tables, and its charts as live specs read from its notebook, with a picture and a text fallback', async () => {
    const r = await fetch(`${srv.base}/lessons/01-the-inference-process`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('<h2 id="the-model">');
    expect(html).toContain('<table>');
    expect(html).not.toContain('Generated by'); // the lesson's leading comment is dropped, not shown
    expect(html).toMatch(/<figure class="chart" data-chart="\/lessons\/01-the-inference-process\/charts\/0.json"><div class="chart-live"><\/div><div class="chart-static"><noscript><img src="\/lessons\/01-the-inference-process\/charts\/0.svg" alt="digits-cnn: 5,258 parameters"><\/noscript><pre class="chart-text">digits-cnn: 5,258 parameters\n/);
    // The spec served is the notebook output's own, unchanged.
    const nb = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', '01-the-inference-process.ipynb'), 'utf8'));
    const output = nb.cells.find((c: { id: string }) => c.id === 'cell-03').outputs[1];
    const chart = await (await fetch(`${srv.base}/lessons/01-the-inference-process/charts/0.json`)).json();
    expect(chart.spec).toEqual(output.data['application/vnd.vegalite.v5+json']);
    expect(chart.spec.$schema).toMatch(/vega-lite\/v5/);
    const svg = await fetch(`${srv.base}/lessons/01-the-inference-process/charts/0.svg`);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(svg.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    expect(await svg.text()).toBe([].concat(output.data['image/svg+xml']).join(''));
    expect((await fetch(`${srv.base}/lessons/01-the-inference-process/charts/99.json`)).status).toBe(404);
    expect((await fetch(`${srv.base}/lessons/01-the-inference-process/charts/99.svg`)).status).toBe(404);
    expect((await fetch(`${srv.base}/lessons/99-nothing`)).status).toBe(404);
  });

  test('a chart block naming a notebook output that is not there says what is missing', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-lab-lessons-'));
    fs.mkdirSync(path.join(tmp, 'lessons'));
    fs.mkdirSync(path.join(tmp, 'notebooks'));
    fs.copyFileSync(path.join(ROOT, 'notebooks', '09-knowledge-distillation.ipynb'), path.join(tmp, 'notebooks', '09-knowledge-distillation.ipynb'));
    fs.writeFileSync(
      path.join(tmp, 'lessons', '09-test.md'),
      ['# T', '```vega-lite notebook=09-knowledge-distillation.ipynb cell=no-such-cell output=0', 'text', '```', '```vega-lite notebook=09-knowledge-distillation.ipynb cell=cell-1 output=0', 'text', '```', '```vega-lite notebook=99-gone.ipynb cell=a output=0', 'text', '```'].join('\n\n'),
    );
    const t = await start({ root: tmp });
    try {
      const page = await (await fetch(`${t.base}/lessons/09-test`)).text();
      expect(page).toContain('Chart not available: 09-knowledge-distillation.ipynb has no cell no-such-cell: run `npm run lessons` again');
      expect(page).toContain('Chart not available: 09-knowledge-distillation.ipynb cell cell-1 output 0 is not a Vega-Lite chart');
      expect(page).toContain('Chart not available: notebooks/99-gone.ipynb is not there');
    } finally {
      await t.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('the transformer lesson serves the notebook\'s GPT views (the head view with its sliders); live GPT views work in a lesson too, and a text view on a CNN says why not', async () => {
    const html = await (await fetch(`${srv.base}/lessons/04-transformers-and-attention`)).text();
    const slots = [...html.matchAll(/data-chart="(\/lessons\/04-transformers-and-attention\/charts\/\d+\.json)"/g)].map((m) => m[1]);
    // One slot per chart the notebook shows (cells tagged hide-from-lesson are left out of the lesson).
    const nb = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', '04-transformers-and-attention.ipynb'), 'utf8'));
    const shown = nb.cells
      .filter((c: { metadata?: { tags?: string[] } }) => !(c.metadata?.tags ?? []).includes('hide-from-lesson'))
      .flatMap((c: { outputs?: { data?: Record<string, unknown> }[] }) => c.outputs ?? [])
      .filter((o: { data?: Record<string, unknown> }) => o.data?.['application/vnd.vegalite.v5+json']).length;
    expect(shown).toBeGreaterThan(8);
    expect(slots.length).toBe(shown);
    const charts = await Promise.all(slots.map(async (url) => (await fetch(`${srv.base}${url}`)).json()));
    for (const chart of charts) expect(chart.spec?.$schema).toMatch(/vega-lite\/v5/);
    const heads = charts.filter((c) => (c.spec.params ?? []).some((p: { name: string }) => p.name === 'head'));
    const sliders = heads.map((c) => c.spec.params.map((p: { name: string; value: number; bind?: unknown }) => [p.name, p.value, Boolean(p.bind)]));
    expect(sliders).toContainEqual([['layer', 1, true], ['head', 3, true]]); // the last-space head, as the notebook shows it
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-lab-lessons-'));
    fs.mkdirSync(path.join(tmp, 'lessons'));
    fs.writeFileSync(
      path.join(tmp, 'lessons', '04-test.md'),
      '# T\n\n```inference-lab\n{"view": "attention", "model": "tiny-gpt", "layer": 1, "head": 3, "text": "In the beginning"}\n```\n\n```inference-lab\n{"view": "attention", "model": "digits-cnn", "text": "abc"}\n```\n',
    );
    const t = await start({ root: tmp });
    try {
      const page = await (await fetch(`${t.base}/lessons/04-test`)).text();
      expect(page).toMatch(/Chart not available: view &quot;attention&quot; needs a GPT/);
      const live = await (await fetch(`${t.base}/lessons/04-test/charts/0.json`)).json();
      expect(live.spec.params.map((p: { name: string; value: number; bind?: unknown }) => [p.name, p.value, Boolean(p.bind)])).toEqual([['layer', 1, true], ['head', 3, true]]);
    } finally {
      await t.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('the distillation lesson draws teacher and students under a temperature slider; the live soft-targets view works in a lesson, and a bad students list says what is expected', async () => {
    const html = await (await fetch(`${srv.base}/lessons/09-knowledge-distillation`)).text();
    const slots = [...html.matchAll(/data-chart="(\/lessons\/09-knowledge-distillation\/charts\/\d+\.json)"/g)].map((m) => m[1]);
    expect(slots).toHaveLength(3);
    const charts = await Promise.all(slots.map(async (url) => (await fetch(`${srv.base}${url}`)).json()));
    const temperature = charts.filter((c) => (c.spec.params ?? []).some((p: { name: string; bind?: unknown }) => p.name === 'T' && p.bind));
    expect(temperature).toHaveLength(2); // the digit, and the next character of the GPTs
    const gpts = temperature.find((c) => JSON.stringify(c.spec).includes('next character only'))!;
    expect(new Set(gpts.spec.data.values.map((r: { model: string }) => r.model))).toEqual(new Set(['teacher', 'student (next character only)', 'student (distilled)']));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-lab-lessons-'));
    fs.mkdirSync(path.join(tmp, 'lessons'));
    fs.writeFileSync(
      path.join(tmp, 'lessons', '09-test.md'),
      '# T\n\n```inference-lab\n{"view": "soft-targets", "model": "tiny-gpt", "students": ["tiny-gpt-student-scratch", "tiny-gpt-student-distilled"], "text": "And the king said unto "}\n```\n\n```inference-lab\n{"view": "soft-targets", "model": "tiny-gpt", "students": "tiny-gpt-student-distilled", "text": "abc"}\n```\n',
    );
    const t = await start({ root: tmp });
    try {
      const page = await (await fetch(`${t.base}/lessons/09-test`)).text();
      expect(page).toMatch(/Chart not available: view &quot;soft-targets&quot; needs &quot;students&quot;: 1 to 3 model names/);
      const live = await (await fetch(`${t.base}/lessons/09-test/charts/0.json`)).json();
      expect(live.spec.params.map((p: { name: string }) => p.name)).toEqual(['T']);
      expect([...new Set(live.spec.data.values.map((r: { model: string }) => r.model))]).toEqual(['teacher (tiny-gpt)', 'tiny-gpt-student-scratch', 'tiny-gpt-student-distilled']);
    } finally {
      await t.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('lesson markdown cannot inject markup; code blocks get a language class; links stay inside', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-lab-lessons-'));
    fs.mkdirSync(path.join(tmp, 'lessons'));
    fs.writeFileSync(
      path.join(tmp, 'lessons', '01-test.md'),
      [
        '# Test <script>alert(1)</script>',
        '',
        '<img src=x onerror="alert(2)">',
        '',
        '```ts',
        'const x = "a" // comment',
        '```',
        '',
        '```vega-lite',
        '{"data": {"values": [{"a": 1, "b": 2}]}, "mark": "bar", "encoding": {"x": {"field": "a"}, "y": {"field": "b"}}}',
        '```',
        '',
        '![secret](../package.json) [escape](../../etc/passwd) [js](javascript:alert(3))',
        '',
        '<details><summary>Solution</summary>',
        '',
        'The answer.',
        '',
        '</details>',
        '',
        '<details open><summary onclick="alert(4)">x</summary>',
        '',
        '```inference-lab',
        '{"view": "trace", "model": "no-such-model"}',
        '```',
      ].join('\n'),
    );
    const t = await start({ root: tmp });
    try {
      const html = await (await fetch(`${t.base}/lessons/01-test`)).text();
      expect(html).not.toMatch(/<script>alert/);
      expect(html).not.toMatch(/<img src=x/);
      expect(html).toContain('&lt;img src=x onerror=');
      expect(html).toMatch(/<details><summary>Solution<\/summary>\s*<p>The answer\.<\/p>\s*<\/details>/); // a folded solution, exactly this HTML
      expect(html).toContain('&lt;details open&gt;&lt;summary onclick='); // any other HTML stays text
      expect(html).toContain('<code class="language-ts"><span class="tok-keyword">const</span>');
      expect(html).toContain('<span class="tok-comment">// comment</span>');
      expect(html).toContain('data-chart="/lessons/01-test/charts/0.json"');
      expect(html).not.toContain('href="../');
      expect(html).not.toMatch(/href="javascript:/i);
      expect(html).toContain('<span class="offline-link"');
      expect(html).toContain('[figure: secret]');
      expect(html).toMatch(/<p class="chart-error">Chart not available: model: expected one of/);
      expect((await fetch(`${t.base}/lessons/01-test/charts/0.json`)).status).toBe(200);
      expect((await fetch(`${t.base}/lessons/01-test/charts/1.json`)).status).toBe(404);
      expect(html).not.toContain('charts/1.json');
      // Only script tags with a src, from this server.
      const scripts = html.match(/<script[^>]*>/g) ?? [];
      for (const s of scripts) expect(s).toMatch(/^<script src="\/(static|vendor)\/[\w.-]+\.js" defer>$/);
    } finally {
      await t.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('security', () => {
  test('every response carries a CSP with no inline script and no eval', async () => {
    for (const p of ['/', '/stepper', '/compare', '/api/models', '/static/style.css', '/nope']) {
      const r = await fetch(srv.base + p);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-powered-by')).toBeNull();
    }
    for (const p of ['/', '/stepper', '/compare', '/lessons/01-the-inference-process']) {
      const html = await (await fetch(srv.base + p)).text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/\son[a-z]+=/i);
    }
  });

  test('Vega and the client scripts come from this server (no CDN)', async () => {
    for (const p of ['/vendor/vega.min.js', '/vendor/vega-lite.min.js', '/vendor/vega-embed.min.js', '/vendor/vega-interpreter.js', '/static/charts.js', '/static/stepper.js']) {
      const r = await fetch(srv.base + p);
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/javascript/);
    }
    const interp = await (await fetch(`${srv.base}/vendor/vega-interpreter.js`)).text();
    expect(interp).not.toMatch(/^import /m);
    expect(interp).toContain('globalThis.vegaInterpreter');
    expect((await fetch(`${srv.base}/vendor/vega-util.js`)).status).toBe(404);
  });

  test('lessons/ and assets/ are readable; nothing else is, however the path is spelled', async () => {
    expect((await rawGet(srv.base, '/files/lessons/01-the-inference-process.md')).status).toBe(200);
    expect((await rawGet(srv.base, '/files/assets/digits-cnn/config.json')).status).toBe(200);
    const attacks = [
      '/files/lessons/../package.json',
      '/files/lessons/../../../../etc/passwd',
      '/files/lessons/%2e%2e/package.json',
      '/files/lessons/%2e%2e%2fpackage.json',
      '/files/lessons/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      '/files/lessons/..%2fpackage.json',
      '/files/lessons/..%5cpackage.json',
      '/files/lessons/%252e%252e%252fpackage.json',
      '/files/lessons/%2fetc%2fpasswd',
      '/files/lessons//etc/passwd',
      '/files/lessons/01-the-inference-process.md%00.png',
      '/files/assets/../src/index.ts',
      '/files/assets/%2e%2e/src/index.ts',
      '/files/assets/..%2f..%2f..%2fetc%2fpasswd',
      '/static/../package.json',
      '/static/%2e%2e/src/server/app.ts',
      '/static/..%2f..%2fpackage.json',
      '/vendor/..%2f..%2fpackage.json',
      '/vendor/%2e%2e%2fpackage.json',
      '/lessons/..%2f..%2fpackage',
      '/lessons/%2e%2e%2fREADME',
      '/files/node_modules/vega/package.json',
      '/files/lessons/.gitignore',
      '/package.json',
      '/src/index.ts',
      '/node_modules/vega/package.json',
    ];
    for (const a of attacks) {
      const r = await rawGet(srv.base, a);
      expect(r.status, a).toBeGreaterThanOrEqual(400);
      expect(r.body, a).not.toContain('"name": "inference-lab"');
      expect(r.body, a).not.toContain('root:');
      expect(r.body, a).not.toContain('export {');
    }
  });

  test('resolveInside refuses symlinks that lead out of the root', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-lab-root-'));
    fs.writeFileSync(path.join(tmp, 'ok.md'), 'ok');
    fs.symlinkSync(path.join(ROOT, 'package.json'), path.join(tmp, 'link.json'));
    expect(resolveInside(tmp, 'ok.md')).toBe(fs.realpathSync(path.join(tmp, 'ok.md')));
    expect(resolveInside(tmp, 'link.json')).toBeNull();
    expect(resolveInside(tmp, '%E0%A4%A')).toBeNull(); // malformed escape
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('compute endpoints are rate-limited per client with 429 and Retry-After', async () => {
    const t = await start({ rateLimit: { capacity: 2, perSecond: 0.01 } });
    try {
      const call = () => fetch(`${t.base}/api/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'digits-cnn', sample: 1 }) });
      expect((await call()).status).toBe(200);
      expect((await call()).status).toBe(200);
      const limited = await call();
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await limited.json()).error).toMatch(/Too many requests/);
      // Pages and the model list are not compute: still served.
      expect((await fetch(`${t.base}/api/models`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  test('the token bucket refills over time', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 1, () => now);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
    expect(limiter.take('b')).toBe(0);
    now = 1000;
    expect(limiter.take('a')).toBe(0);
  });

  test('the compute queue is bounded and time-limited: 503 instead of waiting forever', async () => {
    const q = new ComputeQueue(2, 50);
    const slow = () => {
      const end = Date.now() + 100;
      while (Date.now() < end);
      return 'done';
    };
    const a = q.run(slow);
    const b = q.run(slow); // waits ~100 ms > 50 ms: refused without running
    const c = q.run(slow); // queue full
    await expect(c).rejects.toBeInstanceOf(BusyError);
    await expect(a).resolves.toBe('done');
    await expect(b).rejects.toThrow(/Timed out after waiting 50 ms/);
    await expect(q.run(() => 1)).resolves.toBe(1);
  });

  test('serve binds 127.0.0.1 by default', async () => {
    const s = await serve({ port: 0 });
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((s.server.address() as AddressInfo).address).toBe('127.0.0.1');
      // DNS rebinding: a page on another name that resolves to 127.0.0.1 is refused.
      const { port } = s.server.address() as AddressInfo;
      const status = (host: string) =>
        new Promise<number>((resolve, reject) => {
          http.get({ hostname: '127.0.0.1', port, path: '/api/models', headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).on('error', reject);
        });
      expect(await status('evil.example:' + port)).toBe(421);
      expect(await status('localhost:' + port)).toBe(200);
      expect(await status('127.0.0.1:' + port)).toBe(200);
    } finally {
      await s.close();
    }
  });
});
