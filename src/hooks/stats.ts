import { tf, type Tensor } from '../engine/tf';

/** Summary of one tensor's values, as shown beside each step of a trace. */
export interface TensorStats {
  min: number;
  max: number;
  mean: number;
  std: number;
}

/** min / max / mean / std of all values (population std), computed on the backend. */
export function tensorStats(x: Tensor): TensorStats {
  const [min, max, mean, std] = tf.tidy(() => {
    const flat = tf.cast(tf.reshape(x, [-1]), 'float32'); // [n]
    const { mean, variance } = tf.moments(flat);
    return [tf.min(flat), tf.max(flat), mean, tf.sqrt(variance)];
  }).map((t) => {
    const v = t.dataSync()[0];
    t.dispose();
    return v;
  });
  return { min, max, mean, std };
}
