// The single place the rest of the library gets TensorFlow.js from, so the backend choice
// (native > wasm > cpu) is made once, before any model runs.
import * as tf from '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
