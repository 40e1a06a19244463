// The CLI's language-model commands, for any GPT: the tiny GPT shipped in assets/ or a Hugging
// Face GPT-2 directory of the user's own.
//   run <model|dir> (--text STR | --tokens 1,2,3) [--json]   one forward pass: logits and top-5 per position
//   generate <model|dir> --prompt STR [--max-tokens N] [--temperature T] [--top-k K] [--top-p P]
//            [--seed S] [--no-kv-cache] [--json]
// main.ts parses the arguments and routes here; bad values are usage errors naming the flag.
import { tf } from '../engine/tf';
import { backendLabel } from '../engine/backend';
import type { GPT, GenerateOptions } from '../models/gpt';
import type { FlagSpec } from './args';
import { progressBar } from '../engine/display';
import { assertFiniteOutput, firstNonFiniteHook, NonFiniteError } from '../hooks/non-finite';

/** The parsed command line, as main.ts hands it over. */
export interface GptArgs {
  flags: Map<string, string | true>;
}

/** Makes the error main.ts reports as a usage error (exit 2). */
export type UsageErrorFactory = (message: string) => Error;

/** Flags of `run` for a GPT, and of `generate` (main.ts parses them with node:util parseArgs). */
export const GPT_RUN_FLAGS: FlagSpec = { text: 'string', tokens: 'string' };
export const GENERATE_FLAGS: FlagSpec = { prompt: 'string', 'max-tokens': 'string', temperature: 'string', 'top-k': 'string', 'top-p': 'string', seed: 'string', 'no-kv-cache': 'boolean' };

export interface NextToken {
  id: number;
  text: string;
  p: number;
}

/** The `k` most likely next tokens of one logits row (softmax at temperature 1), most likely first. */
export function topNextTokens(model: GPT, row: Float32Array, k = 5): NextToken[] {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let total = 0;
  for (const v of row) total += Math.exp(v - max);
  const best: number[] = []; // ids, kept sorted by logit (k is small: insertion beats sorting the vocabulary)
  for (let id = 0; id < row.length; id++) {
    if (best.length === k && row[id] <= row[best[k - 1]]) continue;
    let at = best.length < k ? best.length : k - 1;
    while (at > 0 && row[best[at - 1]] < row[id]) at--;
    best.splice(at, 0, id);
    if (best.length > k) best.pop();
  }
  return best.map((id) => ({ id, text: model.tokenizer.decode([id]), p: Math.exp(row[id] - max) / total }));
}

/** float32 values written with 7 significant digits (what a float32 holds), so the JSON stays compact. */
const compact = (values: Float32Array): number[] => Array.from(values, (v) => Number(v.toPrecision(7)));

function tokenIds(spec: string, usage: UsageErrorFactory): number[] {
  if (!/^\s*\d+(\s*,\s*\d+)*\s*$/.test(spec)) throw usage(`--tokens expects comma-separated token ids like 1,2,3; got ${JSON.stringify(spec)}.`);
  return spec.split(',').map((s) => Number(s.trim()));
}

/** The most tokens one `generate` adds (about an hour for GPT-2 small on WASM here). */
export const MAX_GENERATE_TOKENS = 4096;
/** The largest seed: the sampler keeps 32 bits, so 2^32 would run as 0. */
export const MAX_SEED = 2 ** 32 - 1;

/** A number flag: absent -> undefined; present and not matching `valid` -> a usage error saying what it expects. */
function numberFlag(args: GptArgs, flag: string, expects: string, valid: (n: number) => boolean, integer: boolean, usage: UsageErrorFactory): number | undefined {
  const raw = args.flags.get(flag);
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || !valid(value)) throw usage(`--${flag} expects ${expects}; got ${String(raw)}.`);
  return value;
}

/** What `run` will read for a GPT: the token ids from --text or --tokens (checked before the model loads). */
export function gptRunInput(args: GptArgs, usage: UsageErrorFactory): { text: string } | { tokens: number[] } | null {
  const text = args.flags.get('text');
  const tokens = args.flags.get('tokens');
  if (text !== undefined && tokens !== undefined) throw usage('run takes --text or --tokens, not both.');
  if (typeof text === 'string') {
    if (text === '') throw usage('--text is empty; a GPT needs at least one token.');
    return { text };
  }
  if (typeof tokens === 'string') return { tokens: tokenIds(tokens, usage) };
  return null;
}

/** `run` for a GPT: one forward pass; per position its logits and the top-5 next tokens. */
export function runGpt(model: GPT, input: { text: string } | { tokens: number[] }, json: boolean): string {
  const ids = 'text' in input ? model.tokenizer.encode(input.text) : input.tokens;
  if (ids.length === 0) throw new Error(`--text ${JSON.stringify((input as { text: string }).text)} gives no tokens.`);
  const tokens = tf.tensor2d(ids, [1, ids.length], 'int32'); // [1, pos]
  try {
    const logits = model.forward(tokens); // [1, pos, vocab]; validates the ids (range, context)
    const values = logits.dataSync() as Float32Array;
    logits.dispose();
    assertFiniteOutput(model, tokens, values, 'the logits'); // no answer from NaN/Infinity: name where it starts
    const vocab = model.config.vocabSize;
    const rows = ids.map((_, i) => values.subarray(i * vocab, (i + 1) * vocab));
    const pieces = model.tokenizer.pieces(ids);
    const top = rows.map((row) => topNextTokens(model, row, 5));
    if (json) return JSON.stringify({ model: model.name, tokens: ids, pieces, logits: rows.map(compact), top });
    const lines = [`backend: ${backendLabel()}`, `${model.toString()}`, `${ids.length} tokens; after each, the 5 most likely next tokens:`];
    const width = Math.min(16, Math.max(...pieces.map((p) => JSON.stringify(p).length)));
    ids.forEach((id, i) => {
      const next = top[i].map((t) => `${JSON.stringify(t.text)} ${(t.p * 100).toFixed(1)}%`).join(', ');
      lines.push(`  ${String(i).padStart(3)}  ${String(id).padStart(6)}  ${JSON.stringify(pieces[i]).padEnd(width)}  -> ${next}`);
    });
    return lines.join('\n');
  } finally {
    tokens.dispose();
  }
}

/** The options of `generate`, checked (before the model loads). */
export function generateOptions(args: GptArgs, usage: UsageErrorFactory): { prompt: string; options: GenerateOptions } {
  const prompt = args.flags.get('prompt');
  if (typeof prompt !== 'string') throw usage('generate needs --prompt STR.');
  if (prompt === '') throw usage('--prompt is empty; a GPT needs at least one token to continue.');
  const options: GenerateOptions = {
    maxTokens: numberFlag(args, 'max-tokens', `a whole number 1..${MAX_GENERATE_TOKENS}`, (n) => n >= 1 && n <= MAX_GENERATE_TOKENS, true, usage) ?? 50,
    temperature: numberFlag(args, 'temperature', 'a number >= 0 (0 = greedy)', (n) => n >= 0, false, usage) ?? 1,
    topK: numberFlag(args, 'top-k', 'a whole number >= 1', (n) => n >= 1, true, usage),
    topP: numberFlag(args, 'top-p', 'a number in (0, 1]', (n) => n > 0 && n <= 1, false, usage),
    seed: numberFlag(args, 'seed', `a whole number 0..${MAX_SEED} (the sampler's seed is 32 bits; larger ones would alias smaller)`, (n) => n >= 0 && n <= MAX_SEED, true, usage) ?? 0,
    kvCache: !args.flags.has('no-kv-cache'),
  };
  return { prompt, options };
}

/** `generate`: continue the prompt; the text, or with --json every token with its probability. */
export function generateText(model: GPT, prompt: string, options: GenerateOptions, json: boolean): string {
  // A long run shows progress on stderr (stdout stays the answer).
  const bar = !json && (options.maxTokens ?? 50) >= 64 ? progressBar(options.maxTokens ?? 50, 'generate') : null;
  let out: ReturnType<GPT['generate']>;
  try {
    out = model.generate(prompt, bar ? { ...options, onToken: () => bar.tick(1) } : options);
  } finally {
    bar?.done();
  }
  if (out.nonFiniteSteps > 0) {
    // The tokens drawn from NaN/Infinity mean nothing: re-run the prompt to name where it starts.
    const ids = model.tokenizer.encode(prompt).slice(-model.config.contextLength);
    const input = tf.tensor2d(ids, [1, ids.length], 'int32'); // [1, pos]
    let hook: string | null;
    try {
      hook = firstNonFiniteHook(model, input);
    } finally {
      input.dispose();
    }
    throw new NonFiniteError(
      `${model.name}: the logits were not finite at ${out.nonFiniteSteps} of ${out.tokens.length} generation steps; ` +
        (hook ? `on the prompt, NaN/Infinity first appears at hook point ${hook}` : 'the prompt alone gives finite logits') +
        '. The weights or the input overflow float32; no text is given.',
      hook,
    );
  }
  const settings = { max_tokens: options.maxTokens, temperature: options.temperature, top_k: options.topK ?? null, top_p: options.topP ?? null, seed: options.seed, kv_cache: options.kvCache };
  if (json) {
    return JSON.stringify({ model: model.name, prompt: out.prompt, text: out.text, continuation: out.continuation, tokens: out.tokens, settings, seconds: out.seconds, tokens_per_second: out.tokensPerSecond });
  }
  const how = `${out.tokens.length} tokens in ${out.seconds.toFixed(2)} s (${out.tokensPerSecond.toFixed(1)} tokens/s, KV cache ${options.kvCache ? 'on' : 'off'}, backend ${backendLabel()}); temperature ${options.temperature}, seed ${options.seed}`;
  return `${out.text}\n\n(${how})`;
}
