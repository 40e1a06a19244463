// The forward-pass stepper: pick a model and an input, run it on the server, walk the trace.
(function () {
  'use strict';
  const { json, fmt, el } = window.InferenceLab;
  const $ = (id) => document.getElementById(id);
  const state = { steps: [], at: 0 };
  const shape = (s) => (s ? `[${s.join(', ')}]` : '—');

  function setStatus(text, kind) {
    const s = $('status');
    s.textContent = text;
    s.className = `status ${kind || ''}`;
  }

  // ---- drawing pad: white ink on black, like MNIST ----
  const pad = $('pad');
  const ctx = pad.getContext('2d');
  let drawing = false;
  let inked = false;
  function clearPad() {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, pad.width, pad.height);
    inked = false;
  }
  function point(e) {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  }
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    const [x, y] = point(e);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 0.1, y + 0.1);
    ctx.stroke();
    inked = true;
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const [x, y] = point(e);
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  const stop = () => (drawing = false);
  pad.addEventListener('pointerup', stop);
  pad.addEventListener('pointercancel', stop);
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 20;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  clearPad();

  /**
   * The drawing as MNIST-style 28x28 pixels: the ink's bounding box scaled to fit 20x20 and
   * centred, as the MNIST digits were prepared. The model's own preprocessing does the rest.
   */
  function drawingPixels() {
    const { width, height } = pad;
    const data = ctx.getImageData(0, 0, width, height).data;
    let x0 = width, y0 = height, x1 = -1, y1 = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (data[(y * width + x) * 4] > 20) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
    }
    if (x1 < 0) return null;
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    const scale = 20 / Math.max(w, h);
    const small = document.createElement('canvas');
    small.width = 28;
    small.height = 28;
    const sctx = small.getContext('2d');
    sctx.fillStyle = '#000';
    sctx.fillRect(0, 0, 28, 28);
    sctx.imageSmoothingQuality = 'high';
    sctx.drawImage(pad, x0, y0, w, h, 14 - (w * scale) / 2, 14 - (h * scale) / 2, w * scale, h * scale);
    const px = sctx.getImageData(0, 0, 28, 28).data;
    const rows = [];
    for (let y = 0; y < 28; y++) {
      const row = [];
      for (let x = 0; x < 28; x++) row.push(px[(y * 28 + x) * 4]);
      rows.push(row);
    }
    return rows;
  }

  // ---- the trace ----
  function show(i) {
    const steps = state.steps;
    if (!steps.length) return;
    state.at = Math.max(0, Math.min(steps.length - 1, i));
    const s = steps[state.at];
    $('slider').value = String(state.at);
    $('step-title').textContent = `Step ${s.index} of ${steps.length - 1}: ${s.name}`;
    $('step-kind').textContent = `operation: ${s.kind}`;
    $('step-in').textContent = shape(s.inputShape);
    $('step-out').textContent = shape(s.outputShape);
    $('step-doc').textContent = s.shapeDoc;
    const stats = $('step-stats');
    stats.replaceChildren(...['min', 'max', 'mean', 'std'].map((k) => el('td', {}, fmt(s.stats[k]))));
    $('step-note').textContent = s.note || '';
    const img = $('step-image');
    if (s.image) {
      img.src = s.image;
      img.alt = `${s.name}: ${s.layout}`;
      img.hidden = false;
    } else {
      img.hidden = true;
    }
    $('step-layout').textContent = s.image ? `${s.layout}; colours (${s.colormap}) span ${fmt(s.range[0])} .. ${fmt(s.range[1])}` : '';
    $('step-range').textContent = '';
    $('prev').disabled = state.at === 0;
    $('next').disabled = state.at === steps.length - 1;
    for (const li of $('steps').children) li.classList.toggle('current', Number(li.dataset.i) === state.at);
    document.body.dataset.step = String(state.at);
  }

  function render(result) {
    state.steps = result.steps;
    const top = result.top.map((t) => `${t.label} (${(t.p * 100).toFixed(1)}%)`).join(', ');
    const truth =
      result.input.kind === 'sample'
        ? ` · held-out digit #${result.input.index}, true label ${result.input.label}`
        : result.input.kind === 'text'
          ? ` · "${result.input.text}" as character ids [${result.input.ids.join(', ')}]`
          : ' · your drawing';
    $('prediction').replaceChildren(
      el('strong', {}, `Prediction: ${top}`),
      el('span', { class: 'meta' }, `${truth} · ${result.steps.length} steps · ${result.ms} ms on ${result.backend}`),
    );
    $('slider').max = String(result.steps.length - 1);
    $('steps').replaceChildren(
      ...result.steps.map((s) => {
        const b = el('button', { type: 'button' }, `${s.index}. ${s.name}`, el('span', { class: 'shape' }, shape(s.outputShape)));
        b.addEventListener('click', () => show(s.index));
        const li = el('li', {}, b);
        li.dataset.i = String(s.index);
        return li;
      }),
    );
    $('trace').hidden = false;
    show(0);
  }

  async function run(body) {
    setStatus('Running…', 'busy');
    try {
      const result = await json('/api/run', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      render(result);
      setStatus('');
      document.body.dataset.ready = 'true';
    } catch (err) {
      setStatus(err.message, 'error');
    }
  }

  $('clear').addEventListener('click', clearPad);
  $('run-drawing').addEventListener('click', () => {
    const pixels = inked ? drawingPixels() : null;
    if (!pixels) return setStatus('Draw a digit first (white on the black pad).', 'error');
    run({ model: $('model').value, pixels });
  });
  $('run-sample').addEventListener('click', () => run({ model: $('model').value, sample: Number($('sample').value) }));
  $('random').addEventListener('click', () => {
    const max = Number($('sample').max) || 0;
    $('sample').value = String(Math.floor(Math.random() * (max + 1)));
    run({ model: $('model').value, sample: Number($('sample').value) });
  });
  $('run-text').addEventListener('click', () => run({ model: $('model').value, text: $('word').value }));
  $('word').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') run({ model: $('model').value, text: $('word').value });
  });
  const inputs = new Map();
  function showInputFor(name) {
    const kind = inputs.get(name);
    $('text-input').hidden = kind !== 'word' && kind !== 'text';
    $('image-input').hidden = kind !== 'image' && kind !== 'audio';
  }
  $('model').addEventListener('change', (e) => showInputFor(e.target.value));
  $('prev').addEventListener('click', () => show(state.at - 1));
  $('next').addEventListener('click', () => show(state.at + 1));
  $('slider').addEventListener('input', (e) => show(Number(e.target.value)));
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === 'ArrowLeft') show(state.at - 1);
    if (e.key === 'ArrowRight') show(state.at + 1);
  });

  json('/api/models')
    .then((info) => {
      const select = $('model');
      for (const m of info.models) {
        const option = el('option', { value: m.name }, m.stepper ? `${m.name} — ${m.task}` : `${m.name} (not in the stepper yet)`);
        if (!m.stepper) option.disabled = true;
        inputs.set(m.name, m.input);
        select.append(option);
      }
      const labels = info.models.filter((m) => m.input === 'text').map((m) => m.name);
      $('text-info').textContent = labels.length ? 'One word; the model guesses its language, one character at a time.' : '';
      showInputFor(select.value);
      $('sample').max = String(info.samples.count - 1);
      $('sample-info').textContent = `${info.samples.count} ${info.samples.description}.`;
      document.body.dataset.models = String(info.models.length);
    })
    .catch((err) => setStatus(`Cannot list models: ${err.message}`, 'error'));
})();
