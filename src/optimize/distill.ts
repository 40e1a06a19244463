// Knowledge distillation: a small student learns from a large teacher's softened probabilities
// as well as from the labels (Hinton et al., 2015):
//   loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(labels, student)
// T^2 keeps the soft term's gradients the same size whatever the temperature.
import { tf, type Tensor } from '../engine/tf';
import type { DigitSet } from '../data/mnist';
import { MNIST_SIZE } from '../data/mnist';
import { seededPermutation } from '../data/random';
import type { DigitsCNN } from '../models/cnn';
import type { GPT } from '../models/gpt';
import { trainLanguageModel, type LanguageModelRecord, type LanguageModelTraining } from '../train/language-model';
import { progressBar } from '../engine/display';

export interface DistillOptions {
  /** Weight of the teacher's soft targets (0 = labels only, i.e. no distillation). */
  alpha: number;
  /** Softmax temperature for both teacher and student in the soft term. */
  temperature: number;
}

/** The distillation loss for one batch (a scalar). `labels` are class indices. */
export function distillationLoss(studentLogits: Tensor, teacherLogits: Tensor, labels: Tensor, options: DistillOptions): tf.Scalar {
  return tf.tidy(() => {
    const { alpha, temperature: T } = options;
    const classes = studentLogits.shape[1]!;
    const hard = tf.losses.softmaxCrossEntropy(tf.oneHot(labels as tf.Tensor1D, classes), studentLogits); // mean over the batch
    if (alpha === 0) return hard as tf.Scalar;
    const teacher = tf.softmax(tf.div(teacherLogits, T)); // [batch, classes]
    const logStudent = tf.logSoftmax(tf.div(studentLogits, T)); // [batch, classes]
    const logTeacher = tf.log(tf.add(teacher, 1e-12));
    const kl = tf.mean(tf.sum(tf.mul(teacher, tf.sub(logTeacher, logStudent)), 1)); // mean over the batch
    return tf.add(tf.mul(alpha * T * T, kl), tf.mul(1 - alpha, hard)) as tf.Scalar;
  });
}

export interface TrainCnnOptions {
  epochs: number;
  seed: number;
  batchSize?: number;
  learningRate?: number;
  /** Train with distillation from this teacher (omit: labels only). */
  teacher?: DigitsCNN;
  distill?: DistillOptions;
  /** After every step, multiply these weights by their masks (keeps pruned weights at zero). */
  masks?: Record<string, Tensor>;
  progress?: boolean;
}

/**
 * Train a digits CNN in place on `set` (Adam, seeded batches). Used for students, with or
 * without a teacher, and for fine-tuning pruned models. Returns the mean loss of each epoch.
 */
export function trainCnn(model: DigitsCNN, set: DigitSet, options: TrainCnnOptions): number[] {
  const batchSize = options.batchSize ?? 64;
  const optimizer = tf.train.adam(options.learningRate ?? 2e-3);
  const px = MNIST_SIZE * MNIST_SIZE;
  const distill = options.teacher ? options.distill ?? { alpha: 0.7, temperature: 4 } : { alpha: 0, temperature: 1 };
  const previousKernel = model.convKernel;
  model.convKernel = 'im2col'; // trainable on WASM
  const steps = Math.floor(set.count / batchSize);
  const bar = options.progress === false ? null : progressBar(options.epochs * steps, `training ${model.name}`);
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const order = seededPermutation(set.count, options.seed * 1000 + epoch);
      let sum = 0;
      for (let s = 0; s < steps; s++) {
        const idx = order.slice(s * batchSize, (s + 1) * batchSize);
        const pixels = new Uint8Array(batchSize * px);
        idx.forEach((j, b) => pixels.set(set.images.subarray(j * px, (j + 1) * px), b * px));
        const labels = Int32Array.from(idx, (j) => set.labels[j]);
        const loss = optimizer.minimize(() => {
          const x = tf.tensor3d(pixels, [batchSize, MNIST_SIZE, MNIST_SIZE], 'int32'); // [batch, 28, 28]
          const y = tf.tensor1d(labels, 'int32'); // [batch]
          const teacherLogits = options.teacher ? options.teacher.logits(x) : tf.zeros([batchSize, model.config.labels.length]);
          return distillationLoss(model.logits(x), teacherLogits, y, distill);
        }, true, Object.values(model.weights))!;
        sum += loss.dataSync()[0];
        loss.dispose();
        if (options.masks) {
          for (const [name, mask] of Object.entries(options.masks)) {
            const masked = tf.mul(model.weights[name], mask);
            model.weights[name].assign(masked);
            masked.dispose();
          }
        }
        bar?.tick(1, `epoch ${epoch + 1}/${options.epochs}`);
      }
      losses.push(sum / steps);
    }
    bar?.done(`final loss ${losses[losses.length - 1]?.toFixed(4)}`);
  } finally {
    model.convKernel = previousKernel;
    optimizer.dispose();
  }
  return losses;
}

// ---- language models: the same loss at every position -------------------------------------

/**
 * Distillation for a language model: the loss above at every position of every sequence, averaged
 * over positions. `studentLogits` and `teacherLogits` are [batch, pos, vocab]; `targets` [batch, pos]
 * holds the true next token of each position.
 */
export function languageDistillationLoss(studentLogits: Tensor, teacherLogits: Tensor, targets: Tensor, options: DistillOptions): tf.Scalar {
  const [batch, pos, vocab] = studentLogits.shape as number[];
  if (studentLogits.rank !== 3 || teacherLogits.shape.join(',') !== studentLogits.shape.join(',') || targets.shape.join(',') !== `${batch},${pos}`) {
    throw new Error(`languageDistillationLoss expects student and teacher logits [batch, pos, vocab] of the same shape and targets [batch, pos]; got [${studentLogits.shape}], [${teacherLogits.shape}], [${targets.shape}].`);
  }
  if (!(options.alpha >= 0 && options.alpha <= 1) || !(options.temperature > 0)) throw new Error(`distillation needs alpha in [0, 1] and temperature > 0; got alpha ${options.alpha}, temperature ${options.temperature}.`);
  return tf.tidy(() => {
    const flat = (t: Tensor) => tf.reshape(t, [batch * pos, vocab]); // [batch*pos, vocab]: every position is one example
    return distillationLoss(flat(studentLogits), flat(teacherLogits), tf.reshape(targets, [batch * pos]), options);
  });
}

export interface TrainGptStudentOptions extends Omit<LanguageModelTraining, 'lossFn'> {
  /** Distil from this teacher (omit, or alpha 0: the next-token loss alone). Same vocabulary and context. */
  teacher?: GPT;
  /** Default alpha 0.9, T 1: on the tiny GPT it beat alpha 0.5, T 2 on the validation chapters (see assets/tiny-gpt-student-distilled). */
  distill?: DistillOptions;
}

/**
 * Train a GPT student in place with the language-model loop (same batches, schedule and seed
 * whatever the loss), with the distillation loss when a teacher is given. The teacher runs
 * forward only; its logits are constants for the student's gradient.
 */
export function trainGptStudent(student: GPT, train: Int32Array, options: TrainGptStudentOptions): LanguageModelRecord[] {
  const teacher = options.teacher;
  const distill = teacher ? options.distill ?? { alpha: 0.9, temperature: 1 } : { alpha: 0, temperature: 1 };
  if (teacher) {
    const [t, s] = [teacher.config, student.config];
    if (t.vocabSize !== s.vocabSize || JSON.stringify(t.tokenizer) !== JSON.stringify(s.tokenizer)) throw new Error(`trainGptStudent: teacher ${teacher.name} and student ${student.name} must share the tokenizer (vocabularies ${t.vocabSize} and ${s.vocabSize}).`);
    if (t.contextLength < s.contextLength) throw new Error(`trainGptStudent: the teacher reads ${t.contextLength} positions, fewer than the student's ${s.contextLength}.`);
  }
  const lossFn = (ids: Tensor): tf.Scalar => {
    if (!teacher || distill.alpha === 0) return student.loss(ids);
    const [batch, pos] = ids.shape as number[];
    const inputs = tf.slice(ids, [0, 0], [batch, pos - 1]); // [batch, pos-1]
    const targets = tf.slice(ids, [0, 1], [batch, pos - 1]); // [batch, pos-1]
    // The teacher's ops are recorded on the tape but do not depend on the student's weights, so
    // no gradient flows through them.
    const teacherLogits = teacher.logits(inputs); // [batch, pos-1, vocab]
    return languageDistillationLoss(student.logits(inputs), teacherLogits, targets, distill);
  };
  return trainLanguageModel(student, train, { ...options, lossFn });
}
