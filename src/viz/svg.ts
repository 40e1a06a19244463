// A few drawing primitives for hand-laid SVG diagrams (architecture diagrams, not charts): boxes,
// wires with arrowheads, operator circles, text with sub/superscripts. Colours are the Okabe-Ito
// palette (safe for the common colour-vision deficiencies); every diagram sits on a white card so
// it reads the same in JupyterLab's dark theme.

/** Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable with any common colour-vision deficiency. */
export const OKABE_ITO = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  green: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  purple: '#CC79A7',
} as const;

/** What each colour means in every diagram (fills are light tints, strokes the full colour). */
export const ROLE = {
  /** Activations (tensors flowing through). */
  data: { fill: '#dcefff', stroke: OKABE_ITO.blue },
  /** Learned weights. */
  weight: { fill: '#fdebc8', stroke: '#b87d00' },
  /** Nonlinearities and gates (sigma, tanh, ReLU, softmax, GELU). */
  act: { fill: '#d2f0e6', stroke: OKABE_ITO.green },
  /** Normalisation and fixed reshapes (LayerNorm, pooling, mask). */
  fixed: { fill: '#f0e0ea', stroke: '#a8578a' },
  /** Hook point names (a darker vermillion, for contrast on white). */
  hook: '#b04a00',
  /** Wires. */
  wire: '#333333',
  /** The residual stream. */
  stream: OKABE_ITO.blue,
  /** Secondary text. */
  muted: '#555555',
} as const;

export const FONT = 'DejaVu Sans, Verdana, sans-serif';
export const MONO = 'DejaVu Sans Mono, Menlo, Consolas, monospace';

type Point = [number, number];

const r2 = (v: number) => Math.round(v * 100) / 100;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Text with light markup: `_{...}` subscript, `^{...}` superscript. Returns tspans; the baseline
 * is restored after each script.
 */
export function rich(text: string, size: number): string {
  const parts: string[] = [];
  const re = /([_^])\{([^}]*)\}/g;
  let last = 0;
  let pending = 0; // the baseline shift still to undo, put on the next piece of text
  let m: RegExpExecArray | null;
  const small = Math.round(size * 0.72);
  const plain = (s: string) => {
    parts.push(pending ? `<tspan dy="${pending}">${esc(s)}</tspan>` : `<tspan>${esc(s)}</tspan>`);
    pending = 0;
  };
  while ((m = re.exec(text))) {
    if (m.index > last) plain(text.slice(last, m.index));
    const shift = m[1] === '_' ? Math.round(size * 0.3) : -Math.round(size * 0.38);
    parts.push(`<tspan dy="${shift + pending}" font-size="${small}">${esc(m[2])}</tspan>`);
    pending = -shift;
    last = re.lastIndex;
  }
  if (last < text.length) plain(text.slice(last));
  return parts.join('');
}

export interface TextOptions {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  mono?: boolean;
  bold?: boolean;
  italic?: boolean;
  fill?: string;
}

/** A diagram under construction: add parts, then `svg()`. */
export class Diagram {
  private parts: string[] = [];
  private wires: string[] = [];
  private halos: string[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
    readonly title: string,
  ) {}

  text(x: number, y: number, s: string, o: TextOptions = {}): this {
    const size = o.size ?? 13;
    const attrs = [
      'xml:space="preserve"', `x="${x}"`, `y="${y}"`, `font-size="${size}"`, `text-anchor="${o.anchor ?? 'start'}"`,
      `font-family="${o.mono ? MONO : FONT}"`, `fill="${o.fill ?? '#111111'}"`,
      o.bold ? 'font-weight="bold"' : '', o.italic ? 'font-style="italic"' : '',
    ].filter(Boolean);
    this.parts.push(`<text ${attrs.join(' ')}>${rich(s, size)}</text>`);
    return this;
  }

  /** A hook point name in the hook colour, monospace. */
  hook(x: number, y: number, name: string, anchor: TextOptions['anchor'] = 'start', size = 11): this {
    return this.text(x, y, name, { mono: true, fill: ROLE.hook, anchor, size });
  }

  /** A rounded box with a centred label (and an optional second line). */
  box(x: number, y: number, w: number, h: number, role: { fill: string; stroke: string }, label = '', sub = '', o: { size?: number; subMono?: boolean; dash?: boolean; radius?: number } = {}): this {
    const r = o.radius ?? 6;
    this.parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${r}" fill="${role.fill}" stroke="${role.stroke}" stroke-width="1.5"${o.dash ? ' stroke-dasharray="5 3"' : ''}/>`);
    const size = o.size ?? 13;
    if (label && sub) {
      this.text(x + w / 2, y + h / 2 - 3, label, { size, anchor: 'middle' });
      this.text(x + w / 2, y + h / 2 + size - 1, sub, { size: size - 2, anchor: 'middle', mono: o.subMono, fill: o.subMono ? '#5a3a00' : ROLE.muted });
    } else if (label) {
      this.text(x + w / 2, y + h / 2 + size * 0.36, label, { size, anchor: 'middle' });
    }
    return this;
  }

  /** A plain rectangle (grid cells, panels). */
  rect(x: number, y: number, w: number, h: number, fill: string, stroke = 'none', strokeWidth = 1, extra = ''): this {
    this.parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${fill}" stroke="${stroke}" stroke-width="${strokeWidth}"${extra ? ' ' + extra : ''}/>`);
    return this;
  }

  /** An elementwise operator in a circle: '+', 'x' (drawn ⊙-style as a product), or a short label. */
  op(x: number, y: number, symbol: string, r = 11): this {
    this.parts.push(`<circle cx="${x}" cy="${y}" r="${r}" fill="#ffffff" stroke="${ROLE.wire}" stroke-width="1.5"/>`);
    if (symbol === '+') {
      this.parts.push(`<path d="M${x - r * 0.55},${y} H${x + r * 0.55} M${x},${y - r * 0.55} V${y + r * 0.55}" stroke="${ROLE.wire}" stroke-width="1.8"/>`);
    } else if (symbol === 'x') {
      const k = r * 0.42;
      this.parts.push(`<path d="M${x - k},${y - k} L${x + k},${y + k} M${x + k},${y - k} L${x - k},${y + k}" stroke="${ROLE.wire}" stroke-width="1.8"/>`);
    } else {
      this.text(x, y + 4, symbol, { size: 11, anchor: 'middle' });
    }
    return this;
  }

  /** A hook point on a wire: a small diamond (the identity step the name refers to). */
  diamond(x: number, y: number, s = 5): this {
    this.parts.push(`<path d="M${x},${y - s} L${x + s},${y} L${x},${y + s} L${x - s},${y} Z" fill="${ROLE.hook}" stroke="#ffffff" stroke-width="1"/>`);
    return this;
  }

  /**
   * A wire through `points` (right angles are yours to choose), with an arrowhead at the end
   * unless `arrow` is false. Wires are drawn under everything else: first every wire's white halo,
   * then every wire, so crossings read as two lines and branch points stay joined. The arrowhead
   * is drawn as a triangle (markers' orientation differs between renderers). `over` draws it above
   * the shapes instead.
   */
  wire(points: Point[], o: { arrow?: boolean; color?: string; width?: number; dash?: boolean; over?: boolean } = {}): this {
    const color = o.color ?? ROLE.wire;
    const width = o.width ?? 1.6;
    const pts = points.map(([x, y]) => [x, y] as Point);
    let head = '';
    if (o.arrow !== false && pts.length >= 2) {
      const [x1, y1] = pts[pts.length - 2];
      const [x2, y2] = pts[pts.length - 1];
      const len = Math.hypot(x2 - x1, y2 - y1) || 1;
      const [ux, uy] = [(x2 - x1) / len, (y2 - y1) / len];
      const size = color === ROLE.stream ? 12 : 8 + width;
      const half = size * 0.45;
      const [bx, by] = [x2 - ux * size, y2 - uy * size];
      head = `<path d="M${x2},${y2} L${r2(bx - uy * half)},${r2(by + ux * half)} L${r2(bx + uy * half)},${r2(by - ux * half)} Z" fill="${color}"/>`;
      pts[pts.length - 1] = [x2 - ux * size * 0.6, y2 - uy * size * 0.6]; // the line stops inside the head
    }
    const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${r2(x)},${r2(y)}`).join(' ');
    const halo = `<path d="${d}" fill="none" stroke="#ffffff" stroke-width="${width + 5}" stroke-linejoin="round"/>`;
    if (o.over) {
      // Drawn above the shapes (e.g. onto a feature map), halo included.
      this.parts.push(halo, `<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}" stroke-linejoin="round"${o.dash ? ' stroke-dasharray="5 4"' : ''}/>${head}`);
      return this;
    }
    this.halos.push(halo);
    this.wires.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}" stroke-linejoin="round"${o.dash ? ' stroke-dasharray="5 4"' : ''}/>${head}`);
    return this;
  }

  /** A horizontal wire from x0 to x1 at y that hops (a small arc) over a vertical wire at hopX. */
  hopWire(y: number, x0: number, x1: number, hopX: number, r = 6): this {
    const d = `M${x0},${y} L${hopX - r},${y} A${r},${r} 0 0 1 ${hopX + r},${y} L${x1 - 7},${y}`;
    this.halos.push(`<path d="${d}" fill="none" stroke="#ffffff" stroke-width="6.6"/>`);
    this.wires.push(`<path d="${d}" fill="none" stroke="${ROLE.wire}" stroke-width="1.6"/><path d="M${x1},${y} L${x1 - 12},${y - 4.5} L${x1 - 12},${y + 4.5} Z" fill="${ROLE.wire}"/>`);
    return this;
  }

  /** A dot where a wire branches. */
  junction(x: number, y: number, color: string = ROLE.wire): this {
    this.parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${color}"/>`);
    return this;
  }

  /** Raw SVG (for the odd shape). */
  raw(s: string): this {
    this.parts.push(s);
    return this;
  }

  svg(): string {
    const { width: w, height: h } = this;
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="${FONT}">`,
      `<title>${esc(this.title)}</title>`,
      // The white card: the diagram reads the same on a dark notebook theme.
      `<rect x="0.5" y="0.5" width="${w - 1}" height="${h - 1}" rx="10" fill="#ffffff" stroke="#cccccc"/>`,
      ...this.halos,
      ...this.wires,
      ...this.parts,
      '</svg>',
    ].join('\n');
  }
}
