// The translator (src/models/translator.ts) and the measures of notebook 12, each against an
// independent reference: the forward pass against a NumPy re-implementation reading the same
// safetensors (test/python/translator_reference.py), BLEU against sacreBLEU and a hand count,
// AER and the OSIS parser against hand-worked examples.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  initBackend, tf, Translator, Vocabulary, SPECIAL_TOKENS, corpusBleu, bleuStats, alignmentScore, argmaxLinks, diagonalLinks, IbmModel1,
  parseOsisVerse, strongsLinks, tokenizeWords, crossAttentionHook, loadModel, readTranslationHeldOut, assetsDir, crossAttentionView, type TranslatorConfig,
} from '../src/index';
import { findPython, requirePythonModules } from './helpers/python';

const root = path.resolve(__dirname, '..');

beforeAll(async () => {
  await initBackend();
});

/** A small random translator over a made-up vocabulary (its weights are saved for the reference). */
function tinyTranslator(seed = 3): Translator {
  const config: TranslatorConfig = {
    sourceVocab: [...SPECIAL_TOKENS, 'el', 'perro', 'come', 'pan', '.'],
    targetVocab: [...SPECIAL_TOKENS, 'the', 'dog', 'eats', 'bread', '.'],
    maxLength: 10, dModel: 16, nHeads: 2, encoderLayers: 2, decoderLayers: 2, dMlp: 24, layerNormEps: 1e-5,
  };
  const model = new Translator(config, 'tiny-translator', seed);
  // Random init has zero biases and unit LayerNorm weights; perturb every weight so each one is exercised.
  for (const [name, w] of Object.entries(model.weights)) {
    const perturbed = tf.tidy(() => tf.add(w, tf.randomNormal(w.shape, 0, name.includes('embed') ? 0.5 : 0.2, 'float32', name.length)));
    w.assign(perturbed);
    perturbed.dispose();
  }
  return model;
}

describe('the forward pass', () => {
  it('matches an independent NumPy implementation (logits and every cross-attention pattern)', () => {
    const python = findPython();
    requirePythonModules(python, ['numpy']);
    const model = tinyTranslator();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'translator-'));
    try {
      model.save(dir);
      const source = [4, 5, 6, 7, 8, 3]; // el perro come pan . </s>
      const target = [2, 4, 5, 6]; // <s> the dog eats
      const r = spawnSync(python, [path.join(root, 'test', 'python', 'translator_reference.py'), dir, JSON.stringify({ source, target })], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const reference = JSON.parse(r.stdout) as { logits: number[][]; cross: number[][][][] };
      const input = model.pack([{ source, target }]); // [1, 2, 6]: the target row padded to the source length
      const [logits, cache] = model.runWithCache(input, { names: [crossAttentionHook(0), crossAttentionHook(1)] });
      const ours = (logits.arraySync() as number[][][])[0];
      let maxDiff = 0;
      reference.logits.forEach((row, t) => row.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - ours[t][k])))));
      expect(maxDiff).toBeLessThan(1e-4);
      expect(Math.max(...reference.logits.flat().map(Math.abs))).toBeGreaterThan(0.1); // not a trivially zero comparison
      for (let l = 0; l < 2; l++) {
        const pattern = (cache.get(crossAttentionHook(l)).arraySync() as number[][][][])[0]; // [head, tgt_pos, src_pos]
        reference.cross[l].forEach((head, h) => head.forEach((row, t) => row.forEach((v, s) => expect(Math.abs(v - pattern[h][t][s])).toBeLessThan(1e-5))));
      }
      tf.dispose([input, logits]);
      cache.dispose();
    } finally {
      model.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('padding: a padded batch gives the same logits as each sentence alone, and padded Spanish positions get no attention', () => {
    const model = tinyTranslator();
    const a = { source: [4, 5, 6, 3], target: [2, 4, 5] };
    const b = { source: [5, 6, 7, 8, 4, 3], target: [2, 5] };
    const both = model.pack([a, b]); // [2, 2, 6]
    const alone = model.pack([a]); // [1, 2, 4]
    const [batched, cache] = model.runWithCache(both, { names: [crossAttentionHook(1)] });
    const single = model.forward(alone);
    const x = batched.arraySync() as number[][][];
    const y = single.arraySync() as number[][][];
    for (let t = 0; t < 3; t++) for (let k = 0; k < 9; k++) expect(x[0][t][k]).toBeCloseTo(y[0][t][k], 4);
    const pattern = (cache.get(crossAttentionHook(1)).arraySync() as number[][][][])[0]; // sentence a: Spanish positions 4, 5 are padding
    for (const head of pattern) for (const row of head) {
      expect(row[4]).toBe(0);
      expect(row[5]).toBe(0);
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
    tf.dispose([both, alone, batched, single]);
    cache.dispose();
    model.dispose();
  });
});

describe('decoding', () => {
  it('beam width 1 is greedy decoding, and the batched greedy gives the same words', () => {
    const model = tinyTranslator(5);
    for (const s of ['el perro come pan .', 'pan .', 'el el perro']) {
      const greedy = model.translate(s, { topK: 3 });
      const beam1 = model.translate(s, { beamWidth: 1 });
      expect(beam1.tokens).toEqual(greedy.tokens);
      expect(beam1.logProb).toBeCloseTo(greedy.logProb, 6);
      expect(model.translateAll([s])[0]).toEqual(greedy.tokens);
      // Greedy: each step's choice is the top of that step's distribution.
      for (const step of greedy.steps) {
        expect(step.token).toBe(step.top[0].token);
        expect(step.p).toBeCloseTo(step.top[0].p, 6);
      }
    }
    expect(model.translateAll(['el perro come pan .', 'pan .', 'el el perro'], { batchSize: 2 })).toEqual(['el perro come pan .', 'pan .', 'el el perro'].map((s) => model.translate(s).tokens));
    model.dispose();
  });

  it('a wider beam never finds a less likely finished sentence than greedy (length penalty 0)', () => {
    const model = tinyTranslator(7);
    for (const s of ['el perro come pan .', 'come pan', 'perro']) {
      const greedy = model.translate(s, { lengthPenalty: 0 });
      const beam = model.translate(s, { beamWidth: 4, lengthPenalty: 0 });
      expect(beam.logProb).toBeGreaterThanOrEqual(greedy.logProb - 1e-6);
    }
    model.dispose();
  });

  it('leaks no tensors: forward, translate, translateAll, crossAttention, a view', async () => {
    const before = tf.memory().numTensors;
    const model = tinyTranslator();
    const withWeights = tf.memory().numTensors;
    const input = model.encodePair('el perro', ['the', 'dog']);
    model.forward(input).dispose();
    input.dispose();
    model.translate('el perro come', { beamWidth: 3 });
    model.translate('el perro come', { topK: 2 });
    model.translateAll(['el perro', 'come pan .']);
    const pattern = model.crossAttention('el perro', ['the', 'dog']);
    expect(pattern).toHaveLength(2);
    expect(pattern[0][0]).toHaveLength(3); // English 'the', 'dog' and </s> rows
    expect(pattern[0][0][0]).toHaveLength(3); // Spanish el, perro, </s>
    await crossAttentionView(pattern[1][0], ['el', 'perro', '</s>'], ['the', 'dog', '</s>'], { gold: [[0, 0], [1, 1]] });
    expect(tf.memory().numTensors).toBe(withWeights + 1); // the weights and the cached transposed English embedding (the unembedding)
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('bad input: one clear line each', () => {
    const model = tinyTranslator();
    expect(() => model.translate('')).toThrow(/^tiny-translator: the Spanish text is empty \(no words or punctuation found\); give a sentence/);
    expect(() => model.translate('   ')).toThrow(/the Spanish text is empty/);
    expect(() => model.translate('日本語のテキスト')).toThrow(/^tiny-translator: none of the words of "日本語のテキスト" is in its Spanish vocabulary/);
    expect(() => model.translate('el perro come pan . el perro come pan . el')).toThrow(/reads at most 9 Spanish tokens; got 11/);
    expect(() => model.translate('el perro', { beamWidth: 0 })).toThrow(/beamWidth must be a whole number >= 1, got 0/);
    const wrongShape = tf.zeros([1, 5], 'int32');
    expect(() => model.forward(wrongShape)).toThrow(/expects ids shaped \[batch, 2, pos\] .* got \[1,5\] int32/);
    const outside = tf.tensor3d([[[4, 99], [2, 4]]], [1, 2, 2], 'int32');
    expect(() => model.forward(outside)).toThrow(/id 99 at index 1 is outside the Spanish vocabulary 0\.\.8/);
    tf.dispose([wrongShape, outside]);
    model.dispose();
  });
});

describe('BLEU', () => {
  const hypotheses = [
    'the lord is my shepherd ; i shall lack nothing .',
    'in beginning god made heaven and earth .',
    'jesus wept .',
    'he said to them , go',
    'blessed are the poor in spirit , for theirs is the kingdom of heaven .',
    'and god saw the light , that it was good , and god divided the light from the darkness .',
  ].map(tokenizeWords);
  const references = [
    'yahweh is my shepherd : i shall lack nothing .',
    'in the beginning , god created the heavens and the earth .',
    'jesus wept .',
    'he said to them , “ go ! ”',
    'blessed are the poor in spirit , for theirs is the kingdom of heaven .',
    'god saw the light , and saw that it was good . god divided the light from the darkness .',
  ].map(tokenizeWords);

  it('matches sacreBLEU corpus_bleu (tokenize none) on verses, on a short output and on one without a 4-gram match', () => {
    const python = findPython();
    requirePythonModules(python, ['sacrebleu']);
    const cases = [
      { hyps: hypotheses, refs: references },
      { hyps: hypotheses.slice(0, 2), refs: references.slice(0, 2) }, // the output is shorter: brevity penalty < 1
      { hyps: [['god', 'said', 'light']], refs: [['god', 'said', ',', 'let', 'there', 'be', 'light']] }, // no 3- or 4-gram match: 'exp' smoothing
    ];
    const script = 'import sys, json, sacrebleu\nfor c in json.loads(sys.stdin.read()):\n    b = sacrebleu.corpus_bleu([" ".join(h) for h in c["hyps"]], [[" ".join(r) for r in c["refs"]]], tokenize="none", force=True)\n    print(json.dumps({"score": b.score, "precisions": b.precisions, "bp": b.bp}))';
    const r = spawnSync(python, ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const expected = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { score: number; precisions: number[]; bp: number });
    cases.forEach((c, i) => {
      const ours = corpusBleu(c.hyps, c.refs);
      expect(ours.bleu).toBeCloseTo(expected[i].score, 9);
      expect(ours.brevityPenalty).toBeCloseTo(expected[i].bp, 12);
      ours.precisions.forEach((p, n) => expect(p).toBeCloseTo(expected[i].precisions[n], 9));
    });
    expect(expected[1].bp).toBeLessThan(1);
    expect(expected[0].score).toBeGreaterThan(30);
  });

  it('by hand: clipped counts and the brevity penalty', () => {
    // "the the the" against "the cat": 'the' counts at most once (clipped), so p1 = 1/3.
    const s = bleuStats(['the', 'the', 'the'], ['the', 'cat']);
    expect(s.matches).toEqual([1, 0, 0, 0]);
    expect(s.totals).toEqual([3, 2, 1, 0]);
    // A perfect but short output: every precision 100%, BLEU = exp(1 - 4/2) x 100.
    const short = corpusBleu([['a', 'b']], [['a', 'b', 'c', 'd']]);
    expect(short.brevityPenalty).toBeCloseTo(Math.exp(1 - 4 / 2), 12);
    expect(corpusBleu([['a', 'b', 'c', 'd']], [['a', 'b', 'c', 'd']]).bleu).toBeCloseTo(100, 10);
    expect(() => corpusBleu([['a']], [])).toThrow(/1 hypotheses but 0 references/);
  });
});

describe('alignment', () => {
  it('precision, recall and AER of a hand-made example', () => {
    // Gold: 4 links; predicted: 3, of which 2 are gold. AER = 1 - 2*2/(3+4) = 3/7.
    const gold: [number, number][] = [[0, 0], [1, 1], [2, 2], [3, 2]];
    const s = alignmentScore([[0, 0], [1, 2], [2, 2]], gold);
    expect(s.precision).toBeCloseTo(2 / 3, 12);
    expect(s.recall).toBeCloseTo(1 / 2, 12);
    expect(s.aer).toBeCloseTo(3 / 7, 12);
    expect(alignmentScore(gold, gold).aer).toBe(0);
    expect(alignmentScore([[5, 5]], gold).aer).toBe(1);
  });

  it('argmax links skip punctuation and </s>; the diagonal runs corner to corner', () => {
    const spanish = ['dios', 'es', 'amor', '.'];
    const weights = [
      [0.7, 0.1, 0.1, 0.05, 0.05], // -> dios
      [0.1, 0.1, 0.2, 0.5, 0.1], // -> '.', no link
      [0.1, 0.1, 0.2, 0.1, 0.5], // -> </s>, no link
    ];
    expect(argmaxLinks(weights, spanish, [0, 1, 2])).toEqual([[0, 0]]);
    expect(diagonalLinks(['a', 'b', 'c', 'd', 'e'], ['x', 'y', 'z'], [0, 1, 2])).toEqual([[0, 0], [2, 1], [4, 2]]);
  });

  it('IBM Model 1 learns which word translates which from sentence pairs alone', () => {
    // The textbook example (Koehn, Statistical Machine Translation, 4.4): "das Haus", "das Buch", "ein Buch".
    const pairs = [
      { spanish: ['la', 'casa'], english: ['the', 'house'] },
      { spanish: ['el', 'libro'], english: ['the', 'book'] },
      { spanish: ['un', 'libro'], english: ['a', 'book'] },
      { spanish: ['la', 'casa', 'roja'], english: ['the', 'red', 'house'] },
    ];
    const ibm = IbmModel1.train(pairs, 10);
    expect(ibm.probability('book', 'libro')).toBeGreaterThan(ibm.probability('the', 'libro'));
    expect(ibm.probability('house', 'casa')).toBeGreaterThan(ibm.probability('red', 'casa'));
    expect(ibm.align(['un', 'libro'], ['a', 'book'], [0, 1])).toEqual([[0, 0], [1, 1]]);
  });

  it('OSIS markup: tokens carry their Strong\'s numbers; shared numbers are the gold links', () => {
    const es = parseOsisVerse('John 11:35', '<w savlm="strong:G2424">Y lloró</w> <w savlm="strong:G1145">Jesús</w>.<note type="x-study">a footnote</note>');
    const en = parseOsisVerse('John 11:35', '<q marker=""><w savlm="strong:G2424">Jesus</w></q><w savlm="strong:G1145">wept</w>.');
    expect(es.tokens).toEqual(['y', 'lloró', 'jesús', '.']);
    expect(es.strongs).toEqual([['G2424'], ['G2424'], ['G1145'], []]);
    expect(en.tokens).toEqual(['jesus', 'wept', '.']);
    expect(strongsLinks(es, en)).toEqual([[0, 0], [1, 0], [2, 1]]);
    expect(parseOsisVerse('x', '<w savlm="strong:G2424 G05547">Jesucristo</w>').strongs).toEqual([['G2424', 'G5547']]);
  });

  it('a vocabulary starts with the special tokens and maps unknown words to <unk>', () => {
    const v = Vocabulary.fromSentences([['a', 'b', 'a'], ['c', 'a', 'b']], 6);
    expect(v.tokens).toEqual([...SPECIAL_TOKENS, 'a', 'b']);
    expect(v.encode(['b', 'zzz'])).toEqual([5, 1]);
    expect(() => new Vocabulary(['a', 'b'])).toThrow(/starts with <pad> <unk> <s> <\/s>/);
  });
});

describe('the shipped translator', () => {
  it('loads, translates a held-out verse and its cross-attention rows sum to 1', () => {
    const model = loadModel('translator-es-en') as Translator;
    const verse = readTranslationHeldOut(path.join(assetsDir(), 'translator-es-en')).verses[0];
    const t = model.translate(verse.es);
    expect(t.tokens.length).toBeGreaterThan(0);
    const pattern = model.crossAttention(verse.es, verse.en);
    for (const layer of pattern) for (const head of layer) for (const row of head) expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    expect(model.hookNames).toContain('decoder.blocks.1.cross_attn.hook_pattern');
    model.dispose();
  });
});

describe('the CLI with the translator', () => {
  const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env } });

  it('run translates a Spanish sentence (greedy and beam); models lists its BLEU; compare refuses in one line', () => {
    const r = run('run', 'translator-es-en', '--input', 'Y dijo Dios: Sea la luz.', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.source).toEqual(['y', 'dijo', 'dios', ':', 'sea', 'la', 'luz', '.']);
    expect(out.greedy.length).toBeGreaterThan(0);
    expect(out.beam.length).toBeGreaterThan(0);
    expect(out.beamLogProb).toBeLessThan(0);

    const listed = (JSON.parse(run('models', '--json').stdout) as { name: string; input: string; heldOut: { metric: string; n: number } }[]).find((m) => m.name === 'translator-es-en')!;
    expect(listed.input).toBe('sentence');
    expect(listed.heldOut).toMatchObject({ metric: 'BLEU (greedy)', n: readTranslationHeldOut(path.join(assetsDir(), 'translator-es-en')).verses.length });

    const compare = run('compare', 'translator-es-en', '--quantize', 'int8');
    expect(compare.status).not.toBe(0);
    expect(compare.stderr.trim().split('\n')).toHaveLength(1);
    expect(compare.stderr).toMatch(/compare translator-es-en: translator-es-en is a translation model: .*compare supports the digits CNN, the language-ID RNNs, the keyword CNN and the GPTs/);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'translator-cli-'));
    const pairs = path.join(dir, 'pairs.json');
    fs.writeFileSync(pairs, JSON.stringify({ pairs: [{ es: 'Y dijo Dios: Sea la luz.', en: 'God said, Let there be light.' }, { es: 'Jesús lloró.', en: 'Jesus wept.' }] }));
    const e = run('eval', 'translator-es-en', '--data', pairs, '--json');
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ metric: 'BLEU (greedy)', n: 2, data: pairs });
    fs.writeFileSync(pairs, JSON.stringify({ words: ['luz'] }));
    const wrong = run('eval', 'translator-es-en', '--data', pairs);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/expected a \.json file \{"pairs": \[\{"es": "Spanish sentence", "en": "its English reference"\}/);
    fs.rmSync(dir, { recursive: true, force: true });

    for (const bad of ['', '日本語']) {
      const b = run('run', 'translator-es-en', '--input', bad);
      expect(b.status, bad).not.toBe(0);
      expect(b.stderr.trim().split('\n'), bad).toHaveLength(1);
      expect(b.stderr, bad).toMatch(bad === '' ? /the Spanish text is empty/ : /none of the words of "日本語" is in its Spanish vocabulary/);
    }
  }, 300_000);
});
