// Shared by the classifiers: probabilities -> the top-k labels, the trace step that shows them (the
// last step of a classifier's forward pass), and the layer table of a conv/dense network.
import { tf, type Tensor } from '../engine/tf';
import type { Trace } from '../hooks/trace';
import { tensorStats } from '../hooks/stats';

export interface Prediction {
  label: string;
  p: number;
}

/** Top-k (label, probability) per row of a [batch, classes] probability tensor. */
export function topK(probs: Tensor, labels: string[], k: number): Prediction[][] {
  const { values, indices } = tf.topk(probs, Math.min(k, labels.length));
  const v = values.arraySync() as number[][];
  const idx = indices.arraySync() as number[][];
  values.dispose();
  indices.dispose();
  return v.map((row, b) => row.map((p, j) => ({ label: labels[idx[b][j]], p })));
}

/** Append `post.top_k` after the step `probsStep` ([batch, classes] probabilities); unchanged if it does not fit. */
export function appendTopKStep(trace: Trace, probsStep: string, labels: string[], k = 3): Trace {
  const last = trace.steps.find((s) => s.name === probsStep);
  if (!last?.tensor || last.tensor.rank !== 2 || last.tensor.shape[1] !== labels.length) return trace;
  const kept = Math.min(k, labels.length);
  const top = topK(last.tensor, labels, kept);
  // The probabilities, and the step before them when it has their [batch, classes] shape (the logits), name their entries.
  const at = trace.steps.indexOf(last);
  for (const step of trace.steps.slice(Math.max(0, at - 1), at + 1)) if (step.outputShape.length === 2 && step.outputShape[1] === labels.length) step.labels = labels;
  const values = tf.tidy(() => tf.topk(last.tensor!, kept).values); // [batch, k]
  trace.steps.push({
    index: trace.steps.length,
    name: 'post.top_k',
    kind: 'topk',
    shapeDoc: '[batch, k]',
    inputShape: last.outputShape,
    outputShape: values.shape.slice(),
    stats: tensorStats(values),
    tensor: values,
    note: top[0].map((p) => `${p.label}: ${(p.p * 100).toFixed(1)}%`).join(', '),
    labels: top[0].map((p) => p.label),
  });
  return trace;
}

/** One row of a model's layer table. */
export interface LayerRow {
  name: string;
  kind: string;
  outputShape: number[];
  params: number;
}

/**
 * Layer table of a conv/dense network from one trace: each conv2d or dense step owns the weights
 * named after its layer (`conv.0.weight` for `conv.0.hook_conv`; `hook_logits` owns `dense.*`).
 */
export function layerTable(trace: Trace, weights: Record<string, Tensor>): LayerRow[] {
  const seen = new Set<string>();
  return trace.steps.map((s) => {
    const layer = s.name.split('.').slice(0, -1).join('.') || (s.name === 'hook_logits' ? 'dense' : '');
    let params = 0;
    if (['conv2d', 'dense'].includes(s.kind) && !seen.has(layer)) {
      seen.add(layer);
      params = Object.entries(weights)
        .filter(([n]) => n.startsWith(layer + '.'))
        .reduce((sum, [, w]) => sum + w.size, 0);
    }
    return { name: s.name, kind: s.kind, outputShape: s.outputShape, params };
  });
}
