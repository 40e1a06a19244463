// Training cost against inference for the shipped tiny GPT (from its own config.json: shape,
// tokens seen, seconds), and the memory-bound decoding limit of LLaMA-2-7B on published
// accelerators at fp16 / int8 / int4 and batch 1-64. Writes docs/measured/compute-budget.json;
// notebooks 05 and 06 load it. `node dist/scripts/compute-budget.js`
import * as fs from 'fs';
import * as path from 'path';
import { ACCELERATORS, decodingBound, trainingCost } from '../src/analysis/compute-budget';
import { PUBLISHED_SHAPES, scaleReport } from '../src/analysis/scale';
import { assetsDir, packageRoot } from '../src/io/paths';

const card = JSON.parse(fs.readFileSync(path.join(assetsDir(), 'tiny-gpt', 'config.json'), 'utf8'));
const c = card.config;
const t = card.training;
const seconds = t.history[t.history.length - 1].seconds;
const shape = { layers: c.nLayers, dModel: c.dModel, dMlp: c.dMlp, vocab: c.vocabSize, context: c.contextLength };
const tiny = { shape, steps: t.steps, batchSize: t.batchSize, backend: t.backend, seconds, ...trainingCost(shape, t.tokensSeen, seconds) };

const llama = PUBLISHED_SHAPES.find((s) => s.name === 'llama-2-7b')!;
const r = scaleReport(llama, 1024);
const precisions = { fp16: r.bytes.fp16, int8: r.bytes.int8, int4: r.bytes.int4 };
const decoding = ACCELERATORS.map((a) => ({
  ...a,
  ridgeFlopsPerByte: a.peakFlops / a.bandwidth,
  llama2_7b: Object.fromEntries(Object.entries(precisions).map(([p, bytes]) => [p, Object.fromEntries([1, 8, 64].map((batch) => {
    const b = decodingBound({ bandwidth: a.bandwidth, peakFlops: a.peakFlops, weightBytes: bytes, flopsPerToken: r.flopsPerToken, batch, kvBytesPerSequence: 1024 * r.kvCacheBytesPerToken });
    return [`batch${batch}`, { tokensPerSecond: Math.round(b.tokensPerSecond), limitedBy: b.limitedBy }];
  }))])),
}));

const out = {
  note: 'tinyGpt: FLOPs from the shape and tokens in assets/tiny-gpt/config.json; decoding: upper bounds from published bandwidth and peak FLOP/s (sources per row), LLaMA-2-7B at a 1,024-token context with its fp16 KV cache read per sequence.',
  tinyGpt: tiny,
  llama2_7b: { parameters: r.parameters, weightBytes: precisions, flopsPerTokenAt1024: r.flopsPerToken, kvBytesPerToken: r.kvCacheBytesPerToken },
  accelerators: decoding,
};
const dir = path.join(packageRoot(), 'docs', 'measured');
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'compute-budget.json'), JSON.stringify(out, null, 2) + '\n');
console.log(JSON.stringify(tiny, null, 1));
for (const a of decoding) console.log(a.name.padEnd(24), Object.entries(a.llama2_7b).map(([p, v]) => `${p} ${Object.values(v).map((x) => `${x.tokensPerSecond}${x.limitedBy === 'compute' ? 'c' : ''}`).join('/')}`).join('  '));
