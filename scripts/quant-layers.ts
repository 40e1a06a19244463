// Why some layers of the digits CNN suffer more from int4 weights (notebook 07's question): per
// layer, quantized alone (int4, per tensor, weights only): the weight's own SQNR, the error it
// causes at the logits, the accuracy it costs, and the two reasons: how often each weight is
// reused per image, and its range against its RMS (outliers). Writes docs/measured/quant-layers.json.
// `nice node dist/scripts/quant-layers.js`
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../src/engine/backend';
import { tf } from '../src/engine/tf';
import { loadModel } from '../src/models/registry';
import type { DigitsCNN } from '../src/models/cnn';
import { loadMnist } from '../src/data/mnist';
import { evaluateDigits } from '../src/models/evaluate';
import { quantize } from '../src/optimize/quantize-model';
import { errorMetrics } from '../src/optimize/analyze';
import { digitsTensor } from '../src/optimize/compare';
import { packageRoot } from '../src/io/paths';

async function main(): Promise<void> {
  await initBackend();
  const model = loadModel('digits-cnn') as DigitsCNN;
  const { heldOut } = loadMnist();
  const base = evaluateDigits(model, heldOut).value;
  const input = digitsTensor(heldOut, 0, 500);
  const logits = model.runWithCache(input, { names: ['hook_logits'] })[1].get('hook_logits');
  const reuse: Record<string, number> = { 'conv.0.weight': 26 * 26, 'conv.1.weight': 11 * 11, 'dense.weight': 1 };
  const rows = [];
  for (const weight of ['conv.0.weight', 'conv.1.weight', 'dense.weight']) {
    const q = quantize(model, { bits: 4, perChannel: false, symmetric: true, activations: 'none', weights: [weight] });
    const w = model.weights[weight];
    const wq = q.weights[weight];
    const v = Array.from(w.dataSync() as Float32Array);
    const rms = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    const maxAbs = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const qLogits = q.runWithCache(input, { names: ['hook_logits'] })[1].get('hook_logits');
    const acc = evaluateDigits(q, heldOut).value;
    rows.push({
      weight,
      parameters: w.size,
      usesPerImage: reuse[weight],
      maxAbsOverRms: maxAbs / rms,
      weightSqnrDb: errorMetrics(w, wq).sqnrDb,
      logitsSqnrDb: errorMetrics(logits, qLogits).sqnrDb,
      accuracy: acc,
      accuracyDropPoints: 100 * (base - acc),
    });
    q.dispose();
  }
  tf.dispose([input]);
  for (const r of rows) console.log(`${r.weight.padEnd(14)} params ${String(r.parameters).padStart(5)}  uses/image ${String(r.usesPerImage).padStart(4)}  max/rms ${r.maxAbsOverRms.toFixed(2)}  weight SQNR ${r.weightSqnrDb.toFixed(1)} dB  logits SQNR ${r.logitsSqnrDb.toFixed(1)} dB  accuracy ${(100 * r.accuracy).toFixed(2)}% (drop ${r.accuracyDropPoints.toFixed(2)})`);
  const out = { note: 'digits CNN, each weight alone at int4 per tensor (weights only); accuracy on all 2,000 held-out digits, logits SQNR on the first 500.', baseAccuracy: base, rows };
  const dir = path.join(packageRoot(), 'docs', 'measured');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'quant-layers.json'), JSON.stringify(out, null, 2) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
