// HTML pages: the table of contents, each lesson (with its charts as JSON for vega-embed), the
// forward-pass stepper and the comparison. Pages are shells; client scripts in /static do the rest.
import type { Router, NextFunction, Request, Response } from 'express';
import { escapeHtml, page } from '../html';
import type { Lessons } from '../lessons';

/** Routes added to `r` (a Router made by the caller, so this module loads no Express code). */
export function pagesRouter(r: Router, lessons: Lessons): Router {

  r.get('/', (_req, res) => {
    const rows = lessons
      .toc()
      .map((l) =>
        l.available
          ? `<li><a href="/lessons/${l.slug}">${escapeHtml(l.slug.slice(0, 2))}. ${escapeHtml(l.title)}</a><span class="concepts">${escapeHtml(l.concepts)}</span></li>`
          : `<li class="coming"><span>${escapeHtml(l.slug.slice(0, 2))}. ${escapeHtml(l.title)}</span><span class="concepts">${escapeHtml(l.concepts)} — in preparation</span></li>`,
      )
      .join('\n');
    res.type('html').send(
      page({
        title: 'Lessons',
        active: 'lessons',
        body: `<h1>How model inference works</h1>
<p class="lead">Lessons that follow real inputs through real models, step by step, with numbers measured by the same engine as the notebooks. Try the <a href="/stepper">forward-pass stepper</a> on a digit you draw, or compare a model with its <a href="/compare">quantized version</a>.</p>
<ol class="toc">${rows}</ol>`,
      }),
    );
  });

  const lessonPage = async (req: Request, res: Response, next: NextFunction) => {
    const found = lessons.get(String(req.params.slug));
    if (!found) return next();
    const lesson = await found;
    const toc = lessons.toc().filter((l) => l.available);
    const i = toc.findIndex((l) => l.slug === lesson.slug);
    const prev = toc[i - 1];
    const next_ = toc[i + 1];
    const contents = lesson.headings
      .filter((h) => h.depth === 2)
      .map((h) => `<li><a href="#${h.id}">${escapeHtml(h.text)}</a></li>`)
      .join('');
    res.type('html').send(
      page({
        title: lesson.title,
        active: 'lessons',
        vega: true,
        scripts: ['lesson.js'],
        body: `<div class="lesson-layout"><aside class="contents"><h2>On this page</h2><ul>${contents}</ul></aside>
<article class="lesson">${lesson.html}</article></div>
<nav class="pager">${prev ? `<a href="/lessons/${prev.slug}">← ${escapeHtml(prev.title)}</a>` : '<span></span>'}<a href="/">Contents</a>${next_ ? `<a href="/lessons/${next_.slug}">${escapeHtml(next_.title)} →</a>` : '<span></span>'}</nav>`,
      }),
    );
  };
  r.get('/lessons/:slug', (req, res, next) => void lessonPage(req, res, next).catch(next));

  // A chart's still picture, for pages read without JavaScript. SVG can carry script: it is
  // served like the files of /files, under a policy that runs nothing.
  r.get('/lessons/:slug/charts/:n.svg', (req, res, next) => {
    const found = lessons.get(String(req.params.slug));
    if (!found) return next();
    found
      .then((lesson) => {
        const chart = lesson.charts[Number(req.params.n)];
        if (!/^\d+$/.test(String(req.params.n)) || !chart?.svg) return void res.status(404).type('text/plain').send('No such chart.');
        res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
        res.setHeader('Cache-Control', 'public, max-age=60');
        res.type('image/svg+xml').send(chart.svg);
      })
      .catch(next);
  });

  r.get('/lessons/:slug/charts/:n.json', (req, res, next) => {
    const found = lessons.get(String(req.params.slug));
    if (!found) return next();
    found
      .then((lesson) => {
        const chart = lesson.charts[Number(req.params.n)];
        if (!/^\d+$/.test(String(req.params.n)) || !chart?.spec) return void res.status(404).json({ error: 'No such chart.' });
        res.json({ spec: chart.spec, text: chart.text });
      })
      .catch(next);
  });

  r.get('/stepper', (_req, res) => {
    res.type('html').send(
      page({
        title: 'Forward-pass stepper',
        active: 'stepper',
        scripts: ['stepper.js'],
        body: `<h1>Step through a forward pass</h1>
<p class="lead">Pick a model and an input, then walk the trace: every step the input takes from raw pixels to a label, with the value's shape and statistics. Each picture is the value itself (item 0 of the batch), drawn by the server.</p>
<section class="stepper-input">
  <div class="controls">
    <label>Model <select id="model"></select></label>
    <div class="input-choice" id="text-input" hidden>
      <fieldset><legend>Type a word</legend>
        <label>Word <input id="word" type="text" maxlength="40" value="bonjour" autocomplete="off"></label>
        <div class="row"><button type="button" id="run-text" class="primary">Run on this word</button></div>
        <p class="hint" id="text-info"></p>
      </fieldset>
    </div>
    <div class="input-choice" id="image-input">
      <fieldset><legend>Draw a digit</legend>
        <canvas id="pad" width="280" height="280" aria-label="drawing pad: draw a digit with the mouse or a finger"></canvas>
        <div class="row"><button type="button" id="clear">Clear</button><button type="button" id="run-drawing" class="primary">Run on my drawing</button></div>
      </fieldset>
      <fieldset><legend>…or a held-out digit</legend>
        <label>Sample # <input id="sample" type="number" min="0" value="0"></label>
        <div class="row"><button type="button" id="random">Random</button><button type="button" id="run-sample" class="primary">Run on this sample</button></div>
        <p class="hint" id="sample-info"></p>
      </fieldset>
    </div>
  </div>
  <p id="status" role="status" class="status"></p>
</section>
<section id="trace" class="trace" hidden>
  <div class="prediction" id="prediction"></div>
  <div class="stepper-nav">
    <button type="button" id="prev" aria-label="previous step">◀ Back</button>
    <input type="range" id="slider" min="0" value="0" aria-label="step">
    <button type="button" id="next" aria-label="next step">Forward ▶</button>
  </div>
  <div class="step">
    <figure class="step-picture"><img id="step-image" alt=""><figcaption id="step-layout"></figcaption></figure>
    <div class="step-text">
      <h2 id="step-title"></h2>
      <p class="kind" id="step-kind"></p>
      <table class="shapes"><tbody>
        <tr><th>in</th><td id="step-in"></td></tr>
        <tr><th>out</th><td id="step-out"></td></tr>
        <tr><th>dims</th><td id="step-doc"></td></tr>
      </tbody></table>
      <table class="stats"><thead><tr><th>min</th><th>max</th><th>mean</th><th>std</th></tr></thead><tbody><tr id="step-stats"></tr></tbody></table>
      <p class="note" id="step-note"></p>
      <p class="range" id="step-range"></p>
    </div>
  </div>
  <ol class="steps" id="steps"></ol>
</section>`,
      }),
    );
  });

  r.get('/compare', (_req, res) => {
    res.type('html').send(
      page({
        title: 'Original vs optimized',
        active: 'compare',
        vega: true,
        scripts: ['compare.js'],
        body: `<h1>Original vs optimized</h1>
<p class="lead">Pick any model, quantize or prune it, then measure what it cost on the model's own held-out data: its metric, its stored size, its latency (both models timed in alternation) and where the error comes from, step by step. <em>Propagated</em> error includes everything before a step; <em>isolated</em> (image models) feeds each step the original's input, so it is that step's own.</p>
<form id="compare-form" class="compare-form">
  <label>Model <select id="model" name="model"></select></label>
  <label>Optimization <select name="kind" id="kind"><option value="quantize">quantize</option><option value="prune">prune</option></select></label>
  <label data-for="fake-quant">Bits <select name="bits"><option value="8">int8</option><option value="4">int4</option></select></label>
  <label data-for="fake-quant">Scheme <select name="symmetric"><option value="true">symmetric</option><option value="false">asymmetric</option></select></label>
  <label data-for="fake-quant">Granularity <select name="perChannel"><option value="false">per tensor</option><option value="true">per channel</option></select></label>
  <label data-for="fake-quant">Activations <select name="activations" id="activations"><option value="none">float (weight-only)</option><option value="dynamic">int8 dynamic</option><option value="static">int8 static (calibrated)</option></select></label>
  <label data-for="static">Calibration <select name="calibration"><option>minmax</option><option>percentile</option><option>mse</option><option>entropy</option></select></label>
  <p data-for="onnx-dynamic" class="hint choice-note">int8 by ONNX Runtime's dynamic quantization (weights per output column, activations quantized per call): the scheme this model's registry entry uses.</p>
  <label data-for="prune">Sparsity <select name="sparsity"><option value="0.25">25%</option><option value="0.5" selected>50%</option><option value="0.75">75%</option><option value="0.9">90%</option></select></label>
  <label data-for="structured">Structure <select name="structured"><option value="false">single weights</option><option value="true">whole channels</option></select></label>
  <label><span id="items-label">Held-out items</span> <input name="items" id="items" type="number" min="1" value="500"></label>
  <label data-for="image">Digit to trace <input name="sample" type="number" min="0" value="0"></label>
  <button type="submit" class="primary">Compare</button>
</form>
<p id="status" role="status" class="status"></p>
<section id="report" hidden>
  <p id="data-note" class="hint"></p>
  <table class="report"><thead><tr><th></th><th>original</th><th id="optimized-name">optimized</th><th>change</th></tr></thead><tbody id="summary"></tbody></table>
  <p id="verdict"></p>
  <figure class="chart" id="error-chart"><div class="chart-live"></div><div class="chart-static"></div></figure>
  <div id="stepper-section">
  <h2>Both forward passes, step by step</h2>
  <p class="hint">Drag the slider under the chart: the original, the optimized model and their difference at each step, for the digit above.</p>
  <figure class="chart" id="stepper-chart"><div class="chart-live"></div><div class="chart-static"></div></figure>
  </div>
  <h2>Error at each step</h2>
  <table class="layers"><thead><tr><th>step</th><th>op</th><th>SQNR dB (propagated)</th><th id="isolated-head">SQNR dB (isolated)</th><th>cosine</th><th>max |Δ|</th></tr></thead><tbody id="layers"></tbody></table>
</section>`,
      }),
    );
  });

  return r;
}
