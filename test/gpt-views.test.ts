import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import {
  tf, initBackend, GPT, GPT_PRESETS, Gpt2Tokenizer, samplingDistribution, type GPTConfig, type MimeBundle,
  tokenizationView, attentionHeadView, attentionModelView, logitLensView, nextTokenView, gptStepper, visibleToken,
  attentionPatterns, logitLens, headPatternScores, headScoresOver,
} from '../src/index';
import { stepAtPosition } from '../src/viz/gpt-views';
import { checkBundle } from './helpers/bundle';

const ALPHABET = ' abcdefghijklmnopqrstuvwxyz.\n';
const TEXT = 'in the beginning god made the sea.\nand';
let model: GPT;

beforeAll(async () => {
  await initBackend();
  const config: GPTConfig = { ...GPT_PRESETS.tiny, vocabSize: ALPHABET.length, contextLength: 128, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 32, tokenizer: { kind: 'char', alphabet: ALPHABET } };
  model = new GPT(config, 'views-gpt', 3);
  // Large random weights, so attention is far from uniform and every term of the lens matters.
  let seed = 40;
  for (const w of Object.values(model.weights)) w.assign(tf.tidy(() => tf.randomNormal(w.shape, 0, 0.6, 'float32', ++seed)));
  model.forward(model.encode('a')).dispose(); // builds the cached W_E transpose before any tensor count
});

afterAll(() => model.dispose());

type Spec = Record<string, unknown>;

const checkSpec = (b: MimeBundle) => checkBundle(b).spec as Spec;

/** Compile the interactive spec with vega-lite (no warnings allowed), parse and run it with vega, with signals set. */
async function runSpec(spec: Spec, signals: Record<string, unknown> = {}): Promise<{ view: vega.View; names: string[] }> {
  const warnings: string[] = [];
  const logger = {
    level(): never { return logger as never; },
    warn(...args: unknown[]) { warnings.push(args.join(' ')); return logger; },
    info() { return logger; },
    debug() { return logger; },
    error(...args: unknown[]): never { throw new Error(args.join(' ')); },
  };
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec, { logger: logger as never }).spec;
  expect(warnings).toEqual([]);
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  for (const [name, value] of Object.entries(signals)) view.signal(name, value);
  await view.runAsync();
  return { view, names: (compiled.data ?? []).map((d) => d.name) };
}

/** Rows of whichever dataset of a running view has all `fields`. */
function rowsWith(run: { view: vega.View; names: string[] }, fields: string[]): Record<string, unknown>[] {
  for (const name of run.names) {
    const rows = run.view.data(name) as Record<string, unknown>[];
    if (rows.length && fields.every((f) => f in rows[0])) return rows;
  }
  throw new Error(`no dataset with fields ${fields.join(', ')}`);
}

const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
};

describe('tokenization strip', () => {
  it('draws one box per token with its id, whitespace visible, a new line after a newline', async () => {
    const b = await tokenizationView(model, TEXT);
    const spec = checkSpec(b);
    const boxes = (spec.data as { values: { label: string; id: number; x0: number; x1: number; y0: number }[] }).values;
    expect(boxes.map((x) => x.id)).toEqual(model.tokenizer.encode(TEXT));
    expect(boxes.every((x) => !/[ \n]/.test(x.label))).toBe(true);
    expect(boxes[2].label).toBe('␣');
    const newline = boxes.findIndex((x) => x.label === '↵');
    expect(newline).toBeGreaterThan(0);
    expect(boxes[newline + 1].x0).toBe(0);
    expect(boxes[newline + 1].y0).toBeGreaterThan(boxes[newline].y0);
    expect(Math.max(...boxes.map((x) => x.x1))).toBeLessThanOrEqual(spec.width as number);
    expect(b['image/svg+xml']).toContain('↵');
  });

  it("shows GPT-2's BPE pieces and ids", async () => {
    const b = await tokenizationView(new Gpt2Tokenizer(), 'Hello world');
    const boxes = (checkSpec(b).data as { values: { label: string; id: number }[] }).values;
    expect(boxes.map((x) => [x.label, x.id])).toEqual([['Hello', 15496], ['␣world', 995]]); // GPT-2's published ids
  });

  it('visibleToken marks whitespace and control characters and shortens long tokens', () => {
    expect(visibleToken(' the')).toBe('␣the');
    expect(visibleToken('\n\t')).toBe('↵→');
    expect(visibleToken('\u0001')).toBe('\\x01');
    expect(visibleToken('')).toBe('∅');
    expect(visibleToken('abcdefghij', 5)).toBe('abcd…');
  });
});

describe('attention views', () => {
  it('the head view draws the chosen head: its lines are the cached weights, sliders pick layer and head', async () => {
    const before = tf.memory().numTensors;
    const b = await attentionHeadView(model, TEXT, { layer: 1, head: 1 });
    const spec = checkSpec(b);
    expect(tf.memory().numTensors).toBe(before);
    const params = spec.params as { name: string; value: number; bind?: { max: number } }[];
    expect(params.map((p) => [p.name, p.value, p.bind?.max])).toEqual([['layer', 1, 1], ['head', 1, 1]]);
    const run = await runSpec(spec, { layer: 0, head: 1 });
    const shown = rowsWith(run, ['q', 'k', 'w', 'yq']) as { layer: number; head: number; q: number; k: number; w: number }[];
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((r) => r.layer === 0 && r.head === 1)).toBe(true); // the filter follows the sliders
    // Against the model's own cache: the weight of every line drawn.
    const ids = model.encode(TEXT);
    const [out, cache] = model.runWithCache(ids, { names: ['blocks.0.attn.hook_pattern'] });
    const pattern = cache.get('pattern', 0).arraySync() as number[][][][];
    for (const r of shown) expect(r.w).toBeCloseTo(pattern[0][1][r.q][r.k], 3);
    tf.dispose([ids, out]);
    cache.dispose();
    await expect(attentionHeadView(model, TEXT, { layer: 2 })).rejects.toThrow(/layer 2 does not exist: the model has layers 0..1/);
    await expect(attentionHeadView(model, TEXT, { head: -1 })).rejects.toThrow(/head -1 does not exist/);
  });

  it('a long input shows its first 96 positions (causal, so they are self-contained)', async () => {
    const long = 'and the sea '.repeat(9); // 108 characters
    const spec = (await attentionHeadView(model, long))['application/vnd.vegalite.v5+json'] as Spec;
    const keyLabels = ((spec.layer as Spec[])[3].data as { values: unknown[] }).values;
    expect(keyLabels.length).toBe(96);
    expect(JSON.stringify(spec.title)).toContain('the first 96 of 108 positions');
  });

  it('the model view draws every layer x head as one image each', async () => {
    const started = performance.now();
    const b = await attentionModelView(model, TEXT);
    console.log(`model view of 2x2 heads, ${TEXT.length} tokens: ${(performance.now() - started).toFixed(0)} ms`);
    const spec = checkSpec(b);
    await runSpec(spec);
    const images = ((spec.layer as Spec[])[0].data as { values: { layer: number; head: number; url: string }[] }).values;
    expect(images.map((c) => `${c.layer}.${c.head}`)).toEqual(['0.0', '0.1', '1.0', '1.1']);
    expect(images.every((c) => c.url.startsWith('data:image/png;base64,'))).toBe(true);
  });

  it('attentionPatterns rows are causal distributions', () => {
    const { tokens, patterns } = attentionPatterns(model, TEXT);
    expect(tokens.join('')).toBe(TEXT);
    for (const rows of patterns.flat()) {
      rows.forEach((r, q) => {
        expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(r.slice(q + 1).every((w) => w === 0)).toBe(true);
      });
    }
  });
});

describe('head pattern scores', () => {
  const n = 6;
  const tokens = ['a', 'b', 'c', ' ', 'd', 'e']; // words "abc" and "de"
  const oneHot = (target: (q: number) => number) => Array.from({ length: n }, (_, q) => Array.from({ length: n }, (_, k) => (k === target(q) ? 1 : 0)));
  const uniform = Array.from({ length: n }, (_, q) => Array.from({ length: n }, (_, k) => (k <= q ? 1 / (q + 1) : 0)));
  const wordStart = oneHot((q) => (q <= 2 ? 0 : q === 3 ? 3 : 4)); // each query looks at the first letter of its word
  const scores = headPatternScores({ tokens, patterns: [[oneHot((q) => Math.max(0, q - 1)), oneHot(() => 0), oneHot((q) => q)], [uniform, wordStart]] });

  it('names a previous-token, a first-position and a self head', () => {
    expect(scores.slice(0, 3).map((s) => s.best.pattern)).toEqual(['previous', 'first', 'self']);
    expect([scores[0].previous, scores[0].first, scores[0].self]).toEqual([1, 0.2, 0]); // query 1 looks back at 0 = first
    expect([scores[1].first, scores[1].previous]).toEqual([1, 0.2]);
    expect(scores[2].self).toBe(1);
  });

  it('scores a uniform head by hand and finds the word-start head', () => {
    // Uniform: weight on position 0 is 1/(q+1) for q = 1..5.
    const expected = [2, 3, 4, 5, 6].reduce((s, d) => s + 1 / d, 0) / 5;
    expect(scores[3].first).toBeCloseTo(expected, 12);
    expect(scores[3].previous).toBeCloseTo(expected, 12);
    // Last space: only query 5 ("e") is two past the space (key 3): 1/6.
    expect(scores[3].lastSpace).toBeCloseTo(1 / 6, 12);
    // Word start: only query 2 ("c") is two letters into a word; it looks at "a".
    expect(scores[4].wordStart).toBe(1);
    expect(scores[4].best.pattern).toBe('wordStart');
    // The uniform head's own scores are the baseline every head is judged against.
    expect(scores[3].uniform.first).toBeCloseTo(expected, 12);
  });

  it('finds duplicate-token and induction heads on a repeated sequence', () => {
    const repeat = ['a', 'b', 'c', 'a', 'b', 'c'];
    const look = (target: (q: number) => number) => Array.from({ length: 6 }, (_, q) => Array.from({ length: 6 }, (_, k) => (k === target(q) ? 1 : 0)));
    const [duplicate, induction] = headPatternScores({ tokens: repeat, patterns: [[look((q) => (q >= 3 ? q - 3 : 0)), look((q) => (q >= 3 ? q - 2 : 0))]] });
    expect([duplicate.duplicate, duplicate.induction, duplicate.best.pattern]).toEqual([1, 0, 'duplicate']);
    // Query 3 ("a") looks at 1 ("b", which followed the first "a"), 4 at 2, 5 at 3.
    expect([induction.induction, induction.duplicate, induction.best.pattern]).toEqual([1, 0, 'induction']);
  });

  it('headScoresOver averages the scores of each text', () => {
    const texts = ['the sea and the land', 'in the beginning'];
    const each = texts.map((t) => headPatternScores(attentionPatterns(model, t)));
    const mean = headScoresOver(model, texts);
    expect(mean.length).toBe(model.config.nLayers * model.config.nHeads);
    mean.forEach((s, i) => {
      expect(s.previous).toBeCloseTo((each[0][i].previous + each[1][i].previous) / 2, 12);
      expect(s.lastSpace).toBeCloseTo((each[0][i].lastSpace + each[1][i].lastSpace) / 2, 12);
    });
  });

  it('without tokens the word scores are NaN', () => {
    const [s] = headPatternScores({ patterns: [[uniform]] });
    expect(Number.isNaN(s.wordStart) && Number.isNaN(s.lastSpace)).toBe(true);
  });
});

describe('logit lens', () => {
  it('matches a hand computation from the cache: ln_final, W_E transposed, softmax', () => {
    const text = 'the sea and';
    const lens = logitLens(model, text, { topK: 3 });
    expect(lens.stages).toEqual(['embed', 'block 0', 'block 1']);
    const ids = model.encode(text);
    const [out, cache] = model.runWithCache(ids);
    const W_E = model.weights['embed.W_E'].arraySync() as number[][];
    const w = Array.from(model.weights['ln_final.w'].dataSync());
    const bias = Array.from(model.weights['ln_final.b'].dataSync());
    const eps = model.config.layerNormEps;
    lens.hookNames.forEach((name, s) => {
      const resid = (cache.get(name).arraySync() as number[][][])[0];
      resid.forEach((x, p) => {
        const mean = x.reduce((a, v) => a + v, 0) / x.length;
        const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
        const normalized = x.map((v, j) => ((v - mean) / Math.sqrt(variance + eps)) * w[j] + bias[j]);
        const probs = softmax(W_E.map((row) => row.reduce((a, v, j) => a + v * normalized[j], 0)));
        const best = probs.indexOf(Math.max(...probs));
        expect(lens.top[s][p][0].id).toBe(best);
        expect(lens.top[s][p][0].p).toBeCloseTo(probs[best], 4);
        if (p + 1 < resid.length) expect(lens.nextTokenProb[s][p]).toBeCloseTo(probs[lens.ids[p + 1]], 4);
        else expect(Number.isNaN(lens.nextTokenProb[s][p])).toBe(true);
      });
    });
    // The last stage is the model's own prediction.
    const final = (out.arraySync() as number[][][])[0].map(softmax);
    final.forEach((probs, p) => expect(lens.top[2][p][0].p).toBeCloseTo(Math.max(...probs), 4));
    tf.dispose([ids, out]);
    cache.dispose();
  });

  it('draws a row per stage plus the true next tokens', async () => {
    const before = tf.memory().numTensors;
    const spec = checkSpec(await logitLensView(model, 'the sea'));
    expect(tf.memory().numTensors).toBe(before);
    await runSpec(spec);
    const cells = ((spec.layer as Spec[])[0].data as { values: { stage: string; pos: number }[] }).values;
    expect(cells.length).toBe(3 * 7);
  });
});

describe('next-token bars', () => {
  it("the slider's softmax(logits / T) in Vega matches samplingDistribution at that T", async () => {
    const prompt = 'in the beginning ';
    const b = await nextTokenView(model, prompt, { temperature: 1, topK: 8 });
    const spec = checkSpec(b);
    const logits = tf.tidy(() => {
      const all = model.forward(model.encode(prompt)); // [1, pos, vocab]
      return Array.from(tf.slice(all, [0, prompt.length - 1, 0], [1, 1, -1]).dataSync());
    });
    for (const T of [0.5, 1, 2.5]) {
      const run = await runSpec(spec, { T });
      const bars = rowsWith(run, ['p', 'id', 'other']) as { id: number; p: number; other: boolean }[];
      const expected = new Map(samplingDistribution(logits, { temperature: T }));
      const shown = bars.filter((r) => !r.other);
      expect(shown.length).toBe(8);
      for (const r of shown) expect(r.p).toBeCloseTo(expected.get(r.id)!, 5);
      const rest = bars.find((r) => r.other)!;
      expect(rest.p).toBeCloseTo(1 - shown.reduce((s, r) => s + expected.get(r.id)!, 0), 5);
      // And against softmax(logits / T) written out here.
      const hand = softmax(logits.map((z) => z / T));
      for (const r of shown) expect(r.p).toBeCloseTo(hand[r.id], 5);
    }
  });

  it('the still picture shows the given temperature; T = 0 is greedy', async () => {
    const b = await nextTokenView(model, 'and', { temperature: 0, topK: 3 });
    checkSpec(b);
    expect(b['text/plain']).toMatch(/100\.00%/);
    await expect(nextTokenView(model, 'and', { temperature: -1 })).rejects.toThrow(/temperature must be in/);
  });
});

describe('the forward pass at one position', () => {
  it('steps through every hook at the position; attention shows the query row', async () => {
    const ids = model.encode(TEXT.slice(0, 12));
    const trace = model.trace(ids);
    expect(trace.tokens?.join('')).toBe(TEXT.slice(0, 12));
    const b = await gptStepper(trace, 5);
    const spec = checkSpec(b);
    const params = spec.params as { name: string; bind: { max: number } }[];
    expect(params[0].bind.max).toBe(trace.steps.length - 1);
    const run = await runSpec(spec, { step: 8 });
    expect(run.view.signal('step')).toBe(8);
    expect(b['image/svg+xml']).toContain('blocks.1.attn.hook_pattern');
    expect(b['text/plain']).toContain('at position 5 ("e")');
    // The pattern step of block 0 at query 5: keys 0..5, equal to the traced tensor's row.
    const patternStep = trace.step('blocks.0.attn.hook_pattern');
    const row = (patternStep.tensor!.arraySync() as number[][][][])[0][1][5];
    const expected = stepAtPosition(patternStep, 5, trace.tokens, undefined)!;
    expect(expected.cols).toBe(6);
    expect(expected.values.slice(6, 12)).toEqual(row.slice(0, 6).map((v) => Math.fround(v)));
    // As a cell's last value, a GPT trace is the GPT stepper at its last position.
    expect((await trace.toMimeBundle())['text/plain']).toContain('at position 11');
    await expect(gptStepper(trace, 12)).rejects.toThrow(/position 12 does not exist: the trace covers positions 0..11/);
    trace.dispose();
    ids.dispose();
  });

  it('a GPT cache shows one row per kind of hook and its attention; the model shows its shape', async () => {
    const ids = model.encode('the sea');
    const [out, cache] = model.runWithCache(ids);
    const b = await cache.toMimeBundle();
    checkSpec(b);
    expect(b['image/svg+xml']).toContain('blocks.{i}.attn.hook_pattern');
    expect(b['image/svg+xml']).toContain('layer 1');
    tf.dispose([ids, out]);
    cache.dispose();
    const card = await model.toMimeBundle();
    checkBundle(card);
    expect(card['image/svg+xml']).toContain(model.parameterCount.toLocaleString('en-US'));
  });
});
