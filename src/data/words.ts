// Single words from the Debian word lists, labelled by language, for language identification.
// Lists: wamerican (English), wngerman (German), wfrench, wspanish, witalian, wdutch; installed
// with `apt-get install -y wamerican wngerman wfrench wspanish witalian wdutch` (/usr/share/dict).
// Only the training script reads them; the held-out words ship in assets/langid-lstm/heldout.json.
import * as fs from 'fs';
import * as path from 'path';
import { seededPermutation } from './random';

/** A language: its label and the word-list file in /usr/share/dict. */
export interface WordListSource {
  label: string;
  file: string;
  /** The Debian package that ships the file. */
  pkg: string;
}

export const WORD_LISTS: WordListSource[] = [
  { label: 'english', file: 'american-english', pkg: 'wamerican' },
  { label: 'german', file: 'ngerman', pkg: 'wngerman' },
  { label: 'french', file: 'french', pkg: 'wfrench' },
  { label: 'spanish', file: 'spanish', pkg: 'wspanish' },
  { label: 'italian', file: 'italian', pkg: 'witalian' },
  { label: 'dutch', file: 'dutch', pkg: 'wdutch' },
];

export const DICT_DIR = '/usr/share/dict';

/** Words of 2..maxLength letters; longer ones (German compounds) are dropped, not truncated. */
export const WORD_LIMITS = { minLength: 2, maxLength: 20 } as const;

/** A labelled word list: `labels[i]` indexes `languages`. */
export interface WordSet {
  words: string[];
  labels: number[];
  languages: string[];
}

export interface WordSplit {
  train: WordSet;
  validation: WordSet;
  heldOut: WordSet;
  /** What cleaning did, for the record (counts per language). */
  report: { language: string; raw: number; clean: number; shared: number; train: number; validation: number; heldOut: number }[];
}

/**
 * Clean one list: Unicode NFC, lowercase, keep words made only of letters (no apostrophes,
 * hyphens or digits), 2..20 letters, deduplicated (a capitalised noun and its lowercase twin
 * become one word).
 */
export function cleanWords(lines: string[]): string[] {
  const out = new Set<string>();
  for (const line of lines) {
    const w = line.trim().normalize('NFC').toLowerCase();
    if (w.length < WORD_LIMITS.minLength || w.length > WORD_LIMITS.maxLength) continue;
    if (!/^\p{L}+$/u.test(w)) continue;
    out.add(w);
  }
  return [...out];
}

function readList(source: WordListSource, dir: string): string[] {
  const file = path.join(dir, source.file);
  if (!fs.existsSync(file)) {
    throw new Error(`Word list ${file} is missing: install it with \`apt-get install -y ${source.pkg}\` (needed only to retrain; the held-out words ship with the model).`);
  }
  return fs.readFileSync(file, 'utf8').split('\n');
}

/**
 * The language-ID split, by word: each list is cleaned, words found in more than one language
 * (e.g. "hotel", "radio") are dropped (they have no single right answer), then each language is
 * shuffled with `seed` and cut into held-out, validation and training words. Sampling the same
 * number per language keeps the classes balanced and training short.
 */
export function loadWordSplit(options: { seed?: number; perLanguage?: { train: number; validation: number; heldOut: number }; dir?: string } = {}): WordSplit {
  const seed = options.seed ?? 7;
  const per = options.perLanguage ?? { train: 6000, validation: 500, heldOut: 1000 };
  const dir = options.dir ?? DICT_DIR;
  const raw = WORD_LISTS.map((s) => readList(s, dir));
  const cleaned = raw.map(cleanWords);
  const count = new Map<string, number>();
  for (const list of cleaned) for (const w of list) count.set(w, (count.get(w) ?? 0) + 1);
  const languages = WORD_LISTS.map((s) => s.label);
  const empty = (): WordSet => ({ words: [], labels: [], languages });
  const split = { train: empty(), validation: empty(), heldOut: empty() };
  const report: WordSplit['report'] = [];
  cleaned.forEach((list, lang) => {
    const unique = list.filter((w) => count.get(w) === 1).sort(); // sorted first: the shuffle is then independent of file order
    const need = per.train + per.validation + per.heldOut;
    if (unique.length < need) throw new Error(`${languages[lang]}: only ${unique.length} usable words, ${need} needed.`);
    const order = seededPermutation(unique.length, seed * 100 + lang);
    const take = (set: WordSet, from: number, n: number) => {
      for (let i = from; i < from + n; i++) {
        set.words.push(unique[order[i]]);
        set.labels.push(lang);
      }
    };
    take(split.heldOut, 0, per.heldOut);
    take(split.validation, per.heldOut, per.validation);
    take(split.train, per.heldOut + per.validation, per.train);
    report.push({ language: languages[lang], raw: raw[lang].length, clean: list.length, shared: list.length - unique.length, train: per.train, validation: per.validation, heldOut: per.heldOut });
  });
  // Interleave languages so any prefix or batch is a fair mix.
  const mix = (set: WordSet, s: number): WordSet => {
    const order = seededPermutation(set.words.length, s);
    return { words: order.map((i) => set.words[i]), labels: order.map((i) => set.labels[i]), languages };
  };
  return { train: mix(split.train, seed + 1), validation: mix(split.validation, seed + 2), heldOut: mix(split.heldOut, seed + 3), report };
}

/** Read a word set saved as JSON {languages, words, labels} (e.g. assets/langid-lstm/heldout.json). */
export function readWordSet(file: string): WordSet {
  let saved: Partial<WordSet>;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<WordSet>;
  } catch (err) {
    throw new Error(`Word set ${file} cannot be read as JSON (${(err as Error).message}).`);
  }
  if (!Array.isArray(saved.words) || !Array.isArray(saved.labels) || !Array.isArray(saved.languages) || saved.words.length !== saved.labels.length) {
    throw new Error(`${file}: expected {"languages": [...], "words": [...], "labels": [...]} with one label per word.`);
  }
  return saved as WordSet;
}

/**
 * The character alphabet of a training set: characters seen at least `minCount` times, sorted.
 * Id 0 is padding and id 1 stands for any character not in the alphabet.
 */
export function buildAlphabet(words: string[], minCount = 5): string[] {
  const counts = new Map<string, number>();
  for (const w of words) for (const ch of w) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  return [...counts].filter(([, n]) => n >= minCount).map(([ch]) => ch).sort();
}

export const PAD_ID = 0;
export const UNKNOWN_ID = 1;

/** Character ids of a word: alphabet index + 2 (0 = padding, 1 = unknown character). */
export function encodeWord(word: string, alphabet: string[]): number[] {
  const index = new Map(alphabet.map((ch, i) => [ch, i + 2]));
  return [...word.normalize('NFC').toLowerCase()].map((ch) => index.get(ch) ?? UNKNOWN_ID);
}

/**
 * A batch of words as a right-padded id matrix `[batch, time]` (time = the longest word) and the
 * length of each word; padding steps leave the recurrent state unchanged (see models/rnn.ts).
 * A word longer than `maxLength` is refused, never cut: its first 20 letters are another word,
 * and the answer for them would be a silent wrong answer for the word given.
 */
export function encodeBatch(words: string[], alphabet: string[], maxLength: number = WORD_LIMITS.maxLength): { ids: Int32Array; lengths: number[]; time: number } {
  const index = new Map(alphabet.map((ch, i) => [ch, i + 2]));
  const chars = words.map((w) => [...w.normalize('NFC').toLowerCase()]);
  const long = chars.findIndex((c) => c.length > maxLength);
  if (long >= 0) {
    throw new Error(
      `"${words[long]}" has ${chars[long].length} characters; the word models read words of at most ${maxLength} ` +
        `(they were trained on words of ${WORD_LIMITS.minLength}..${WORD_LIMITS.maxLength} letters, longer ones left out): give a shorter word.`,
    );
  }
  const time = Math.max(1, ...chars.map((c) => c.length));
  const ids = new Int32Array(words.length * time);
  chars.forEach((c, b) => c.forEach((ch, t) => (ids[b * time + t] = index.get(ch) ?? UNKNOWN_ID)));
  return { ids, lengths: chars.map((c) => c.length), time };
}
