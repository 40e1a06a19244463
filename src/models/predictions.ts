// Post-processing shared by classifiers: probabilities -> the top-k labels, and the trace step
// that shows them (the last step of a classifier's forward pass).
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
  });
  return trace;
}
