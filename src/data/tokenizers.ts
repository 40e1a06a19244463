// Text -> token ids -> text. Two tokenizers, both offline:
//   - characters: one id per character of a fixed alphabet (the tiny GPT; every id is a letter
//     you can read, and a 70-symbol vocabulary keeps a small model's embedding and head small);
//   - GPT-2's byte-level BPE (50,257 tokens), from the `gpt-tokenizer` package's r50k_base ranks.
// Tokenization is the first preprocessing step of a language model, so its output is shown
// piece by piece (`pieces`) in the tokenization strip.

/** How a model's config names its tokenizer (stored in config.json). */
export type TokenizerSpec = { kind: 'char'; alphabet: string } | { kind: 'gpt2' };

export interface Tokenizer {
  readonly spec: TokenizerSpec;
  /** Number of distinct ids (rows of the embedding). */
  readonly vocabSize: number;
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** The text of each token on its own (what the tokenization strip shows). */
  pieces(ids: number[]): string[];
}

/** One id per character; the alphabet is the sorted set of characters of the training text. */
export class CharTokenizer implements Tokenizer {
  readonly spec: TokenizerSpec;
  private readonly index = new Map<string, number>();
  private readonly chars: string[];

  constructor(readonly alphabet: string) {
    this.chars = [...alphabet];
    this.chars.forEach((c, i) => {
      if (this.index.has(c)) throw new Error(`Character tokenizer: ${JSON.stringify(c)} appears twice in the alphabet.`);
      this.index.set(c, i);
    });
    this.spec = { kind: 'char', alphabet };
  }

  /** The alphabet of a text: its distinct characters, sorted by code point. */
  static fromText(text: string): CharTokenizer {
    return new CharTokenizer([...new Set(text)].sort().join(''));
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const c of text) {
      const id = this.index.get(c);
      if (id === undefined) {
        throw new Error(`Character ${JSON.stringify(c)} is not in this model's alphabet (${this.chars.length} characters: ${JSON.stringify(this.alphabet)}).`);
      }
      ids.push(id);
    }
    return ids;
  }

  decode(ids: number[]): string {
    return this.pieces(ids).join('');
  }

  pieces(ids: number[]): string[] {
    return ids.map((id) => {
      const c = this.chars[id];
      if (c === undefined) throw new Error(`Token id ${id} is outside this alphabet (0..${this.chars.length - 1}).`);
      return c;
    });
  }
}

const END_OF_TEXT = '<|endoftext|>';
const END_OF_TEXT_ID = 50256;

interface BpeEncoding {
  encode(text: string, options?: { allowedSpecial?: 'all' }): number[];
  decode(ids: Iterable<number>): string;
}

let gpt2Encoding: BpeEncoding | null = null;

/** GPT-2's BPE: loaded on first use (the rank table takes a moment to build). */
export class Gpt2Tokenizer implements Tokenizer {
  readonly spec: TokenizerSpec = { kind: 'gpt2' };
  readonly vocabSize = 50257;

  private get bpe(): BpeEncoding {
    // r50k_base is the GPT-2 encoding (ranks 0..50255 plus <|endoftext|> = 50256).
    gpt2Encoding ??= require('gpt-tokenizer/cjs/encoding/r50k_base') as BpeEncoding;
    return gpt2Encoding;
  }

  /** `<|endoftext|>` in the text becomes id 50256, as Hugging Face's GPT-2 tokenizer does. */
  encode(text: string): number[] {
    const ids: number[] = [];
    text.split(END_OF_TEXT).forEach((part, i) => {
      if (i > 0) ids.push(END_OF_TEXT_ID);
      if (part) ids.push(...this.bpe.encode(part, { allowedSpecial: 'all' }));
    });
    return ids;
  }

  decode(ids: number[]): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new Error(`Token id ${id} is outside GPT-2's vocabulary (0..${this.vocabSize - 1}).`);
    }
    // gpt-tokenizer's r50k table has no special tokens: write <|endoftext|> back ourselves, and
    // decode each run between them whole (a character can span several byte-level tokens).
    const runs: number[][] = [[]];
    for (const id of ids) {
      if (id === END_OF_TEXT_ID) runs.push([]);
      else runs[runs.length - 1].push(id);
    }
    return runs.map((run) => (run.length ? this.bpe.decode(run) : '')).join(END_OF_TEXT);
  }

  /** Each token decoded alone; a piece that is part of a multi-byte character shows as U+FFFD. */
  pieces(ids: number[]): string[] {
    return ids.map((id) => this.decode([id]));
  }
}

/** The tokenizer a config names. */
export function tokenizerFor(spec: TokenizerSpec): Tokenizer {
  if (spec.kind === 'char') return new CharTokenizer(spec.alphabet);
  if (spec.kind === 'gpt2') return new Gpt2Tokenizer();
  throw new Error(`Unknown tokenizer ${JSON.stringify(spec)}: expected {"kind": "char", "alphabet": "..."} or {"kind": "gpt2"}.`);
}
