// A colour photo with labelled boxes on it: what an object detector found, drawn where it found it.
import { PNG } from 'pngjs';
import { tf, type Tensor } from '../engine/tf';
import { tensorValues } from '../engine/ops';
import type { MimeBundle } from '../engine/mime';
import { toBundle } from './render';
import { layerErrorView } from './quant-views';
import { imageLayer } from './heatmap';
import type { LayerError } from '../optimize/analyze';

/** The boxes a detector reports, in the photo's pixels (left, top, width, height). */
export interface LabelledBox {
  label: string;
  score: number;
  box: [number, number, number, number];
}

/**
 * A PNG data URL of an RGB(A) photo `[1, h, w, 3|4]` or `[h, w, 3|4]` with values 0..255, scaled
 * down (bilinear) to fit `maxSide` pixels when given: a picture needs no more pixels than it shows.
 */
export function photoToPngUrl(photo: Tensor, maxSide?: number): string {
  const shape = photo.rank === 4 ? photo.shape.slice(1) : photo.shape;
  if (shape.length !== 3 || ![3, 4].includes(shape[2]) || (photo.rank === 4 && photo.shape[0] !== 1)) {
    throw new Error(`photoToPngUrl expects one colour photo shaped [1, h, w, 3|4] or [h, w, 3|4], got [${photo.shape}].`);
  }
  const zoom = maxSide ? Math.min(1, maxSide / Math.max(shape[0], shape[1])) : 1;
  const [h, w, ch] = [Math.round(shape[0] * zoom), Math.round(shape[1] * zoom), shape[2]];
  const values = tensorValues(() => (zoom < 1 ? tf.image.resizeBilinear(tf.reshape(photo, shape as [number, number, number]) as tf.Tensor3D, [h, w], true) : tf.clone(photo))); // [h, w, ch]
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < h * w; i++) {
    for (let c = 0; c < 3; c++) png.data[i * 4 + c] = Math.max(0, Math.min(255, Math.round(values[i * ch + c])));
    png.data[i * 4 + 3] = 255; // drawn opaque: the alpha channel of a photo carries nothing here
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

/** The photo with one box and label per detection; the text lists them too. */
export async function detectionsView(photo: Tensor, detections: LabelledBox[], title = 'detections', maxSide = 420): Promise<MimeBundle> {
  const [h, w] = photo.rank === 4 ? photo.shape.slice(1, 3) : photo.shape.slice(0, 2);
  const zoom = maxSide / Math.max(h, w);
  const [width, height] = [Math.round(w * zoom), Math.round(h * zoom)];
  const rows = detections.map((d, i) => ({
    rank: i + 1,
    text: `${d.label} ${(d.score * 100).toFixed(0)}%`,
    x1: d.box[0],
    y1: d.box[1],
    x2: d.box[0] + d.box[2],
    y2: d.box[1] + d.box[3],
  }));
  const x = { type: 'quantitative', scale: { domain: [0, w], range: [0, width] }, axis: null };
  const y = { type: 'quantitative', scale: { domain: [0, h], range: [0, height] }, axis: null };
  const spec = {
    title: { text: title, subtitle: detections.length ? `${detections.length} object${detections.length > 1 ? 's' : ''}, best first` : 'nothing above the score threshold' },
    width,
    height,
    layer: [
      imageLayer(photoToPngUrl(photo, Math.max(width, height)), width, height),
      {
        data: { values: rows },
        mark: { type: 'rect', fillOpacity: 0, stroke: '#ffdd00', strokeWidth: 2.5 },
        encoding: { x: { field: 'x1', ...x }, x2: { field: 'x2' }, y: { field: 'y1', ...y }, y2: { field: 'y2' }, tooltip: [{ field: 'text', title: 'detection' }] },
      },
      {
        data: { values: rows },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 4, fontSize: 13, fontWeight: 'bold', color: '#ffdd00', stroke: 'black', strokeWidth: 0.6 },
        encoding: { x: { field: 'x1', ...x }, y: { field: 'y1', ...y }, text: { field: 'text' } },
      },
    ],
  };
  const text = [title, ...rows.map((r) => `  ${r.rank}. ${r.text} at x ${r.x1.toFixed(0)}..${r.x2.toFixed(0)}, y ${r.y1.toFixed(0)}..${r.y2.toFixed(0)}`)].join('\n');
  return toBundle(spec, text, undefined, { pngScale: 1 });
}

/** What the error view needs from an imported model (kept structural so this file does not import the model). */
interface NamedModel {
  name: string;
  activationQuantPoints: string[];
  shortName(hookName: string): string;
}

/**
 * Per-layer error of an optimized imported model against its original, at the weighted ops only
 * (a converted graph has hundreds of nodes; the weighted ones are where quantization acts), with
 * short labels. Pass the result of layerErrors(original, optimized, input[, 'isolated']).
 */
export async function importedErrorView(model: NamedModel, propagated: LayerError[], isolated: LayerError[] | null, title: string): Promise<MimeBundle> {
  const weighted = new Set(model.activationQuantPoints);
  const pick = (rows: LayerError[]) => rows.filter((r) => weighted.has(r.name)).map((r) => ({ ...r, name: model.shortName(r.name) }));
  return layerErrorView(pick(propagated), isolated ? pick(isolated) : null, title);
}
