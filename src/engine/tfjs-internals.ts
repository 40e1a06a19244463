// The one place the library reaches into TensorFlow.js internals (not part of its public API).
// @tensorflow/tfjs* are pinned exactly in package.json; test/contracts.test.ts checks each entry
// point below by name, so an upgrade that moves one fails that test, not a model at run time.
import { tf } from './tf';

/** The tfjs version these internals were checked against (package.json pins it). */
export const TFJS_PINNED = '4.22.0';

/** The engine state field read below (tfjs-core's EngineState, not exported in its types). */
interface EngineStateInternals {
  /** > 0 while tf.grad / optimizer.minimize records a gradient tape. */
  gradientDepth: number;
}

/** tfjs-core's EngineState.gradientDepth: how many gradient tapes are recording now. */
export function gradientDepth(): number {
  const depth = (tf.engine().state as unknown as EngineStateInternals).gradientDepth;
  if (typeof depth !== 'number') throw new Error(`@tensorflow/tfjs-core ${tf.version_core} has no engine().state.gradientDepth (checked against ${TFJS_PINNED}).`);
  return depth;
}
