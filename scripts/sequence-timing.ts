// Time against sequence length: the LSTM reads one character per step (L sequential cell updates),
// the GPT runs all L positions in one parallel pass. Both shipped models on the same backend, timed
// in-process with the project's latencyPercentiles. Writes docs/measured/sequence-timing.json
// (notebook 04 loads it). `nice node dist/scripts/sequence-timing.js`
import * as fs from 'fs';
import * as path from 'path';
import { backend, initBackend } from '../src/engine/backend';
import { tf } from '../src/engine/tf';
import { loadModel } from '../src/models/registry';
import type { CharRNN } from '../src/models/rnn';
import type { GPT } from '../src/models/gpt';
import { readHeldOutText } from '../src/data/corpus';
import { latencyPercentiles } from '../src/optimize/compare';
import { assetsDir, packageRoot } from '../src/io/paths';

async function main(): Promise<void> {
  await initBackend();
  const lstm = loadModel('langid-lstm') as CharRNN;
  const gpt = loadModel('tiny-gpt') as GPT;
  const text = readHeldOutText(path.join(assetsDir(), 'tiny-gpt')).replace(/\n/g, ' ');
  const letters = text.toLowerCase().replace(/[^a-z]/g, '');
  let lstmCheck = 0;
  const rows: { length: number; lstmMs: number; gptMs: number }[] = [];
  for (const length of [8, 16, 32, 64, 128, 256]) {
    // encode() truncates to the training words' maxLength (20); longer ids are built directly (a -> 2, b -> 3, ...).
    const lstmIds = tf.tensor2d([Array.from(letters.slice(0, length), (ch) => 2 + lstm.config.alphabet.indexOf(ch))], [1, length], 'int32');
    const gptIds = gpt.encode(text.slice(0, length));
    if (length === 256) { const [, cache] = lstm.runWithCache(lstmIds); lstmCheck = cache.get('lstm.hook_hidden').shape[1] as number; cache.dispose(); }
    const lstmMs = latencyPercentiles(() => lstm.forward(lstmIds).dispose(), 10, 600).p50;
    const gptMs = latencyPercentiles(() => gpt.forward(gptIds).dispose(), 10, 600).p50;
    lstmIds.dispose(); gptIds.dispose();
    rows.push({ length, lstmMs, gptMs });
    console.log(`L=${String(length).padStart(3)}  LSTM ${lstmMs.toFixed(2).padStart(7)} ms (${(1000 * lstmMs / length).toFixed(1)} us/char)  GPT ${gptMs.toFixed(2).padStart(7)} ms (${(1000 * gptMs / length).toFixed(1)} us/char)`);
  }
  if (lstmCheck !== 256) throw new Error('LSTM did not see 256 steps');
  const slope = (key: 'lstmMs' | 'gptMs') => Math.log(rows[rows.length - 1][key] / rows[2][key]) / Math.log(rows[rows.length - 1].length / rows[2].length);
  const out = {
    note: 'p50 of one forward pass of one sequence; LSTM = langid-lstm (21,926 parameters, L sequential steps), GPT = tiny-gpt (834,176 parameters, one pass of 4 blocks). Machine-dependent; exponent = d log(time) / d log(L) from L = 32 to 256.',
    backend: backend(),
    measuredAt: new Date().toISOString(),
    rows,
    exponent32to256: { lstm: slope('lstmMs'), gpt: slope('gptMs') },
    parameters: { lstm: lstm.parameterCount, gpt: gpt.parameterCount },
  };
  console.log(out.exponent32to256);
  const dir = path.join(packageRoot(), 'docs', 'measured');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'sequence-timing.json'), JSON.stringify(out, null, 2) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
