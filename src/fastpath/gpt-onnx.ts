// The fast path for a GPT: exported once to ONNX (export-gpt-onnx.ts) and run in ONNX Runtime
// behind the tfjs model's interface (onnx-model.ts: forward, runWithCache, trace, runWithHooks),
// plus generation that feeds the graph's present keys/values back as the next step's past.
import type { Tensor } from '../engine/tf';
import type { OrtSession, OrtValue } from '../engine/ort-session';
import { OnnxHookedModel, type CompileOptions } from './onnx-model';
import { exportGptToOnnx, pastKeyName, pastValueName, presentKeyName, presentValueName } from './export-gpt';
import { checkTokenIds, generateWith, type GenerateOptions, type Generation, type GPT, type GPTConfig, type Stepper } from '../models/gpt';
import type { Tokenizer } from '../data/tokenizers';
import type { MimeBundle } from '../engine/mime';
import { viewOf } from '../engine/display';

export type { CompileOptions } from './onnx-model';

export class OnnxGPT extends OnnxHookedModel<GPT> {
  readonly config: GPTConfig;
  readonly tokenizer: Tokenizer;
  readonly parameterCount: number;
  protected readonly outputName = 'logits';

  constructor(source: GPT, options: CompileOptions = {}) {
    // Weights (quantized: their dequantized values; pruned: their zeros) are read from the model, so
    // weight-only quantization and pruning compute the same in the graph; activation transforms are not exported.
    const transforms = source.carriedState('compile')?.transforms ?? {}; // a function transform refuses here, naming its hook
    const first = Object.entries(transforms)[0];
    if (first) {
      throw new Error(`${source.name}.compile('onnx'): cannot carry the ${first[1].kind} transform at "${first[0]}" (${Object.keys(transforms).length} transformed hook points): the GPT exporter writes no activation quantization or mask nodes. The model keeps running on tfjs; weight-only quantization and pruning compile.`);
    }
    super(source, options, exportGptToOnnx(source, { quantize: options.quantize }).bytes, () => exportGptToOnnx(source, { hooks: true, quantize: options.quantize }).bytes);
    this.config = source.config;
    this.tokenizer = source.tokenizer;
    this.parameterCount = source.parameterCount;
  }

  protected validateInput(input: Tensor): void {
    checkTokenIds(this.name, this.config, input);
  }

  /** The logits output carries hook_logits. */
  protected override onnxName(hook: string): string {
    return hook === 'hook_logits' ? 'logits' : hook;
  }

  protected feeds(session: OrtSession, input: Tensor): Record<string, OrtValue> {
    const [batch, pos] = input.shape as number[];
    return this.feedsAfter(session, input.dataSync(), batch, pos, null, 0);
  }

  /** Feeds for ids [batch, pos] after `past` cached positions (past tensors given, or empty). */
  private feedsAfter(session: OrtSession, ids: ArrayLike<number>, batch: number, pos: number, past: Record<string, OrtValue> | null, pastLength: number): Record<string, OrtValue> {
    const { nLayers } = this.config;
    const dHead = this.source.dHead;
    const total = pastLength + pos;
    const bias = new Float32Array(pos * total);
    for (let i = 0; i < pos; i++) bias.fill(-1e9, i * total + pastLength + i + 1, (i + 1) * total); // causal: query i sees keys 0..past+i
    const feeds: Record<string, OrtValue> = {
      input_ids: session.tensor('int64', ids, [batch, pos]),
      position_ids: session.tensor('int64', Array.from({ length: pos }, (_, i) => pastLength + i), [pos]),
      attention_bias: session.tensor('float32', bias, [pos, total]),
    };
    for (let i = 0; i < nLayers; i++) {
      const empty = session.tensor('float32', new Float32Array(0), [batch, this.source.headsIn(i), 0, dHead]); // no past yet
      feeds[pastKeyName(i)] = past?.[presentKeyName(i)] ?? empty;
      feeds[pastValueName(i)] = past?.[presentValueName(i)] ?? empty;
    }
    return feeds;
  }

  /** Generation on ONNX Runtime: the graph's present keys/values are fed back as the next past. */
  stepper(useCache: boolean): Stepper {
    let past: Record<string, OrtValue> | null = null;
    let pastLength = 0;
    return {
      caching: useCache,
      cachedLength: () => pastLength,
      next: (ids, fresh) => {
        const fetch = ['logits', ...(useCache ? Array.from({ length: this.config.nLayers }, (_, i) => [presentKeyName(i), presentValueName(i)]).flat() : [])];
        const out = this.plain.run(this.feedsAfter(this.plain, ids.slice(-fresh), 1, fresh, useCache ? past : null, useCache ? pastLength : 0), fetch);
        if (useCache) {
          past = out;
          pastLength += fresh;
        }
        const v = this.config.vocabSize;
        return (out.logits.data as Float32Array).slice((fresh - 1) * v, fresh * v); // the last position's row
      },
      reset: () => {
        past = null;
        pastLength = 0;
      },
      dispose: () => {
        past = null;
      },
    };
  }

  generate(prompt: string | number[], options: GenerateOptions = {}): Generation {
    return generateWith(this.stepper(options.kvCache ?? true), this.tokenizer, this.config.contextLength, prompt, options);
  }

  /** Shapes per hook for one 8-token input, as the tfjs model reports them. */
  summary(): { name: string; kind: string; outputShape: number[]; params: number }[] {
    return this.source.summary();
  }

  override toString(): string {
    return `${this.source.toString().replace(`"${this.source.name}"`, `"${this.name}"`).replace(`runs in ${this.source.backend}`, `runs in ${this.backend}`)}; ${this.byteSize.toLocaleString('en-US')} bytes as ONNX`;
  }

  async toMimeBundle(): Promise<MimeBundle> {
    return viewOf('model-summary', { rows: this.summary(), title: `${this.toString()}; shapes for one 8-token input` }, () => this.toString());
  }
}
