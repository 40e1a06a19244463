// Builds the Spanish -> English parallel data of notebook 12 from Debian's SWORD modules
// (Reina-Valera 1909 and the World English Bible 2015, both public domain), read with diatheke.
// Keeps verses of 3..MAX_WORDS words on both sides, tokenises them into lower-cased words and
// punctuation, and splits them by a fixed rule on the verse's position among the kept verses
// (index % 20: 0 -> held-out, 10 -> validation, else train). Writes:
//   assets/translator-es-en/heldout.json   the held-out verses, their tokens and the Strong's
//                                          gold word links (committed; a few hundred KB)
//   .cache/translation/train.json          the training and validation verses (not committed;
//                                          scripts/train-translator.ts reads them)
// `node dist/scripts/make-translation-data.js`. Needs: apt-get install -y diatheke sword-text-sparv sword-text-web
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { isWordToken, parseDiathekeDump, strongsLinks, type ParallelVerse } from '../src/data/translation';
import { assetsDir, packageRoot } from '../src/io/paths';

/** Longest verse kept, in words (punctuation not counted), on each side. */
export const MAX_WORDS = 20;
const SPANISH = 'spaRV1909eb';
const ENGLISH = 'engWEB2015eb';

function dump(module: string): string {
  try {
    return execFileSync('diatheke', ['-b', module, '-k', 'Gen-Rev'], { maxBuffer: 256 * 2 ** 20 }).toString('utf8');
  } catch (err) {
    throw new Error(`diatheke -b ${module} failed (${(err as Error).message.split('\n')[0]}); install it with: apt-get install -y diatheke sword-text-sparv sword-text-web`);
  }
}

function main(): void {
  const spanish = parseDiathekeDump(dump(SPANISH));
  const english = parseDiathekeDump(dump(ENGLISH));
  const words = (tokens: string[]) => tokens.filter(isWordToken).length;
  const kept: ParallelVerse[] = [];
  let both = 0;
  for (const [ref, es] of spanish) {
    const en = english.get(ref);
    if (!en) continue;
    both++;
    const [nEs, nEn] = [words(es.tokens), words(en.tokens)];
    if (nEs < 3 || nEn < 3 || nEs > MAX_WORDS || nEn > MAX_WORDS) continue;
    kept.push({ ref, es: es.tokens, en: en.tokens, gold: strongsLinks(es, en) });
  }
  const heldOut = kept.filter((_, i) => i % 20 === 0);
  const validation = kept.filter((_, i) => i % 20 === 10);
  const train = kept.filter((_, i) => i % 20 !== 0 && i % 20 !== 10);
  const split = `verses with 3..${MAX_WORDS} words on both sides, in canonical order; every 20th (index % 20 = 0) held out, index % 20 = 10 validation, the rest train`;
  const source = `${SPANISH} (Reina-Valera 1909) and ${ENGLISH} (World English Bible 2015), Debian sword-text-sparv / sword-text-web via diatheke, public domain; made by scripts/make-translation-data.ts`;

  const dir = path.join(assetsDir(), 'translator-es-en');
  fs.mkdirSync(dir, { recursive: true });
  const lines = heldOut.map((v) => JSON.stringify(v)).join(',\n');
  fs.writeFileSync(path.join(dir, 'heldout.json'), `{"source": ${JSON.stringify(source)},\n"split": ${JSON.stringify(split)},\n"verses": [\n${lines}\n]}\n`);
  const cache = path.join(packageRoot(), '.cache', 'translation');
  fs.mkdirSync(cache, { recursive: true });
  fs.writeFileSync(path.join(cache, 'train.json'), JSON.stringify({ source, split, train, validation }));
  const withGold = heldOut.filter((v) => v.gold.length > 0).length;
  console.log(`${spanish.size} Spanish and ${english.size} English verses, ${both} in both; kept ${kept.length} (3..${MAX_WORDS} words each side): train ${train.length}, validation ${validation.length}, held-out ${heldOut.length} (${withGold} with Strong's links, ${heldOut.reduce((n, v) => n + v.gold.length, 0)} links)`);
}

main();
