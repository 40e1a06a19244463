// The page shell every HTML page shares: no inline script (CSP), scripts by URL only.

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const VEGA_SCRIPTS = ['/vendor/vega.min.js', '/vendor/vega-lite.min.js', '/vendor/vega-interpreter.js', '/vendor/vega-embed.min.js'];

export interface PageOptions {
  title: string;
  /** Trusted HTML (built here with escapeHtml, or rendered from the lessons). */
  body: string;
  /** Page scripts under /static/. */
  scripts?: string[];
  /** Load Vega, Vega-Lite, the CSP-safe interpreter and vega-embed before the page scripts. */
  vega?: boolean;
  active?: 'lessons' | 'stepper' | 'compare';
}

export function page(options: PageOptions): string {
  const scripts = [...(options.vega ? VEGA_SCRIPTS : []), '/static/charts.js', ...(options.scripts ?? []).map((s) => `/static/${s}`)];
  const nav = (href: string, label: string, key: PageOptions['active']) =>
    `<a href="${href}"${options.active === key ? ' aria-current="page"' : ''}>${label}</a>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)} · Inference Lab</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
${scripts.map((s) => `<script src="${s}" defer></script>`).join('\n')}
</head>
<body>
<header class="site"><a class="brand" href="/">Inference Lab</a>
<nav>${nav('/', 'Lessons', 'lessons')}${nav('/stepper', 'Forward-pass stepper', 'stepper')}${nav('/compare', 'Original vs optimized', 'compare')}</nav></header>
<main>
${options.body}
</main>
<footer class="site">Inference Lab · served offline · every number on these pages is computed by the same engine the notebooks use.</footer>
</body>
</html>
`;
}
