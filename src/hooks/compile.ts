// model.compile(target): the same model on another engine (today: 'onnx', ONNX Runtime). The
// engines register here when the library loads (src/fastpath/register.ts, imported by
// src/index.ts), so a model file never imports the engine that compiles it.
import type { HookedModel } from './hooked-model';

export interface CompileOptions {
  /** Threads ONNX Runtime uses for one operator (default: every core). */
  threads?: number;
  /** 'int8': int8 weights, activations quantized on the fly (dynamic quantization). */
  quantize?: 'int8';
}

export type CompileTarget = 'onnx';

type Compiler = (model: HookedModel, options: CompileOptions) => HookedModel;
const compilers = new Map<string, Compiler>();

/** Register how models of `architecture` compile to `target`. */
export function registerCompiler(target: CompileTarget, architecture: string, compile: Compiler): void {
  compilers.set(`${target}:${architecture}`, compile);
}

/** Compile `model` (of `architecture`) for `target`, or say why it cannot be. */
export function compileModel(model: HookedModel, architecture: string, target: string, options: CompileOptions = {}): HookedModel {
  if (target !== 'onnx') throw new Error(`compile: unknown target ${JSON.stringify(target)}; expected 'onnx'.`);
  const compile = compilers.get(`${target}:${architecture}`);
  if (!compile) {
    const known = [...compilers.keys()].filter((k) => k.startsWith(`${target}:`)).map((k) => k.slice(target.length + 1));
    throw new Error(
      known.length
        ? `${model.name}.compile('${target}'): no ${target} exporter for ${architecture} models (there is one for: ${known.join(', ')}).`
        : `${model.name}.compile('${target}'): the fast path is not loaded; import the library by its entry ('inference-lab' or src/index.ts).`,
    );
  }
  return compile(model, options);
}
