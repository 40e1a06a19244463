// Notebook 13's faces and CT slice. BlazeFace: the anchors against their definition (896 = 16x16x2 +
// 8x8x6), decode() against a hand decoding of synthetic raw outputs and a greedy IoU suppression
// written here, and on the astronaut photo one face whose box lies on the face (the region read off
// the photo by eye: her face spans about x 175..280, y 70..185 of the 512x512 image). FaceRes: its
// age head is a distribution. CT: Hounsfield units and windows against numpy reading the same .npy.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tf, initBackend, assetsDir, readPng, readNpy, loadFaceDetector, loadFaceAttributes, faceCrop, blazefaceAnchors, hounsfieldUnits, applyWindow, CT_WINDOWS, type BlazeFaceRaw, type FaceDetector } from '../src/index';
import { findPython, requirePythonModules } from './helpers/python';

let detector: FaceDetector;
beforeAll(async () => {
  await initBackend();
  detector = await loadFaceDetector();
});

describe('BlazeFace', () => {
  it('has 896 anchors: a 16x16 grid with 2 per cell, then an 8x8 grid with 6 per cell, at cell centres', () => {
    const anchors = blazefaceAnchors(256);
    expect(anchors).toHaveLength(16 * 16 * 2 + 8 * 8 * 6);
    expect(anchors[0]).toEqual([8, 8]); // first cell of the stride-16 grid
    expect(anchors[1]).toEqual([8, 8]);
    expect(anchors[2]).toEqual([24, 8]);
    expect(anchors[512]).toEqual([16, 16]); // first cell of the stride-32 grid
    expect(anchors[895]).toEqual([240, 240]);
  });

  it('decode: sigmoid, anchor + offset, greedy suppression by IoU, scaled to the photo, by hand', () => {
    const anchors = blazefaceAnchors(256);
    const logits = new Float32Array(anchors.length).fill(-10);
    const regressions = new Float32Array(anchors.length * 16);
    const put = (i: number, logit: number, dx: number, dy: number, w: number, h: number) => {
      logits[i] = logit;
      regressions.set([dx, dy, w, h], i * 16);
    };
    put(100, 2, 4, -2, 40, 40); // the best box
    put(101, 1, 6, -2, 40, 40); // same anchor position region, overlapping it: suppressed
    put(700, 0.5, 0, 0, 30, 20); // far away: kept
    const raw: BlazeFaceRaw = { logits, regressions, anchors };
    const faces = detector.decode(raw, 512, 1024); // a photo twice as wide as high: x scales by 4, y by 2
    expect(faces.map((f) => f.anchor)).toEqual([100, 700]);
    const [ax, ay] = anchors[100];
    const cx = ax + 4;
    const cy = ay - 2;
    expect(faces[0].score).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    expect(faces[0].box[0]).toBeCloseTo((cx - 20) * 4, 4);
    expect(faces[0].box[1]).toBeCloseTo((cy - 20) * 2, 4);
    expect(faces[0].box[2]).toBeCloseTo(40 * 4, 4);
    expect(faces[0].box[3]).toBeCloseTo(40 * 2, 4);
    // Why 101 went: its IoU with 100, by hand, is above the 0.1 threshold.
    const [bx] = anchors[101];
    const overlapW = 40 - Math.abs(bx + 6 - cx);
    expect((overlapW * 40) / (2 * 1600 - overlapW * 40)).toBeGreaterThan(detector.config.iouThreshold);
    // Below the score threshold (0.2, a logit of -1.39) nothing is kept.
    expect(detector.decode({ logits: new Float32Array(anchors.length).fill(-2), regressions, anchors }, 256, 256)).toEqual([]);
  });

  it('finds one face on the astronaut photo, on her face, and leaks nothing', () => {
    const photo = readPng(path.join(assetsDir(), 'images', 'astronaut.png'));
    const before = tf.memory().numTensors;
    const faces = detector.detectFaces(photo);
    expect(tf.memory().numTensors).toBe(before);
    expect(faces).toHaveLength(1);
    const [x, y, w, h] = faces[0].box;
    expect(faces[0].score).toBeGreaterThan(0.5);
    expect(x).toBeGreaterThan(150);
    expect(x + w).toBeLessThan(300);
    expect(y).toBeGreaterThan(50);
    expect(y + h).toBeLessThan(205);
    expect(w).toBeGreaterThan(70); // a face-sized box, not a patch of it
    photo.dispose();
  });

  it('refuses a photo of the wrong shape in one line', () => {
    const grey = tf.zeros([1, 64, 64, 1]);
    expect(() => detector.detectFaces(grey)).toThrow(/^The face detector expects one photo shaped \[1, height, width, 3 or 4\] with values 0\.\.255 \(readPng gives this\), got \[1,64,64,1\] float32\.$/);
    grey.dispose();
  });
});

describe('FaceRes', () => {
  it('its age head is a probability distribution over 100 bins; the readings come from it; nothing leaks', async () => {
    const model = await loadFaceAttributes();
    const photo = readPng(path.join(assetsDir(), 'images', 'astronaut.png'));
    const [face] = detector.detectFaces(photo);
    const crop = faceCrop(photo, face);
    expect(crop.shape).toEqual([1, 224, 224, 3]);
    const before = tf.memory().numTensors;
    const a = model.attributes(crop);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.ageDistribution).toHaveLength(100);
    expect(a.ageDistribution.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 4);
    expect(a.ageDistribution.every((p) => p >= 0)).toBe(true);
    expect(a.ageDistribution[a.ageArgmax]).toBe(Math.max(...a.ageDistribution));
    expect(a.ageMean).toBeCloseTo(a.ageDistribution.reduce((s, p, i) => s + i * p, 0), 6);
    expect(Math.abs(a.ageHuman - a.ageArgmax)).toBeLessThanOrEqual(10 * Math.max(a.ageDistribution[a.ageArgmax - 1], a.ageDistribution[a.ageArgmax + 1]) + 0.05);
    tf.dispose([crop, photo]);
    model.dispose();
  });
});

describe('CT preprocessing', () => {
  it('Hounsfield units and windows of the shipped slice match numpy reading the same .npy', () => {
    const python = findPython();
    requirePythonModules(python, ['numpy']);
    const dir = path.join(assetsDir(), 'medical');
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'ct-small.json'), 'utf8'));
    const script = [
      'import json, sys, numpy as np',
      `a = np.load(${JSON.stringify(path.join(dir, 'ct-small.npy'))}).astype(np.float64)`,
      `hu = a * ${meta.rescaleSlope} + ${meta.rescaleIntercept}`,
      'w = np.clip((hu - (40 - 200)) / 400, 0, 1) * 255',
      'print(json.dumps({"min": hu.min(), "max": hu.max(), "mean": hu.mean(), "corner": hu[0, 0], "wmean": w.mean()}))',
    ].join('\n');
    const r = spawnSync(python, ['-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const ref = JSON.parse(r.stdout);
    const npy = readNpy(path.join(dir, 'ct-small.npy'));
    const stored = tf.tensor2d(Int32Array.from(npy.values as ArrayLike<number>), [meta.rows, meta.columns], 'int32');
    const before = tf.memory().numTensors;
    const hu = hounsfieldUnits(stored, meta.rescaleSlope, meta.rescaleIntercept);
    const soft = applyWindow(hu, CT_WINDOWS['soft tissue'].center, CT_WINDOWS['soft tissue'].width);
    const v = Array.from(hu.dataSync());
    expect(Math.min(...v)).toBe(ref.min);
    expect(Math.max(...v)).toBe(ref.max);
    expect(v[0]).toBe(ref.corner);
    expect(v.reduce((s, x) => s + x, 0) / v.length).toBeCloseTo(ref.mean, 3);
    const w = Array.from(soft.dataSync());
    expect(w.reduce((s, x) => s + x, 0) / w.length).toBeCloseTo(ref.wmean, 2);
    tf.dispose([hu, soft]);
    expect(tf.memory().numTensors).toBe(before);
    stored.dispose();
  });

  it('bad rescale or window values are refused in one line', () => {
    const t = tf.zeros([2, 2]);
    expect(() => hounsfieldUnits(t, 0, -1024)).toThrow(/^hounsfieldUnits: expected a finite, non-zero rescale slope/);
    expect(() => applyWindow(t, 40, 0)).toThrow(/^applyWindow: expected a finite centre and a positive width in HU; got centre 40, width 0\.$/);
    expect(() => applyWindow(t, NaN, 400)).toThrow(/applyWindow/);
    t.dispose();
  });
});
