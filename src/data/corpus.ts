// The English corpus the tiny GPT learns from: the King James Bible (1611, public domain), as
// Debian's bible-kjv-text package ships it, read with that package's `bible` program (the data
// file is compressed in its own format). One verse per line, verse numbers and chapter headings
// dropped, so the model sees prose. Whole chapters are held out, so the held-out text is
// passages the model never saw, not shuffled lines from the same passage.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface Chapter {
  /** e.g. "Genesis 1". */
  title: string;
  /** The verses, one per line, each ending in "\n". */
  text: string;
}

export interface CorpusSplit {
  train: string;
  validation: string;
  test: string;
  /** Titles of the held-out chapters. */
  validationChapters: string[];
  testChapters: string[];
}

/** Every chapter of the KJV, Genesis 1 to Revelation 22, read through Debian's `bible` program. */
export function kjvChapters(bibleProgram = 'bible'): Chapter[] {
  let raw: string;
  try {
    // -l: a line width no verse reaches, so each verse is one line.
    raw = execFileSync(bibleProgram, ['-l100000', 'Gen1:1-Rev22:21'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  } catch (err) {
    throw new Error(`Cannot read the KJV corpus with \`${bibleProgram}\` (${(err as Error).message.split('\n')[0]}). Install Debian's bible-kjv and bible-kjv-text packages (apt-get install bible-kjv).`);
  }
  const chapters: Chapter[] = [];
  for (const line of raw.split('\n')) {
    const verse = /^\s+\d+ (.*\S)\s*$/.exec(line);
    if (verse) {
      if (!chapters.length) throw new Error('KJV text: a verse came before any chapter heading.');
      chapters[chapters.length - 1].text += verse[1] + '\n';
    } else if (/^\S/.test(line)) {
      chapters.push({ title: line.trim(), text: '' }); // a heading such as "Genesis 1"
    }
  }
  if (chapters.length !== 1189) throw new Error(`KJV text: expected 1,189 chapters, read ${chapters.length}; is this the full bible-kjv-text?`);
  return chapters;
}

/**
 * Deterministic split by chapter: chapter i goes to validation when i % every === 6 and to test
 * when i % every === 12 (every = 25: 4% each, spread over the whole book), the rest to training.
 */
export function splitChapters(chapters: Chapter[], every = 25): CorpusSplit {
  const pick = (r: number) => chapters.filter((_, i) => i % every === r);
  const validation = pick(6);
  const test = pick(12);
  const train = chapters.filter((_, i) => i % every !== 6 && i % every !== 12);
  const join = (list: Chapter[]) => list.map((c) => c.text).join('');
  return {
    train: join(train),
    validation: join(validation),
    test: join(test),
    validationChapters: validation.map((c) => c.title),
    testChapters: test.map((c) => c.title),
  };
}

/** The held-out test chapters shipped with a language model (assets/<model>/heldout.txt). */
export function readHeldOutText(modelDir: string): string {
  return readShippedText(modelDir, 'heldout.txt');
}

/**
 * The validation chapters shipped beside them (assets/<model>/validation.txt): what choices
 * (a pruning ranking, a distillation setting) are made on, so the test text stays unseen.
 */
export function readValidationText(modelDir: string): string {
  return readShippedText(modelDir, 'validation.txt');
}

function readShippedText(modelDir: string, name: string): string {
  const file = path.join(modelDir, name);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (written by the model's training script).`);
  }
}

/** Character counts of a text (for the unigram baseline). */
export function characterCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of text) counts[c] = (counts[c] ?? 0) + 1;
  return counts;
}

/**
 * Cross-entropy in nats per character of `text` under a unigram model with these counts (add-one
 * smoothing over `alphabet`): the score of knowing only how common each character is.
 */
export function unigramCrossEntropy(counts: Record<string, number>, alphabet: string, text: string): number {
  const symbols = [...alphabet];
  const total = symbols.reduce((n, c) => n + (counts[c] ?? 0) + 1, 0);
  let nats = 0;
  let n = 0;
  for (const c of text) {
    nats -= Math.log(((counts[c] ?? 0) + 1) / total);
    n++;
  }
  return nats / n;
}
