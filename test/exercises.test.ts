// The exercise checker: right answers (typed as numbers, numeric text, tensors), each known
// mistake's hint, other wrong answers, answers of the wrong form, and the registry's errors.
// Expected values are recomputed here from their definitions, not read from the library.
import { beforeAll, describe, expect, it } from 'vitest';
import { check, exercise, exercises, initBackend, matches, tf, Exercise, loadModel, pruneChannels, paramsForRange, weightParams, quantizeValues, dequantizeValues, type ExerciseSpec, type DigitsCNN, type CharRNN, type Tensor } from '../src/index';
import { TabularRegressor, regressionErrors, hounsfieldUnits, applyWindow } from '../src/index'; // notebook 13

beforeAll(async () => {
  await initBackend();
});

describe('notebook 00 exercises', () => {
  it('00.1: the logit that gives a loss of ln 2', () => {
    // By hand: softmax([z, 1, -1])[0] = 1/2  <=>  e^z = e + 1/e.
    const z = Math.log(Math.exp(1) + Math.exp(-1)); // 1.1269...
    const p = Math.exp(z) / (Math.exp(z) + Math.exp(1) + Math.exp(-1));
    expect(-Math.log(p)).toBeCloseTo(Math.LN2, 12);
    expect(check('00.1', z).status).toBe('right');
    expect(check('00.1', 1.127).status).toBe('right'); // rounded by hand
    expect(check('00.1', '1.13').status).toBe('right'); // typed as text
    expect(check('00.1', 0.5)).toMatchObject({ status: 'mistake' });
    expect(check('00.1', 0.5).message).toMatch(/probability/);
    expect(check('00.1', Math.LN2).message).toMatch(/loss itself/);
    expect(check('00.1', 1).message).toMatch(/denominator/);
    expect(check('00.1', Math.log10(Math.E + 1 / Math.E)).message).toMatch(/natural logarithm/);
    const wrong = check('00.1', 2);
    expect(wrong.status).toBe('wrong');
    expect(wrong.message).toMatch(/Hint: .*e\^z/);
    expect(wrong.message).not.toMatch(/1\.127/); // a wrong answer does not give the solution away
  });

  it('00.2: bits per character to perplexity', () => {
    const perplexity = Math.exp(1.6 * Math.LN2); // e^(nats); 1.6 bits = 1.6 ln 2 nats
    expect(perplexity).toBeCloseTo(3.0314, 4);
    expect(check('00.2', perplexity).right).toBe(true);
    expect(check('00.2', 3.03).right).toBe(true);
    expect(check('00.2', Math.exp(1.6)).message).toMatch(/in bits/);
    expect(check('00.2', 1.6 * Math.LN2).message).toMatch(/nats per character/);
    expect(check('00.2', 1.6 / Math.LN2).status).toBe('mistake');
    expect(check('00.2', 10 ** 1.6).status).toBe('mistake');
    expect(check('00.2', 3.3).status).toBe('wrong'); // the tiny GPT's own perplexity
  });

  it('00.3: what 40 dB means for the RMS error', () => {
    // 40 dB = 10 log10(P_s / P_n)  =>  P_n / P_s = 1e-4; RMS ratio = sqrt(1e-4).
    const ratio = Math.sqrt(10 ** (-40 / 10));
    expect(check('00.3', ratio).right).toBe(true);
    expect(check('00.3', 0.01).right).toBe(true);
    expect(check('00.3', 1e-4).message).toMatch(/square root/);
    expect(check('00.3', 100).message).toMatch(/noise over signal/);
    expect(check('00.3', 0.02).status).toBe('wrong');
  });

  it('accepts a tensor as the answer and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const t = tf.scalar(0.01);
    expect(check('00.3', t).right).toBe(true);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('says what is expected when the answer is missing or of the wrong form', () => {
    const missing = check('00.2', undefined);
    expect(missing.status).toBe('unanswered');
    expect(String(missing)).toMatch(/^Exercise 00\.2: NO ANSWER YET\. Replace undefined with your answer: a number/);
    expect(check('00.2', 'about three')).toMatchObject({ status: 'invalid' });
    expect(check('00.2', 'about three').message).toMatch(/Expected a number \(the perplexity\); got the text "about three"/);
    expect(check('00.2', NaN).message).toMatch(/not a finite number/);
    expect(check('00.2', [1, 2]).message).toMatch(/got a list of 2/);
    expect(check('00.2', null).status).toBe('invalid');
  });

  it('shows itself as text: the verdict in a cell, the question from exercise()', () => {
    const v = check('00.3', 0.01);
    expect(v.toMimeBundle()).toEqual({ 'text/plain': v.toString() });
    expect(v.toString()).toMatch(/^Exercise 00\.3: RIGHT\. 0\.01: 40 dB is a power ratio/);
    const e = exercise('00.1');
    expect(String(e)).toMatch(/^Exercise 00\.1: Which logit gives a loss of ln 2\?\n.*\[z, 1, -1\].*\nAnswer with a number \(the logit z\): lab\.check\('00\.1', answer\)$/s);
  });
});

describe('the registry and the checker', () => {
  it('lists each notebook\'s exercises and refuses an unknown id with the known ones', () => {
    expect(exercises('00').map((e) => e.id)).toEqual(['00.1', '00.2', '00.3']);
    expect(exercises().length).toBeGreaterThanOrEqual(3);
    expect(() => exercise('00.9')).toThrow(/^Unknown exercise "00\.9"\. Known exercises: 00\.1, 00\.2, 00\.3/);
  });

  it('every exercise accepts its own expected answer and rejects its listed mistakes', () => {
    for (const e of exercises()) {
      expect(e.check(e.expected).status, e.id).toBe('right');
      for (const m of e.spec.mistakes ?? []) {
        if (typeof m.answer !== 'function') expect(e.check(m.answer).status, `${e.id} mistake ${m.answer}`).toBe('mistake');
      }
    }
  });

  it('compares lists element by element and text without case or spacing', () => {
    expect(matches([1, 2.001], [1, 2], { rel: 0.01 })).toBe(true);
    expect(matches([1, 2.5], [1, 2], { rel: 0.01 })).toBe(false);
    expect(matches('  Blocks.0.attn.HOOK_pattern ', 'blocks.0.attn.hook_pattern')).toBe(true);
    expect(matches(0.0001, 0, { abs: 1e-3 })).toBe(true);
    const spec: ExerciseSpec = {
      id: '99.1', title: 't', question: 'q', answerForm: 'two numbers', expected: () => [1, 2],
      mistakes: [{ answer: (a) => Array.isArray(a) && a[0] === 2, hint: 'swapped' }], hint: 'h', explanation: 'e',
    };
    const e = new Exercise(spec);
    expect(e.check([1, 2]).right).toBe(true);
    expect(e.check(new Float32Array([1, 2])).right).toBe(true);
    expect(e.check([2, 1]).message).toMatch(/swapped/);
    expect(e.check([1, 2, 3]).message).toMatch(/a list of 3 numbers, not 2/);
  });
});

// Notebooks 01-12: for each exercise the right answer is recomputed here by hand (or measured with
// the library where the exercise says so), each known slip gets its hint, and a plain wrong answer
// gets the general hint without the solution.
describe('notebooks 01-12 exercises', () => {
  const status = (id: string, answer: unknown) => check(id, answer).status;

  it('every notebook 01-12 has two or three exercises, each with a question and a hint', () => {
    for (let n = 1; n <= 12; n++) {
      const nb = String(n).padStart(2, '0');
      const list = exercises(nb);
      expect(list.length, `notebook ${nb}`).toBeGreaterThanOrEqual(2);
      expect(list.length, `notebook ${nb}`).toBeLessThanOrEqual(3);
      for (const e of list) {
        expect(e.spec.question.length).toBeGreaterThan(40);
        expect(e.spec.hint.length).toBeGreaterThan(10);
        // The general hint must not contain the answer (to 3 significant digits).
        const a = e.expected;
        if (typeof a === 'number' && !Number.isInteger(a)) expect(e.spec.hint).not.toContain(a.toPrecision(3));
      }
    }
  });

  it('01.1: a grey pixel normalised with the model\'s own constants', () => {
    const { pixelMean, pixelStd } = (loadModel('digits-cnn') as DigitsCNN).config;
    expect(pixelMean).toBeCloseTo(0.1315, 4); // as notebook 01 prints
    expect(pixelStd).toBeCloseTo(0.3092, 4);
    const byHand = (128 / 255 - 0.1315) / 0.3092; // 1.198
    expect(status('01.1', byHand)).toBe('right');
    expect(status('01.1', 1.2)).toBe('right');
    expect(check('01.1', (128 - 0.1315) / 0.3092).message).toMatch(/divide by 255 first/);
    expect(check('01.1', 128 / 255 - 0.1315).message).toMatch(/standard deviation/);
    expect(check('01.1', 0.502).message).toMatch(/scaling step/);
    expect(status('01.1', 2.809)).toBe('wrong'); // the value of a white pixel
  });

  it('01.2: probability ratio from two logits', () => {
    const z = [6.61, 0.19];
    const e = z.map(Math.exp);
    expect(status('01.2', e[0] / e[1])).toBe('right');
    expect(status('01.2', 614)).toBe('right');
    expect(check('01.2', 6.61 / 0.19).message).toMatch(/not probabilities/);
    expect(check('01.2', 6.42).message).toMatch(/difference of the logits/);
    expect(status('01.2', 99.65 / 0.16)).toBe('right'); // the notebook's rounded percentages, 623: within 2%
    expect(status('01.2', 100)).toBe('wrong');
  });

  it('02.1: multiply-adds of conv.1 with 5x5 filters, counted by sliding the window', () => {
    // Count by walking every output position, filter and weight of a valid 5x5 convolution on 13x13x8.
    let macs = 0;
    for (let y = 0; y + 5 <= 13; y++) for (let x = 0; x + 5 <= 13; x++) for (let f = 0; f < 16; f++) macs += 5 * 5 * 8;
    expect(macs).toBe(259200);
    expect(status('02.1', macs)).toBe('right');
    expect(check('02.1', 11 * 11 * 16 * 200).message).toMatch(/fewer positions/);
    expect(check('02.1', 2 * macs).message).toMatch(/FLOPs/);
    expect(check('02.1', 3200).message).toMatch(/number of weights/);
    expect(check('02.1', 9 * 9 * 16 * 25).message).toMatch(/8 input channels/);
    expect(status('02.1', 139392)).toBe('wrong'); // the 3x3 layer's count
  });

  it('02.2: receptive field of a third convolution', () => {
    // Input 1x1, jump 1; conv3 -> 3 (jump 1); pool2 -> 4 (jump 2); conv3 -> 8; pool2 -> 10 (jump 4); conv3 -> 18.
    let [rf, jump] = [1, 1];
    for (const [k, s] of [[3, 1], [2, 2], [3, 1], [2, 2], [3, 1]]) { rf += (k - 1) * jump; jump *= s; }
    expect(rf).toBe(18);
    expect(status('02.2', rf)).toBe('right');
    expect(check('02.2', 12).message).toMatch(/jump/);
    expect(status('02.2', 17)).toBe('wrong');
  });

  it('03.1: the LSTM parameter formula reproduces the shipped model, then at 128 units', () => {
    const lstm = loadModel('langid-lstm') as CharRNN;
    const embed = lstm.config.alphabet.length + 2; // ids 0 (padding) and 1 (unknown), then the letters
    const recurrent = lstm.parameterCount - embed * 16 - (64 * 6 + 6); // minus embedding and dense head
    expect(recurrent).toBe(4 * (64 * (16 + 64) + 64)); // 20,736, as the summary shows
    lstm.dispose();
    const at128 = 4 * (128 * 16 + 128 * 128 + 128);
    expect(at128).toBe(74240);
    expect(status('03.1', at128)).toBe('right');
    expect(check('03.1', 73728).message).toMatch(/bias/);
    expect(check('03.1', 18560).message).toMatch(/one gate/);
    expect(check('03.1', 55680).message).toMatch(/GRU/);
    expect(status('03.1', 80000)).toBe('wrong');
  });

  it('03.2: a forget gate of 0.745 for 10 steps', () => {
    let c = 1;
    for (let t = 0; t < 10; t++) c = 0.745 * c + 0 * 1; // c_t = f c_(t-1) + i g, i = 0
    expect(status('03.2', c)).toBe('right');
    expect(status('03.2', 0.053)).toBe('right');
    expect(check('03.2', 0.745).message).toMatch(/one step/);
    expect(check('03.2', -1.55).message).toMatch(/compound/);
    expect(status('03.2', 0.5)).toBe('wrong');
  });

  it('04.1-04.3: attention weight, causal pairs and temperature (softmax by tfjs)', () => {
    const sm = (z: number[]) => tf.tidy(() => Array.from(tf.softmax(tf.tensor1d(z)).dataSync()));
    const w = sm([8 / Math.sqrt(32), 4 / Math.sqrt(32), 0])[0];
    expect(w).toBeCloseTo(0.576, 3);
    expect(status('04.1', w)).toBe('right');
    expect(check('04.1', sm([8, 4, 0])[0]).message).toMatch(/sqrt\(d_head\)/);
    expect(status('04.1', 0.5)).toBe('wrong');
    let pairs = 0;
    for (let q = 0; q < 54; q++) for (let k = 0; k < 54; k++) if (k <= q) pairs++;
    expect(status('04.2', pairs)).toBe('right');
    expect(check('04.2', 2916).message).toMatch(/causal mask/);
    expect(check('04.2', 1431).message).toMatch(/itself/);
    const p = sm([4, 2, 0])[0];
    expect(p).toBeCloseTo(0.867, 3);
    expect(status('04.3', p)).toBe('right');
    expect(check('04.3', sm([2, 1, 0])[0]).message).toMatch(/temperature 1/);
    expect(status('04.3', 0.7)).toBe('wrong');
  });

  it('05.1: context where LLaMA-2-7B\'s KV cache outweighs its int4 weights, by hand', () => {
    // 6,738,415,616 parameters (LLaMA-2-7B's published count); KV: 2 (k, v) x 32 layers x 4096 x 2 bytes.
    const kvPerToken = 2 * 32 * 4096 * 2;
    expect(kvPerToken).toBe(512 * 1024);
    const tokens = Math.ceil((6738415616 * 0.5) / kvPerToken); // 6,426.2 -> 6,427
    expect(tokens).toBe(6427);
    expect(status('05.1', tokens)).toBe('right');
    expect(check('05.1', 12853).message).toMatch(/int8/);
    expect(check('05.1', 25705).message).toMatch(/fp16/);
    expect(check('05.1', 6581).message).toMatch(/1,024/);
    expect(status('05.1', 4096)).toBe('wrong');
  });

  it('05.2: the batch at which weight-only int4 decoding of LLaMA-2-7B on an A100 80GB becomes compute-bound', () => {
    // Per step: int4 weights read once, 0.5 byte x N; arithmetic in fp16, 2 FLOPs x N x B. Equal times when
    // 0.5N / 2.039e12 = 2N·B / 312e12, i.e. B = 312 x 0.5 / (2.039 x 2).
    const n = 6738415616;
    const batch = (0.5 * n * 312e12) / (2 * n * 2039e9);
    expect(batch).toBeCloseTo(38.25, 1);
    expect(status('05.2', batch)).toBe('right');
    expect(status('05.2', 38)).toBe('right');
    expect(status('05.2', (0.5 * 312e12) / (2 * 2.0e12))).toBe('right'); // the rounded 2.0 TB/s: 39
    expect(check('05.2', 153).message).toMatch(/fp16 weights/);
    expect(check('05.2', 612).message).toMatch(/sooner/);
    expect(check('05.2', 76.5).message).toMatch(/int8/);
    expect(check('05.2', 1).message).toMatch(/memory limits/);
    expect(status('05.2', 1000)).toBe('wrong');
    expect(check('05.2', 1000).message).not.toContain('38');
  });

  it('06.1: SGD diverges above 2 / (largest curvature), found by running it', () => {
    // Run SGD on L = 2 w1^2 + 0.5 w2^2 (gradient [4 w1, w2]) just below and above the limit.
    const run = (lr: number) => {
      let [w1, w2] = [1, 1];
      for (let i = 0; i < 200; i++) [w1, w2] = [w1 - lr * 4 * w1, w2 - lr * w2];
      return Math.hypot(w1, w2);
    };
    expect(run(0.49)).toBeLessThan(1e-3);
    expect(run(0.51)).toBeGreaterThan(10);
    expect(status('06.1', 0.5)).toBe('right');
    expect(check('06.1', 2).message).toMatch(/steepest/);
    expect(check('06.1', 0.2).message).toMatch(/notebook/);
    expect(status('06.1', 0.4)).toBe('wrong');
  });

  it('06.2: cross-entropy gradient on the true logit, by tf.grad', () => {
    const g = tf.tidy(() => {
      const f = (z: Tensor) => tf.losses.softmaxCrossEntropy(tf.tensor2d([[1, 0, 0]]), z);
      return Array.from(tf.grad(f)(tf.tensor2d([[2, 0, 0]])).dataSync());
    });
    expect(g[0]).toBeCloseTo(-0.2131, 3);
    expect(status('06.2', g[0])).toBe('right');
    expect(check('06.2', -g[0]).message).toMatch(/sign/);
    expect(check('06.2', 0.787).message).toMatch(/probability p/);
    expect(status('06.2', -1)).toBe('wrong');
  });

  it('07.1: the symmetric int8 scale, as the library computes it', () => {
    const { scale } = paramsForRange(-0.2, 0.6, 8, true);
    expect(scale).toBeCloseTo(0.6 / 127, 12);
    expect(status('07.1', scale)).toBe('right');
    expect(check('07.1', paramsForRange(-0.2, 0.6, 8, false).scale).message).toMatch(/asymmetric/);
    expect(check('07.1', 0.6 / 128).message).toMatch(/-127\.\.127/);
    expect(status('07.1', 0.01)).toBe('wrong');
  });

  it('07.2: 4 bits fewer cost about 24 dB, measured with the library\'s quantizer', () => {
    const rand = mulberry(7);
    const values = Float32Array.from({ length: 20000 }, () => 2 * rand() - 1);
    const sqnr = (bits: 8 | 4) => {
      const params = weightParams(values, [values.length], { bits, symmetric: true, perChannel: false });
      const back = dequantizeValues(quantizeValues(values, params), params);
      let s = 0, n = 0;
      for (let i = 0; i < values.length; i++) { s += values[i] ** 2; n += (values[i] - back[i]) ** 2; }
      return 10 * Math.log10(s / n);
    };
    const drop = sqnr(8) - sqnr(4); // the step grows 127/7 = 18.1x here (symmetric grids: 127 vs 7 steps)
    expect(drop).toBeGreaterThan(23);
    expect(drop).toBeLessThan(26);
    expect(status('07.2', 38 - 24.08)).toBe('right');
    expect(status('07.2', 14)).toBe('right');
    expect(status('07.2', 38 - 20 * Math.log10(127 / 7))).toBe('right'); // the symmetric grids' exact step ratio, 12.8 dB
    expect(check('07.2', 19).message).toMatch(/doubles/);
    expect(check('07.2', 26).message).toMatch(/not 3/);
    expect(status('07.2', 8)).toBe('wrong');
  });

  it('07.3: one outlier costs the channel 20 dB', () => {
    expect(status('07.3', 20)).toBe('right');
    expect(check('07.3', 10).message).toMatch(/power ratio/);
    expect(check('07.3', 0).message).toMatch(/one scale/);
    expect(status('07.3', 6)).toBe('wrong');
  });

  it('08.1: the break-even sparsity of (int32, float32) pairs', () => {
    const dense = 1000 * 4;
    const sparse = (sparsity: number) => Math.round(1000 * (1 - sparsity)) * (4 + 4);
    expect(sparse(0.49)).toBeGreaterThan(dense);
    expect(sparse(0.51)).toBeLessThan(dense);
    expect(status('08.1', 0.5)).toBe('right');
    expect(check('08.1', 0.75).message).toMatch(/8 bytes/);
    expect(status('08.1', 0.9)).toBe('wrong');
  });

  it('08.2: halving conv.0, counted against pruneChannels', () => {
    const model = loadModel('digits-cnn') as DigitsCNN;
    const pruned = pruneChannels(model, { 'conv.0': 0.5 });
    expect(status('08.2', pruned.parameterCount)).toBe('right');
    expect(pruned.parameterCount).toBe(40 + 592 + 4010);
    pruned.dispose();
    model.dispose();
    expect(check('08.2', 5218).message).toMatch(/next layer|read conv\.0/);
    expect(check('08.2', 2674).message).toMatch(/halving conv\.1/);
    expect(status('08.2', 4000)).toBe('wrong');
  });

  it('09.1-09.2: softened teacher probabilities and the T^2 factor', () => {
    const p = tf.tidy(() => Array.from(tf.softmax(tf.div(tf.tensor1d([4, 2, 0]), 2)).dataSync()));
    expect(p[1]).toBeCloseTo(0.2447, 3);
    expect(status('09.1', p[1])).toBe('right');
    expect(check('09.1', p[0]).message).toMatch(/first class/);
    expect(check('09.1', 0.117).message).toMatch(/T = 1/);
    expect(status('09.1', 0.33)).toBe('wrong');
    expect(status('09.2', 16)).toBe('right');
    expect(check('09.2', 4).message).toMatch(/not T/);
    expect(status('09.2', 2)).toBe('wrong');
  });

  it('10.1-10.2: errors add as powers; Amdahl\'s law', () => {
    // Two independent noises: simulate them and measure, rather than reuse the formula.
    const rand = mulberry(3);
    const n = 50000;
    let s = 0, noise = 0;
    for (let i = 0; i < n; i++) {
      const x = 2 * rand() - 1;
      const e1 = (2 * rand() - 1) * Math.sqrt(3 * (1 / 3) * 1e-3); // power 1e-3 of the signal's 1/3
      const e2 = (2 * rand() - 1) * Math.sqrt(3 * (1 / 3) * 1e-4);
      s += x * x; noise += (e1 + e2) ** 2;
    }
    const measured = 10 * Math.log10(s / noise);
    expect(Math.abs(measured - 29.59)).toBeLessThan(0.2);
    expect(status('10.1', 29.6)).toBe('right');
    expect(check('10.1', 70).message).toMatch(/adding dB/);
    expect(check('10.1', 30).message).toMatch(/a little/);
    expect(status('10.1', 25)).toBe('wrong');
    const speedup = 1 / (0.3 + 0.7 / 1.6);
    expect(speedup).toBeCloseTo(1.356, 3);
    expect(status('10.2', 1.356)).toBe('right');
    expect(check('10.2', 1.6).message).toMatch(/70%/);
    expect(status('10.2', 1.2)).toBe('wrong');
  });

  it('11.1-11.2: frames in 1.5 s of audio; IoU of two boxes', () => {
    let frames = 0;
    for (let start = 0; start + 400 <= 24000; start += 160) frames++;
    expect(frames).toBe(148);
    expect(status('11.1', frames)).toBe('right');
    expect(check('11.1', 150).message).toMatch(/wholly inside/);
    expect(check('11.1', 147).message).toMatch(/first window/);
    expect(status('11.1', 98)).toBe('wrong');
    // IoU by pixel counting on a grid.
    let inter = 0, union = 0;
    for (let x = 0; x < 15; x++) for (let y = 0; y < 15; y++) {
      const a = x < 10 && y < 10, b = x >= 5 && y >= 5;
      if (a && b) inter++;
      if (a || b) union++;
    }
    expect(status('11.2', inter / union)).toBe('right');
    expect(check('11.2', 0.25).message).toMatch(/one box/);
    expect(status('11.2', 0.3)).toBe('wrong');
  });

  it('12.1-12.3: a brevity penalty; an alignment error rate; candidates in one beam step', () => {
    // BLEU's brevity penalty for c = 8 output tokens against r = 10: e^(1 - r/c), worked with Math.E.
    const bp = Math.E ** (1 - 10 / 8);
    expect(bp).toBeCloseTo(0.7788, 4);
    expect(status('12.1', bp)).toBe('right');
    expect(status('12.1', '0.779')).toBe('right');
    expect(check('12.1', 0.8).message).toMatch(/length ratio/);
    expect(check('12.1', Math.E ** 0.2).message).toMatch(/r\/c, not c\/r/);
    expect(check('12.1', 1).message).toMatch(/at least as long/);
    expect(status('12.1', 0.5)).toBe('wrong');
    // AER from its parts: precision 4/5, recall 4/6; with sure links only AER = 1 - F1.
    const precision = 4 / 5, recall = 4 / 6;
    const f1 = (2 * precision * recall) / (precision + recall);
    expect(status('12.2', 1 - f1)).toBe('right');
    expect(check('12.2', 0.2).message).toMatch(/1 - precision/);
    expect(check('12.2', 1 / 3).message).toMatch(/1 - recall/);
    expect(check('12.2', f1).message).toMatch(/1 minus it/);
    expect(status('12.2', 0.5)).toBe('wrong');
    // Beam search: every token after every kept prefix, counted.
    let candidates = 0;
    for (let prefix = 0; prefix < 4; prefix++) for (let token = 0; token < 4000; token++) candidates++;
    expect(status('12.3', candidates)).toBe('right');
    expect(check('12.3', 4000).message).toMatch(/one prefix/);
    expect(check('12.3', 16).message).toMatch(/all 4,000 of each are scored/);
    expect(status('12.3', 8000)).toBe('wrong');
  });
});

/** A small seeded generator (mulberry32), so the measured checks are reproducible. */
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('notebook 13 exercises', () => {
  const status = (id: string, answer: unknown) => check(id, answer).status;

  it('has three exercises, each with a question and a hint that does not give the answer away', () => {
    const list = exercises('13');
    expect(list.map((e) => e.id)).toEqual(['13.1', '13.2', '13.3']);
    for (const e of list) {
      expect(e.spec.hint.length).toBeGreaterThan(10);
      const a = e.expected;
      if (typeof a === 'number' && !Number.isInteger(a)) expect(e.spec.hint).not.toContain(a.toPrecision(3));
    }
  });

  it('13.1: a linear model whose raw output is 0.4, de-standardised by its own post.hook_value step', async () => {
    await initBackend();
    const model = new TabularRegressor({ features: ['x'], hidden: [], featureMean: [0], featureStd: [1], targetMean: 150, targetStd: 75, target: 'y' }, 'tiny');
    tf.tidy(() => {
      model.weights['layers.0.weight'].assign(tf.zeros([1, 1])); // the raw output is the bias alone
      model.weights['layers.0.bias'].assign(tf.tensor1d([0.4]));
    });
    const [value] = model.predict([[7]]);
    model.dispose();
    expect(status('13.1', value)).toBe('right');
    expect(check('13.1', 0.4).message).toMatch(/standard deviations from the mean/);
    expect(check('13.1', 150.4).message).toMatch(/multiply by 75/);
    expect(status('13.1', 200)).toBe('wrong');
  });

  it('13.2: RMSE of five errors, by regressionErrors', () => {
    const truth = [0, 0, 0, 0, 0];
    const e = regressionErrors([3, -4, 0, 12, -1], truth);
    expect(e.mae).toBe(4);
    expect(status('13.2', e.rmse)).toBe('right');
    expect(check('13.2', 4).message).toMatch(/that is the MAE/);
    expect(check('13.2', 34).message).toMatch(/mean squared error/);
    expect(status('13.2', 7)).toBe('wrong');
  });

  it('13.3: a stored CT value through hounsfieldUnits and applyWindow', async () => {
    await initBackend();
    const grey = tf.tidy(() => applyWindow(hounsfieldUnits(tf.tensor1d([1000], 'int32'), 1, -1024), 40, 400).dataSync()[0]);
    expect(status('13.3', grey)).toBe('right');
    expect(check('13.3', -24).message).toMatch(/Hounsfield units/);
    expect(check('13.3', 255).message).toMatch(/rescale/);
    expect(status('13.3', 120)).toBe('wrong');
  });
});
