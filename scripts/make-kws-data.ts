// Makes the keyword-spotting data set with Debian's espeak-ng (and sox to resample):
// ten keywords read by many voices at many speeds and pitches, split by SPEAKER so the test set
// is speaker-independent. `npm run data:kws [-- --per-word 600 --seed 11]`.
//
// A voice is an espeak-ng language (the accent: its spelling-to-sound rules, e.g. `de` reads
// "yes" as [je:s]) plus a variant (the speaker: formants, pitch range, breathiness, e.g. `f3`).
// Variants come in families of near-identical speakers (`klatt`, `klatt2`, ... `klatt6`); the
// split is by family, so no held-out speaker has a sibling in training. A few accents are also
// held out entirely, so the test measures unseen accents as well as unseen speakers.
//
// Writes (clean clips only, trimmed to the word, int16 16 kHz mono; noise is mixed at load time):
//   .cache/kws/train.{json,pcm}, .cache/kws/validation.{json,pcm}   (for scripts/train-kws.ts)
//   assets/kws-cnn/heldout.{json,pcm}                                (committed; read by the tests)
// Needs `apt-get install espeak-ng sox` (only here: nothing at test or run time needs them).
import { execFile, execFileSync } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';
import { KEYWORDS, KWS_SAMPLE_RATE, speakerFamily, writeClipSet, type ClipInfo } from '../src/data/speech';
import { seededPermutation, seededRandom } from '../src/data/random';
import { packageRoot } from '../src/models/registry';

const run = promisify(execFile);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function need(command: string, pkg: string): void {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`${command} is not installed: \`apt-get install -y ${pkg}\` (needed only to make the data set).`);
  }
}

/** Language voices from `espeak-ng --voices` (column 2), without duplicates. */
function listLanguages(): string[] {
  const lines = execFileSync('espeak-ng', ['--voices'], { encoding: 'utf8' }).split('\n').slice(1);
  return [...new Set(lines.map((l) => l.trim().split(/\s+/)[1]).filter(Boolean))];
}

/** Variant names from `espeak-ng --voices=variant` (the file column, `!v/<name>`). */
function listVariants(): string[] {
  const lines = execFileSync('espeak-ng', ['--voices=variant'], { encoding: 'utf8' }).split('\n').slice(1);
  const names = lines.map((l) => l.match(/!v\/(.+?)\s*(\(.*\))?\s*$/)?.[1]).filter((n): n is string => Boolean(n)); // `<name>` then optional `(other languages)`
  // `fast` changes the speed, not the speaker; `Mr serious` has a space, which the +variant syntax cannot name.
  return [...new Set(names)].filter((n) => n !== 'fast' && !/\s/.test(n));
}

/**
 * Keep a language only if it reads the keywords itself: languages written in another script
 * switch every Latin word to the English rules (`(en)` in the phonemes, i.e. the same accent as
 * en-us, a leak between splits), and a few spell the letters out (`_:`, many stresses).
 */
function readsKeywords(language: string): { ok: boolean; why: string } {
  let switched = 0;
  for (const word of KEYWORDS) {
    let phonemes: string;
    try {
      phonemes = execFileSync('espeak-ng', ['-q', '-x', '-v', language, word], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return { ok: false, why: 'espeak-ng cannot load this voice' };
    }
    if (phonemes.includes('_:') || (phonemes.match(/'/g) ?? []).length > 2) return { ok: false, why: `spells "${word}" letter by letter (${phonemes})` };
    if (phonemes.includes('(en)')) switched++;
  }
  if (language.startsWith('en')) return { ok: true, why: '' };
  return switched > 5 ? { ok: false, why: `switches ${switched} of 10 words to English rules` } : { ok: true, why: '' };
}

/** Accent group: `en-gb-scotland` -> `en`, `pt-br` -> `pt`; a held-out accent is held out as a group. */
const accentGroup = (language: string) => language.split('-')[0];

/**
 * Synthesise one word and resample to 16 kHz mono int16 (sox's high-quality resampler). `-D`:
 * no dither, whose random ±1-2 LSB would make every run's clips differ; espeak-ng itself is
 * deterministic, so the same plan gives byte-identical clips.
 */
async function synthesise(word: string, language: string, variant: string, speed: number, pitch: number): Promise<Int16Array> {
  const wav = await run('espeak-ng', ['--stdout', '-v', `${language}+${variant}`, '-s', String(speed), '-p', String(pitch), word], { encoding: 'buffer', maxBuffer: 1 << 24 });
  const sox = execFile('sox', ['-D', '-t', 'wav', '-', '-t', 'raw', '-r', String(KWS_SAMPLE_RATE), '-e', 'signed', '-b', '16', '-c', '1', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 });
  const chunks: Buffer[] = [];
  sox.stdout!.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => sox.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`sox exited ${code} for ${language}+${variant} "${word}"`)))));
  sox.stdin!.end(wav.stdout);
  await done;
  const raw = Buffer.concat(chunks);
  return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength - (raw.byteLength % 2)));
}

/** The word without the silence espeak-ng puts around it: above 2% of the peak, plus 10 ms each side. */
function trim(pcm: Int16Array): Int16Array | null {
  let peak = 0;
  for (const v of pcm) peak = Math.max(peak, Math.abs(v));
  if (peak < 300) return null; // (nearly) silent: this voice produced nothing usable
  const threshold = 0.02 * peak;
  let first = 0;
  while (Math.abs(pcm[first]) < threshold) first++;
  let last = pcm.length - 1;
  while (Math.abs(pcm[last]) < threshold) last--;
  const margin = KWS_SAMPLE_RATE / 100;
  return pcm.slice(Math.max(0, first - margin), Math.min(pcm.length, last + margin + 1));
}

type Planned = Omit<ClipInfo, 'offset' | 'length'>;

/** `perWord` distinct (voice, speed, pitch) draws per keyword: a language, a speaker family, a variant of it. */
function plan(perWord: number, languages: string[], variants: string[], seed: number): Planned[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const english = languages.filter((l) => l.startsWith('en'));
  const other = languages.filter((l) => !l.startsWith('en'));
  const byFamily = [...new Set(variants.map(speakerFamily))].map((f) => variants.filter((v) => speakerFamily(v) === f));
  const out: Planned[] = [];
  KEYWORDS.forEach((word, label) => {
    const seen = new Set<string>();
    while (seen.size < perWord) {
      const language = english.length && (random() < 0.4 || !other.length) ? pick(english) : pick(other); // 40% English accents
      const variant = pick(byFamily[Math.floor(random() * byFamily.length)]); // family first: eight m1..m8 must not outvote one Alicia
      const speed = 130 + Math.floor(random() * 101); // 130..230 words per minute (espeak default 175)
      const pitch = 20 + Math.floor(random() * 61); // 20..80 (default 50)
      const key = `${language}+${variant}/${speed}/${pitch}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ word, label, language, variant, speaker: speakerFamily(variant), speed, pitch });
    }
  });
  return out;
}

/** Synthesise every planned clip, two at a time; speeds a word up if it does not fit in 0.95 s. */
async function make(name: string, planned: Planned[]): Promise<{ pcm: Int16Array; info: Planned }[]> {
  const made: ({ pcm: Int16Array; info: Planned } | null)[] = new Array(planned.length).fill(null);
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < planned.length) {
      const i = next++;
      const info = { ...planned[i] };
      for (let attempt = 0; attempt < 4; attempt++) {
        const clip = trim(await synthesise(info.word, info.language, info.variant, info.speed, info.pitch));
        if (!clip) break;
        if (clip.length <= 0.95 * KWS_SAMPLE_RATE) {
          made[i] = { pcm: clip, info };
          break;
        }
        info.speed = Math.round(info.speed * 1.25);
      }
      if (!made[i]) failed++;
      if (i % 500 === 0) console.log(`${name}: ${i}/${planned.length}`);
    }
  };
  await Promise.all([worker(), worker()]);
  const ok = made.filter((m): m is { pcm: Int16Array; info: Planned } => m !== null);
  console.log(`${name}: ${ok.length} clips (${failed} voices gave no usable audio and were dropped)`);
  return ok;
}

async function main(): Promise<void> {
  need('espeak-ng', 'espeak-ng');
  need('sox', 'sox');
  const seed = arg('seed', 11);
  const perWord = arg('per-word', 600);
  const heldOutPerWord = arg('heldout-per-word', 25);
  const started = Date.now();

  const languages: string[] = [];
  for (const language of listLanguages()) {
    const verdict = readsKeywords(language);
    if (verdict.ok) languages.push(language);
    else console.log(`  skip ${language}: ${verdict.why}`);
  }
  const variants = listVariants();
  console.log(`${languages.length} languages read the keywords: ${languages.join(' ')}`);

  // Speakers: split variant families 70 / 10 / 20 (train / validation / held out).
  const families = [...new Set(variants.map(speakerFamily))].sort();
  const familyOrder = seededPermutation(families.length, seed).map((i) => families[i]);
  const nHeld = Math.round(families.length * 0.2);
  const nVal = Math.round(families.length * 0.1);
  const heldFamilies = new Set(familyOrder.slice(0, nHeld));
  const valFamilies = new Set(familyOrder.slice(nHeld, nHeld + nVal));
  const variantsIn = (set: Set<string> | null) => variants.filter((v) => (set ? set.has(speakerFamily(v)) : !heldFamilies.has(speakerFamily(v)) && !valFamilies.has(speakerFamily(v))));

  // Accents: English is always in training (with held-out speakers in the test); about a fifth
  // of the other accent groups never appear in training or validation.
  const groups = [...new Set(languages.map(accentGroup))].filter((g) => g !== 'en').sort();
  const groupOrder = seededPermutation(groups.length, seed + 1).map((i) => groups[i]);
  const heldGroups = new Set(groupOrder.slice(0, Math.round(groups.length * 0.2)));
  const seenLanguages = languages.filter((l) => !heldGroups.has(accentGroup(l)));

  const split = {
    train: { languages: seenLanguages, variants: variantsIn(null) },
    validation: { languages: seenLanguages, variants: variantsIn(valFamilies) },
    heldout: { languages, variants: variantsIn(heldFamilies) },
  };
  for (const [name, s] of Object.entries(split)) console.log(`${name}: ${s.languages.length} languages, ${s.variants.length} variants (${[...new Set(s.variants.map(speakerFamily))].length} speaker families): ${s.variants.join(' ')}`);
  console.log(`held-out accents (never trained on): ${[...heldGroups].join(' ')}`);

  const root = packageRoot();
  const madeBy = 'scripts/make-kws-data.ts (espeak-ng 1.51 + sox, Debian)';
  const trainClips = await make('train', plan(perWord, split.train.languages, split.train.variants, seed * 10 + 1));
  writeClipSet(path.join(root, '.cache', 'kws', 'train'), trainClips, madeBy);
  const valClips = await make('validation', plan(Math.round(perWord / 10), split.validation.languages, split.validation.variants, seed * 10 + 2));
  writeClipSet(path.join(root, '.cache', 'kws', 'validation'), valClips, madeBy);
  const heldClips = await make('heldout', plan(heldOutPerWord, split.heldout.languages, split.heldout.variants, seed * 10 + 3));
  writeClipSet(path.join(root, 'assets', 'kws-cnn', 'heldout'), heldClips, `${madeBy}; held-out speaker families: ${[...heldFamilies].join(', ')}; held-out accents: ${[...heldGroups].join(', ')}`);
  const seconds = (n: { pcm: Int16Array }[]) => (n.reduce((s, c) => s + c.pcm.length, 0) / KWS_SAMPLE_RATE).toFixed(0);
  console.log(`wrote ${trainClips.length} train (${seconds(trainClips)} s of speech), ${valClips.length} validation, ${heldClips.length} held-out clips (${seconds(heldClips)} s) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
