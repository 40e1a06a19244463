// Every chart the library can make, built from small real inputs (the shipped models, real digits,
// real text and audio), checked against the notebook column: at most 900 CSS px wide, counting the
// SVG, the PNG's display size (the metadata the kernel sends with it) and the interactive Vega-Lite
// spec as JupyterLab draws it (Vega-Lite 5 + Vega 5, the versions JupyterLab ships); and no Vega
// warnings on the way (a browser console would show them).
//
// The list of views is checked against the public entry: a view exported from src/index.ts that
// this file does not build fails the first test, so a new chart cannot skip the budget.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'fs';
import { PNG } from 'pngjs';
import * as lab from '../src/index';
import { bundleMetadata } from '../kernel/display';
import { drawWithVega5 } from './helpers/vega5';
import { MAX_CHART_WIDTH, withDefaults, svgSize } from '../src/viz/render';

const { tf } = lab;
type Bundle = lab.MimeBundle;

/** What JupyterLab would log and draw for the bundle's interactive spec (vega-lite 5 + vega 5). */
async function drawLikeJupyterLab(spec: Record<string, unknown>): Promise<{ width: number; warnings: string[] }> {
  const { svg, warnings } = await drawWithVega5(spec);
  return { width: svgSize(svg)!.width, warnings };
}

interface Measured {
  name: string;
  svgWidth: number;
  pngMetadataWidth: number | null;
  vegaWidth: number | null;
  warnings: string[];
}

async function measure(name: string, bundle: Bundle): Promise<Measured> {
  const svg = bundle['image/svg+xml'];
  expect(typeof svg, `${name}: an SVG`).toBe('string');
  const size = svgSize(svg as string)!;
  const meta = bundleMetadata(bundle as Record<string, unknown>)['image/png'] as { width: number; height: number } | undefined;
  if (bundle['image/png']) {
    // The PNG is the SVG at 1x or 2x: its display size must be the SVG's size, not its pixel size.
    const png = PNG.sync.read(Buffer.from(bundle['image/png'] as string, 'base64'));
    expect(meta, `${name}: PNG metadata`).toBeDefined();
    expect(Math.abs(png.width / meta!.width - Math.round((png.width / meta!.width) * 4) / 4), `${name}: PNG ${png.width} px for ${meta!.width} CSS px`).toBeLessThan(0.02); // drawn at 1x, 1.25x or 2x
  }
  const spec = bundle['application/vnd.vegalite.v5+json'] as Record<string, unknown> | undefined;
  const drawn = spec ? await drawLikeJupyterLab(spec) : null;
  return { name, svgWidth: size.width, pngMetadataWidth: meta?.width ?? null, vegaWidth: drawn?.width ?? null, warnings: drawn?.warnings ?? [] };
}

const results: Measured[] = [];
async function check(name: string, bundle: Bundle | Promise<Bundle>): Promise<void> {
  const b = await bundle;
  const m = await measure(name, b);
  // CHART_PNG_DIR=test-artifacts/charts writes each chart's PNG there, to look at.
  if (process.env.CHART_PNG_DIR && b['image/png']) {
    fs.mkdirSync(process.env.CHART_PNG_DIR, { recursive: true });
    fs.writeFileSync(`${process.env.CHART_PNG_DIR}/${name.replace(/[^\w-]+/g, '_')}.png`, Buffer.from(b['image/png'] as string, 'base64'));
  }
  results.push(m);
  expect.soft(m.warnings, `${name}: Vega warnings`).toEqual([]);
  for (const [what, w] of [['SVG', m.svgWidth], ['PNG metadata', m.pngMetadataWidth], ['Vega-Lite in JupyterLab', m.vegaWidth]] as const) {
    if (w !== null) expect.soft(w, `${name}: ${what} width`).toBeLessThanOrEqual(MAX_CHART_WIDTH);
  }
}

/** Every view function exported from the public entry (the names the views below must cover). */
const EXPORTED_VIEWS = Object.keys(lab).filter((k) => typeof (lab as Record<string, unknown>)[k] === 'function' && /(View|Stepper|Card|Chart|Curves|Table)$|^(showImage|featureMaps|activationHistogram|classProbabilities|modelSummary|diagram)$/.test(k));
const covered = new Set<string>();
const view = (name: string) => {
  covered.add(name);
  return name;
};

let digits: lab.DigitsCNN;
let gpt: lab.GPT;
let lstm: lab.CharRNN;
let gru: lab.CharRNN;
let kws: lab.KeywordCNN;
let pixels: lab.Tensor;
const owned: { dispose(): void }[] = [];

beforeAll(async () => {
  await lab.initBackend();
  digits = lab.loadModel('digits-cnn') as lab.DigitsCNN;
  gpt = lab.loadModel('tiny-gpt') as lab.GPT;
  lstm = lab.loadModel('langid-lstm') as lab.CharRNN;
  gru = lab.loadModel('langid-gru') as lab.CharRNN;
  kws = lab.loadModel('kws-cnn') as lab.KeywordCNN;
  pixels = lab.digitsTensor(lab.loadMnist().heldOut, 0, 1); // [1, 28, 28]
}, 120_000);

afterAll(() => {
  for (const m of owned) m.dispose();
  // One line per chart, for the report: before/after widths.
  console.log(results.map((r) => `${r.name.padEnd(34)} svg ${r.svgWidth}  png ${r.pngMetadataWidth}  vega ${r.vegaWidth}`).join('\n'));
});

describe('every chart fits a notebook column and draws without Vega warnings', () => {
  it('digits CNN views: image, feature maps, histogram, probabilities, summary, cache, stepper, convolution window', async () => {
    await check(view('showImage'), lab.showImage(pixels, 'held-out digit #0'));
    const [probs, cache] = digits.runWithCache(pixels, { names: ['conv.0.hook_relu', 'conv.1.hook_relu', 'hook_logits'] });
    await check(view('featureMaps'), lab.featureMaps(cache.get('conv.1.hook_relu'), 'conv.1 after ReLU'));
    await check(view('activationHistogram'), lab.activationHistogram(cache.get('conv.0.hook_relu'), 'conv.0 relu'));
    await check(view('classProbabilities'), lab.classProbabilities(lab.DIGIT_LABELS, probs, 'class probabilities'));
    await check(view('cacheTable'), cache.toMimeBundle());
    await check(view('modelSummary'), digits.toMimeBundle());
    cache.dispose();
    probs.dispose();
    const trace = digits.trace(pixels);
    await check(view('traceStepper'), lab.traceStepper(trace));
    const w4 = lab.quantize(digits, { bits: 4, perChannel: false, symmetric: true, activations: 'none' });
    owned.push(w4);
    const other = w4.trace(pixels);
    await check(view('compareStepper'), lab.compareStepper(trace, other, ['float32', 'int4 per tensor']));
    trace.dispose();
    other.dispose();
    await check(view('convolutionWindowView'), lab.convolutionWindowView(digits, pixels));
  }, 300_000);

  it('generic charts: lines, bars, temperature, roofline, model memory', async () => {
    const curve = Array.from({ length: 20 }, (_, k) => (k + 1) / 21).map((p) => ({ series: 'loss = −ln p', x: p, y: -Math.log(p) }));
    await check(view('lineChart'), lab.lineChart(curve, { title: 'cross-entropy', xTitle: 'p', yTitle: 'loss' }));
    const withBaseline = await lab.lineChart(curve, { title: 'cross-entropy', xTitle: 'p', yTitle: 'loss', references: [{ label: 'a yardstick with a long label', y: 1.5 }] });
    await check('lineChart with a reference line', withBaseline);
    // notebook 13: the diabetes models on their 88 held-out patients
    const heldOut = lab.splitDiabetes(lab.readDiabetes(lab.diabetesFile())).heldOut;
    const regressors = ['diabetes-linear', 'diabetes-mlp'].map((n) => lab.loadModel(n) as lab.TabularRegressor);
    await check(view('predictedVsActualView'), lab.predictedVsActualView(heldOut.targets, regressors.map((m) => ({ label: m.name, predicted: m.predict(heldOut.rows) })), { title: 'Disease progression one year later: predicted against actual (88 held-out patients)', unit: 'progression' }));
    regressors.forEach((m) => m.dispose());
    const layers = (withBaseline['application/vnd.vegalite.v5+json'] as { layer: { mark: { type: string } }[] }).layer;
    expect(layers.map((l) => l.mark.type)).toEqual(['line', 'rule', 'text']);
    expect(withBaseline['text/plain']).toContain('a yardstick with a long label: 1.5');
    await check(view('barChart'), lab.barChart([{ label: 'conv.0', value: 80 }, { label: 'conv.1', value: 1168 }, { label: 'dense', value: 4010 }], { title: 'parameters', xTitle: 'parameters' }));
    const z = digits.logits(pixels);
    const logits = Array.from(z.dataSync());
    z.dispose();
    await check(view('temperatureView'), lab.temperatureView(lab.DIGIT_LABELS, { teacher: logits, student: logits.map((v) => v * 0.5) }, 'held-out digit #0'));
    const points = [64, 256, 1024].flatMap((n) => [
      { engine: 'tfjs wasm', size: n, gflops: n / 20, intensity: n / 6 },
      { engine: 'ONNX Runtime', size: n, gflops: n / 8, intensity: n / 6 },
    ]);
    await check(view('rooflineView'), lab.rooflineView(points, 120, 12));
    await check(view('modelMemoryView'), lab.modelMemoryView(lab.PUBLISHED_SHAPES.map((s) => ({ name: s.name, bytes: lab.scaleReport(s).bytes }))));
  }, 300_000);

  it('quantization views', async () => {
    const w = digits.weights['conv.1.weight'];
    const w8 = lab.quantize(digits, { bits: 8, perChannel: false, symmetric: true, activations: 'none' });
    const w4pc = lab.quantize(digits, { bits: 4, perChannel: true, symmetric: true, activations: 'none' });
    owned.push(w8, w4pc);
    await check(view('weightQuantizationView'), lab.weightQuantizationView(w, w8.quantization.packed['conv.1.weight'].params, 'conv.1.weight on the int8 grid (per tensor)'));
    const calibration = lab.digitsTensor(lab.loadMnist().train, 0, 32);
    const seen = lab.collectActivations(digits, calibration, ['conv.1.hook_conv'], false).get('conv.1.hook_conv')!;
    const ranges: Record<string, lab.CalibratedRange> = {};
    for (const method of lab.CALIBRATION_METHODS) ranges[method] = lab.calibrateRange(seen, { method, bits: 8, symmetric: false, percentile: 99.99 });
    await check(view('calibrationRangesView'), lab.calibrationRangesView(seen, ranges, 'conv.1.hook_conv: what each calibration method keeps'));
    const sample = lab.digitsTensor(lab.loadMnist().heldOut, 0, 16);
    const propagated = lab.layerErrors(digits, w8, sample, 'propagated');
    const isolated = lab.layerErrors(digits, w8, sample, 'isolated');
    await check(view('layerErrorView'), lab.layerErrorView(propagated, isolated, 'int8 weights + int8 activations (min-max): SQNR per step'));
    await check(view('errorGrowthView'), lab.errorGrowthView({ 'w8 per tensor, float activations': propagated, 'w4 per channel, float activations': lab.layerErrors(digits, w4pc, sample) }, 'Error growth through depth'));
    await check(view('importedErrorView'), lab.importedErrorView({ name: digits.name, activationQuantPoints: propagated.map((e) => e.name), shortName: (n) => n }, propagated, isolated, 'int8 weights'));
    tf.dispose([calibration, sample]);
  }, 300_000);

  it('comparison reports: the digits CNN and the tiny GPT', async () => {
    const { heldOut } = lab.loadMnist();
    const int8 = lab.quantize(digits, { bits: 8, perChannel: true, symmetric: true, activations: 'none' });
    const int4 = lab.quantize(digits, { bits: 4, perChannel: true, symmetric: true, activations: 'none' });
    owned.push(int8, int4);
    const set = { ...heldOut, count: 200, images: heldOut.images.subarray(0, 200 * 784), labels: heldOut.labels.subarray(0, 200) };
    const latencyInput = lab.digitsTensor(heldOut, 0, 8);
    const errorInput = lab.digitsTensor(heldOut, 0, 16);
    const report = await lab.compare(digits, [
      { label: 'int8 weights (per channel)', model: int8 },
      { label: 'int4 weights (per channel)', model: int4 },
      { label: 'conv.1 channels halved, fine-tuned', model: int8 },
    ], { set, latencyInput, errorInput });
    view('comparisonView');
    await check('comparisonView (digits)', report.toMimeBundle());
    tf.dispose([latencyInput, errorInput]);

    const ids = Int32Array.from(gpt.tokenizer.encode(lab.readHeldOutText(`${lab.assetsDir()}/tiny-gpt`).slice(0, 1200)));
    const neurons = lab.pruneNeurons(gpt, 0.25);
    const int8Fast = gpt.compile('onnx', { quantize: 'int8', threads: 1 });
    owned.push(neurons, int8Fast);
    const gptLatency = tf.tensor2d(ids.subarray(0, 32), [1, 32], 'int32');
    const gptErrors = tf.tensor2d(ids.subarray(32, 96), [1, 64], 'int32');
    const gptReport = await lab.compare(gpt, [
      { label: 'int8 (ONNX Runtime)', model: int8Fast },
      { label: 'a quarter of the MLP neurons removed', model: neurons },
    ], { heldOut: ids, windows: 2, latencyInput: gptLatency, errorInput: gptErrors });
    await check('comparisonView (tiny-gpt)', gptReport.toMimeBundle());
    tf.dispose([gptLatency, gptErrors]);
    // compareRuntimes' view (its width does not depend on the timings): the longest label it makes, a GPU's name.
    const timing = (ms: number) => ({ label: 't', runs: 3, minMs: ms, medianMs: ms, p95Ms: ms });
    const row = (model: lab.RuntimeModel, backend: string, runtime: 'tfjs' | 'onnxruntime', device: string, ms: number): lab.RuntimeRow => ({ model, input: model === 'digits-cnn' ? 'batch of 64 digits' : '64 tokens', runtime, backend, label: backend, device, timing: timing(ms), maxAbsDiff: 0, note: null });
    const runtimes = new lab.RuntimeComparison(['digits-cnn', 'tiny-gpt'].flatMap((m) => [row(m as lab.RuntimeModel, 'wasm', 'tfjs', 'CPU', 40), row(m as lab.RuntimeModel, 'tensorflow', 'tfjs', 'GPU: NVIDIA H100 80GB HBM3', 4), row(m as lab.RuntimeModel, 'onnxruntime', 'onnxruntime', 'CPU', 10)]), 'wasm');
    await check('compareRuntimes view', runtimes.toMimeBundle());
  }, 600_000);

  it('transformer views: tokens, attention, logit lens, next token, stepper, cache, model card, temperature, head importance, pruning mask', async () => {
    const text = 'In the beginning God created the heaven and the earth. And the earth was without form, and void.';
    await check(view('tokenizationView'), lab.tokenizationView(gpt, text));
    await check(view('attentionHeadView'), lab.attentionHeadView(gpt, text, { layer: 0, head: 1 }));
    await check(view('attentionModelView'), lab.attentionModelView(gpt, text));
    await check(view('logitLensView'), lab.logitLensView(gpt, text));
    await check(view('nextTokenView'), lab.nextTokenView(gpt, 'And God said, Let there be ', { temperature: 1, topK: 12 }));
    await check(view('inductionView'), await lab.inductionView(lab.inductionTest(gpt, { period: 50, sequences: 2, seed: 0 })));
    const ids = tf.tensor2d([gpt.tokenizer.encode('And God said')], undefined, 'int32');
    const trace = gpt.trace(ids);
    await check(view('gptStepper'), lab.gptStepper(trace));
    trace.dispose();
    const [out, cache] = gpt.runWithCache(ids);
    await check(view('transformerCacheView'), lab.transformerCacheView(cache));
    cache.dispose();
    out.dispose();
    ids.dispose();
    await check(view('gptModelCard'), lab.gptModelCard(gpt));
    const student = lab.loadModel('tiny-gpt-student-distilled') as lab.GPT;
    owned.push(student);
    await check(view('nextTokenTemperatureView'), lab.nextTokenTemperatureView('And the king said unto ', { teacher: gpt, 'student (distilled)': student }, { stillTemperature: 1 }));
    const stream = Int32Array.from(gpt.tokenizer.encode(lab.readValidationText(`${lab.assetsDir()}/tiny-gpt`).slice(0, 2000)));
    await check(view('headImportanceView'), lab.headImportanceView(lab.headImportance(gpt, stream, { windows: 2, progress: false })));
    const heavy = lab.prune(gpt, { sparsity: 0.7, scope: 'global' });
    owned.push(heavy);
    await check(view('pruningMaskView'), lab.pruningMaskView(heavy.weights['blocks.1.mlp.W_in'], 'blocks.1.mlp.W_in after 70% global magnitude pruning'));
  }, 600_000);

  it('recurrent views', async () => {
    await check(view('hiddenStateView'), lab.hiddenStateView(lstm, 'schmetterling', { cell: true }));
    await check(view('gateActivationsView'), lab.gateActivationsView(lstm, 'schmetterling'));
    await check('gateActivationsView (GRU)', lab.gateActivationsView(gru, 'schmetterling'));
    await check(view('characterProbabilitiesView'), lab.characterProbabilitiesView(lstm, 'schmetterling'));
    const held = lab.readWordSet(`${lab.assetsDir()}/langid-lstm/heldout.json`);
    const words = held.words.slice(0, 60);
    const labels = held.labels.slice(0, 60);
    const results = [lstm, gru].map((m) => {
      const predicted = m.classifyWords(words).map((g) => held.languages.indexOf(g.label));
      const r = lab.accuracyReport(predicted, labels, held.languages);
      return { model: m.name, accuracy: r.accuracy, perClass: r.perClass };
    });
    await check(view('accuracyComparisonView'), lab.accuracyComparisonView(results));
    await check(view('prefixAccuracyView'), lab.prefixAccuracyView([lstm, gru].map((m) => ({ model: m.name, points: lab.prefixAccuracy(m, words, labels, 6) }))));
  }, 300_000);

  it('training views', async () => {
    const predictions = lab.linspace(-2, 4, 31);
    await check(view('lossCurvesView'), lab.lossCurvesView([
      { name: 'MSE', points: lab.lossCurve(lab.mse, 1, predictions) },
      { name: 'Huber (delta 1)', points: lab.lossCurve((y, p) => lab.huber(y, p, 1), 1, predictions) },
    ], { target: 1, title: 'regression losses against the prediction' }));
    const rows = ['confident, right (7: p=1.00)', 'unsure, right (2: p=0.55)', 'confident, wrong (4: p=0.02)'].flatMap((c, i) =>
      ['cross-entropy', 'MSE', 'MAE', 'KL(target||p)', 'hinge (±1)'].map((loss_fn, j) => ({ case: c, loss_fn, value: (i + 1) * (j + 1) * 0.3 })));
    await check(view('lossComparisonView'), lab.lossComparisonView(rows));
    for (const [surface, key, steps] of [[lab.BOWL, 'bowl', 60], [lab.ROSENBROCK, 'rosenbrock', 200], [lab.SADDLE, 'saddle', 120]] as const) {
      const paths = lab.comparePaths(surface, lab.SUGGESTED_RATES[key], steps);
      await check(view('surfacePathsView') + ` (${key})`, lab.surfacePathsView(surface, paths, { title: `${key}: ${steps} steps of each optimizer` }));
      await check(view('pathLossView') + ` (${key})`, lab.pathLossView(paths, `${key}: loss at each step`));
    }
    const history: lab.EpochRecord[] = Array.from({ length: 36 }, (_, e) => ({ epoch: e + 1, trainLoss: 2 / (e + 1), trainAccuracy: 1 - 0.5 / (e + 1), valLoss: 2 / (e + 1) + 0.01 * e, valAccuracy: 0.9 - 0.002 * e, seconds: e }));
    await check(view('trainingCurves'), lab.trainingCurves(history, { title: 'the digits CNN on only 100 training digits (one batch per epoch)', bestEpoch: 12 }));
  }, 300_000);

  it('speech views', async () => {
    const clips = lab.loadKeywordHeldOut();
    const clip = tf.tensor2d(lab.noisyWindows(clips, [4], 10), [1, 16000]);
    await check(view('waveformView'), lab.waveformView(clip, { sampleRate: 16000, title: 'clip 4' }));
    const [probs, cache] = kws.runWithCache(clip, { names: ['pre.hook_power', 'pre.hook_log_mel'] });
    await check(view('spectrogramView'), lab.spectrogramView(cache.get('pre.hook_power'), { title: 'power' }));
    await check(view('melView'), lab.melView(cache.get('pre.hook_log_mel'), { title: 'log-mel' }));
    cache.dispose();
    probs.dispose();
    await check(view('speechPreprocessingView'), lab.speechPreprocessingView(kws, clip));
    const subset = { ...clips };
    const evaluation = lab.evaluateKeywords(kws, subset);
    await check(view('snrAccuracyView'), lab.snrAccuracyView(evaluation));
    await check(view('confusionMatrixView'), lab.confusionMatrixView(evaluation.results[evaluation.results.length - 1].confusion, evaluation.labels, 'held-out speakers at 0 dB'));
    clip.dispose();
  }, 600_000);

  it('imported models: detections on a real photo; architecture diagrams', async () => {
    const cat = lab.readPng(`${lab.assetsDir()}/images/chelsea.png`);
    const [h, w] = cat.shape.slice(-3, -1) as number[];
    await check(view('detectionsView'), lab.detectionsView(cat, [{ label: 'cat', score: 0.91, box: [0.1 * w, 0.1 * h, 0.6 * w, 0.8 * h] }, { label: 'a label long enough to need room', score: 0.31, box: [0.5 * w, 0.5 * h, 0.4 * w, 0.4 * h] }], 'chelsea.png: what CenterNet sees'));
    cat.dispose();
    for (const name of lab.DIAGRAM_NAMES) await check(view('diagram') + ` (${name})`, lab.diagram(name));
  }, 300_000);

  it('translation: cross-attention over the longest held-out verse and over a short one', async () => {
    const translator = lab.loadModel('translator-es-en') as lab.Translator;
    const verses = lab.readTranslationHeldOut(`${lab.assetsDir()}/translator-es-en`).verses;
    const longest = verses.reduce((a, b) => (b.es.length + b.en.length > a.es.length + a.en.length ? b : a));
    for (const v of [longest, verses[6]]) {
      const pattern = translator.crossAttention(v.es, v.en); // [layer][head][English + </s>][Spanish + </s>]
      await check(view('crossAttentionView') + ` (${v.es.length} Spanish tokens)`, lab.crossAttentionView(pattern[1][0].slice(0, v.en.length), [...v.es, '</s>'], v.en, { gold: v.gold, title: `${v.ref}: cross-attention` }));
    }
    translator.dispose();
  }, 300_000);

  it('every exported view was built above', () => {
    expect(EXPORTED_VIEWS.length).toBeGreaterThan(40);
    expect(EXPORTED_VIEWS.filter((name) => !covered.has(name))).toEqual([]);
  });
});

describe('the shared config', () => {
  it('every chart sits on a white card with dark text, whatever the theme hands Vega', () => {
    const spec = withDefaults({ mark: 'point', config: { title: { fontSize: 20 } } });
    const config = spec.config as Record<string, any>;
    expect(config.background).toBe('#ffffff');
    expect(config.title.color).toBe('#111111');
    expect(config.title.fontSize).toBe(20); // the chart's own key wins, the rest stays
    expect(config.axis.labelColor).toBe('#111111');
  });
});
