// A GPT-like model (tfjs or ONNX Runtime) scored as a language model through its forward pass,
// optionally with hooks attached (ablation): the held-out loss every optimization is judged by.
import { tf, type Tensor } from '../engine/tf';
import type { HookedModel, HookSpec } from '../hooks/hooked-model';
import { evaluateLanguageModel, nextTokenLoss, type LanguageModel } from '../train/language-model';

/** What scoring needs: a hooked model with a GPT's vocabulary and context. */
export type ForwardLanguageModel = HookedModel & { readonly config: { vocabSize: number; contextLength: number } };

/** The model as a LanguageModel whose loss runs its forward pass with `hooks` attached. */
export function asLanguageModel(model: ForwardLanguageModel, hooks: HookSpec[] = []): LanguageModel {
  return {
    weights: {},
    config: model.config,
    loss: (ids: Tensor) =>
      tf.tidy(() => {
        const [batch, pos] = ids.shape as number[];
        const inputs = tf.slice(ids, [0, 0], [batch, pos - 1]); // [batch, pos-1]
        const targets = tf.slice(ids, [0, 1], [batch, pos - 1]); // [batch, pos-1]
        return nextTokenLoss(hooks.length ? model.runWithHooks(inputs, hooks) : model.forward(inputs), targets, model.config.vocabSize);
      }),
  };
}

/** Held-out cross-entropy (nats per token) of any GPT-like model over `windows` windows of `stream`. */
export function heldOutLoss(model: ForwardLanguageModel, stream: Int32Array, options: { windows?: number; hooks?: HookSpec[] } = {}): number {
  return evaluateLanguageModel(asLanguageModel(model, options.hooks), stream, { windows: options.windows });
}
