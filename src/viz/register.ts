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

registerView('model-summary', ({ rows, title }: { rows: SummaryRow[]; title: string }) => modelSummary(rows, title));
registerView('cache', (cache: ActivationCache) => (isTransformerCache(cache) ? transformerCacheView(cache) : cacheTable(cache)));
registerView('trace', (trace: Trace) => (isTransformerTrace(trace) ? gptStepper(trace) : traceStepper(trace)));
registerView('gpt-model', gptModelCard);
registerView('comparison', comparisonView);
registerView('training-curves', ({ history, ...options }: { history: EpochRecord[]; title?: string; bestEpoch?: number; stoppedEarly?: boolean }) => trainingCurves(history, options));
