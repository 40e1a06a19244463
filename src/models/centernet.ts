// A real pretrained object detector loaded through ImportedModel: CenterNet with a MobileNetV3
// backbone, trained on COCO (80 classes), as converted to a TensorFlow.js GraphModel and shipped
// in the npm package @vladmandic/human (an optional dependency; nothing is downloaded at run time).
// Photo -> letterbox to a square -> resize to 512x512 -> 277 graph nodes -> 100 candidate boxes
// -> per-class non-maximum suppression -> labelled boxes on the original photo.
import * as fs from 'fs';
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { Trace } from '../hooks/trace';
import { tensorStats } from '../hooks/stats';
import { ImportedModel, loadImportedSource, type ImportedModelOptions, type ImportedPreprocess, type ImportedSource } from './imported';

/** The 80 COCO object classes, in the order of the model's class index. */
export const COCO_LABELS = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed',
  'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
  'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
];

export interface DetectorConfig {
  /** Side of the square image the network sees (the converted graph is fixed at 512). */
  inputSize: number;
  /** Candidates below this score are dropped. */
  minScore: number;
  /** Two boxes of one class overlapping more than this (intersection over union) are one object. */
  iouThreshold: number;
  /** At most this many detections are reported. */
  maxDetections: number;
}

export const DETECTOR_DEFAULTS: DetectorConfig = {
  inputSize: 512,
  minScore: 0.2, // the threshold @vladmandic/human uses for this model
  iouThreshold: 0.5,
  maxDetections: 10,
};

export interface Detection {
  label: string;
  /** Class index into COCO_LABELS. */
  classIndex: number;
  score: number;
  /** Box in the original photo's pixels: left, top, width, height. */
  box: [x: number, y: number, width: number, height: number];
}

/** The model file inside the optional dependency; a clear error when it is not installed. */
export function centernetModelFile(): string {
  const candidates = (require.resolve.paths('@vladmandic/human') ?? []).map((dir) => path.join(dir, '@vladmandic', 'human', 'models', 'centernet.json'));
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) {
    throw new Error(
      'The CenterNet model ships in the npm package @vladmandic/human (an optional dependency of inference-lab), which is not installed. ' +
        'Run `npm install @vladmandic/human@3.3.6` (about 28 MB, MIT licence) and try again.',
    );
  }
  return found;
}

/** Photo [1, h, w, 3|4] 0..255 -> [1, size, size, 3] float32: drop alpha, pad to a square (keeps the aspect), resize. */
function letterbox(size: number): ImportedPreprocess {
  return {
    steps: [
      ['pre.hook_raw', 'input', '[batch, h, w, ch] raw pixels 0..255'],
      ['pre.hook_rgb', 'rgb', '[batch, h, w, 3] float32'],
      ['pre.hook_square', 'pad', '[batch, side, side, 3] black bars right / bottom'],
      ['pre.hook_resized', 'resize', `[batch, ${size}, ${size}, 3]`],
    ],
    validate(raw) {
      const [batch, h, w, ch] = raw.shape as number[];
      const ok = raw.rank === 4 && batch === 1 && [3, 4].includes(ch) && h > 0 && w > 0 && ['int32', 'float32'].includes(raw.dtype);
      if (!ok) throw new Error(`The detector expects one photo shaped [1, height, width, 3 or 4] with values 0..255 (readPng gives this), got [${raw.shape}] ${raw.dtype}.`);
    },
    run(raw, hook) {
      let x = hook('pre.hook_raw', tf.cast(raw, 'float32')); // [1, h, w, ch]
      x = hook('pre.hook_rgb', x.shape[3] === 3 ? x : tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 3])); // [1, h, w, 3]
      const [h, w] = [x.shape[1]!, x.shape[2]!];
      const side = Math.max(h, w);
      x = hook('pre.hook_square', side === h && side === w ? x : tf.pad(x, [[0, 0], [0, side - h], [0, side - w], [0, 0]])); // [1, side, side, 3]
      return hook('pre.hook_resized', tf.image.resizeBilinear(x as tf.Tensor4D, [size, size])); // [1, 512, 512, 3], as @vladmandic/human resizes
    },
  };
}

export class ObjectDetector extends ImportedModel {
  readonly config: DetectorConfig;

  constructor(source: ImportedSource, options: ImportedModelOptions & { detector?: DetectorConfig } = {}) {
    const config = options.detector ?? DETECTOR_DEFAULTS;
    super(source, { name: 'centernet', output: 'tower_0/detections', preprocess: letterbox(config.inputSize), ...options });
    this.config = config;
    if (this.input.shape[1] !== config.inputSize) {
      throw new Error(`${source.file}: the graph takes [${this.input.shape}], but the detector config says ${config.inputSize}x${config.inputSize}.`);
    }
  }

  /** Load the shipped CenterNet (or another CenterNet export with the same outputs). */
  static async loadDetector(file = centernetModelFile(), detector: DetectorConfig = DETECTOR_DEFAULTS): Promise<ObjectDetector> {
    const source = await loadImportedSource(file);
    try {
      return new ObjectDetector(source, { detector });
    } catch (err) {
      source.model.dispose();
      throw err;
    }
  }

  /** Labelled boxes for one photo [1, h, w, 3|4] (pixels 0..255), best first. */
  detect(photo: Tensor): Detection[] {
    const candidates = this.forward(photo); // [1, 100, 6]: x1, y1, x2, y2 (input pixels), score, class
    const rows = (candidates.arraySync() as number[][][])[0];
    candidates.dispose();
    return this.decode(rows, photo.shape[1]!, photo.shape[2]!);
  }

  /** Candidates -> detections: threshold, per-class greedy non-maximum suppression, back to photo pixels. */
  decode(rows: number[][], height: number, width: number): Detection[] {
    const { inputSize, minScore, iouThreshold, maxDetections } = this.config;
    const scale = Math.max(height, width) / inputSize; // undo the resize of the letterboxed square
    const kept: { row: number[] }[] = [];
    for (const row of [...rows].sort((a, b) => b[4] - a[4])) {
      if (row[4] < minScore || kept.length >= maxDetections) break;
      if (kept.some((k) => k.row[5] === row[5] && iou(k.row, row) > iouThreshold)) continue;
      kept.push({ row });
    }
    return kept.map(({ row }) => {
      const x1 = clamp(row[0] * scale, width);
      const y1 = clamp(row[1] * scale, height);
      const x2 = clamp(row[2] * scale, width);
      const y2 = clamp(row[3] * scale, height);
      const classIndex = Math.round(row[5]);
      return { label: COCO_LABELS[classIndex] ?? `class ${classIndex}`, classIndex, score: row[4], box: [x1, y1, x2 - x1, y2 - y1] };
    });
  }

  /** Traces end with the decoded detections (a step with a note), after the graph's own nodes. */
  protected override extendTrace(trace: Trace): Trace {
    const last = trace.steps.find((s) => s.name === this.outputHook);
    const raw = trace.steps.find((s) => s.name === 'pre.hook_raw');
    if (!last?.tensor || !raw) return trace;
    const detections = this.decode((last.tensor.arraySync() as number[][][])[0], raw.outputShape[1], raw.outputShape[2]);
    const scores = tf.tensor1d(detections.map((d) => d.score)); // [detections]
    trace.steps.push({
      index: trace.steps.length,
      name: 'post.detections',
      kind: 'nms',
      shapeDoc: '[detections]',
      inputShape: last.outputShape,
      outputShape: scores.shape.slice(),
      stats: tensorStats(scores),
      tensor: scores,
      note: detections.map((d) => `${d.label} ${(d.score * 100).toFixed(0)}%`).join(', ') || 'nothing above the threshold',
    });
    return trace;
  }
}

function clamp(v: number, max: number): number {
  return Math.min(Math.max(v, 0), max);
}

/** Intersection over union of two [x1, y1, x2, y2, ...] boxes. */
function iou(a: number[], b: number[]): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Load the shipped detector (CenterNet, COCO). */
export function loadObjectDetector(file?: string): Promise<ObjectDetector> {
  return ObjectDetector.loadDetector(file);
}
