// buildVariants: the one place the CLI's compare and the server's /api/compare make optimized
// copies. Expected labels follow the naming rules the library documents (quantize: -w8/-w4, -pc,
// -a8/-a8dyn; prune: -prunedNN, -channelsAxB, a GPT's -mlpN; ONNX int8: -int8-onnx), worked out
// by hand from the shipped configs (digits CNN conv 8/16 channels, tiny-gpt dMlp 512).
import { describe, it, expect, beforeAll } from 'vitest';
import { tf, initBackend, loadModel, entryOf, buildVariants, checkVariantSpec, VariantSpecError, type OptionNames, type VariantSpec } from '../src/index';
import { FLAG_NAMES as FLAGS } from '../src/cli/compare'; // the command line's spelling

beforeAll(async () => {
  await initBackend();
});

/** Build, return the labels (and the structured score), dispose everything, and check no tensor stayed behind. */
function labelsOf(name: string, spec: VariantSpec): { labels: string[]; structuredScore: string | null } {
  const before = tf.memory().numTensors;
  const model = loadModel(name);
  const built = buildVariants(model, entryOf(name), spec);
  const labels = built.variants.map((v) => v.label);
  built.dispose();
  model.dispose();
  expect(tf.memory().numTensors).toBe(before); // every variant's weights freed, calibration digits too
  return { labels, structuredScore: built.structuredScore };
}

/** The one line checkVariantSpec refuses `spec` with (and the option it names). */
function refusal(name: string, spec: VariantSpec, names?: OptionNames): { option: string; message: string } {
  try {
    checkVariantSpec(name, entryOf(name), spec, names);
  } catch (err) {
    expect(err).toBeInstanceOf(VariantSpecError);
    const e = err as VariantSpecError;
    expect(e.message).not.toContain('\n');
    return { option: e.option, message: e.message };
  }
  throw new Error(`${name} ${JSON.stringify(spec)} was accepted`);
}

describe('buildVariants: the variants of each model kind', () => {
  it('digits CNN: int4 per channel with static activations, channels removed, a student, each quantized', () => {
    const { labels, structuredScore } = labelsOf('digits-cnn', { bits: 4, perChannel: true, activations: 'static', calibration: 'percentile', sparsity: 0.5, structured: true, student: 'scratch' });
    // 8 and 16 conv channels halved: channels4x8.
    expect(labels).toEqual(['digits-cnn-w4-pc-a8', 'digits-cnn-channels4x8', 'digits-cnn-channels4x8-w4-pc-a8', 'digits-student-scratch', 'digits-student-scratch-w4-pc-a8']);
    expect(structuredScore).toBeNull();
  });

  it('language-ID LSTM: int8 and unstructured pruning (and its int8)', () => {
    expect(labelsOf('langid-lstm', { bits: 8, sparsity: 0.25 }).labels).toEqual(['langid-lstm-w8', 'langid-lstm-pruned25', 'langid-lstm-pruned25-w8']);
  });

  it('keyword CNN: int8 weights with dynamic activations', () => {
    expect(labelsOf('kws-cnn', { bits: 8, activations: 'dynamic' }).labels).toEqual(['kws-cnn-w8-a8dyn']);
  });

  it('tiny GPT: ONNX Runtime int8, MLP neurons removed (ranked on the validation chapters), the student, each in int8', () => {
    const { labels, structuredScore } = labelsOf('tiny-gpt', { bits: 8, sparsity: 0.5, structured: true, student: 'student' });
    // dMlp 512 halved: mlp256.
    expect(labels).toEqual(['tiny-gpt-int8-onnx', 'tiny-gpt-mlp256', 'tiny-gpt-mlp256-int8-onnx', 'tiny-gpt-student-distilled', 'tiny-gpt-student-distilled-int8-onnx']);
    expect(structuredScore).toBe('activations on the validation chapters');
  }, 120_000);

  it('an option that does not apply is refused before anything is made', () => {
    const model = loadModel('langid-lstm');
    const before = tf.memory().numTensors;
    expect(() => buildVariants(model, entryOf('langid-lstm'), { bits: 8, structured: true, sparsity: 0.5 })).toThrow(VariantSpecError);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('checkVariantSpec: one line per option that does not apply, naming what does', () => {
  it.each<[string, VariantSpec, string, RegExp]>([
    ['tiny-gpt', { bits: 4 }, 'bits', /^bits expects one of 8; got 4: tiny-gpt's int8 is ONNX Runtime's dynamic int8/],
    ['tiny-gpt', { bits: 8, perChannel: true }, 'perChannel', /^perChannel does not apply to tiny-gpt: its bits 8 is ONNX Runtime's dynamic int8/],
    ['tiny-gpt', { bits: 8, symmetric: false }, 'symmetric', /^symmetric does not apply to tiny-gpt/],
    ['tiny-gpt', { bits: 8, activations: 'dynamic' }, 'activations', /^activations does not apply to tiny-gpt/],
    ['tiny-gpt', { bits: 8, calibration: 'mse' }, 'calibration', /^calibration does not apply to tiny-gpt/],
    ['tiny-gpt', { student: 'teacher' }, 'student', /^student expects one of student, scratch for tiny-gpt; got teacher\.$/],
    ['langid-lstm', { bits: 8, activations: 'static' }, 'activations', /static needs calibration inputs; they ship for the digits models only \(langid-lstm reads word\)/],
    ['kws-cnn', { bits: 8, activations: 'static' }, 'activations', /only \(kws-cnn reads audio\)/],
    ['langid-lstm', { sparsity: 0.5, structured: true }, 'structured', /whole channels applies to the digits CNN \(and whole MLP neurons to a GPT\); langid-lstm is a char-rnn/],
    ['langid-lstm', { student: 'student' }, 'student', /^student: langid-lstm has no shipped student\.$/],
    ['digits-cnn', { structured: true }, 'structured', /^structured needs sparsity S\.$/],
    ['digits-cnn', { sparsity: 1 }, 'sparsity', /^sparsity expects a fraction in \[0, 1\)/],
    ['digits-cnn', { student: 'gpt' }, 'student', /^student expects one of student, scratch for digits-cnn; got gpt\.$/],
  ])('%s %j: refuses %s', (name, spec, option, line) => {
    const r = refusal(name, spec);
    expect(r.option).toBe(option);
    expect(r.message).toMatch(line);
  });

  it('what applies is accepted: every scheme for the digits CNN, structured pruning for a GPT', () => {
    expect(() => checkVariantSpec('digits-cnn', entryOf('digits-cnn'), { bits: 4, perChannel: true, symmetric: false, activations: 'static', calibration: 'entropy', sparsity: 0.9, structured: true, student: 'student' })).not.toThrow();
    expect(() => checkVariantSpec('tiny-gpt', entryOf('tiny-gpt'), { bits: 8, symmetric: true, activations: 'none', sparsity: 0, structured: true, student: 'scratch' })).not.toThrow();
  });

  it("messages spell options the caller's way", () => {
    expect(refusal('tiny-gpt', { bits: 4 }, FLAGS).message).toMatch(/^--quantize expects one of int8; got int4: /);
    expect(refusal('tiny-gpt', { bits: 8, activations: 'static' }, FLAGS).message).toMatch(/^--activations does not apply to tiny-gpt: its --quantize int8 is ONNX Runtime's dynamic int8/);
    expect(refusal('digits-cnn', { structured: true }, FLAGS).message).toBe('--structured needs --prune S.');
  });
});
