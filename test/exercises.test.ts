// The exercise checker: right answers (typed as numbers, numeric text, tensors), each known
// mistake's hint, other wrong answers, answers of the wrong form, and the registry's errors.
// Expected values are recomputed here from their definitions, not read from the library.
import { beforeAll, describe, expect, it } from 'vitest';
import { check, exercise, exercises, initBackend, matches, tf, Exercise, type ExerciseSpec } from '../src/index';

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
