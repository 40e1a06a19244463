// Two real pretrained face models from the npm package @vladmandic/human (an optional dependency;
// nothing is downloaded at run time), loaded through ImportedModel so every graph node is a hook:
//   BlazeFace: photo -> 256x256 in [-1, 1] -> 896 anchors, each with a score logit and 16 box
//     regressions (centre offset, size, 6 landmarks) -> decode against the anchors -> sigmoid ->
//     non-maximum suppression -> face boxes. The decoding follows Human's src/face/blazeface.ts.
//   FaceRes (HSE FaceRes): a 224x224 face crop, pixels 0..255 -> a 100-way age distribution, a
//     gender sigmoid and a 1024-number descriptor. Age is a number read from a distribution.
import * as fs from 'fs';
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import { ImportedModel, loadImportedSource, type ImportedPreprocess } from './imported';

/** A model file inside @vladmandic/human's models/ folder; a clear error when it is not installed. */
export function humanModelFile(model: string): string {
  const candidates = (require.resolve.paths('@vladmandic/human') ?? []).map((dir) => path.join(dir, '@vladmandic', 'human', 'models', `${model}.json`));
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) {
    throw new Error(
      `The ${model} model ships in the npm package @vladmandic/human (an optional dependency of inference-lab), which is not installed. ` +
        'Run `npm install @vladmandic/human@3.3.6` (about 28 MB, MIT licence) and try again.',
    );
  }
  return found;
}

export interface FaceDetectorConfig {
  /** Side of the square the graph reads (BlazeFace back model: 256). */
  inputSize: number;
  /** Candidates whose sigmoid score is below this are dropped (Human: 0.2). */
  minScore: number;
  /** Non-maximum suppression drops a box overlapping a better one by more than this IoU (Human: 0.1). */
  iouThreshold: number;
  /** At most this many faces. */
  maxFaces: number;
}

export const FACE_DETECTOR_DEFAULTS: FaceDetectorConfig = { inputSize: 256, minScore: 0.2, iouThreshold: 0.1, maxFaces: 5 };

/** BlazeFace's anchors: centres of a 16x16 grid (2 anchors per cell) then an 8x8 grid (6 per cell), in input pixels. */
export function blazefaceAnchors(inputSize = 256): [x: number, y: number][] {
  const spec = [
    { stride: inputSize / 16, perCell: 2 },
    { stride: inputSize / 8, perCell: 6 },
  ];
  const anchors: [number, number][] = [];
  for (const { stride, perCell } of spec) {
    const cells = Math.ceil(inputSize / stride);
    for (let gy = 0; gy < cells; gy++) for (let gx = 0; gx < cells; gx++) for (let k = 0; k < perCell; k++) anchors.push([stride * (gx + 0.5), stride * (gy + 0.5)]);
  }
  return anchors;
}

/** What the graph gives for one photo, before any decoding: per anchor, a score logit and 16 regressions. */
export interface BlazeFaceRaw {
  /** [anchors] raw score logits (sigmoid gives a probability). */
  logits: Float32Array;
  /** [anchors, 16]: dx, dy (box centre from the anchor), w, h, then 6 landmarks (x, y), all in input pixels. */
  regressions: Float32Array;
  anchors: [number, number][];
}

export interface FaceBox {
  /** Sigmoid of the logit. */
  score: number;
  /** Index of the anchor it came from. */
  anchor: number;
  /** Box in the photo's pixels: left, top, width, height. */
  box: [x: number, y: number, width: number, height: number];
}

/** Photo [1, h, w, 3|4] 0..255 -> [1, 256, 256, 3] in [-1, 1], as Human prepares it (no padding: a square photo keeps its shape). */
function blazefacePreprocess(size: number): ImportedPreprocess {
  return {
    steps: [
      ['pre.hook_raw', 'input', '[1, h, w, ch] raw pixels 0..255'],
      ['pre.hook_resized', 'resize', `[1, ${size}, ${size}, 3]`],
      ['pre.hook_scaled', 'scale', `[1, ${size}, ${size}, 3] in [-1, 1]`],
    ],
    validate(raw) {
      const [batch, h, w, ch] = raw.shape as number[];
      if (!(raw.rank === 4 && batch === 1 && [3, 4].includes(ch) && h > 0 && w > 0 && ['int32', 'float32'].includes(raw.dtype))) {
        throw new Error(`The face detector expects one photo shaped [1, height, width, 3 or 4] with values 0..255 (readPng gives this), got [${raw.shape}] ${raw.dtype}.`);
      }
    },
    run(raw, hook) {
      let x = hook('pre.hook_raw', tf.cast(raw, 'float32')); // [1, h, w, ch]
      if (x.shape[3] === 4) x = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 3]); // drop alpha: [1, h, w, 3]
      x = hook('pre.hook_resized', tf.image.resizeBilinear(x as tf.Tensor4D, [size, size])); // [1, 256, 256, 3]
      return hook('pre.hook_scaled', tf.sub(tf.div(x, 127.5), 1)); // [1, 256, 256, 3] in [-1, 1]
    },
  };
}

/** BlazeFace: the graph's four outputs are two score maps and two regression maps (one pair per grid). */
export class FaceDetector extends ImportedModel {
  readonly config: FaceDetectorConfig;

  static async loadBlazeFace(file = humanModelFile('blazeface'), config: FaceDetectorConfig = FACE_DETECTOR_DEFAULTS): Promise<FaceDetector> {
    const source = await loadImportedSource(file);
    try {
      return new FaceDetector(source, { name: 'blazeface', preprocess: blazefacePreprocess(config.inputSize) }, config);
    } catch (err) {
      source.model.dispose();
      throw err;
    }
  }

  constructor(source: ConstructorParameters<typeof ImportedModel>[0], options: ConstructorParameters<typeof ImportedModel>[1], config: FaceDetectorConfig) {
    super(source, options);
    this.config = config;
  }

  /** The raw outputs for one photo: the four graph outputs, joined per anchor as Human joins them (16x16 grid first). */
  raw(photo: Tensor): BlazeFaceRaw {
    const names = ['Identity.hook_out', 'Identity_1.hook_out', 'Identity_2.hook_out', 'Identity_3.hook_out'];
    const [out, cache] = this.runWithCache(photo, { names });
    out.dispose();
    try {
      const outputs = names.map((n) => cache.get(n)); // [1, 512|384, 1|16] each
      const byGrid = (anchors: number, width: number) => outputs.find((t) => t.shape[1] === anchors && t.shape[2] === width)!;
      const logits = new Float32Array([...byGrid(512, 1).dataSync(), ...byGrid(384, 1).dataSync()]); // [896]
      const regressions = new Float32Array([...byGrid(512, 16).dataSync(), ...byGrid(384, 16).dataSync()]); // [896 * 16]
      return { logits, regressions, anchors: blazefaceAnchors(this.config.inputSize) };
    } finally {
      cache.dispose();
    }
  }

  /**
   * Raw outputs -> faces: box centre = anchor + (dx, dy), size = (w, h) (input pixels), score =
   * sigmoid(logit), then non-maximum suppression (tf.image.nonMaxSuppression), then photo pixels.
   */
  decode(raw: BlazeFaceRaw, height: number, width: number): FaceBox[] {
    const { inputSize, minScore, iouThreshold, maxFaces } = this.config;
    const n = raw.anchors.length;
    const corners = new Float32Array(n * 4); // y1, x1, y2, x2: the order tf.image.nonMaxSuppression reads
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const [ax, ay] = raw.anchors[i];
      const r = raw.regressions.subarray(i * 16, i * 16 + 4);
      const [cx, cy, w, h] = [ax + r[0], ay + r[1], r[2], r[3]];
      corners.set([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2], i * 4);
      scores[i] = 1 / (1 + Math.exp(-raw.logits[i]));
    }
    const kept = tf.tidy(() => tf.image.nonMaxSuppression(tf.tensor2d(corners, [n, 4]), tf.tensor1d(scores), maxFaces, iouThreshold, minScore).dataSync()); // indices, best first
    const sx = width / inputSize; // the photo was stretched to the square: undo per axis
    const sy = height / inputSize;
    return Array.from(kept, (i) => {
      const [y1, x1, y2, x2] = corners.subarray(i * 4, i * 4 + 4);
      return { score: scores[i], anchor: i, box: [x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy] as [number, number, number, number] };
    });
  }

  /** Faces in one photo [1, h, w, 3|4] (0..255), best first. */
  detectFaces(photo: Tensor): FaceBox[] {
    return this.decode(this.raw(photo), photo.shape[1]!, photo.shape[2]!);
  }
}

/** FaceRes' answer for one face crop. */
export interface FaceAttributes {
  /** The 100 probabilities of the age head (softmax), index i = age bin i. */
  ageDistribution: number[];
  /** The most likely bin. */
  ageArgmax: number;
  /** Sum of i * p(i): the distribution's mean. */
  ageMean: number;
  /** Human's reading: the argmax nudged toward the larger neighbour (src/face/faceres.ts). */
  ageHuman: number;
  /** The gender head's sigmoid (Human reads <= 0.5 as female). */
  genderSigmoid: number;
}

/** Crop [top, left, bottom, right] (fractions of the photo) -> [1, 224, 224, 3] pixels 0..255, as Human feeds FaceRes. */
function faceresPreprocess(): ImportedPreprocess {
  return {
    steps: [
      ['pre.hook_raw', 'input', '[1, 224, 224, 3] a face crop, pixels 0..255'],
    ],
    validate(raw) {
      if (!(raw.rank === 4 && raw.shape[0] === 1 && raw.shape[1] === 224 && raw.shape[2] === 224 && raw.shape[3] === 3)) {
        throw new Error(`FaceRes expects one face crop shaped [1, 224, 224, 3] with values 0..255 (faceCrop gives this), got [${raw.shape}] ${raw.dtype}.`);
      }
    },
    run(raw, hook) {
      return hook('pre.hook_raw', tf.cast(raw, 'float32')); // [1, 224, 224, 3]
    },
  };
}

/** The square around a face box, enlarged by `scale` (Human enlarges BlazeFace's box 1.4x), cut out and resized to 224x224. Caller disposes. */
export function faceCrop(photo: Tensor, face: FaceBox, scale = 1.4, size = 224): Tensor {
  const [h, w] = [photo.shape[1]!, photo.shape[2]!];
  const [x, y, bw, bh] = face.box;
  const side = Math.max(bw, bh) * scale;
  const [cx, cy] = [x + bw / 2, y + bh / 2];
  const box = [[(cy - side / 2) / h, (cx - side / 2) / w, (cy + side / 2) / h, (cx + side / 2) / w]]; // top, left, bottom, right as fractions
  return tf.tidy(() => {
    const rgb = photo.shape[3] === 4 ? tf.slice(photo, [0, 0, 0, 0], [-1, -1, -1, 3]) : photo; // [1, h, w, 3]
    return tf.image.cropAndResize(tf.cast(rgb, 'float32') as tf.Tensor4D, box, [0], [size, size]); // [1, 224, 224, 3] 0..255
  });
}

export class FaceAttributeModel extends ImportedModel {
  static async loadFaceRes(file = humanModelFile('faceres')): Promise<FaceAttributeModel> {
    const source = await loadImportedSource(file);
    try {
      return new FaceAttributeModel(source, { name: 'faceres', output: 'age_pred/Softmax', preprocess: faceresPreprocess() });
    } catch (err) {
      source.model.dispose();
      throw err;
    }
  }

  /** Age (a number read from a 100-way distribution) and the gender sigmoid of one face crop [1, 224, 224, 3]. */
  attributes(crop: Tensor): FaceAttributes {
    const [out, cache] = this.runWithCache(crop, { names: ['gender_pred.Sigmoid.hook_out'] });
    const p = Array.from(out.dataSync()); // [100]
    const genderSigmoid = cache.get('gender_pred.Sigmoid.hook_out').dataSync()[0];
    out.dispose();
    cache.dispose();
    const ageArgmax = p.indexOf(Math.max(...p));
    const ageMean = p.reduce((s, pi, i) => s + i * pi, 0);
    const below = p[ageArgmax - 1] ?? 0;
    const above = p[ageArgmax + 1] ?? 0;
    const ageHuman = Math.round(below > above ? 10 * ageArgmax - 100 * below : 10 * ageArgmax + 100 * above) / 10; // Human's formula, as written there
    return { ageDistribution: p, ageArgmax, ageMean, ageHuman, genderSigmoid };
  }
}

/** Load BlazeFace from @vladmandic/human. */
export function loadFaceDetector(file?: string): Promise<FaceDetector> {
  return FaceDetector.loadBlazeFace(file);
}

/** Load FaceRes (age, gender, descriptor) from @vladmandic/human. */
export function loadFaceAttributes(file?: string): Promise<FaceAttributeModel> {
  return FaceAttributeModel.loadFaceRes(file);
}
