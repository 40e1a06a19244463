// What viz draws for the library's own objects: lower layers ask for a view by kind
// (engine/display.ts `viewOf`), and this file, loaded by src/index.ts, says which chart answers.
import { registerView } from '../engine/display';
import type { ActivationCache } from '../hooks/activation-cache';
import type { Trace } from '../hooks/trace';
import type { EpochRecord } from '../train/loop';
import { cacheTable, modelSummary, traceStepper, type SummaryRow } from './views';
import { gptModelCard, gptStepper, isTransformerCache, isTransformerTrace, transformerCacheView } from './gpt-views';
import { comparisonView } from './compare-views';
import { trainingCurves } from './training-views';
import { barChart } from './views';
import type { RuntimeComparison } from '../fastpath/runtimes';

registerView('model-summary', ({ rows, title }: { rows: SummaryRow[]; title: string }) => modelSummary(rows, title));
registerView('cache', (cache: ActivationCache) => (isTransformerCache(cache) ? transformerCacheView(cache) : cacheTable(cache)));
registerView('trace', (trace: Trace) => (isTransformerTrace(trace) ? gptStepper(trace) : traceStepper(trace)));
registerView('gpt-model', gptModelCard);
registerView('comparison', comparisonView);
registerView('training-curves', ({ history, ...options }: { history: EpochRecord[]; title?: string; bestEpoch?: number; stoppedEarly?: boolean }) => trainingCurves(history, options));
// The GPU's name is in the table (the text), not the bar label, which must stay whole.
// Speed relative to tfjs on WASM shares one axis across models whose times differ 10x; the table keeps the milliseconds.
registerView('runtimes', async (c: RuntimeComparison) => {
  const rows = c.rows.flatMap((r) => {
    const wasm = c.rows.find((w) => w.model === r.model && w.backend === 'wasm')?.timing;
    if (!r.timing || !wasm) return [];
    const runtime = r.runtime === 'onnxruntime' ? 'ONNX Runtime' : r.backend === 'tensorflow' ? `tfjs native (${r.device.startsWith('GPU') ? 'GPU' : 'CPU'})` : `tfjs ${r.backend}`;
    return [{ label: `${r.model}: ${runtime}`, value: wasm.medianMs / r.timing.medianMs }];
  });
  const chart = await barChart(rows, { title: `Same forward pass (${[...new Set(c.rows.filter((r) => r.timing).map((r) => `${r.model}: ${r.input}`))].join('; ')}), speed vs tfjs on WASM`, xTitle: 'times as fast as tfjs on WASM', format: '.2f' });
  return { ...chart, 'text/plain': c.toString() };
});
