// Views of a transformer at work: text -> tokens -> ids, what one attention head reads
// (BertViz's head view: lines whose opacity is the weight, beside the same weights as a heatmap),
// every head at once (the model view), the logit lens, and the forward pass stepped through at
// one position. Each returns a MimeBundle (Vega-Lite v5 + SVG + PNG + text). Layouts are computed
// here in pixels (encodings with `scale: null`), so token labels sit exactly on their rows and
// columns in the browser and in the PNG alike.
//
// Only types come from src/models/gpt.ts: Trace and ActivationCache display themselves through
// this file, and a value import of gpt.ts from here would close an import cycle.
import type { GPT } from '../models/gpt';
import type { Tokenizer } from '../data/tokenizers';
import type { Trace, TraceStep } from '../hooks/trace';
import type { ActivationCache } from '../hooks/activation-cache';
import { attentionFromCache, attentionPatterns, headPatternScores, logitLens, HEAD_PATTERNS, type AttentionPatterns, type HeadPattern, type HeadScores, type LogitLens } from '../analysis/gpt-analysis';
import type { MimeBundle } from '../engine/mime';
import { toBundle } from './render';
import { colorAt, gridToPngUrl, type Colormap } from './heatmap';

type Spec = Record<string, unknown>;

/** Token text is drawn in a monospace font, so its width is known: 0.6 em per character. */
const MONO = 'DejaVu Sans Mono, monospace';
const MONO_WIDTH = 0.602;
/** One colour per head (Tableau 10), as BertViz colours heads. */
const HEAD_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000', '#999999', '#8c510a']; // Okabe-Ito, then grey and brown
const headColor = (h: number) => HEAD_COLORS[h % HEAD_COLORS.length];
/** Alternating pastel fills, so neighbouring tokens are told apart. */
const TOKEN_FILLS = ['#c6dbef', '#fdd0a2', '#c7e9c0', '#dadaeb', '#fcbba1', '#e5e5e5'];

/** An encoding channel in pixels (no scale). */
const px = (field: string) => ({ field, type: 'quantitative', scale: null });
const fmt = (v: number) => (v !== 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3) ? v.toExponential(2) : Number(v.toFixed(3)).toString());
const pct = (p: number) => (p >= 0.995 ? '100%' : p >= 0.001 ? `${(100 * p).toFixed(1)}%` : p > 0 ? `${(100 * p).toPrecision(1)}%` : '0%');

/**
 * A token as it is drawn: space as ␣, newline as ↵, tab as →, other control characters as \xNN,
 * the empty string as ∅; cut to `maxChars` with an ellipsis.
 */
export function visibleToken(piece: string, maxChars = 14): string {
  const shown = piece
    .replace(/ /g, '␣')
    .replace(/\n/g, '↵')
    .replace(/\r/g, '␍')
    .replace(/\t/g, '→')
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const chars = [...(shown || '∅')];
  return chars.length > maxChars ? chars.slice(0, maxChars - 1).join('') + '…' : chars.join('');
}

/** How the whitespace in `text` is drawn, e.g. "␣ = space, ↵ = newline". */
function whitespaceLegend(text: string): string {
  const kinds: [RegExp, string][] = [[/ /, '␣ = space'], [/\n/, '↵ = newline'], [/\t/, '→ = tab'], [/\r/, '␍ = carriage return']];
  return kinds.filter(([re]) => re.test(text)).map(([, legend]) => legend).join(', ') || 'no whitespace in this text';
}

const textWidth = (text: string, fontSize: number) => [...text].length * fontSize * MONO_WIDTH;
const isWhitespaceToken = (piece: string) => piece.length > 0 && piece.trim() === '';
const quoted = (text: string, max = 60) => JSON.stringify([...text].length > max ? [...text].slice(0, max - 1).join('') + '…' : text);

/** A grid of values as a PNG data URL whose cells are big enough to show crisply at `displayWidth` x `displayHeight`. */
function gridUrl(values: ArrayLike<number>, rows: number, cols: number, colormap: Colormap, range: [number, number], displayWidth: number, displayHeight: number): string {
  const cell = Math.max(1, Math.min(Math.ceil(Math.max(displayWidth / cols, displayHeight / rows)), Math.floor(2048 / Math.max(rows, cols))));
  return gridToPngUrl({ values: Float32Array.from(values), height: rows, width: cols }, { colormap, range, cell });
}

/** A colour legend drawn as a gradient (invisible points carry the scale). */
function legendLayer(domain: number[], range: string[], title: string, length: number, format = '.0%'): Spec {
  return {
    data: { values: domain.map((v) => ({ v })) },
    mark: { type: 'point', opacity: 0 },
    encoding: { color: { field: 'v', type: 'quantitative', scale: { domain, range }, legend: { title, gradientLength: length, orient: 'right', format } } },
  };
}
const hex = (rgb: number[]) => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
const BLUES_RANGE = [0, 0.25, 0.5, 0.75, 1].map((t) => hex(colorAt(t, 'blues')));
const DIVERGING_RANGE = [0, 0.25, 0.5, 0.75, 1].map((t) => hex(colorAt(t, 'diverging')));

/** A text layer in pixels: rows with x, y, text (and optional align, angle, color, weight, size). */
function textLayer(rows: Record<string, unknown>[], options: { fontSize?: number; font?: string; align?: string; baseline?: string; color?: string; angle?: number; fontWeight?: string; filter?: string } = {}): Spec {
  return {
    data: { values: rows },
    ...(options.filter ? { transform: [{ filter: options.filter }] } : {}),
    mark: { type: 'text', font: options.font ?? MONO, fontSize: options.fontSize ?? 12, align: options.align ?? 'left', baseline: options.baseline ?? 'middle', color: options.color ?? '#222', angle: options.angle ?? 0, fontWeight: options.fontWeight ?? 'normal' },
    encoding: { x: px('x'), y: px('y'), text: { field: 'text' } },
  };
}

// ---- 1. tokenization strip ----------------------------------------------------------------

function describeTokenizer(tokenizer: Tokenizer): string {
  return tokenizer.spec.kind === 'char' ? `character tokenizer (${tokenizer.vocabSize} symbols: one id per character)` : `GPT-2 byte-level BPE (${tokenizer.vocabSize.toLocaleString('en-US')} tokens)`;
}

/**
 * Text -> tokens -> ids: every token as a box (whitespace made visible: ␣ space, ↵ newline), its
 * id underneath, wrapped like the text (a new line after each newline token).
 */
export async function tokenizationView(source: GPT | Tokenizer, text: string, options: { width?: number; maxTokens?: number; title?: string } = {}): Promise<MimeBundle> {
  const tokenizer = 'tokenizer' in source ? source.tokenizer : source;
  const ids = tokenizer.encode(text);
  if (ids.length === 0) throw new Error('tokenizationView: the text is empty; there are no tokens to show.');
  const maxTokens = options.maxTokens ?? 400;
  const shownIds = ids.slice(0, maxTokens);
  const pieces = tokenizer.pieces(shownIds);
  const width = options.width ?? 680;
  const [fontSize, idSize, boxHeight, lineHeight] = [14, 10, 24, 46];
  const boxes: Record<string, unknown>[] = [];
  let x = 0;
  let line = 0;
  pieces.forEach((piece, i) => {
    const label = visibleToken(piece, 32);
    const boxWidth = Math.max(textWidth(label, fontSize), textWidth(String(shownIds[i]), idSize)) + 10;
    if (x > 0 && x + boxWidth > width) {
      x = 0;
      line++;
    }
    const y = line * lineHeight;
    boxes.push({ i, label, id: shownIds[i], piece: JSON.stringify(piece), x0: x, x1: x + boxWidth, y0: y, y1: y + boxHeight, xc: x + boxWidth / 2, yc: y + boxHeight / 2 + 1, yId: y + boxHeight + 3, fill: i % TOKEN_FILLS.length, whitespace: isWhitespaceToken(piece) });
    x += boxWidth + 3;
    if (piece.includes('\n')) {
      x = 0;
      line++;
    }
  });
  const lines = (boxes[boxes.length - 1].y0 as number) / lineHeight + 1;
  const chars = [...text].length;
  const spec: Spec = {
    title: {
      text: options.title ?? `Tokenization: ${chars} characters → ${ids.length} tokens → ids`,
      subtitle: [`${describeTokenizer(tokenizer)}; each box is one token, its id below`, `${whitespaceLegend(text)}${ids.length > maxTokens ? `; the first ${maxTokens} of ${ids.length} tokens are shown` : ''}`],
    },
    width,
    height: lines * lineHeight - 8,
    data: { values: boxes },
    layer: [
      {
        mark: { type: 'rect', stroke: '#888', strokeWidth: 0.6, cornerRadius: 3 },
        encoding: {
          x: px('x0'), x2: { field: 'x1' }, y: px('y0'), y2: { field: 'y1' },
          color: { field: 'fill', type: 'nominal', scale: { domain: TOKEN_FILLS.map((_, k) => k), range: TOKEN_FILLS }, legend: null },
          tooltip: [{ field: 'i', title: 'position' }, { field: 'piece', title: 'token' }, { field: 'id', title: 'id' }],
        },
      },
      {
        mark: { type: 'text', font: MONO, fontSize, align: 'center', baseline: 'middle' },
        encoding: { x: px('xc'), y: px('yc'), text: { field: 'label' }, color: { condition: { test: 'datum.whitespace', value: '#666' }, value: '#000' } },
      },
      {
        mark: { type: 'text', font: MONO, fontSize: idSize, align: 'center', baseline: 'top', color: '#555' },
        encoding: { x: px('xc'), y: px('yId'), text: { field: 'id' } },
      },
    ],
  };
  const rows = pieces.map((p, i) => `  ${String(i).padStart(4)}  ${JSON.stringify(p).padEnd(16)} ${shownIds[i]}`);
  const more = ids.length > maxTokens ? [`  ... ${ids.length - maxTokens} more tokens`] : [];
  return toBundle(spec, [`${describeTokenizer(tokenizer)}: ${quoted(text)} -> ${ids.length} tokens`, '  pos   token            id', ...rows, ...more].join('\n'));
}

// ---- where the attention weights come from ------------------------------------------------

export interface HeadViewOptions {
  /** Block to show first (default 0). */
  layer?: number;
  /** Head to show first (default 0). */
  head?: number;
}

function isGPT(x: unknown): x is GPT {
  return typeof x === 'object' && x !== null && 'tokenizer' in x && 'runWithCache' in x && 'config' in x;
}

/** Patterns from a model and its input, or patterns already computed. */
function resolveAttention(source: GPT | AttentionPatterns, input: unknown): AttentionPatterns {
  if (isGPT(source)) {
    if (typeof input !== 'string' && !Array.isArray(input)) throw new Error('Give the text (or token ids) to run the model on, e.g. attentionHeadView(model, "In the beginning", { layer: 0, head: 1 }).');
    return attentionPatterns(source, input as string | number[]);
  }
  if (!source || !Array.isArray((source as AttentionPatterns).patterns) || !Array.isArray((source as AttentionPatterns).tokens)) {
    throw new Error('Expected a GPT and a text, or attention patterns { tokens, patterns[layer][head][query][key] } (from attentionPatterns(model, text)).');
  }
  return source as AttentionPatterns;
}

/**
 * The first `limit` positions only (labels stay readable). Self-contained, because attention is
 * causal: queries before `limit` read only keys before `limit`.
 */
function firstPositions(attention: AttentionPatterns, limit: number): AttentionPatterns & { cut: number } {
  const n = attention.tokens.length;
  if (n <= limit) return { ...attention, cut: 0 };
  return { tokens: attention.tokens.slice(0, limit), patterns: attention.patterns.map((heads) => heads.map((rows) => rows.slice(0, limit).map((r) => r.slice(0, limit)))), cut: n };
}

function checkHead(attention: AttentionPatterns, layer: number, head: number): void {
  const layers = attention.patterns.length;
  const heads = attention.patterns[0]?.length ?? 0;
  if (!(Number.isInteger(layer) && layer >= 0 && layer < layers)) throw new Error(`layer ${layer} does not exist: the model has layers 0..${layers - 1}.`);
  if (!(Number.isInteger(head) && head >= 0 && head < heads)) throw new Error(`head ${head} does not exist: each layer has heads 0..${heads - 1}.`);
}

/** One head's [query][key] weights as a PNG: white = 0, dark blue = 1, masked (future) keys blank. */
function patternUrl(rows: number[][], displaySize: number): string {
  const n = rows.length;
  const values = new Float32Array(n * n);
  rows.forEach((r, q) => r.forEach((w, k) => (values[q * n + k] = k > q ? NaN : w)));
  return gridUrl(values, n, n, 'blues', [0, 1], displaySize, displaySize);
}

/** Strongest key of each query, as text ("q 5 "e" -> k 4 "h" 0.62"). */
function headSummary(rows: number[][], tokens: string[]): string[] {
  return rows.map((r, q) => {
    const k = r.indexOf(Math.max(...r.slice(0, q + 1)));
    return `  ${String(q).padStart(3)} ${JSON.stringify(tokens[q]).padEnd(8)} -> ${String(k).padStart(3)} ${JSON.stringify(tokens[k]).padEnd(8)} ${r[k].toFixed(3)}`;
  });
}

const PATTERN_NAMES: Record<HeadPattern, string> = { previous: 'previous token', first: 'first position', self: 'itself', wordStart: 'start of the word', lastSpace: 'the last space', duplicate: 'earlier copies of its token', induction: 'what followed its token before' };
const PATTERN_SHORT: Record<HeadPattern, string> = { previous: 'prev token', first: 'position 0', self: 'self', wordStart: 'word start', lastSpace: 'last space', duplicate: 'duplicate', induction: 'induction' };

// ---- 2. attention head view --------------------------------------------------------------

/**
 * One attention head: query tokens on the left, key tokens on the right, a line from each query
 * to each key it reads, as opaque as the weight (BertViz's head view), and beside it the same
 * weights as a heatmap (rows = queries, columns = keys). In JupyterLab the layer and head are
 * sliders and hovering a query keeps only its lines; the PNG shows `layer`/`head`.
 */
export async function attentionHeadView(model: GPT, input: string | number[], options?: HeadViewOptions): Promise<MimeBundle>;
export async function attentionHeadView(attention: AttentionPatterns, options?: HeadViewOptions): Promise<MimeBundle>;
export async function attentionHeadView(source: GPT | AttentionPatterns, inputOrOptions?: string | number[] | HeadViewOptions, maybeOptions?: HeadViewOptions): Promise<MimeBundle> {
  const fromModel = isGPT(source);
  const attention = resolveAttention(source, inputOrOptions);
  const options = (fromModel ? maybeOptions : (inputOrOptions as HeadViewOptions | undefined)) ?? {};
  const layer = options.layer ?? 0;
  const head = options.head ?? 0;
  checkHead(attention, layer, head);
  const cut = firstPositions(attention, 96);
  const { tokens, patterns } = cut;
  const n = tokens.length;
  const layers = patterns.length;
  const heads = patterns[0].length;
  // Every head travels in the interactive spec while it stays small; otherwise only the chosen layer.
  const linesOf = (l: number, h: number) => patterns[l][h].flatMap((r, q) => r.slice(0, q + 1).flatMap((w, k) => (w >= 0.03 ? [{ layer: l, head: h, q, k, w: Number(w.toFixed(3)) }] : [])));
  const perHead = patterns.map((_, l) => patterns[l].map((__, h) => linesOf(l, h)));
  const allLayers = perHead.flat().reduce((s, lines) => s + lines.length, 0) <= 40000 && layers * heads <= 64;
  const layerRange = allLayers ? [...Array(layers).keys()] : [layer];

  const row = n <= 48 ? 16 : n <= 96 ? 11 : 7;
  const fontSize = Math.min(12, row - 2);
  const labels = tokens.map((t) => visibleToken(t, 12));
  const labelWidth = Math.max(24, ...labels.map((l) => textWidth(l, fontSize))) + 6;
  const top = 22;
  const span = 150;
  const leftX = labelWidth; // right edge of the query labels
  const lineX0 = leftX + 6;
  const lineX1 = lineX0 + span;
  const rightX = lineX1 + 6; // left edge of the key labels
  const mapX = rightX + labelWidth + 14;
  // The heatmap shrinks to fit the column (its own cells, not the line rows') instead of widening.
  const mapCell = Math.min(row, Math.max(2, (HEAD_VIEW_MAX_WIDTH - mapX) / n));
  const mapSize = Math.round(n * mapCell);
  const keyLabels = mapCell >= 7;
  const rotate = labels.some((l) => [...l].length > 2);
  const bottomLabels = rotate ? Math.max(...labels.map((l) => textWidth(l, fontSize))) + 8 : 16;
  const yOf = (i: number) => top + i * row + row / 2;
  const tokenRows = labels.map((text, i) => ({ q: i, text, y: yOf(i) }));
  const selected = 'datum.layer == layer && datum.head == head';
  const mapBox = { x0: mapX, x1: mapX + mapSize, y0: top, y1: top + mapSize };

  // `interactive`: every shown head, weights as 1-pixel cells (the browser draws them unsmoothed);
  // the still picture: the chosen head only, its cells drawn at full size (resvg smooths images).
  const build = (interactive: boolean): Spec => {
    const lines = interactive ? layerRange.flatMap((l) => perHead[l].flat()) : perHead[layer][head];
    const maps = interactive
      ? layerRange.flatMap((l) => patterns[l].map((rows, h) => ({ layer: l, head: h, url: patternUrl(rows, n), ...mapBox })))
      : [{ layer, head, url: patternUrl(patterns[layer][head], mapSize), ...mapBox }];
    return {
      title: {
        text: interactive ? { expr: "'Attention of layer ' + layer + ', head ' + head" } : `Attention of layer ${layer}, head ${head}`,
        subtitle: [
          'left: the query (the position reading); right: the key (the position read); line opacity = attention weight' + (interactive ? '; hover a query' : ''),
          'heatmap: rows = queries, columns = keys, each row sums to 1; keys after the query are masked (blank)' + (cut.cut ? `; the first ${n} of ${cut.cut} positions` : ''),
        ],
      },
      params: [
        { name: 'layer', value: layer, ...(interactive && allLayers && layers > 1 ? { bind: { input: 'range', min: 0, max: layers - 1, step: 1, name: 'layer ' } } : {}) },
        { name: 'head', value: head, ...(interactive && heads > 1 ? { bind: { input: 'range', min: 0, max: heads - 1, step: 1, name: 'head ' } } : {}) },
      ],
      width: mapX + mapSize,
      height: Math.max(top + n * row, top + mapSize + (keyLabels ? bottomLabels : 0)),
      layer: [
        {
          data: { values: lines },
          transform: [{ filter: selected }, { calculate: `${top} + datum.q * ${row} + ${row / 2}`, as: 'yq' }, { calculate: `${top} + datum.k * ${row} + ${row / 2}`, as: 'yk' }],
          mark: { type: 'rule', strokeWidth: 1.4 },
          encoding: {
            x: { value: lineX0 }, x2: { value: lineX1 }, y: px('yq'), y2: { field: 'yk' },
            color: { field: 'head', type: 'nominal', scale: { domain: [...Array(heads).keys()], range: [...Array(heads).keys()].map(headColor) }, legend: null },
            strokeOpacity: interactive ? { condition: { param: 'hover', empty: true, field: 'w', type: 'quantitative', scale: null }, value: 0 } : { field: 'w', type: 'quantitative', scale: null },
            tooltip: [{ field: 'q', title: 'query' }, { field: 'k', title: 'key' }, { field: 'w', title: 'weight', format: '.3f' }],
          },
        },
        {
          data: { values: maps },
          transform: [{ filter: selected }],
          mark: { type: 'image', aspect: false, smooth: false },
          encoding: { url: { field: 'url', type: 'nominal' }, x: px('x0'), x2: { field: 'x1' }, y: px('y0'), y2: { field: 'y1' } },
        },
        {
          data: { values: tokenRows.map((r) => ({ ...r, x: leftX })) },
          ...(interactive ? { params: [{ name: 'hover', select: { type: 'point', on: 'mouseover', clear: 'mouseout', fields: ['q'] } }] } : {}),
          mark: { type: 'text', font: MONO, fontSize, align: 'right', baseline: 'middle', ...(interactive ? { cursor: 'pointer' } : {}) },
          encoding: { x: px('x'), y: px('y'), text: { field: 'text' }, color: interactive ? { condition: { param: 'hover', empty: false, value: '#D55E00' }, value: '#222' } : { value: '#222' } },
        },
        textLayer(tokenRows.map((r) => ({ ...r, x: rightX })), { fontSize }),
        textLayer((keyLabels ? labels : []).map((text, k) => ({ text, x: mapX + k * mapCell + mapCell / 2, y: top + mapSize + 4 })), { fontSize, ...(rotate ? { angle: 270, align: 'right' } : { align: 'center', baseline: 'top' }) }),
        textLayer([{ text: 'query', x: leftX, y: 8 }], { font: 'DejaVu Sans', fontSize: 11, align: 'right', color: '#555' }),
        textLayer([{ text: 'key', x: rightX, y: 8 }, { text: 'key →', x: mapX, y: 8 }], { font: 'DejaVu Sans', fontSize: 11, color: '#555' }),
        legendLayer([0, 0.25, 0.5, 0.75, 1], BLUES_RANGE, 'weight', Math.min(180, mapSize)),
      ],
    };
  };
  const scores = headPatternScores(attention).find((s) => s.layer === layer && s.head === head)!;
  const text = [
    `attention of layer ${layer}, head ${head} over ${n} tokens; strongest key of each query:`,
    ...headSummary(attention.patterns[layer][head], attention.tokens),
    `  scores: previous token ${fmt(scores.previous)}, first position ${fmt(scores.first)}, self ${fmt(scores.self)}, word start ${fmt(scores.wordStart)}, last space ${fmt(scores.lastSpace)}, duplicate ${fmt(scores.duplicate)}, induction ${fmt(scores.induction)}`,
  ].join('\n');
  return toBundle(build(true), text, build(false));
}

// ---- 3. model view -----------------------------------------------------------------------

/**
 * Every layer x every head as a small heatmap (rows = queries, columns = keys), with what a head
 * recognisably does written under it: its clearest pattern (see headPatternScores), when the
 * head puts at least `labelThreshold` (default 0.2) more weight there than a uniform head would
 * (previous token, position 0, itself, start of the word, last space, duplicate, induction).
 */
export async function attentionModelView(model: GPT, input: string | number[], options?: { size?: number; labelThreshold?: number }): Promise<MimeBundle>;
export async function attentionModelView(attention: AttentionPatterns, options?: { size?: number; labelThreshold?: number }): Promise<MimeBundle>;
export async function attentionModelView(source: GPT | AttentionPatterns, inputOrOptions?: string | number[] | { size?: number; labelThreshold?: number }, maybeOptions?: { size?: number; labelThreshold?: number }): Promise<MimeBundle> {
  const fromModel = isGPT(source);
  const attention = resolveAttention(source, inputOrOptions);
  const options = (fromModel ? maybeOptions : (inputOrOptions as { size?: number; labelThreshold?: number } | undefined)) ?? {};
  return modelViewBundle(attention, options);
}

function modelViewSpec(attention: { patterns: number[][][][]; tokens?: string[] }, options: { size?: number; labelThreshold?: number; title?: string }): { spec: Spec; scores: HeadScores[] } {
  const { patterns, tokens } = attention;
  const positions = patterns[0][0].length;
  const layers = patterns.length;
  const heads = patterns[0].length;
  const size = options.size ?? Math.max(48, Math.min(120, Math.floor(640 / heads)));
  const threshold = options.labelThreshold ?? 0.2;
  const scores = headPatternScores(attention);
  const [left, top, gap, caption] = [58, 20, 10, 14];
  const cells = scores.map((s) => {
    const x0 = left + s.head * (size + gap);
    const y0 = top + s.layer * (size + gap + caption);
    const lift = s.best.score - s.uniform[s.best.pattern];
    const label = Number.isFinite(lift) && lift >= threshold ? `${PATTERN_SHORT[s.best.pattern]} ${s.best.score.toFixed(2)}` : '';
    return { ...s, url: patternUrl(patterns[s.layer][s.head], size), x0, x1: x0 + size, y0, y1: y0 + size, label, lx: x0 + size / 2, ly: y0 + size + 2 };
  });
  const spec: Spec = {
    title: {
      text: options.title ?? `Attention of every head: ${layers} layers x ${heads} heads, ${positions} tokens`,
      subtitle: ['each square: rows = queries, columns = keys (white = 0, dark blue = 1)', `under it: what the head attends to (mean weight), when that is ≥ ${threshold} above a uniform head's`, ...(tokens ? [`text: ${quoted(tokens.join(''), 80)}`] : [])],
    },
    width: left + heads * (size + gap) - gap,
    height: top + layers * (size + gap + caption) - gap,
    layer: [
      {
        data: { values: cells },
        mark: { type: 'image', aspect: false, smooth: false },
        encoding: {
          url: { field: 'url', type: 'nominal' }, x: px('x0'), x2: { field: 'x1' }, y: px('y0'), y2: { field: 'y1' },
          tooltip: [{ field: 'layer' }, { field: 'head' }, { field: 'previous', format: '.2f', title: 'previous token' }, { field: 'first', format: '.2f', title: 'position 0' }, { field: 'self', format: '.2f' }, { field: 'wordStart', format: '.2f', title: 'word start' }, { field: 'lastSpace', format: '.2f', title: 'last space' }, { field: 'duplicate', format: '.2f' }, { field: 'induction', format: '.2f' }],
        },
      },
      { data: { values: cells }, mark: { type: 'rect', fill: null, stroke: '#bbb', strokeWidth: 0.5 }, encoding: { x: px('x0'), x2: { field: 'x1' }, y: px('y0'), y2: { field: 'y1' } } },
      textLayer(cells.map((c) => ({ x: c.lx, y: c.ly, text: c.label })), { font: 'DejaVu Sans', fontSize: 10, align: 'center', baseline: 'top', color: '#333' }),
      textLayer([...Array(heads).keys()].map((h) => ({ x: left + h * (size + gap) + size / 2, y: top - 10, text: `head ${h}` })), { font: 'DejaVu Sans', fontSize: 11, align: 'center', fontWeight: 'bold' }),
      textLayer([...Array(layers).keys()].map((l) => ({ x: left - 8, y: top + l * (size + gap + caption) + size / 2, text: `layer ${l}` })), { font: 'DejaVu Sans', fontSize: 11, align: 'right', fontWeight: 'bold' }),
    ],
  };
  return { spec, scores };
}

async function modelViewBundle(attention: AttentionPatterns, options: { size?: number; labelThreshold?: number }): Promise<MimeBundle> {
  const { spec, scores } = modelViewSpec(attention, options);
  const threshold = options.labelThreshold ?? 0.2;
  // A head is named only as the picture names it (lift over a uniform head >= threshold); a head
  // whose best lift is under 0.05 does nothing a uniform head would not: it gets no name.
  const clearest = (s: HeadScores) => {
    const lift = s.best.score - s.uniform[s.best.pattern];
    if (!Number.isFinite(lift) || lift < 0.05) return `none (at chance: best lift ${Number.isFinite(lift) ? `+${Math.max(0, lift).toFixed(2)}` : '—'})`;
    return lift >= threshold ? `${PATTERN_NAMES[s.best.pattern]} (+${lift.toFixed(2)})` : `weak: ${PATTERN_NAMES[s.best.pattern]} (+${lift.toFixed(2)})`;
  };
  const text = [
    `attention of ${attention.patterns.length} layers x ${attention.patterns[0].length} heads over ${attention.tokens.length} tokens; scores = mean weight on each target`,
    `  layer head${HEAD_PATTERNS.map((k) => k.padStart(10)).join('')}   clearest (lift over a uniform head; named at +${threshold.toFixed(2)}, as in the picture)`,
    ...scores.map((s) => `  ${String(s.layer).padStart(5)} ${String(s.head).padStart(4)}  ${[s.previous, s.first, s.self, s.wordStart, s.lastSpace, s.duplicate, s.induction].map((v) => (Number.isFinite(v) ? v.toFixed(2) : '—').padStart(10)).join('')}   ${clearest(s)}`),
  ].join('\n');
  return toBundle(spec, text);
}

// ---- 4. logit lens -----------------------------------------------------------------------

/**
 * The logit lens as a table: rows = the residual stream after each block (top: the embeddings
 * alone), columns = positions (the token read there on top), each cell the most likely next
 * token at that depth, coloured by its probability and outlined in orange when it is the token
 * that really comes next (the bottom row).
 */
/** The widest the head view's lines + heatmap get (CSS px), the legend beside them. */
const HEAD_VIEW_MAX_WIDTH = 780;

/** The widest the logit lens table gets (CSS px, stage labels included) before it wraps into bands. */
const LENS_MAX_TABLE_WIDTH = 680;

export async function logitLensView(model: GPT, input: string | number[], options?: { topK?: number }): Promise<MimeBundle>;
export async function logitLensView(lens: LogitLens): Promise<MimeBundle>;
export async function logitLensView(source: GPT | LogitLens, input?: string | number[], options: { topK?: number } = {}): Promise<MimeBundle> {
  const lens = isGPT(source) ? logitLens(source, input ?? '', options) : source;
  const { stages, nextTokenProb } = lens;
  const n = Math.min(lens.tokens.length, 64); // the first 64 positions: a wider table stops being readable
  const tokens = lens.tokens.slice(0, n);
  const top = lens.top.map((row) => row.slice(0, n));
  const topLabels = top.map((row) => row.map((cell) => visibleToken(cell[0].token, 10)));
  const inputLabels = tokens.map((t) => visibleToken(t, 10));
  const nextLabels = tokens.map((_, p) => (p + 1 < lens.tokens.length ? visibleToken(lens.tokens[p + 1], 10) : '?'));
  const fontSize = 12;
  const cellW = Math.max(22, ...[...topLabels.flat(), ...inputLabels].map((l) => textWidth(l, fontSize))) + 8;
  const cellH = 22;
  const [left, head] = [70, 30];
  const rows = stages.length + 1; // + the row of true next tokens
  // Wrap long inputs into bands of positions (each band repeats the stage labels) instead of widening.
  const perBand = Math.max(1, Math.floor((LENS_MAX_TABLE_WIDTH - left) / cellW));
  const bands = Math.ceil(n / perBand);
  const bandH = head + rows * cellH + 4 + 14;
  const cx = (p: number) => left + (p % perBand) * cellW;
  const by = (p: number) => Math.floor(p / perBand) * bandH;
  const cells = stages.flatMap((stage, s) =>
    tokens.map((_, p) => {
      const best = top[s][p][0];
      const correct = p + 1 < lens.tokens.length && best.id === lens.ids[p + 1];
      const y0 = by(p) + head + s * cellH;
      return {
        stage, pos: p, text: topLabels[s][p], p: best.p, correct, x0: cx(p), x1: cx(p) + cellW - 1, y0, y1: y0 + cellH - 1, x: cx(p) + cellW / 2, y: y0 + cellH / 2,
        topk: top[s][p].map((c) => `${JSON.stringify(c.token)} ${pct(c.p)}`).join('  '),
        next: p + 1 < lens.tokens.length ? pct(nextTokenProb[s][p]) : '—',
      };
    }),
  );
  const truthY = head + stages.length * cellH + 4;
  const bandStarts = Array.from({ length: bands }, (_, b) => b * bandH);
  const spec: Spec = {
    title: {
      text: `Logit lens: the next token the model would predict after each block`,
      subtitle: [
        'each row: the residual stream at that depth, through the final LayerNorm and the unembedding;',
        'colour = probability of the top token; orange outline: the top token is the one that really comes next',
        '(bottom row); the last block row is the model\'s own prediction' + (n < lens.tokens.length ? `; the first ${n} of ${lens.tokens.length} positions` : '') + (bands > 1 ? `; ${bands} bands of ${perBand} positions` : ''),
      ],
    },
    width: left + Math.min(n, perBand) * cellW,
    height: (bands - 1) * bandH + truthY + cellH,
    layer: [
      {
        data: { values: cells },
        mark: { type: 'rect' },
        encoding: {
          x: px('x0'), x2: { field: 'x1' }, y: px('y0'), y2: { field: 'y1' },
          color: { field: 'p', type: 'quantitative', scale: { domain: [0, 1], range: BLUES_RANGE }, legend: { title: 'P(top token)', format: '.0%', gradientLength: Math.min(160, rows * cellH), orient: 'right' } },
          tooltip: [{ field: 'stage' }, { field: 'pos', title: 'position' }, { field: 'topk', title: 'top tokens' }, { field: 'next', title: 'P(actual next)' }],
        },
      },
      {
        data: { values: cells },
        transform: [{ filter: 'datum.correct' }],
        mark: { type: 'rect', fill: null, stroke: '#E69F00', strokeWidth: 2.5 },
        encoding: { x: px('x0'), x2: { field: 'x1' }, y: px('y0'), y2: { field: 'y1' } },
      },
      {
        data: { values: cells },
        mark: { type: 'text', font: MONO, fontSize, align: 'center', baseline: 'middle' },
        encoding: { x: px('x'), y: px('y'), text: { field: 'text' }, color: { condition: { test: 'datum.p > 0.55', value: 'white' }, value: '#111' } },
      },
      {
        data: { values: nextLabels.map((text, p) => ({ text, x0: cx(p), x1: cx(p) + cellW - 1, y0: by(p) + truthY, y1: by(p) + truthY + cellH - 1, x: cx(p) + cellW / 2, y: by(p) + truthY + cellH / 2 })) },
        layer: [
          { mark: { type: 'rect', fill: '#eeeeee' }, encoding: { x: px('x0'), x2: { field: 'x1' }, y: px('y0'), y2: { field: 'y1' } } },
          { mark: { type: 'text', font: MONO, fontSize, align: 'center', baseline: 'middle', color: '#111' }, encoding: { x: px('x'), y: px('y'), text: { field: 'text' } } },
        ],
      },
      textLayer(inputLabels.map((text, p) => ({ text, x: cx(p) + cellW / 2, y: by(p) + head - 9 })), { fontSize, align: 'center', fontWeight: 'bold' }),
      textLayer(
        bandStarts.flatMap((y) => [...stages.map((text, s) => ({ text, y: y + head + s * cellH + cellH / 2 })), { text: 'actual next', y: y + truthY + cellH / 2 }, { text: 'input', y: y + head - 9 }]).map((r) => ({ ...r, x: left - 6 })),
        { font: 'DejaVu Sans', fontSize: 11, align: 'right', color: '#333' },
      ),
    ],
  };
  const text = [
    `logit lens over ${n} tokens ${quoted(tokens.join(''))}: top next token after each block`,
    `  ${'stage'.padEnd(10)}${inputLabels.map((l) => l.padStart(Math.max(3, l.length + 1))).join('')}`,
    ...stages.map((stage, s) => `  ${stage.padEnd(10)}${topLabels[s].map((l, p) => l.padStart(Math.max(3, inputLabels[p].length + 1))).join('')}`),
    `  ${'actual'.padEnd(10)}${nextLabels.map((l, p) => l.padStart(Math.max(3, inputLabels[p].length + 1))).join('')}`,
    ...stages.map((stage, s) => {
      const known = nextTokenProb[s].filter((v) => Number.isFinite(v));
      return `  mean P(actual next) at ${stage}: ${known.length ? pct(known.reduce((a, b) => a + b, 0) / known.length) : '—'}`;
    }),
  ].join('\n');
  return toBundle(spec, text);
}

// ---- 6. the forward pass at one position --------------------------------------------------

/** One step's value at the chosen position, as a grid to draw. */
export interface PositionSlice {
  values: number[];
  rows: number;
  cols: number;
  colormap: Colormap;
  range: [number, number];
  rowLabels: string[];
  /** Text right of each row (attention: the strongest key of each head). */
  rowNotes: string[];
  colLabels: string[];
  /** One line about what the step holds there. */
  note: string;
}

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/**
 * What `step` holds at `position` (batch item 0), as the stepper draws it: a vector (wrapped
 * every 128 values when longer than 256), q/k/v/z as [head, d_head], attention scores and
 * weights as the query's row over keys 0..position, one row per head.
 */
export function stepAtPosition(step: TraceStep, position: number, tokens: string[] | undefined, tokenizer: Tokenizer | undefined): PositionSlice | null {
  const t = step.tensor;
  if (!t) return null;
  const shape = t.shape;
  const all = t.dataSync();
  const label = (i: number) => (tokens ? visibleToken(tokens[i], 6) : String(i));
  const wrap = (vector: number[], note: string, colLabels: string[] = []): PositionSlice => {
    const cols = vector.length <= 256 ? vector.length : 128;
    const limit = Math.max(1e-6, ...vector.map(Math.abs));
    return { values: vector, rows: Math.ceil(vector.length / cols), cols, colormap: 'diverging', range: [-limit, limit], rowLabels: [], rowNotes: [], colLabels, note };
  };
  if (/query_pos, key_pos/.test(step.shapeDoc) && shape.length === 4) {
    const [, heads, queries, keys] = shape;
    const rows: number[][] = [];
    for (let h = 0; h < heads; h++) rows.push(Array.from(all.subarray((h * queries + position) * keys, (h * queries + position) * keys + position + 1)));
    const keyLabels = Array.from({ length: position + 1 }, (_, k) => label(k));
    const rowLabels = rows.map((_, h) => `head ${h}`);
    if (step.kind === 'softmax') {
      const strongest = rows.map((r) => {
        const k = r.indexOf(Math.max(...r));
        return `→ ${tokens ? `"${visibleToken(tokens[k], 8)}" ` : ''}at ${k}: ${pct(r[k])}`;
      });
      return { values: rows.flat(), rows: heads, cols: position + 1, colormap: 'blues', range: [0, 1], rowLabels, rowNotes: strongest, colLabels: keyLabels, note: `attention weights of query ${position} over the keys 0..${position} it may read (each row sums to 1)` };
    }
    const limit = Math.max(1e-6, ...rows.flat().map(Math.abs));
    return { values: rows.flat(), rows: heads, cols: position + 1, colormap: 'diverging', range: [-limit, limit], rowLabels, rowNotes: [], colLabels: keyLabels, note: `scores q·k/√d_head of query ${position} against keys 0..${position} (later keys are masked before the softmax)` };
  }
  if (shape.length === 4) {
    // [batch, pos, head, d_head]
    const [, , heads, dHead] = shape;
    const vector = Array.from(all.subarray(position * heads * dHead, (position + 1) * heads * dHead));
    const limit = Math.max(1e-6, ...vector.map(Math.abs));
    return { values: vector, rows: heads, cols: dHead, colormap: 'diverging', range: [-limit, limit], rowLabels: Array.from({ length: heads }, (_, h) => `head ${h}`), rowNotes: [], colLabels: [], note: `${heads} heads x ${dHead} dimensions at position ${position}` };
  }
  if (shape.length === 3) {
    const width = shape[2];
    const vector = Array.from(all.subarray(position * width, (position + 1) * width));
    if (step.name === 'hook_logits') {
      const top = vector.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]);
      const m = top[0][0];
      const total = vector.reduce((s, v) => s + Math.exp(v - m), 0);
      const name = (id: number) => (tokenizer ? `"${visibleToken(tokenizer.pieces([id])[0], 10)}"` : `#${id}`);
      const shown = top.slice(0, 5).map(([v, i]) => `${name(i)} ${pct(Math.exp(v - m) / total)}`);
      const vocabulary = tokenizer && width <= 96 ? tokenizer.pieces([...Array(width).keys()]).map((c) => visibleToken(c, 3)) : [];
      return wrap(vector, `next-token logits at position ${position}; after softmax: ${shown.join('  ')}`, vocabulary);
    }
    const what = step.name === 'hook_embed' ? `row of W_E for ${tokens ? JSON.stringify(tokens[position]) : 'the token'}` : step.name === 'hook_pos_embed' ? `row ${position} of W_pos` : `${width} values`;
    return wrap(vector, `${what} at position ${position}; ‖x‖ = ${fmt(norm(vector))}`);
  }
  return null;
}

/** A long vector (e.g. 50,257 logits) cut to `limit` bins, each showing its value of largest magnitude. */
function binned(slice: PositionSlice, limit: number): PositionSlice {
  if (slice.values.length <= limit || slice.rowLabels.length) return slice;
  const size = Math.ceil(slice.values.length / limit);
  const values = Array.from({ length: Math.ceil(slice.values.length / size) }, (_, b) => slice.values.slice(b * size, (b + 1) * size).reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0));
  return { ...slice, values, cols: 128, rows: Math.ceil(values.length / 128), colLabels: [] };
}

/** Options of the GPT stepper. */
export interface GptStepperOptions {
  /** Text of each position (default: the trace's own tokens, set by GPT.trace). */
  tokens?: string[];
  /** Names the logits (default: the trace's own, set by GPT.trace); a small vocabulary is written under the logits strip. */
  tokenizer?: Tokenizer;
}

/**
 * Step through a GPT's forward pass at one position: each hook's value there (a vector as a
 * strip, blue negative / red positive; q, k, v, z as heads x d_head; attention as the query's
 * row over the keys it may read). A slider walks the steps in the page; the still picture lists
 * every step at once. Default position: the last one (the one predicting the next token).
 */
export async function gptStepper(trace: Trace, position?: number, options: GptStepperOptions = {}): Promise<MimeBundle> {
  const embed = trace.steps.find((s) => s.name === 'hook_embed');
  if (!embed?.tensor) throw new Error('gptStepper needs a GPT trace that kept its tensors (model.trace(ids), keepTensors true).');
  const positions = embed.outputShape[1];
  const pos = position ?? positions - 1;
  if (!(Number.isInteger(pos) && pos >= 0 && pos < positions)) throw new Error(`position ${position} does not exist: the trace covers positions 0..${positions - 1}.`);
  const tokens = options.tokens ?? trace.tokens;
  const here = tokens ? ` ("${visibleToken(tokens[pos], 12)}")` : '';
  const slices = trace.steps.map((s) => ({ step: s, slice: stepAtPosition(s, pos, tokens, options.tokenizer ?? trace.tokenizer) })).filter((e): e is { step: TraceStep; slice: PositionSlice } => e.slice !== null);
  const n = slices.length;

  // The interactive stepper: one panel, the step slider picks what it shows.
  const [panelLeft, panelWidth, panelTop, notesWidth] = [60, 560, 6, 170];
  const panelHeight = (s: PositionSlice) => (s.rows === 1 ? 40 : Math.min(160, Math.max(60, s.rows * 22)));
  const padded = (s: PositionSlice) => s.values.concat(new Array(s.rows * s.cols - s.values.length).fill(NaN));
  // One pixel per value: the browser draws them unsmoothed (smooth: false); only the still picture needs big cells.
  const images = slices.map(({ slice }, i) => ({ i, url: gridToPngUrl({ values: Float32Array.from(padded(slice)), height: slice.rows, width: slice.cols }, { colormap: slice.colormap, range: slice.range, cell: 1 }), x0: panelLeft, x1: panelLeft + panelWidth, y0: panelTop, y1: panelTop + panelHeight(slice) }));
  const rowY = (slice: PositionSlice, r: number) => panelTop + (r + 0.5) * (panelHeight(slice) / slice.rows);
  const rowLabels = slices.flatMap(({ slice }, i) => slice.rowLabels.map((text, r) => ({ i, text, x: panelLeft - 4, y: rowY(slice, r) })));
  const rowNotes = slices.flatMap(({ slice }, i) => slice.rowNotes.map((text, r) => ({ i, text, x: panelLeft + panelWidth + 6, y: rowY(slice, r) })));
  const rotated = (slice: PositionSlice) => slice.colLabels.some((l) => [...l].length > 1);
  const colLabels = (turned: boolean) =>
    slices.flatMap(({ slice }, i) => (slice.colLabels.length <= 96 && rotated(slice) === turned ? slice.colLabels.map((text, c) => ({ i, text, x: panelLeft + (c + 0.5) * (panelWidth / slice.cols), y: panelTop + panelHeight(slice) + 4 })) : []));
  const captions = slices.map(({ slice }, i) => ({
    i,
    text: slice.colormap === 'blues' ? 'colour: white = 0, dark blue = 1' : `colour: blue = −${fmt(slice.range[1])}, white = 0, red = +${fmt(slice.range[1])}`,
    x: panelLeft,
    y: panelTop + panelHeight(slice) + (slice.colLabels.length && slice.colLabels.length <= 96 ? (rotated(slice) ? 52 : 24) : 12),
  }));
  const steps = slices.map(({ step, slice }, i) => {
    const v = slice.values;
    return {
      i,
      title: `step ${i} of ${n - 1}: ${step.name}  (${step.kind})`,
      shapes: `whole value [${step.outputShape.join(', ')}] ${step.shapeDoc}; shown: position ${pos}${here}`,
      note: slice.note,
      stats: `min ${fmt(Math.min(...v))} · max ${fmt(Math.max(...v))} · ‖x‖ ${fmt(norm(v))}`,
    };
  });
  const atStep = { filter: 'datum.i == step' };
  const stepText = (data: Record<string, unknown>[], options: Parameters<typeof textLayer>[1]) => textLayer(data, { ...options, filter: 'datum.i == step' });
  const interactive: Spec = {
    title: { text: `Forward pass of ${trace.model} at position ${pos}${here}: ${n} steps`, subtitle: 'drag the step slider below the chart; vectors: blue = negative, white = 0, red = positive (scaled per step)' },
    params: [{ name: 'step', value: 0, bind: { input: 'range', min: 0, max: n - 1, step: 1, name: 'step ' } }],
    spacing: 4,
    vconcat: [
      {
        width: panelLeft + panelWidth + notesWidth,
        height: 68,
        data: { values: steps },
        transform: [atStep],
        layer: [
          { mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 14, fontWeight: 'bold' }, encoding: { text: { field: 'title' }, x: { value: 0 }, y: { value: 0 } } },
          { mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 11 }, encoding: { text: { field: 'shapes' }, x: { value: 0 }, y: { value: 20 } } },
          { mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 11 }, encoding: { text: { field: 'note' }, x: { value: 0 }, y: { value: 36 } } },
          { mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 11, color: '#555' }, encoding: { text: { field: 'stats' }, x: { value: 0 }, y: { value: 52 } } },
        ],
      },
      {
        width: panelLeft + panelWidth + notesWidth,
        height: 240,
        layer: [
          { data: { values: images }, transform: [atStep], mark: { type: 'image', aspect: false, smooth: false }, encoding: { url: { field: 'url', type: 'nominal' }, x: px('x0'), x2: { field: 'x1' }, y: px('y0'), y2: { field: 'y1' } } },
          stepText(rowLabels, { fontSize: 11, align: 'right' }),
          stepText(rowNotes, { fontSize: 11 }),
          stepText(colLabels(false), { fontSize: 11, align: 'center', baseline: 'top' }),
          stepText(colLabels(true), { fontSize: 11, align: 'right', angle: 270 }),
          stepText(captions, { font: 'DejaVu Sans', fontSize: 11, color: '#555', baseline: 'top' }),
        ],
      },
    ],
  };

  // The still picture: every step at this position, one strip each, in forward order.
  const many = n > 80; // GPT-2 sizes: keep the residual stream and the attention only
  const listed = slices.filter(({ step }) => !many || /hook_resid|hook_pattern|hook_embed|hook_logits|hook_attn_out|hook_mlp_out/.test(step.name));
  const [nameWidth, stripWidth] = [230, 430];
  let y = 0;
  const strips = listed.map(({ step, slice: full }) => {
    const slice = binned(full, 1024);
    const h = slice.rows === 1 ? 10 : Math.min(28, slice.rows * 5);
    const row = { name: step.name + (slice === full ? '' : ' (binned)'), url: gridUrl(padded(slice), slice.rows, slice.cols, slice.colormap, slice.range, stripWidth, h), x0: nameWidth, x1: nameWidth + stripWidth, y0: y, y1: y + h, ty: y + h / 2, x: nameWidth - 6, kind: step.kind };
    y += h + 4;
    return row;
  });
  const still: Spec = {
    title: { text: `Forward pass of ${trace.model} at position ${pos}${here}: ${n} steps`, subtitle: ['each strip: one hook\'s value at this position (q, k, v, z, attention: a row per head)', `blue < 0 < red, scaled per step; attention: white 0 → blue 1${many ? '; residual, attention, outputs only' : ''}`] },
    width: nameWidth + stripWidth,
    height: y,
    layer: [
      { data: { values: strips }, mark: { type: 'image', aspect: false, smooth: false }, encoding: { url: { field: 'url', type: 'nominal' }, x: px('x0'), x2: { field: 'x1' }, y: px('y0'), y2: { field: 'y1' } } },
      { data: { values: strips }, mark: { type: 'rect', fill: null, stroke: '#ccc', strokeWidth: 0.5 }, encoding: { x: px('x0'), x2: { field: 'x1' }, y: px('y0'), y2: { field: 'y1' } } },
      { data: { values: strips }, mark: { type: 'text', font: MONO, fontSize: 10, align: 'right', baseline: 'middle' }, encoding: { x: px('x'), y: px('ty'), text: { field: 'name' }, color: { condition: { test: "datum.kind == 'residual'", value: '#b2182b' }, value: '#222' } } },
    ],
  };
  const text = [`Forward pass of ${trace.model} at position ${pos}${here}: ${n} steps`, ...slices.map(({ step, slice }, i) => `  ${String(i).padStart(3)}  ${step.name.padEnd(30)} ${slice.note}`)].join('\n');
  return toBundle(interactive, text, still);
}

/** Whether a trace is a transformer's (it has attention patterns), so it shows as the GPT stepper. */
export function isTransformerTrace(trace: Trace): boolean {
  return trace.steps.some((s) => /attn\.hook_pattern$/.test(s.name)) && trace.steps.some((s) => s.name === 'hook_embed');
}

// ---- the cache and the model, as a cell's last value ---------------------------------------

/** Whether a cache holds a transformer's activations (names blocks.{i}.…). */
export function isTransformerCache(cache: ActivationCache): boolean {
  return cache.names.some((n) => /^blocks\.\d+\./.test(n));
}

/**
 * A transformer's cache: one row per kind of hook with its shape and the blocks it was kept for
 * (instead of n_layers x 15 rows), and when it holds every block's attention, the model view.
 */
export async function transformerCacheView(cache: ActivationCache, tokens?: string[]): Promise<MimeBundle> {
  const groups = new Map<string, { shape: string; blocks: number[] }>();
  for (const name of cache.names) {
    const m = /^blocks\.(\d+)\.(.*)$/.exec(name);
    const key = m ? `blocks.{i}.${m[2]}` : name;
    const shape = `[${cache.get(name).shape.join(', ')}]`;
    const group = groups.get(key) ?? { shape, blocks: [] };
    if (m) group.blocks.push(Number(m[1]));
    groups.set(key, group);
  }
  const rows = [...groups.entries()].map(([name, g]) => ({ name, shape: g.shape, blocks: g.blocks.length ? compactRange(g.blocks) : '' }));
  const table: Spec = {
    title: { text: `ActivationCache of ${cache.model}: ${cache.size} activations`, subtitle: 'blocks.{i}.…: one row for the same hook in every block' },
    data: { values: rows.map((r, i) => ({ ...r, _row: i })) },
    spacing: 14,
    hconcat: [
      { field: 'name', title: 'hook point', width: 230 },
      { field: 'shape', title: 'shape', width: 130 },
      { field: 'blocks', title: 'blocks', width: 70 },
    ].map((col) => ({
      width: col.width,
      height: { step: 17 },
      title: { text: col.title, fontSize: 11, fontWeight: 'bold', anchor: 'start', offset: 4 },
      mark: { type: 'text', align: 'left', baseline: 'middle', fontSize: 11, font: col.field === 'name' ? MONO : 'DejaVu Sans' },
      encoding: { y: { field: '_row', type: 'ordinal', axis: null }, x: { value: 0 }, text: { field: col.field } },
    })),
  };
  const patternNames = cache.names.filter((n) => /^blocks\.\d+\.attn\.hook_pattern$/.test(n));
  const positions = patternNames.length ? (cache.get(patternNames[0]).shape[2] as number) : 0;
  let spec: Spec = table;
  if (patternNames.length) {
    const attention = attentionFromCache(cache, Array.from({ length: positions }, (_, i) => String(i)));
    const { spec: grid } = modelViewSpec({ patterns: attention.patterns, tokens: tokens && tokens.length === positions ? tokens : undefined }, { size: 72, title: `its attention patterns (${patternNames.length} layers x ${attention.patterns[0].length} heads)` });
    spec = { vconcat: [table, grid], spacing: 24 };
  }
  return toBundle(spec, cache.toString());
}

function compactRange(values: number[]): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const contiguous = sorted.every((v, i) => i === 0 || v === sorted[i - 1] + 1);
  return contiguous && sorted.length > 2 ? `${sorted[0]}–${sorted[sorted.length - 1]}` : sorted.join(', ');
}

/**
 * A GPT as a cell's last value: its shape (blocks, heads, widths, vocabulary, parameters) and one
 * block's hooks with their shapes for an 8-token input, instead of a row per hook of every block.
 */
export async function gptModelCard(model: GPT): Promise<MimeBundle> {
  const { nLayers, nHeads, dModel, dMlp, contextLength, vocabSize, tiedEmbeddings } = model.config;
  const summary = model.summary();
  const perBlock = new Map<string, { kind: string; shape: number[]; params: number }>();
  const outside: { name: string; kind: string; shape: number[]; params: number }[] = [];
  for (const r of summary) {
    const m = /^blocks\.(\d+)\.(.*)$/.exec(r.name);
    if (!m) outside.push({ name: r.name, kind: r.kind, shape: r.outputShape, params: r.params });
    else if (m[1] === '0') perBlock.set(`blocks.{i}.${m[2]}`, { kind: r.kind, shape: r.outputShape, params: r.params });
  }
  const shape = (s: number[]) => `[${s.join(', ')}]`;
  const count = (p: number) => (p ? p.toLocaleString('en-US') : '');
  const rows = [
    ...outside.filter((r) => !r.name.startsWith('ln_final') && r.name !== 'hook_logits').map((r) => ({ name: r.name, kind: r.kind, shape: shape(r.shape), params: count(r.params) })),
    ...[...perBlock.entries()].map(([name, r]) => ({ name, kind: r.kind, shape: shape(r.shape), params: r.params ? `${count(r.params)} x ${nLayers}` : '' })),
    ...outside.filter((r) => r.name.startsWith('ln_final') || r.name === 'hook_logits').map((r) => ({ name: r.name, kind: r.kind, shape: shape(r.shape), params: count(r.params) })),
  ];
  const megabytes = (model.byteSize / 2 ** 20).toFixed(model.byteSize < 2 ** 24 ? 2 : 0);
  const title = `${model.name}: GPT with ${model.parameterCount.toLocaleString('en-US')} parameters (${megabytes} MiB)`;
  const subtitle = `${nLayers} blocks x ${nHeads} heads, d_model ${dModel}, d_head ${dModel / nHeads}, d_mlp ${dMlp}, context ${contextLength}, vocabulary ${vocabSize.toLocaleString('en-US')} (${model.config.tokenizer.kind}), ${tiedEmbeddings ? 'tied' : 'separate'} unembedding; shapes for one 8-token input`;
  const spec: Spec = {
    title: { text: title, subtitle },
    data: { values: rows.map((r, i) => ({ ...r, _row: i })) },
    spacing: 14,
    hconcat: [
      { field: 'name', title: 'hook point', width: 230, font: MONO },
      { field: 'kind', title: 'op', width: 70, font: 'DejaVu Sans' },
      { field: 'shape', title: 'output shape', width: 110, font: 'DejaVu Sans' },
      { field: 'params', title: 'parameters', width: 100, font: 'DejaVu Sans' },
    ].map((col) => ({
      width: col.width,
      height: { step: 17 },
      title: { text: col.title, fontSize: 11, fontWeight: 'bold', anchor: 'start', offset: 4 },
      mark: { type: 'text', align: 'left', baseline: 'middle', fontSize: 11, font: col.font },
      encoding: { y: { field: '_row', type: 'ordinal', axis: null }, x: { value: 0 }, text: { field: col.field } },
    })),
  };
  const text = [model.toString(), ...rows.map((r) => `  ${r.name.padEnd(32)} ${r.kind.padEnd(10)} ${r.shape.padEnd(16)} ${r.params}`)].join('\n');
  return toBundle(spec, text);
}
