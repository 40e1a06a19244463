// Original vs optimized: the form posts to /api/compare (the library's one compare(), on any
// registered model) and draws the report and the error chart. The options shown are the ones that
// apply to the chosen model's registry entry (fake-quantized tfjs, or ONNX Runtime int8 for a GPT).
(function () {
  'use strict';
  const { json, fmt, el, embed } = window.InferenceLab;
  const $ = (id) => document.getElementById(id);
  const pct = (v) => `${(v * 100).toFixed(1)}%`;
  const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;
  const state = { models: [], limits: null };

  function setStatus(text, kind) {
    const s = $('status');
    s.textContent = text;
    s.className = `status ${kind || ''}`;
  }

  function row(label, a, b, change) {
    return el('tr', {}, el('th', {}, label), el('td', {}, a), el('td', {}, b), el('td', {}, change));
  }

  /** The chosen model's entry from /api/models. */
  function current() {
    return state.models.find((m) => m.name === $('model').value);
  }

  /** Show only the options that apply to this model and this optimization. */
  function updateForm() {
    const m = current();
    if (!m) return;
    const kind = $('kind').value;
    const applies = {
      'fake-quant': kind === 'quantize' && m.int8 === 'fake-quant',
      'onnx-dynamic': kind === 'quantize' && m.int8 === 'onnx-dynamic',
      static: kind === 'quantize' && m.int8 === 'fake-quant' && $('activations').value === 'static',
      prune: kind === 'prune',
      structured: kind === 'prune' && m.architecture === 'digits-cnn',
      image: m.input === 'image',
    };
    for (const node of document.querySelectorAll('#compare-form [data-for]')) node.hidden = !applies[node.dataset.for];
    // Static activation ranges need calibration inputs: they ship for the digits models only.
    $('activations').querySelector('option[value=static]').disabled = m.input !== 'image';
    if (m.input !== 'image' && $('activations').value === 'static') $('activations').value = 'none';
    const items = state.limits.compareItems[m.input];
    const input = $('items');
    input.min = String(items.min);
    input.max = String(items.max);
    input.value = String(items.default);
    $('items-label').textContent = items.unit.charAt(0).toUpperCase() + items.unit.slice(1);
  }

  /** The metric's change in words: better or worse, in points (accuracy) or nats (a loss). */
  function metricChange(r) {
    const d = r.optimized.value - r.original.value;
    if (d === 0) return 'no change';
    const better = r.metric.lowerIsBetter ? d < 0 : d > 0;
    const amount = r.metric.lowerIsBetter ? `${d > 0 ? '+' : ''}${d.toFixed(4)}` : `${d > 0 ? '+' : ''}${(d * 100).toFixed(1)} points`;
    return `${amount} (${better ? 'better' : 'worse'})`;
  }

  function metricText(r, side) {
    const v = r[side];
    return r.metric.lowerIsBetter ? `${v.value.toFixed(4)}${v.perplexity !== undefined ? ` (perplexity ${v.perplexity.toFixed(2)})` : ''}` : pct(v.value);
  }

  function sizeChange(o, q) {
    if (q.bytes === o.bytes) return 'the same size';
    return q.bytes < o.bytes ? `${(o.bytes / q.bytes).toFixed(2)}x smaller` : `${(q.bytes / o.bytes).toFixed(2)}x larger`;
  }

  const ms = (t) => (t ? `${t.medianMs.toFixed(2)} ms (p95 ${t.p95Ms.toFixed(2)})` : '—');

  async function render(r) {
    const o = r.original;
    const q = r.optimized;
    $('optimized-name').textContent = r.optimizedName;
    $('data-note').textContent = `Measured on ${r.data.source}. Latency: ${r.latencyNote}.`;
    const rows = [
      row(`${r.metric.name} (${r.data.items} ${r.data.unit})`, metricText(r, 'original'), metricText(r, 'optimized'), metricChange(r)),
      row('stored size', kb(o.bytes), kb(q.bytes), sizeChange(o, q)),
    ];
    const speed = (engine) => (r.speed && r.speed.engine === engine ? r.speed.text : '');
    if (o.latency || q.latency) rows.push(row('latency, tfjs', ms(o.latency), ms(q.latency), speed('tfjs')));
    if (o.onnxLatency || q.onnxLatency) rows.push(row('latency, ONNX Runtime', ms(o.onnxLatency), ms(q.onnxLatency), speed('onnxruntime')));
    if (r.sample) {
      const top = (t) => t.map((p) => `${p.label} ${pct(p.p)}`).join(', ');
      rows.push(row(`digit #${r.sample.index} (true ${r.sample.label})`, top(r.sample.original), top(r.sample.optimized), ''));
    }
    $('summary').replaceChildren(...rows);
    const notes = [];
    if (r.speed) notes.push(`${r.optimizedName} is ${r.speed.text}.`);
    if (r.disagreements !== null) notes.push(`The two models disagree on ${r.disagreements} of ${r.data.items} digits (one right, the other wrong).`);
    if (r.optimization.kind === 'quantize' && r.optimization.engine === 'fake-quant') {
      notes.push('This engine computes with the dequantized weights (fake quantization), so latency shows no integer speed-up; size is the real packed size.');
    } else if (r.optimization.kind === 'quantize') {
      notes.push('The int8 model runs on ONNX Runtime\'s integer kernels; the original is timed on ONNX Runtime float32 too, so the latency rows compare like with like.');
    } else if (!r.optimization.structured) {
      notes.push('Pruned weights are stored sparse (size), but the engine still multiplies the zeros, so latency shows no speed-up.');
    }
    $('verdict').textContent = notes.join(' ');
    const db = (v) => (v === 'inf' ? 'exact' : fmt(v));
    // Isolated error needs each step fed the original's input: measured for image models only.
    const isolated = r.layers.some((l) => l.isolated);
    $('isolated-head').hidden = !isolated;
    $('layers').replaceChildren(
      ...r.layers.map((l) =>
        el('tr', {}, el('td', {}, l.name), el('td', {}, l.kind), el('td', {}, db(l.sqnrDb)), ...(isolated ? [el('td', {}, l.isolated ? db(l.isolated.sqnrDb) : '—')] : []), el('td', {}, fmt(l.cosine)), el('td', {}, fmt(l.maxAbs))),
      ),
    );
    $('stepper-section').hidden = !r.stepper;
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
    const m = current();
    const kind = f.get('kind');
    const optimization =
      kind === 'prune'
        ? { kind: 'prune', sparsity: Number(f.get('sparsity')), structured: m.architecture === 'digits-cnn' && f.get('structured') === 'true' }
        : m.int8 === 'onnx-dynamic'
          ? { kind: 'quantize', bits: 8 }
          : {
              kind: 'quantize',
              bits: Number(f.get('bits')),
              symmetric: f.get('symmetric') === 'true',
              perChannel: f.get('perChannel') === 'true',
              activations: f.get('activations'),
              calibration: f.get('calibration'),
            };
    const body = { model: m.name, optimization, items: Number(f.get('items')), stepper: m.input === 'image' };
    if (m.input === 'image') body.sample = Number(f.get('sample'));
    delete document.body.dataset.ready;
    setStatus(`${kind === 'prune' ? 'Pruning' : 'Quantizing'} ${m.name} and measuring both models…`, 'busy');
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
      state.models = info.models;
      state.limits = info.limits;
      const select = $('model');
      for (const m of info.models) {
        // A model compare cannot score is listed greyed out, its reason on hover, so the page never offers a certain refusal.
        const option = el('option', { value: m.name }, `${m.name} (${m.input})${m.notComparable ? ': not comparable' : ''}`);
        if (m.notComparable) Object.assign(option, { disabled: true, title: `${m.name} is ${m.notComparable}` });
        select.append(option);
      }
      select.addEventListener('change', updateForm);
      $('kind').addEventListener('change', updateForm);
      $('activations').addEventListener('change', updateForm);
      updateForm();
      if (!info.compare.available) setStatus('Quantization is not available in this build yet.', 'error');
      document.body.dataset.models = String(info.models.length);
    })
    .catch((err) => setStatus(`Cannot list models: ${err.message}`, 'error'));
})();
