// Views of notebook 12: a cross-attention pattern as a heatmap over Spanish x English words,
// with the translators' gold links marked on it.
import type { MimeBundle } from '../engine/mime';
import { toBundle } from './render';

export interface CrossAttentionViewOptions {
  title?: string;
  /** Gold links (Spanish position, English position), drawn as circles on their cells. */
  gold?: [number, number][];
  /** Pixels per cell (default: as large as fits 900 px with the labels and legend, at most 30). */
  cell?: number;
}

/**
 * Cross-attention weights `pattern[english][spanish]` (rows: the English position that predicts
 * each English word; columns: the Spanish positions, </s> last) as a heatmap, darker = more
 * weight, each row's largest weight outlined, gold links as circles.
 */
export async function crossAttentionView(pattern: number[][], spanish: string[], english: string[], options: CrossAttentionViewOptions = {}): Promise<MimeBundle> {
  if (pattern.length !== english.length || pattern.some((row) => row.length !== spanish.length)) {
    throw new Error(`crossAttentionView: the pattern is ${pattern.length} x ${pattern[0]?.length ?? 0} but there are ${english.length} English and ${spanish.length} Spanish labels; give one row per English word and one column per Spanish token.`);
  }
  const label = (t: string, i: number) => `${i}: ${t}`; // positions keep repeated words apart
  const cells = pattern.flatMap((row, j) => {
    const best = row.indexOf(Math.max(...row));
    return row.map((w, i) => ({ es: label(spanish[i], i), en: label(english[j], j), weight: w, argmax: i === best }));
  });
  const goldCells = (options.gold ?? []).filter(([i, j]) => i < spanish.length && j < english.length).map(([i, j]) => ({ es: label(spanish[i], i), en: label(english[j], j) }));
  const cell = options.cell ?? Math.max(12, Math.min(30, Math.floor(560 / Math.max(spanish.length, 1)))); // labels and the legend take the rest of the 900 px
  const title = options.title ?? 'cross-attention: which Spanish word each English word reads';
  const x = { field: 'es', type: 'nominal', sort: null, title: 'Spanish token (key)', axis: { labelAngle: -50, labelLimit: 120 } };
  const y = { field: 'en', type: 'nominal', sort: null, title: 'English word being predicted (query)', axis: { labelLimit: 140 } };
  const spec = {
    title,
    width: cell * spanish.length,
    height: cell * english.length,
    layer: [
      {
        data: { values: cells },
        mark: { type: 'rect' },
        encoding: { x, y, color: { field: 'weight', type: 'quantitative', scale: { scheme: 'greys', domain: [0, 1] }, title: 'weight' }, tooltip: [{ field: 'en' }, { field: 'es' }, { field: 'weight', format: '.3f' }] },
      },
      {
        data: { values: cells.filter((c) => c.argmax) },
        mark: { type: 'rect', fill: null, stroke: '#D55E00', strokeWidth: 2 },
        encoding: { x, y },
      },
      {
        data: { values: goldCells },
        mark: { type: 'point', shape: 'circle', size: cell * 6, filled: false, stroke: '#0072B2', strokeWidth: 2 },
        encoding: { x, y },
      },
    ],
  };
  const text = [
    title,
    ...english.map((e, j) => {
      const row = pattern[j];
      const best = row.indexOf(Math.max(...row));
      return `  ${e.padEnd(14)} -> ${spanish[best]} (${row[best].toFixed(2)})`;
    }),
  ].join('\n');
  return toBundle(spec, `${text}\n(orange squares: each row's largest weight; blue circles: the Strong's gold links)`);
}
