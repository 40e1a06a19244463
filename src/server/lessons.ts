// Lessons: lessons/<slug>.md rendered with marked. Headings get ids; code gets a language class;
// raw HTML in the markdown is shown as text (the site runs no markup it did not write), except
// comments, which are dropped (a generated lesson starts with one).
// Charts: a ```vega-lite block that names a notebook output (`vega-lite notebook=NN-x.ipynb
// cell=<id> output=<n>`, written by `npm run lessons`) is drawn from that output's own spec, read
// from notebooks/; a ```vega-lite block holding a spec, or an ```inference-lab block (a live view
// computed by the engine, e.g. {"view": "trace", "model": "digits-cnn", "sample": 0}), becomes an
// interactive chart too; so does an image whose file is a known figure made by the library
// (LIVE_FIGURES), since the site serves only lessons/ and assets/. Without JavaScript a chart shows
// its SVG picture; when the live chart fails, its text.
import * as fs from 'fs';
import * as path from 'path';
import * as lab from '../index';
import type { MimeBundle } from '../index';
import { escapeHtml } from './html';
import { CURRICULUM } from './curriculum';
import type { LabService } from './compute';
import { findOutput, parseChartRef, readNotebook, SOLUTION_CLOSE, SOLUTION_OPEN, VEGA_LITE_MIME, type ChartRef, type Notebook } from './notebook-lessons';

type MarkedModule = typeof import('marked', { with: { 'resolution-mode': 'import' } });
let markedModule: Promise<MarkedModule> | null = null;
/** marked is ESM-only; a real dynamic import works from this CommonJS module. */
function loadMarked(): Promise<MarkedModule> {
  markedModule ??= import('marked') as Promise<MarkedModule>;
  return markedModule;
}

/** A live view a lesson can ask for. */
export interface ViewRequest {
  view: 'trace' | 'probabilities' | 'image' | 'summary' | 'soft-targets' | TextView;
  model?: string;
  /** Held-out digit index. */
  sample?: number;
  /** Text views (a GPT): the text to run. */
  text?: string;
  /** Head view: block and head shown first. */
  layer?: number;
  head?: number;
  /** Next-token view: temperature (soft-targets: the temperature of the still picture). */
  temperature?: number;
  /** Soft-targets view: the students drawn beside the teacher (`model`), 1 to 3 GPT names. */
  students?: string[];
}

/** Views of a language model on a text (the transformer lesson's figures). */
const TEXT_VIEWS = ['tokens', 'attention', 'model-view', 'logit-lens', 'next-token'] as const;
type TextView = (typeof TEXT_VIEWS)[number];
const MAX_VIEW_TEXT = 400; // characters: keeps one lesson figure to well under a second

/** The text a language-model view runs on, checked: 1..MAX_VIEW_TEXT characters. */
function viewText(req: ViewRequest): string {
  const text = req.text;
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_VIEW_TEXT) throw new Error(`view ${JSON.stringify(req.view)} needs "text": a string of 1..${MAX_VIEW_TEXT} characters`);
  return text;
}

/** A transformer view of `req.text` on a GPT. */
async function textViewChart(model: lab.HookedModel, req: ViewRequest): Promise<MimeBundle> {
  if (!(model instanceof lab.GPT)) throw new Error(`view ${JSON.stringify(req.view)} needs a GPT (e.g. "tiny-gpt"); ${model.name} is not one`);
  const text = viewText(req);
  switch (req.view as TextView) {
    case 'tokens':
      return lab.tokenizationView(model, text);
    case 'attention':
      return lab.attentionHeadView(model, text, { layer: req.layer ?? 0, head: req.head ?? 0 });
    case 'model-view':
      return lab.attentionModelView(model, text);
    case 'logit-lens':
      return lab.logitLensView(model, text);
    case 'next-token':
      return lab.nextTokenView(model, text, { temperature: req.temperature ?? 1 });
  }
}

/** The teacher's and students' next-character probabilities under a temperature slider (lesson 9). */
async function softTargetsChart(service: LabService, teacher: lab.HookedModel, req: ViewRequest): Promise<MimeBundle> {
  if (!(teacher instanceof lab.GPT)) throw new Error(`view "soft-targets" needs a GPT teacher as "model" (e.g. "tiny-gpt"); ${teacher.name} is not one`);
  const names = req.students;
  if (!Array.isArray(names) || names.length < 1 || names.length > 3 || !names.every((n) => typeof n === 'string')) {
    throw new Error('view "soft-targets" needs "students": 1 to 3 model names, e.g. ["tiny-gpt-student-distilled"]');
  }
  const text = viewText(req);
  const models: Record<string, lab.GPT> = { [`teacher (${teacher.name})`]: teacher };
  for (const name of names) {
    const student = await service.model(name);
    if (!(student instanceof lab.GPT)) throw new Error(`view "soft-targets": student ${name} is not a GPT`);
    models[name] = student;
  }
  return lab.nextTokenTemperatureView(text, models, { stillTemperature: req.temperature ?? 1 });
}

/**
 * Figures the lessons reference from outside lessons/ (made by the library, e.g. for the README),
 * shown on the site as the live chart they are a picture of.
 */
export const LIVE_FIGURES: Record<string, ViewRequest> = {
  'docs/stepper.png': { view: 'trace', model: 'digits-cnn', sample: 0 },
};

export interface Chart {
  /** The Vega-Lite spec, or null when the chart could not be made (`error` then says why). */
  spec: Record<string, unknown> | null;
  /** The chart as a still picture (shown without JavaScript), or '' when there is none. */
  svg: string;
  text: string;
  error?: string;
}

export interface RenderedLesson {
  slug: string;
  title: string;
  html: string;
  headings: { depth: number; id: string; text: string }[];
  charts: Chart[];
}

const SLUG = /^[0-9]{2}-[a-z0-9-]+$/;

export class Lessons {
  private readonly cache = new Map<string, { stamp: string; lesson: Promise<RenderedLesson> }>();
  private readonly notebooks = new Map<string, { mtimeMs: number; notebook: Notebook }>();

  /**
   * @param dir lessons/
   * @param service the engine, for live views
   * @param notebooksDir notebooks/, where the charts of generated lessons are read from
   */
  constructor(
    readonly dir: string,
    private readonly service: LabService,
    readonly notebooksDir: string = path.join(path.dirname(dir), 'notebooks'),
  ) {}

  /** A notebook of notebooksDir, parsed once per change of the file. */
  private notebook(file: string): Notebook {
    const full = path.join(this.notebooksDir, file);
    if (!fs.existsSync(full)) throw new Error(`notebooks/${file} is not there`);
    const mtimeMs = fs.statSync(full).mtimeMs;
    const hit = this.notebooks.get(file);
    if (hit && hit.mtimeMs === mtimeMs) return hit.notebook;
    const notebook = readNotebook(full);
    this.notebooks.set(file, { mtimeMs, notebook });
    return notebook;
  }

  /** What a rendered lesson depends on: its file and the notebooks its charts come from. */
  private stamp(file: string, markdown?: string): string {
    const text = markdown ?? fs.readFileSync(file, 'utf8');
    const used = [...new Set([...text.matchAll(/notebook=([0-9]{2}-[a-z0-9-]+\.ipynb)/g)].map((m) => m[1]))].sort();
    const mtime = (f: string) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0);
    return [mtime(file), ...used.map((n) => `${n}:${mtime(path.join(this.notebooksDir, n))}`)].join('|');
  }

  /** Slugs of the lessons present on disk, in order. */
  available(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith('.md') && SLUG.test(f.slice(0, -3)))
      .map((f) => f.slice(0, -3))
      .sort();
  }

  /** The table of contents: the curriculum in order, plus any lesson on disk it does not list. */
  toc(): { slug: string; title: string; concepts: string; available: boolean }[] {
    const present = new Set(this.available());
    const rows = CURRICULUM.map((c) => ({ ...c, available: present.has(c.slug) }));
    for (const slug of present) {
      if (!CURRICULUM.some((c) => c.slug === slug)) rows.push({ slug, title: slug.slice(3).replace(/-/g, ' '), concepts: '', available: true });
    }
    return rows.sort((a, b) => a.slug.localeCompare(b.slug));
  }

  /** A rendered lesson, or null if there is no such lesson. Re-rendered when the file changes. */
  get(slug: string): Promise<RenderedLesson> | null {
    if (!SLUG.test(slug) || !this.available().includes(slug)) return null;
    const file = path.join(this.dir, `${slug}.md`);
    const markdown = fs.readFileSync(file, 'utf8');
    const stamp = this.stamp(file, markdown);
    const hit = this.cache.get(slug);
    if (hit && hit.stamp === stamp) return hit.lesson;
    const lesson = this.render(slug, markdown);
    lesson.catch(() => this.cache.delete(slug));
    this.cache.set(slug, { stamp, lesson });
    return lesson;
  }

  private async render(slug: string, markdown: string): Promise<RenderedLesson> {
    const { Marked } = await loadMarked();
    const headings: RenderedLesson['headings'] = [];
    const usedIds = new Map<string, number>();
    const jobs: (() => Promise<Chart>)[] = [];
    const lessonsDir = this.dir;
    const root = path.dirname(lessonsDir);
    const service = this.service;
    const chartSlot = (job: () => Promise<Chart>, caption = '') => {
      const i = jobs.length;
      jobs.push(job);
      return `<figure class="chart" data-chart="/lessons/${slug}/charts/${i}.json"><div class="chart-live"></div><div class="chart-static">\u0000CHART${i}\u0000</div>${caption ? `<figcaption>${escapeHtml(caption)}</figcaption>` : ''}</figure>\n`;
    };
    const notebookChart = (ref: ChartRef, text: string) => async (): Promise<Chart> => {
      const out = findOutput(this.notebook(ref.notebook), ref);
      if (out instanceof Error) throw out;
      const data = out.data!;
      const svg = data['image/svg+xml'];
      return { spec: data[VEGA_LITE_MIME] as Record<string, unknown>, svg: Array.isArray(svg) ? svg.join('') : typeof svg === 'string' ? svg : '', text };
    };
    const lessonSlugs = new Set(this.available());

    const marked = new Marked({
      gfm: true,
      renderer: {
        heading({ tokens, depth }) {
          const inner = this.parser.parseInline(tokens);
          const text = inner.replace(/<[^>]+>/g, '').replace(/&[a-z#0-9]+;/gi, '');
          const base = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'section';
          const n = usedIds.get(base) ?? 0;
          usedIds.set(base, n + 1);
          const id = n === 0 ? base : `${base}-${n}`;
          headings.push({ depth, id, text });
          return `<h${depth} id="${id}"><a class="anchor" href="#${id}" aria-hidden="true">#</a>${inner}</h${depth}>\n`;
        },
        code({ text, lang }) {
          const ref = parseChartRef(lang ?? '');
          if (ref) return chartSlot(notebookChart(ref, text));
          const language = (lang ?? '').trim().split(/\s+/)[0].toLowerCase();
          if (language === 'vega-lite' || language === 'inference-lab') {
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch (err) {
              return `<pre class="chart-error">${escapeHtml(`${language} block: invalid JSON (${(err as Error).message})`)}</pre>\n`;
            }
            if (language === 'vega-lite') return chartSlot(() => specChart(parsed as Record<string, unknown>));
            return chartSlot(() => viewChart(service, parsed as ViewRequest));
          }
          const cls = /^[a-z0-9+#-]+$/.test(language) ? ` class="language-${language}"` : '';
          return `<pre><code${cls}>${highlight(text, language)}</code></pre>\n`;
        },
        html({ text }) {
          if (/^\s*<!--[\s\S]*?-->\s*$/.test(text)) return '';
          const line = text.trim();
          if (line === SOLUTION_OPEN || line === SOLUTION_CLOSE) return `${line}\n`; // a folded solution; any other HTML is shown as text
          return escapeHtml(text);
        },
        image({ href, title, text }) {
          const target = resolveLessonLink(href, lessonsDir, root);
          if (target.kind === 'live') return chartSlot(() => viewChart(service, target.view), text);
          if (target.kind === 'file') {
            return `<img src="${escapeHtml(target.url)}" alt="${escapeHtml(text)}"${title ? ` title="${escapeHtml(title)}"` : ''}>`;
          }
          return `<span class="missing-figure">[figure: ${escapeHtml(text)}]</span>`;
        },
        link({ href, title, tokens }) {
          const inner = this.parser.parseInline(tokens);
          const lesson = /^(?:\.\/)?([0-9]{2}-[a-z0-9-]+)\.md(#[\w-]*)?$/.exec(href);
          if (lesson && lessonSlugs.has(lesson[1])) return `<a href="/lessons/${lesson[1]}${lesson[2] ?? ''}">${inner}</a>`;
          if (/^(https?:|mailto:|#)/i.test(href)) {
            return `<a href="${escapeHtml(href)}"${title ? ` title="${escapeHtml(title)}"` : ''}${href.startsWith('#') ? '' : ' rel="noopener noreferrer"'}>${inner}</a>`;
          }
          const target = resolveLessonLink(href, lessonsDir, root);
          if (target.kind === 'file') return `<a href="${escapeHtml(target.url)}">${inner}</a>`;
          return `<span class="offline-link" title="${escapeHtml(href)}">${inner}</span>`;
        },
      },
    });

    let html = await marked.parse(markdown);
    // A chart that fails (bad spec, unknown model) becomes a visible error, not a broken lesson.
    const charts = await Promise.all(
      jobs.map((job) => job().catch((err: unknown): Chart => ({ spec: null, svg: '', text: 'error', error: (err as Error).message ?? String(err) }))),
    );
    // The still picture is fetched only without JavaScript; the text is shown if the live chart fails.
    html = html.replace(/\u0000CHART(\d+)\u0000/g, (_, i) => {
      const c = charts[Number(i)];
      if (c.error !== undefined) return `<p class="chart-error">Chart not available: ${escapeHtml(c.error)}</p>`;
      const still = c.svg ? `<noscript><img src="/lessons/${slug}/charts/${i}.svg" alt="${escapeHtml(c.text.split('\n')[0])}"></noscript>` : '';
      return `${still}<pre class="chart-text">${escapeHtml(c.text)}</pre>`;
    });
    charts.forEach((c, i) => {
      if (!c.spec) html = html.replace(`<figure class="chart" data-chart="/lessons/${slug}/charts/${i}.json">`, '<figure class="chart chart-failed">');
    });
    const title = headings.find((h) => h.depth === 1)?.text ?? slug;
    return { slug, title, html, headings, charts };
  }
}

/** Where a relative link of a lesson points: a file the site serves, a live figure, or nothing. */
function resolveLessonLink(href: string, lessonsDir: string, root: string): { kind: 'file'; url: string } | { kind: 'live'; view: ViewRequest } | { kind: 'none' } {
  if (/^[a-z]+:/i.test(href) || href.startsWith('/')) return { kind: 'none' };
  const clean = href.split(/[?#]/)[0];
  const full = path.resolve(lessonsDir, clean);
  const fromRoot = path.relative(root, full).split(path.sep).join('/');
  if (LIVE_FIGURES[fromRoot]) return { kind: 'live', view: LIVE_FIGURES[fromRoot] };
  for (const dir of ['lessons', 'assets']) {
    if (fromRoot.startsWith(`${dir}/`) && fs.existsSync(full)) return { kind: 'file', url: `/files/${fromRoot.split('/').map(encodeURIComponent).join('/')}` };
  }
  return { kind: 'none' };
}

async function specChart(spec: Record<string, unknown>): Promise<Chart> {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new Error('a vega-lite block must hold a JSON object (a Vega-Lite spec)');
  const full = lab.withDefaults(spec);
  const svg = await lab.renderSvg(full);
  return { spec: full, svg, text: String(spec.description ?? spec.title ?? 'chart') };
}

/** A live view computed by the engine (the same views the notebooks show). */
async function viewChart(service: LabService, req: ViewRequest): Promise<Chart> {
  const model = await service.model(req.model ?? 'digits-cnn');
  const bundle: MimeBundle = await (async () => {
    if (req.view === 'summary') return (model as lab.DigitsCNN).toMimeBundle();
    if ((TEXT_VIEWS as readonly string[]).includes(req.view)) return textViewChart(model, req);
    if (req.view === 'soft-targets') return softTargetsChart(service, model, req);
    const digit = service.heldOutDigit(req.sample ?? 0);
    try {
      if (req.view === 'image') return lab.showImage(digit.tensor, `held-out digit #${digit.index} (a ${digit.label})`);
      if (req.view === 'probabilities') {
        const probs = model.forward(digit.tensor);
        try {
          return await lab.classProbabilities(lab.DIGIT_LABELS, probs, `class probabilities, held-out digit #${digit.index}`, digit.label);
        } finally {
          probs.dispose();
        }
      }
      if (req.view === 'trace') {
        const trace = model.trace(digit.tensor, { keepTensors: true });
        try {
          return await trace.toMimeBundle();
        } finally {
          trace.dispose();
        }
      }
      throw new Error(`unknown view ${JSON.stringify(req.view)}; expected trace, probabilities, image, summary or (for a GPT) ${TEXT_VIEWS.join(', ')}, soft-targets`);
    } finally {
      digit.tensor.dispose();
    }
  })();
  const spec = bundle['application/vnd.vegalite.v5+json'] as Record<string, unknown>;
  return { spec, svg: bundle['image/svg+xml'] ?? '', text: bundle['text/plain'] };
}

const KEYWORDS = new Set(
  'const let var function return if else for while of in new class extends import from export await async try catch finally throw typeof interface type true false null undefined def self lambda print'.split(' '),
);

/** Minimal class-based highlighting for ts/js/python/json/bash: comments, strings, numbers, keywords. */
export function highlight(code: string, language: string): string {
  if (!['ts', 'typescript', 'js', 'javascript', 'json', 'python', 'py', 'bash', 'sh'].includes(language)) return escapeHtml(code);
  const comment = language === 'python' || language === 'py' || language === 'bash' || language === 'sh' ? '#[^\\n]*' : '\\/\\/[^\\n]*|\\/\\*[\\s\\S]*?\\*\\/';
  const re = new RegExp(`(${comment})|("(?:[^"\\\\\\n]|\\\\.)*"|'(?:[^'\\\\\\n]|\\\\.)*'|\`(?:[^\`\\\\]|\\\\.)*\`)|(\\b\\d[\\d_.eE]*\\b)|([A-Za-z_$][\\w$]*)`, 'g');
  let out = '';
  let last = 0;
  for (const m of code.matchAll(re)) {
    out += escapeHtml(code.slice(last, m.index));
    const [text, c, s, n, w] = m;
    if (c) out += `<span class="tok-comment">${escapeHtml(text)}</span>`;
    else if (s) out += `<span class="tok-string">${escapeHtml(text)}</span>`;
    else if (n) out += `<span class="tok-number">${escapeHtml(text)}</span>`;
    else if (w && KEYWORDS.has(w)) out += `<span class="tok-keyword">${escapeHtml(text)}</span>`;
    else out += escapeHtml(text);
    last = m.index! + text.length;
  }
  return out + escapeHtml(code.slice(last));
}
