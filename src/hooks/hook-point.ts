import type { Tensor } from '../engine/tf';

/**
 * A function attached to a hook point. It sees the value flowing through and may return a
 * replacement of the same shape (patching, ablation); returning nothing leaves it unchanged.
 */
export type HookFn = (value: Tensor, hook: HookPoint) => Tensor | void;

/**
 * An identity step on the forward path with a stable dotted name from the model tree,
 * e.g. `conv.0.hook_relu` (TransformerLens's HookPoint). Hooks are attached for one run only.
 */
export class HookPoint {
  private readonly fns: HookFn[] = [];

  constructor(
    /** Dotted name from the model tree, e.g. `pre.hook_normalized`. */
    readonly name: string,
    /** What produced the value: 'conv2d', 'relu', 'softmax', ... */
    readonly kind: string,
    /** Documented shape with named dimensions, e.g. `[batch, h, w, ch]`. */
    readonly shape: string,
    /** Hook points this value is computed from (what "isolated" error feeds clean). */
    readonly inputs: string[] = [],
    /** Why a replacement here cannot change the computation; null when patching works. */
    readonly readOnly: string | null = null,
  ) {}

  add(fn: HookFn): void {
    this.fns.push(fn);
  }

  remove(fn: HookFn): void {
    const i = this.fns.indexOf(fn);
    if (i >= 0) this.fns.splice(i, 1);
  }

  clear(): void {
    this.fns.length = 0;
  }

  get hasHooks(): boolean {
    return this.fns.length > 0;
  }

  /** Pass `value` through every attached hook, in the order they were added. */
  run(value: Tensor): Tensor {
    let current = value;
    for (const fn of this.fns) {
      const replaced = fn(current, this);
      if (replaced !== undefined && replaced !== current) {
        if (this.readOnly) {
          throw new Error(`Hook on "${this.name}" returned a replacement, but this hook point is read-only: ${this.readOnly}.`);
        }
        if (replaced.shape.join(',') !== current.shape.join(',')) {
          throw new Error(
            `Hook on "${this.name}" returned shape [${replaced.shape}], expected [${current.shape}] (${this.shape}).`,
          );
        }
        current = replaced;
      }
    }
    return current;
  }
}
