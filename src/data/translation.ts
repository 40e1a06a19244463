// Parallel Spanish-English verses for the translation model: OSIS markup from Debian's SWORD
// modules (Reina-Valera 1909 and the World English Bible), read into word tokens, each token
// carrying the Strong's numbers of the <w> element it sits in. Two tokens in the two languages
// that share a Strong's number are a human word alignment (the translators' tagging), which is
// what the model's cross-attention is checked against.
import * as fs from 'fs';
import * as path from 'path';

/** One verse in one language: lower-cased word and punctuation tokens, and each token's Strong's numbers (empty: untagged). */
export interface TaggedVerse {
  ref: string;
  tokens: string[];
  strongs: string[][];
}

/** Ids every vocabulary starts with. */
export const PAD = 0;
export const UNK = 1;
export const BOS = 2;
export const EOS = 3;
export const SPECIAL_TOKENS = ['<pad>', '<unk>', '<s>', '</s>'];

/** Words (letters, digits, inner apostrophes) or single punctuation marks, lower-cased (sacreBLEU's 13a keeps apostrophes inside words too). */
const TOKEN = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{M}\p{N}]/gu;

/** Text -> lower-cased word and punctuation tokens. */
export function tokenizeWords(text: string): string[] {
  return text.normalize('NFC').toLowerCase().match(TOKEN) ?? [];
}

/** True for a token that is a word (has a letter or digit), false for punctuation. */
export function isWordToken(token: string): boolean {
  return /[\p{L}\p{N}]/u.test(token);
}

/**
 * One verse of OSIS markup -> tokens with their Strong's numbers. Footnotes (<note>) are dropped
 * with their text; other tags become spaces (the WEB joins "only born</q><q>Son" across tags).
 */
export function parseOsisVerse(ref: string, markup: string): TaggedVerse {
  const cleaned = markup.replace(/<note\b[^>]*>[\s\S]*?<\/note>/g, ' ').replace(/<title\b[^>]*>[\s\S]*?<\/title>/g, ' ');
  const tokens: string[] = [];
  const strongs: string[][] = [];
  const pattern = /<w\b([^>]*)>([\s\S]*?)<\/w>|<[^>]*>|([^<]+)/g;
  for (const m of cleaned.matchAll(pattern)) {
    if (m[1] !== undefined) {
      const numbers = [...(/savlm="([^"]*)"/.exec(m[1])?.[1] ?? '').matchAll(/[GH]\d+/g)].map((n) => n[0].replace(/^([GH])0+(?=\d)/, '$1'));
      for (const t of tokenizeWords(m[2].replace(/<[^>]*>/g, ' '))) {
        tokens.push(t);
        strongs.push(numbers);
      }
    } else if (m[3] !== undefined) {
      for (const t of tokenizeWords(m[3])) {
        tokens.push(t);
        strongs.push([]);
      }
    }
  }
  return { ref, tokens, strongs };
}

/** The whole output of `diatheke -b MODULE -k Gen-Rev` -> verses by reference ("Genesis 1:1"). */
export function parseDiathekeDump(text: string): Map<string, TaggedVerse> {
  const verses = new Map<string, string>();
  let current: string | null = null;
  for (const line of text.split('\n')) {
    // A verse starts with "Book C:V: ", sometimes after heading markup (a psalm's <title>, line-group tags).
    const m = /((?:[1-3] )?[A-Z][A-Za-z]*(?: [A-Za-z]+)*? \d+:\d+): /.exec(line);
    const prefix = m ? line.slice(0, m.index).replace(/<title\b[^>]*>[\s\S]*?<\/title>/g, '').replace(/<[^>]*>/g, '').trim() : null;
    if (m && prefix === '') {
      current = m[1];
      verses.set(current, line.slice(m.index + m[0].length));
    } else if (current && !/^\([A-Za-z0-9]+\)$/.test(line.trim())) {
      verses.set(current, `${verses.get(current)} ${line}`); // a verse continued on the next line
    }
  }
  return new Map([...verses].map(([ref, markup]) => [ref, parseOsisVerse(ref, markup)]));
}

/**
 * Gold word links of one verse pair: (Spanish token i, English token j) when both are words and
 * share a Strong's number. Sorted by i then j.
 */
export function strongsLinks(spanish: TaggedVerse, english: TaggedVerse): [number, number][] {
  const links: [number, number][] = [];
  spanish.tokens.forEach((s, i) => {
    if (!isWordToken(s) || spanish.strongs[i].length === 0) return;
    english.tokens.forEach((e, j) => {
      if (isWordToken(e) && english.strongs[j].some((n) => spanish.strongs[i].includes(n))) links.push([i, j]);
    });
  });
  return links;
}

/** A vocabulary: the special tokens, then words by descending training count. */
export class Vocabulary {
  readonly tokens: string[];
  private readonly index: Map<string, number>;

  constructor(tokens: string[]) {
    if (tokens.slice(0, SPECIAL_TOKENS.length).join(' ') !== SPECIAL_TOKENS.join(' ')) throw new Error(`A vocabulary starts with ${SPECIAL_TOKENS.join(' ')}; got ${tokens.slice(0, 4).join(' ')}.`);
    this.tokens = tokens;
    this.index = new Map(tokens.map((t, i) => [t, i]));
  }

  /** The `size` most frequent tokens of `sentences` (ties broken alphabetically), after the special tokens. */
  static fromSentences(sentences: string[][], size: number): Vocabulary {
    const counts = new Map<string, number>();
    for (const s of sentences) for (const t of s) counts.set(t, (counts.get(t) ?? 0) + 1);
    const words = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, size - SPECIAL_TOKENS.length).map(([w]) => w);
    return new Vocabulary([...SPECIAL_TOKENS, ...words]);
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Tokens -> ids; a token outside the vocabulary is <unk>. */
  encode(tokens: string[]): number[] {
    return tokens.map((t) => this.index.get(t) ?? UNK);
  }

  /** Ids -> tokens. */
  decode(ids: number[]): string[] {
    return ids.map((id) => this.tokens[id] ?? '<unk>');
  }

  has(token: string): boolean {
    return this.index.has(token);
  }
}

/** A held-out verse pair: tokens on both sides and the Strong's gold links (Spanish index, English index). */
export interface ParallelVerse {
  ref: string;
  es: string[];
  en: string[];
  gold: [number, number][];
}

export interface TranslationHeldOut {
  source: string;
  split: string;
  verses: ParallelVerse[];
}

/** The committed held-out verses beside a translation model (assets/translator-es-en/heldout.json). */
export function readTranslationHeldOut(modelDir: string): TranslationHeldOut {
  const file = path.join(modelDir, 'heldout.json');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing; expected the held-out verses written by scripts/make-translation-data.ts.`);
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as TranslationHeldOut;
  if (!Array.isArray(data.verses) || !data.verses.every((v) => Array.isArray(v.es) && Array.isArray(v.en) && Array.isArray(v.gold))) throw new Error(`${file}: expected {verses: [{ref, es: [tokens], en: [tokens], gold: [[i, j], ...]}]}.`);
  return data;
}
