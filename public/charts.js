// Shared by every page: embed a Vega-Lite spec with vega-embed, CSP-safe (Vega expressions run
// through vega-interpreter, never `new Function`). Charts keep their server-drawn SVG as the
// fallback until the live chart has rendered.
(function () {
  'use strict';

  async function embed(figure, spec) {
    const live = figure.querySelector('.chart-live');
    const still = figure.querySelector('.chart-static');
    if (!window.vegaEmbed || !window.vegaInterpreter) {
      figure.classList.add('chart-fallback');
      return null;
    }
    try {
      const result = await window.vegaEmbed(live, spec, {
        renderer: 'svg',
        actions: false,
        ast: true,
        expr: window.vegaInterpreter.expressionInterpreter,
        defaultStyle: false,
      });
      if (still) still.hidden = true;
      figure.classList.add('chart-ready');
      return result;
    } catch (err) {
      console.error('chart failed, keeping the static picture:', err);
      figure.classList.add('chart-fallback');
      return null;
    }
  }

  async function json(url, options) {
    const res = await fetch(url, options);
    let body = null;
    try {
      body = await res.json();
    } catch (_) {
      body = { error: `${res.status} ${res.statusText}` };
    }
    if (!res.ok) throw new Error(body && body.error ? body.error : `${res.status} ${res.statusText}`);
    return body;
  }

  function fmt(v) {
    if (typeof v !== 'number') return String(v);
    if (v !== 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3)) return v.toExponential(2);
    return String(Number(v.toFixed(3)));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  window.InferenceLab = { embed, json, fmt, el };
})();
