// PNG charts draw their text with the DejaVu files of the npm package dejavu-fonts-ttf, never
// with system fonts: the same picture on a machine with no fonts installed.
import * as fs from 'fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { chartFontFiles, svgToPng } from '../src/viz/render';

/** Dark pixels (any channel below 128) in a PNG. */
function darkPixels(png: Buffer): number {
  const img = PNG.sync.read(png);
  let n = 0;
  for (let i = 0; i < img.data.length; i += 4) if (Math.min(img.data[i], img.data[i + 1], img.data[i + 2]) < 128) n++;
  return n;
}

const text = (family: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="4" y="28" font-size="20" font-family="${family}" fill="#000">Inference Lab 123</text></svg>`;

describe('chart fonts from npm', () => {
  it('lists font files that exist inside node_modules/dejavu-fonts-ttf', () => {
    const files = chartFontFiles();
    expect(files.some((f) => f.endsWith('DejaVuSans.ttf'))).toBe(true);
    for (const f of files) {
      expect(f).toMatch(/node_modules[\\/]dejavu-fonts-ttf[\\/]ttf[\\/]/);
      expect(fs.statSync(f).size).toBeGreaterThan(100_000);
    }
  });

  it('draws text in the PNG (resvg reads no system fonts, so the glyphs come from those files)', () => {
    const blank = darkPixels(svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"></svg>', 1));
    expect(blank).toBe(0);
    const drawn = darkPixels(svgToPng(text('DejaVu Sans'), 1));
    expect(drawn).toBeGreaterThan(200); // 17 glyphs at 20 px
  });

  it('falls back to DejaVu for generic and unknown families, so every machine draws the same pixels', () => {
    const named = svgToPng(text('DejaVu Sans'), 1);
    expect(svgToPng(text('sans-serif'), 1).equals(named)).toBe(true);
    expect(svgToPng(text('No Such Font'), 1).equals(named)).toBe(true);
    expect(darkPixels(svgToPng(text('monospace'), 1))).toBeGreaterThan(200);
  });
});
