// Which attention heads of a trained GPT do something recognisable. Each head is scored on
// held-out passages (weight on the previous token, on position 0, on itself, on the start of the
// word, on the last space, on earlier copies of its token, on what followed them: induction),
// next to what a head spreading its weight evenly would score; then, for the clearest head of
// each pattern, a few queries with the key they read most, in context.
// `node dist/scripts/gpt-heads.js [model dir] [--passages N] [--chars N]` (default: assets/tiny-gpt, 40 passages of 120 characters).
import * as path from 'path';
import { initBackend } from '../src/engine/backend';
import { GPT } from '../src/models/gpt';
import { attentionPatterns, headScoresOver, patternTargets, HEAD_PATTERNS } from '../src/analysis/gpt-analysis';
import { readHeldOutText } from '../src/data/corpus';
import { assetsDir } from '../src/models/registry';
import { visibleToken } from '../src/viz/gpt-views';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  await initBackend();
  const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const dir = path.resolve(positional[0] ?? path.join(assetsDir(), 'tiny-gpt'));
  const model = GPT.load(dir);
  const chars = arg('chars', 120);
  const heldOut = readHeldOutText(dir).split('\n').filter((line) => line.length >= chars);
  const passages = heldOut.slice(0, arg('passages', 40)).map((line) => line.slice(0, chars));
  const scores = headScoresOver(model, passages);
  console.log(`${model.toString()}\n${passages.length} held-out passages of ${chars} characters; mean weight on each target (uniform head in the last row)\n`);
  console.log(`layer head${HEAD_PATTERNS.map((k) => k.padStart(10)).join('')}   clearest`);
  for (const s of scores) console.log(`${String(s.layer).padStart(5)} ${String(s.head).padStart(4)}${HEAD_PATTERNS.map((k) => s[k].toFixed(2).padStart(10)).join('')}   ${s.best.pattern} (+${(s.best.score - s.uniform[s.best.pattern]).toFixed(2)})`);
  console.log(`  uniform${HEAD_PATTERNS.map((k) => scores[0].uniform[k].toFixed(2).padStart(10)).join('')}`);

  // The clearest head of each pattern, with the queries of the first passage where it does it most.
  const example = attentionPatterns(model, passages[0]);
  const targets = patternTargets(example.tokens.length, example.tokens);
  const context = (i: number) => `${visibleToken(example.tokens.slice(Math.max(0, i - 8), i).join(''), 12)}[${visibleToken(example.tokens[i])}]`;
  console.log(`\nexamples from ${JSON.stringify(passages[0])}`);
  for (const pattern of HEAD_PATTERNS) {
    const lift = (k: number) => scores[k][pattern] - scores[k].uniform[pattern];
    const best = scores.map((_, k) => k).sort((a, b) => lift(b) - lift(a))[0];
    const { layer, head } = scores[best];
    if (!(lift(best) > 0.1)) continue;
    console.log(`\n${pattern}: layer ${layer} head ${head} (${scores[best][pattern].toFixed(2)}, uniform ${scores[best].uniform[pattern].toFixed(2)})`);
    const rows = example.patterns[layer][head];
    const onTarget = rows.map((r, q) => ({ q, w: targets[pattern][q].reduce((sum, k) => sum + r[k], 0) })).filter((e) => targets[pattern][e.q].length);
    for (const { q, w } of onTarget.sort((a, b) => b.w - a.w).slice(0, 5).sort((a, b) => a.q - b.q)) {
      const k = targets[pattern][q].reduce((a, b) => (rows[q][b] > rows[q][a] ? b : a));
      console.log(`  query ${String(q).padStart(3)} ${context(q).padStart(24)}  reads ${String(k).padStart(3)} ${context(k).padStart(24)}  ${w.toFixed(2)}`);
    }
  }
  model.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
