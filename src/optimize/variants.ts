// buildVariants(model, entry, spec): the optimized copies of a registered model that compare()
// measures, made the registry's way: fake-quantized tfjs weights (int8/int4, the scheme options),
// or ONNX Runtime's dynamic int8 for a GPT; unstructured pruning, or structured (the digits CNN's
// channels, a GPT's MLP neurons); a shipped student, each quantized too when bits are asked for.
// One set of rules for which option applies to which model kind: the CLI's compare command and the
// web server's /api/compare both come through checkVariantSpec, spelling options their own way.
import * as path from 'path';
import { tf, type Tensor } from '../engine/tf';
import type { GPT } from '../models/gpt';
import type { DigitsCNN } from '../models/cnn';
import { assetsDir, loadModel, STUDENTS, type LoadedModel, type ModelEntry } from '../models/registry';
import { loadMnist, MNIST_SIZE } from '../data/mnist';
import { readValidationText } from '../data/corpus';
import { quantize, type Quantizable } from './quantize-model';
import { CALIBRATION_METHODS, type CalibrationMethod } from './calibrate';
import { prune, pruneChannels, pruneNeurons, type Prunable } from './prune';
import type { Variant } from './compare';

/** Which optimized copies to make; an option left out is not asked for. */
export interface VariantSpec {
  /** Quantize (the original, and each pruned copy and student): 8 or 4 bits. */
  bits?: 8 | 4;
  perChannel?: boolean;
  symmetric?: boolean;
  activations?: 'none' | 'dynamic' | 'static';
  /** How static activation ranges are calibrated (only static activations use it). */
  calibration?: CalibrationMethod;
  /** Prune to this fraction of zero weights (or of channels / neurons when structured), in [0, 1). */
  sparsity?: number;
  structured?: boolean;
  /** A shipped student's short name (registry STUDENTS), e.g. 'student'. */
  student?: string;
  /** Print quantization progress (the CLI's text mode). */
  progress?: boolean;
}

export type VariantOption = 'bits' | 'perChannel' | 'symmetric' | 'activations' | 'calibration' | 'sparsity' | 'structured' | 'student';

/** How a caller spells each option in its messages, e.g. '--per-channel' (CLI) or 'optimization.perChannel' (JSON). */
export interface OptionNames extends Record<VariantOption, string> {
  /** How a bit width is written: 'int8' on the command line, '8' in JSON. */
  bitsValue(bits: 8 | 4): string;
}

/** The spec's own field names (the default spelling). */
export const SPEC_OPTION_NAMES: OptionNames = {
  bits: 'bits',
  perChannel: 'perChannel',
  symmetric: 'symmetric',
  activations: 'activations',
  calibration: 'calibration',
  sparsity: 'sparsity',
  structured: 'structured',
  student: 'student',
  bitsValue: (bits) => String(bits),
};

/** An option that does not apply to this model (or is malformed): one line, naming the option as the caller spells it. */
export class VariantSpecError extends Error {
  constructor(
    readonly option: VariantOption,
    message: string,
  ) {
    super(message);
    this.name = 'VariantSpecError';
  }
}

/** Training digits that calibrate static activation ranges (never the held-out test set). */
const CALIBRATION_DIGITS = 512;

type EntryKind = Pick<ModelEntry, 'architecture' | 'input' | 'int8'>;

/** Refuse the first option that does not apply to `name` (its registry entry says what does), with one line. */
export function checkVariantSpec(name: string, entry: EntryKind, spec: VariantSpec, names: OptionNames = SPEC_OPTION_NAMES): void {
  const refuse = (option: VariantOption, message: string): never => {
    throw new VariantSpecError(option, message);
  };
  if (spec.bits !== undefined && spec.bits !== 8 && spec.bits !== 4) refuse('bits', `${names.bits} expects one of ${names.bitsValue(8)}, ${names.bitsValue(4)}; got ${String(spec.bits)}.`);
  if (spec.calibration !== undefined && !CALIBRATION_METHODS.includes(spec.calibration)) {
    refuse('calibration', `${names.calibration} expects one of ${CALIBRATION_METHODS.join(', ')}; got ${String(spec.calibration)}.`);
  }
  if (entry.int8 === 'onnx-dynamic') {
    // A GPT's int8 is ONNX Runtime's dynamic int8: no other scheme applies.
    const why = `${name}'s int8 is ONNX Runtime's dynamic int8 (weights per output column, activations quantized per call)`;
    if (spec.bits === 4) refuse('bits', `${names.bits} expects one of ${names.bitsValue(8)}; got ${names.bitsValue(4)}: ${why}.`);
    const notApplying: [VariantOption, boolean][] = [
      ['perChannel', spec.perChannel === true],
      ['symmetric', spec.symmetric === false],
      ['activations', spec.activations !== undefined && spec.activations !== 'none'],
      ['calibration', spec.calibration !== undefined && spec.calibration !== 'minmax'],
    ];
    for (const [option, given] of notApplying) {
      if (given) refuse(option, `${names[option]} does not apply to ${name}: its ${names.bits} ${names.bitsValue(8)} is ONNX Runtime's dynamic int8 (weights per output column, activations quantized per call).`);
    }
  }
  if (spec.activations === 'static' && entry.input !== 'image') {
    refuse('activations', `${names.activations} static needs calibration inputs; they ship for the digits models only (${name} reads ${entry.input}).`);
  }
  if (spec.sparsity !== undefined && !(spec.sparsity >= 0 && spec.sparsity < 1)) refuse('sparsity', `${names.sparsity} expects a fraction in [0, 1), e.g. 0.5; got ${String(spec.sparsity)}.`);
  if (spec.structured && spec.sparsity === undefined) refuse('structured', `${names.structured} needs ${names.sparsity} S.`);
  if (spec.structured && entry.architecture !== 'digits-cnn' && entry.architecture !== 'gpt') {
    refuse('structured', `${names.structured}: removing whole channels applies to the digits CNN (and whole MLP neurons to a GPT); ${name} is a ${entry.architecture}: use unstructured pruning.`);
  }
  if (spec.student !== undefined) {
    const known = Object.keys(STUDENTS[name] ?? {});
    if (!known.length) refuse('student', `${names.student}: ${name} has no shipped student.`);
    if (!known.includes(spec.student)) refuse('student', `${names.student} expects one of ${known.join(', ')} for ${name}; got ${String(spec.student)}.`);
  }
}

/** The variants a spec asks for, ready for compare(), and how structured pruning ranked what it removed. */
export interface BuiltVariants {
  /** In order: quantized original; pruned (and it quantized); student (and it quantized). */
  variants: Variant<LoadedModel>[];
  /** Structured pruning of a GPT: what ranked the neurons (null otherwise). */
  structuredScore: string | null;
  /** Dispose every variant's model (not the original). */
  dispose(): void;
}

/**
 * Make the optimized copies of `model` that `spec` names (checked first by checkVariantSpec, with
 * `names` spelling the options in its messages). The caller owns the result: call dispose().
 */
export function buildVariants(model: LoadedModel, entry: EntryKind, spec: VariantSpec, names: OptionNames = SPEC_OPTION_NAMES): BuiltVariants {
  const name = model.name;
  checkVariantSpec(name, entry, spec, names);
  const onnxInt8 = entry.int8 === 'onnx-dynamic';
  const variants: Variant<LoadedModel>[] = [];
  const dispose = () => {
    for (const v of variants) v.model.dispose();
  };
  const add = (m: LoadedModel, label = m.name) => {
    variants.push({ label, model: m });
  };
  let calibrationInputs: Tensor | undefined;
  try {
    if (spec.bits !== undefined && spec.activations === 'static') {
      const train = loadMnist().train;
      calibrationInputs = tf.tensor3d(train.images.subarray(0, CALIBRATION_DIGITS * MNIST_SIZE * MNIST_SIZE), [CALIBRATION_DIGITS, MNIST_SIZE, MNIST_SIZE], 'int32'); // [512, 28, 28]
    }
    const quantizeAdd = (m: LoadedModel) => {
      if (spec.bits === undefined) return;
      if (onnxInt8) {
        add((m as unknown as GPT).compile('onnx', { quantize: 'int8', threads: 1 }) as unknown as LoadedModel, `${m.name}-int8-onnx`);
        return;
      }
      let q: LoadedModel;
      try {
        q = quantize(m as unknown as Quantizable, {
          bits: spec.bits,
          perChannel: spec.perChannel ?? false,
          symmetric: spec.symmetric ?? true,
          activations: spec.activations ?? 'none',
          calibration: spec.calibration ?? 'minmax',
          calibrationInputs,
          progress: spec.progress ?? false,
        }) as unknown as LoadedModel;
      } catch (err) {
        throw new Error(`quantizing ${m.name}: ${(err as Error).message}`);
      }
      add(q);
    };
    quantizeAdd(model);
    let structuredScore: string | null = null;
    if (spec.sparsity !== undefined) {
      const sparsity = spec.sparsity;
      let pruned: LoadedModel;
      if (spec.structured && entry.architecture === 'digits-cnn') {
        pruned = pruneChannels(model as unknown as DigitsCNN, { 'conv.0': sparsity, 'conv.1': sparsity }) as unknown as LoadedModel;
      } else if (spec.structured) {
        // Neurons ranked by what they write on the validation chapters (never the test text).
        let validation: Int32Array | null = null;
        try {
          validation = Int32Array.from((model as unknown as GPT).tokenizer.encode(readValidationText(path.join(assetsDir(), name))));
        } catch {
          validation = null;
        }
        structuredScore = validation ? 'activations on the validation chapters' : `weight norms (${name} ships no validation.txt)`;
        pruned = pruneNeurons(model as unknown as GPT, sparsity, validation ? { score: 'activations', stream: validation, windows: 8 } : { score: 'weights' }) as unknown as LoadedModel;
      } else {
        try {
          pruned = prune(model as unknown as Prunable, { sparsity, scope: 'layer' }) as unknown as LoadedModel;
        } catch (err) {
          throw new Error(`pruning ${name}: ${(err as Error).message}`);
        }
      }
      add(pruned);
      quantizeAdd(pruned);
    }
    if (spec.student !== undefined) {
      const student = loadModel(STUDENTS[name][spec.student]);
      add(student);
      quantizeAdd(student);
    }
    return { variants, structuredScore, dispose };
  } catch (err) {
    dispose(); // what was made before the failure
    throw err;
  } finally {
    calibrationInputs?.dispose();
  }
}
