import type { Tensor } from '../engine/tf';
import type { MimeBundle } from '../engine/mime';
import { viewOf } from '../engine/display';

/**
 * The activations saved by one `runWithCache` call, keyed by hook name. It owns its tensors:
 * call `dispose()` when done (TransformerLens's ActivationCache, with explicit memory).
 */
export class ActivationCache {
  private readonly values = new Map<string, Tensor>();

  constructor(readonly model: string) {}

  /** Store a value under a hook name (the cache takes ownership; one tensor may sit under several names). */
  set(name: string, value: Tensor): void {
    const previous = this.values.get(name);
    this.values.set(name, value);
    if (previous && previous !== value && !this.holds(previous)) previous.dispose();
  }

  /** Whether this exact tensor is one of the cached values. */
  holds(value: Tensor): boolean {
    for (const t of this.values.values()) if (t === value) return true;
    return false;
  }

  get names(): string[] {
    return [...this.values.keys()];
  }

  get size(): number {
    return this.values.size;
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /**
   * A value by full name (`conv.1.hook_relu`) or by shorthand and layer index
   * (`get('relu', 1)`), as TransformerLens's `cache['pattern', 0]`.
   */
  get(name: string, layer?: number): Tensor {
    const full = this.resolve(name, layer);
    return this.values.get(full)!;
  }

  /** The full hook name that `get(name, layer)` would return. */
  resolve(name: string, layer?: number): string {
    if (layer === undefined && this.values.has(name)) return name;
    const short = name.startsWith('hook_') ? name : `hook_${name}`;
    const matches = this.names.filter((full) => {
      const parts = full.split('.');
      if (parts[parts.length - 1] !== short && full !== name) return false;
      return layer === undefined || parts.includes(String(layer));
    });
    if (matches.length === 1) return matches[0];
    const what = layer === undefined ? `"${name}"` : `"${name}" in layer ${layer}`;
    if (matches.length === 0) {
      throw new Error(`No cached activation ${what}. Cached names: ${this.names.join(', ') || '(none)'}.`);
    }
    throw new Error(`${what} is ambiguous: ${matches.join(', ')}. Give a layer index or the full name.`);
  }

  /** Release every tensor the cache holds. */
  dispose(): void {
    for (const t of this.values.values()) t.dispose();
    this.values.clear();
  }

  /** Names and shapes, for printing. */
  toString(): string {
    const rows = this.names.map((n) => `  ${n.padEnd(28)} [${this.values.get(n)!.shape.join(', ')}]`);
    return `ActivationCache(${this.model}, ${this.size} activations)\n${rows.join('\n')}`;
  }

  /** Shown as a table when a cache is the last value of a notebook cell (a transformer's: grouped by block, with its attention). */
  async toMimeBundle(): Promise<MimeBundle> {
    return viewOf('cache', this, () => this.toString());
  }
}
