// Architecture diagrams and the convolution-window view. The diagrams' hook labels are checked
// against the real models' hook names (every label exists; every hook of the drawn part is
// labelled). The window view's sum + bias, computed by Vega from the spec alone after moving the
// sliders, is checked against the model's own conv.0.hook_conv at every position.
import { beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import {
  tf, initBackend, loadModel, loadMnist, digitsTensor, diagram, diagramSvg, DIAGRAM_NAMES, convolutionWindowView,
  type DigitsCNN, type CharRNN, type GPT,
} from '../src/index';
import { checkBundle } from './helpers/bundle';

beforeAll(async () => {
  await initBackend();
});

/** The visible text of an SVG: each <text> element's content, tags removed. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)].map((m) => m[1].replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
}

const hookNamesIn = (svg: string) => new Set(svgTexts(svg).join('\n').match(/\b(?:[a-z_0-9]+\.)*hook_[a-z_]+\b/g) ?? []);

describe('architecture diagrams', () => {
  it('each is SVG + PNG + text, at most 900 px wide, on a white card', async () => {
    for (const name of DIAGRAM_NAMES) {
      const b = await diagram(name);
      expect(Object.keys(b).sort(), name).toEqual(['image/png', 'image/svg+xml', 'text/plain']); // no HTML, no JavaScript
      const svg = b['image/svg+xml']!;
      const width = Number(/^<svg [^>]*width="(\d+)"/.exec(svg)![1]);
      expect(width, name).toBeLessThanOrEqual(900);
      expect(svg, name).toMatch(/<rect x="0.5" y="0.5" [^>]*fill="#ffffff"/); // the card: legible on a dark theme
      expect(svg).not.toMatch(/<script|<foreignObject/);
      const png = PNG.sync.read(Buffer.from(b['image/png']!, 'base64'));
      expect(png.width, name).toBe(2 * width);
      expect([...png.data.subarray(4 * (png.width * 20 + 20), 4 * (png.width * 20 + 20) + 3)]).toEqual([255, 255, 255]); // white inside the card
      expect(b['text/plain'].length, name).toBeGreaterThan(100);
    }
    expect(() => diagramSvg('resnet' as never)).toThrow(/Unknown diagram "resnet". Known diagrams: conv, lstm, gru, transformer/);
  });

  it('labels the conv layer with the digits CNN\'s hook names', () => {
    const model = loadModel('digits-cnn') as DigitsCNN;
    const drawn = hookNamesIn(diagramSvg('conv'));
    for (const n of drawn) expect(model.hookNames, n).toContain(n);
    for (const n of ['pre.hook_normalized', 'conv.0.hook_conv', 'conv.0.hook_relu', 'conv.0.hook_pool']) expect(drawn, n).toContain(n);
  });

  it('labels the LSTM and GRU cells with every gate, state and input hook of their models', () => {
    for (const [name, modelName] of [['lstm', 'langid-lstm'], ['gru', 'langid-gru']] as const) {
      const model = loadModel(modelName) as CharRNN;
      const drawn = hookNamesIn(diagramSvg(name));
      for (const n of drawn) expect(model.hookNames, `${name}: ${n}`).toContain(n);
      const cellHooks = model.hookNames.filter((n) => n.startsWith(`${name}.`) || n === 'embed.hook_out');
      expect(cellHooks.length).toBe(name === 'lstm' ? 7 : 5);
      for (const n of cellHooks) expect(drawn, `${name}: ${n}`).toContain(n);
    }
  });

  it('labels the transformer block with every hook of blocks.0, the embeddings and the output', () => {
    const gpt = loadModel('tiny-gpt') as GPT;
    const drawn = hookNamesIn(diagramSvg('transformer'));
    for (const n of drawn) expect(gpt.hookNames, n).toContain(n);
    const expected = gpt.hookNames.filter((n) => n.startsWith('blocks.0.') || !n.startsWith('blocks.'));
    expect(expected.length).toBe(19); // 4 outside the blocks, 15 in blocks.0
    for (const n of expected) expect(drawn, n).toContain(n);
  });

  it('draws the GRU\'s reset gate before the recurrent matmul, as src/models/rnn.ts computes it', () => {
    const texts = svgTexts(diagramSvg('gru')).join('\n');
    expect(texts).toMatch(/r ⊙ h.*first, then · U/);
    expect(texts).toMatch(/h̃ = tanh\(x.*W.*\+ \(r ⊙ h.*\) U.*\+ b/);
  });
});

describe('the convolution window view', () => {
  it('its sum of nine products + bias, computed by Vega after moving the sliders, is conv.0.hook_conv at every position', async () => {
    const model = loadModel('digits-cnn') as DigitsCNN;
    const digit = digitsTensor(loadMnist().heldOut, 2, 1); // [1, 28, 28]
    const before = tf.memory().numTensors;
    const b = await convolutionWindowView(model, digit, { filter: 3 });
    expect(tf.memory().numTensors).toBe(before); // the view keeps no tensors
    const { spec } = checkBundle(b);
    expect(Number(/^<svg [^>]*width="(\d+)"/.exec(b['image/svg+xml']!)![1])).toBeLessThanOrEqual(900);
    expect(spec.params.map((p: { name: string; bind: { input: string } }) => [p.name, p.bind.input])).toEqual([['row', 'range'], ['col', 'range']]);

    // The reference: the model's own conv.0.hook_conv for filter 3.
    const [probs, cache] = model.runWithCache(digit, { names: ['conv.0.hook_conv'] });
    const reference = (cache.get('conv.0.hook_conv').arraySync() as number[][][][])[0].map((row) => row.map((v) => v[3])); // [26, 26]
    tf.dispose([probs, digit]);
    cache.dispose();

    const vega = (await import('vega')) as unknown as typeof import('vega');
    const vl = (await import('vega-lite')) as unknown as typeof import('vega-lite');
    const compiled = vl.compile(spec as never).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    const names = (compiled.data ?? []).map((d) => d.name);
    let worst = 0;
    for (let r = 0; r < 26; r++) {
      for (let c = 0; c < 26; c++) {
        view.signal('row', r).signal('col', c);
        await view.runAsync();
        const rows = names.flatMap((n) => view.data(n) as Record<string, number>[]).filter((t) => 'sumPlusBias' in t);
        expect(rows.length).toBe(1);
        expect(rows[0].products).toBe(9);
        worst = Math.max(worst, Math.abs(rows[0].sumPlusBias - reference[r][c]));
      }
    }
    view.finalize();
    expect(worst).toBeLessThan(1e-5); // float64 in Vega vs float32 in the model
  });

  it('says what it expects when given another model, filter or position', async () => {
    const model = loadModel('digits-cnn') as DigitsCNN;
    const digit = digitsTensor(loadMnist().heldOut, 0, 1);
    await expect(convolutionWindowView(model, digit, { filter: 8 })).rejects.toThrow(/filter must be an integer 0\.\.7; got 8/);
    await expect(convolutionWindowView(model, digit, { row: 26 })).rejects.toThrow(/row must be an integer 0\.\.25; got 26/);
    const gpt = loadModel('tiny-gpt') as GPT;
    await expect(convolutionWindowView(gpt, digit)).rejects.toThrow(/expects the digits CNN \(conv\.0\.weight \[3, 3, 1, filters\]\); got no conv\.0\.weight/);
    digit.dispose();
  });
});

describe('the committed diagram files', () => {
  it('docs/diagrams/*.svg are what `npm run diagrams` writes now (re-run it after changing a diagram)', async () => {
    const fs = await import('fs');
    const path = await import('path');
    for (const name of DIAGRAM_NAMES) {
      const file = path.join(__dirname, '..', 'docs', 'diagrams', `${name}.svg`);
      expect(fs.readFileSync(file, 'utf8'), file).toBe(diagramSvg(name) + '\n');
    }
  });
});
