// Every chart committed in a notebook fits a notebook column: at most 900 CSS px wide counting
// the SVG's width and the PNG's display width (output metadata `image/png.width`, which the
// kernel sets from the SVG; a 2x PNG without it shows at double size on GitHub and in classic
// Notebook). Reads the committed outputs only: it passes once the notebooks are re-executed with
// the library's wrapped charts and the kernel's PNG metadata.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';

const MAX = 900;
const dir = path.resolve(__dirname, '..', 'notebooks');
const notebooks = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();
const joined = (v: unknown) => (Array.isArray(v) ? v.join('') : String(v));

describe('committed notebook charts fit a notebook column', () => {
  it.each(notebooks)('%s', (name) => {
    const nb = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { cells: { cell_type: string; outputs?: { data?: Record<string, unknown>; metadata?: Record<string, any> }[] }[] };
    const problems: string[] = [];
    nb.cells.forEach((cell, c) => {
      for (const out of cell.outputs ?? []) {
        const data = out.data ?? {};
        const svg = data['image/svg+xml'];
        let svgWidth: number | null = null;
        if (svg !== undefined) {
          const root = /<svg\b[^>]*>/.exec(joined(svg))?.[0] ?? '';
          svgWidth = Number(/\swidth="([\d.]+)"/.exec(root)?.[1] ?? NaN);
          if (!(svgWidth <= MAX)) problems.push(`cell ${c}: SVG ${svgWidth} px wide`);
        }
        if (data['image/png'] !== undefined) {
          const meta = out.metadata?.['image/png'];
          const png = PNG.sync.read(Buffer.from(joined(data['image/png']), 'base64'));
          if (!meta || typeof meta.width !== 'number') problems.push(`cell ${c}: PNG (${png.width} px) without metadata width`);
          else {
            if (meta.width > MAX) problems.push(`cell ${c}: PNG shown ${meta.width} px wide`);
            if (svgWidth !== null && Math.abs(meta.width - svgWidth) > 1) problems.push(`cell ${c}: PNG shown ${meta.width} px, its SVG ${svgWidth} px`);
          }
        }
      }
    });
    expect(problems).toEqual([]);
  });
});
