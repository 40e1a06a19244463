// Original vs optimized: the form posts to /api/compare and draws the report and the error chart.
(function () {
  'use strict';
  const { json, fmt, el, embed } = window.InferenceLab;
  const $ = (id) => document.getElementById(id);
  const pct = (v) => `${(v * 100).toFixed(1)}%`;
  const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;

  function setStatus(text, kind) {
    const s = $('status');
    s.textContent = text;
    s.className = `status ${kind || ''}`;
  }

  function row(label, a, b, change) {
    return el('tr', {}, el('th', {}, label), el('td', {}, a), el('td', {}, b), el('td', {}, change));
  }

  async function render(r) {
    const o = r.original;
    const q = r.optimized;
    const top = (t) => t.map((p) => `${p.label} ${pct(p.p)}`).join(', ');
    $('summary').replaceChildren(
      row(`accuracy (${r.digits} held-out digits)`, pct(o.accuracy), pct(q.accuracy), `${((q.accuracy - o.accuracy) * 100).toFixed(1)} points`),
      row('stored size', kb(o.bytes), kb(q.bytes), `${(o.bytes / q.bytes).toFixed(2)}x smaller`),
      row('latency, batch of 64 (median of 11)', `${o.latencyMs64.toFixed(1)} ms`, `${q.latencyMs64.toFixed(1)} ms`, `${(q.latencyMs64 / o.latencyMs64).toFixed(2)}x`),
      row(`digit #${r.sample.index} (true ${r.sample.label})`, top(r.sample.original), top(r.sample.optimized), ''),
    );
    $('verdict').textContent =
      `${r.optimizedName}: the two models disagree on ${r.disagreements} of ${r.digits} digits (one right, the other wrong). ` +
      'Note: this engine computes with the dequantized weights (fake quantization), so latency shows no integer speed-up; size is the real packed size.';
    $('layers').replaceChildren(
      ...r.layers.map((l) =>
        el('tr', {}, el('td', {}, l.name), el('td', {}, l.kind), el('td', {}, fmt(l.sqnrDb)), el('td', {}, fmt(l.isolated.sqnrDb)), el('td', {}, fmt(l.cosine)), el('td', {}, fmt(l.maxAbs))),
      ),
    );
    $('report').hidden = false;
    await Promise.all([chart($('error-chart'), r.chart), chart($('stepper-chart'), r.stepper)]);
  }

  /** A chart from the server: its SVG as the still picture, then the live Vega-Lite version. */
  async function chart(figure, c) {
    figure.classList.remove('chart-ready', 'chart-fallback');
    figure.querySelector('.chart-live').replaceChildren();
    const still = figure.querySelector('.chart-static');
    still.hidden = false;
    still.replaceChildren();
    figure.hidden = !c;
    if (!c) return;
    // The server's SVG is our own Vega output: parsed as an image document, never as HTML.
    const svg = new DOMParser().parseFromString(c.svg, 'image/svg+xml').documentElement;
    still.replaceChildren(document.importNode(svg, true));
    await embed(figure, c.spec);
  }

  $('compare-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = {
      model: f.get('model'),
      optimization: {
        kind: 'quantize',
        bits: Number(f.get('bits')),
        symmetric: f.get('symmetric') === 'true',
        perChannel: f.get('perChannel') === 'true',
        activations: f.get('activations'),
        calibration: f.get('calibration'),
      },
      digits: Number(f.get('digits')),
      sample: Number(f.get('sample')),
      stepper: true,
    };
    setStatus('Quantizing and measuring…', 'busy');
    try {
      await render(await json('/api/compare', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }));
      setStatus('');
      document.body.dataset.ready = 'true';
    } catch (err) {
      setStatus(err.message, 'error');
    }
  });

  json('/api/models')
    .then((info) => {
      const select = $('model');
      for (const m of info.models) {
        const option = el('option', { value: m.name }, m.name);
        if (m.architecture !== 'digits-cnn') option.disabled = true;
        select.append(option);
      }
      if (!info.compare.available) setStatus('Quantization is not available in this build yet.', 'error');
      document.body.dataset.models = String(info.models.length);
    })
    .catch((err) => setStatus(`Cannot list models: ${err.message}`, 'error'));
})();
