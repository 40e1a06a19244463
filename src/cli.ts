#!/usr/bin/env node
// The `inference-lab` command. Output with --json is a contract other tools rely on; errors are
// one line on stderr and a non-zero exit, never a stack trace.
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
// The registrations the entry (src/index.ts) makes: views for display, the ONNX fast path for compile('onnx').
import './viz/register';
import './fastpath/register';
import { progressBar } from './engine/display';
import { tf } from './engine/tf';
import { initBackend, backend } from './engine/backend';
import { loadMnist, MNIST_SIZE } from './data/mnist';
import { readPng, pixelsFromJson } from './preprocess/image';
import { listModels, loadModel, modelNames, packageRoot } from './models/registry';
import { evaluateDigits } from './models/evaluate';
import { DigitsCNN } from './models/cnn';
import { CharRNN } from './models/rnn';
import { KeywordCNN, evaluateKeywords, loadKeywordHeldOut } from './models/speech';
import { readWordSet } from './data/words';
import { defaultWorkspaceDir, resetNotebook, syncWorkspace } from './io/workspace';
import { installKernel, removeKernel, kernelStatus, startLab, venvKernelDir, VENV_DIR } from '../kernel/install';
import { quantize } from './optimize/quantize-model';
import { CALIBRATION_METHODS, type CalibrationMethod } from './optimize/calibrate';
import { errorMetrics, layerErrors } from './optimize/analyze';
import { prune, pruneChannels, type Pruned } from './optimize/prune';
import { GPT } from './models/gpt';
import { GENERATE_FLAGS, GPT_RUN_FLAGS, generateOptions, generateText, gptRunInput, runGpt } from './cli-gpt';
import { parseCommandLine, UsageError, type Args, type FlagSpec } from './cli-args';
import { GPT_STUDENTS, compareGptCommand, isShippedGpt } from './cli-compare-gpt';

const USAGE = `inference-lab: learn, inspect and measure how model inference works

Usage:
  inference-lab models [--json]                       shipped models with their held-out metric
  inference-lab eval <model> [--json]                 evaluate a model on its held-out set
  inference-lab run <model> --input <file.png|file.json|heldout:N> [--trace out.json] [--json]
                                                      one forward pass, every step traced
  inference-lab run <gpt|dir> (--text STR | --tokens 1,2,3) [--json]
                                                      a GPT (tiny-gpt, or a Hugging Face GPT-2 directory):
                                                      logits and the top-5 next tokens per position
  inference-lab generate <gpt|dir> --prompt STR [--max-tokens N] [--temperature T] [--top-k K]
                [--top-p P] [--seed S] [--no-kv-cache] [--json]
                                                      continue a text token by token
  inference-lab compare <model> [--quantize int8|int4 [--per-channel] [--asymmetric]
                [--activations none|dynamic|static] [--calibration minmax|percentile|mse|entropy]]
                [--prune S [--structured]] [--distill-into student] [--json]
                                                      original vs optimized: accuracy, bytes, latency, error per layer
  inference-lab compare <gpt> [--quantize int8] [--prune S [--structured]] [--distill-into student|scratch]
                [--windows N] [--json]               a GPT (tiny-gpt): held-out loss on its test text, bytes, latency
                                                      in tfjs and ONNX Runtime, error per hook; int8 is ONNX Runtime's
                                                      dynamic int8; --structured removes MLP neurons
  inference-lab lab                                   open JupyterLab on your own copy of the notebooks (npm start);
                                                      made on first start in ~/.local/share/inference-lab/notebooks
                                                      (or $INFERENCE_LAB_WORKSPACE); new course notebooks are copied
                                                      in, notebooks you edited are never overwritten
  inference-lab reset-notebook <NN|file>              put the course's version of one notebook back in your copy
                                                      (your edited file is kept beside it)
  inference-lab serve [--port N] [--host H]           the lessons, stepper and comparison as a web site
                                                      (default 127.0.0.1:8080; offline)
  inference-lab kernel install|remove|status          the Jupyter kernel "TypeScript (Inference Lab)"
  inference-lab backend                               which TensorFlow.js backend runs
  inference-lab train <digits|langid> [--epochs N] [--seed S] [--cell lstm|gru|both]
                                                      retrain a shipped model (writes assets/), with a progress bar`;

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : text + '\n');
}

function requireModelName(args: Args, command: string): string {
  const name = args.positional[1];
  if (!name) throw new UsageError(`${command} needs a model name. Known models: ${modelNames().join(', ')}.`);
  return name;
}

/** `--input` as a raw pixel tensor: a PNG, a JSON pixel array, or `heldout:N` (digit N of the held-out set). */
function readInput(spec: string): tf.Tensor {
  const heldOut = /^heldout:(\d+)$/.exec(spec);
  if (heldOut) {
    const set = loadMnist().heldOut;
    const i = Number(heldOut[1]);
    if (i >= set.count) throw new Error(`heldout:${i} is out of range; expected 0..${set.count - 1}.`);
    const px = MNIST_SIZE * MNIST_SIZE;
    return tf.tensor3d(set.images.subarray(i * px, (i + 1) * px), [1, MNIST_SIZE, MNIST_SIZE], 'int32');
  }
  const ext = path.extname(spec).toLowerCase();
  if (ext === '.png') return readPng(spec);
  if (ext === '.json') {
    let text: string;
    try {
      text = fs.readFileSync(spec, 'utf8');
    } catch (err) {
      throw new Error(`Cannot read ${spec}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`${spec} is not valid JSON; expected a pixel array [height][width] of numbers 0..255.`);
    }
    return pixelsFromJson(value, spec);
  }
  throw new UsageError(`--input ${spec}: expected a .png file, a .json pixel array, or heldout:N.`);
}

/** Median wall time in ms of one forward pass on `input`. */
function latencyMs(model: DigitsCNN, input: tf.Tensor, runs = 50): number {
  for (let i = 0; i < 5; i++) model.forward(input).dispose();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    model.forward(input).dispose();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

function oneOf<T extends string>(flag: string, value: string | true | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw new UsageError(`--${flag} expects one of ${allowed.join(', ')}; got ${String(value)}.`);
  return value as T;
}

/** Students that `--distill-into` can name: shipped models trained by scripts/train-students.ts. */
const STUDENT_PRESETS: Record<string, string> = { student: 'digits-student-distilled' };

/**
 * `compare`: the original against optimized copies on the held-out set. --quantize gives the
 * detailed quantization report (weights and every layer); --prune and --distill-into add
 * variants, and combinations with --quantize (prune then quantize; distilled student quantized).
 */
async function compare(args: Args, json: boolean): Promise<number> {
  const name = requireModelName(args, 'compare');
  if (isShippedGpt(name)) return compareGpt(name, args, json);
  const scheme = args.flags.has('quantize') ? oneOf('quantize', args.flags.get('quantize'), ['int8', 'int4'] as const, 'int8') : null;
  const pruneFlag = args.flags.get('prune');
  const sparsity = pruneFlag === undefined ? null : Number(pruneFlag);
  if (sparsity !== null && !(sparsity >= 0 && sparsity < 1)) throw new UsageError(`--prune expects a fraction in [0, 1), e.g. 0.5; got ${String(pruneFlag)}.`);
  const studentFlag = args.flags.get('distill-into');
  if (studentFlag !== undefined && (typeof studentFlag !== 'string' || !STUDENT_PRESETS[studentFlag])) {
    throw new UsageError(`--distill-into expects one of ${Object.keys(STUDENT_PRESETS).join(', ')}; got ${String(studentFlag)}.`);
  }
  if (!scheme && sparsity === null && !studentFlag) throw new UsageError('compare needs --quantize int8|int4, --prune S or --distill-into student.');
  const activations = oneOf('activations', args.flags.get('activations'), ['none', 'dynamic', 'static'] as const, 'none');
  const calibration = oneOf<CalibrationMethod>('calibration', args.flags.get('calibration'), CALIBRATION_METHODS, 'minmax');
  await initBackend();
  const model = loadModel(name) as DigitsCNN;
  const { train, heldOut } = loadMnist();
  const px = MNIST_SIZE * MNIST_SIZE;
  const calibrationInputs = tf.tensor3d(train.images.subarray(0, 512 * px), [512, MNIST_SIZE, MNIST_SIZE], 'int32'); // training digits
  const quantizeLike = (m: DigitsCNN) =>
    quantize(m, {
      bits: scheme === 'int4' ? 4 : 8,
      perChannel: args.flags.has('per-channel'),
      symmetric: !args.flags.has('asymmetric'),
      activations,
      calibration,
      calibrationInputs: activations === 'static' ? calibrationInputs : undefined,
      progress: !json,
    });
  const variants: DigitsCNN[] = [];
  const optimized = scheme ? quantizeLike(model) : null;
  if (optimized) variants.push(optimized);
  if (sparsity !== null) {
    const pruned = args.flags.has('structured') ? pruneChannels(model, { 'conv.0': sparsity, 'conv.1': sparsity }) : prune(model, { sparsity, scope: 'layer' });
    variants.push(pruned);
    if (scheme) variants.push(quantizeLike(pruned));
  }
  if (typeof studentFlag === 'string') {
    const student = loadModel(STUDENT_PRESETS[studentFlag]) as DigitsCNN;
    variants.push(student);
    if (scheme) variants.push(quantizeLike(student));
  }
  const one = tf.tensor3d(heldOut.images.subarray(0, px), [1, MNIST_SIZE, MNIST_SIZE], 'int32');
  const sample = tf.tensor3d(heldOut.images.subarray(0, 256 * px), [256, MNIST_SIZE, MNIST_SIZE], 'int32');
  try {
    const summary = (m: DigitsCNN) => {
      const e = evaluateDigits(m, heldOut);
      const bytes = 'pruning' in m ? (m as Pruned).pruning.sparseBytes : m.byteSize; // pruned: sparse storage
      return { metric: e.metric, value: e.value, bytes, latency_ms: latencyMs(m, one) };
    };
    const original = summary(model);
    const rows = variants.map((v) => ({ name: v.name, ...summary(v) }));
    const out: Record<string, unknown> = { model: name, original };
    const db = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} dB` : 'exact');
    const text = [`backend: ${backend()}`, `${name} on ${heldOut.count} held-out digits (latency: median of one digit)`, `  ${'original'.padEnd(34)} accuracy ${original.value.toFixed(4)}  ${original.bytes} bytes  ${original.latency_ms.toFixed(3)} ms`];
    for (const r of rows) text.push(`  ${r.name.padEnd(34)} accuracy ${r.value.toFixed(4)}  ${r.bytes} bytes (${(r.bytes / original.bytes).toFixed(3)}x)  ${r.latency_ms.toFixed(3)} ms`);
    if (optimized) {
      const weights = Object.keys(optimized.quantization.packed).map((w) => ({ name: w, sqnr_db: errorMetrics(model.weights[w], optimized.weights[w]).sqnrDb }));
      const layers = layerErrors(model, optimized, sample).map((r) => ({ name: r.name, sqnr_db: r.sqnrDb, mse: r.mse, cosine: r.cosine }));
      const { name: variant, ...quantized } = rows[0];
      Object.assign(out, { variant, optimized: quantized, weights, layers });
      text.push(`weights of ${optimized.name} (SQNR):`, ...weights.map((w) => `  ${w.name.padEnd(22)} ${db(w.sqnr_db)}`));
      text.push('layers (SQNR, error propagated from the input, 256 held-out digits):', ...layers.map((l) => `  ${l.name.padEnd(22)} ${db(l.sqnr_db).padStart(9)}  cosine ${l.cosine.toFixed(5)}`));
    }
    out.variants = rows;
    print(json, out, text.join('\n'));
  } finally {
    tf.dispose([calibrationInputs, one, sample]);
    for (const v of variants) v.dispose();
    model.dispose();
  }
  return 0;
}

/** `compare` for a GPT: flags checked here, the work in cli-compare-gpt.ts. */
async function compareGpt(name: string, args: Args, json: boolean): Promise<number> {
  for (const flag of ['per-channel', 'asymmetric', 'activations', 'calibration']) {
    if (args.flags.has(flag)) throw new UsageError(`--${flag} is for the digits CNN; a GPT's --quantize int8 is ONNX Runtime's dynamic int8 (per output column weights, activations quantized per call).`);
  }
  const quantize = args.flags.has('quantize') ? oneOf('quantize', args.flags.get('quantize'), ['int8'] as const, 'int8') : null;
  const pruneFlag = args.flags.get('prune');
  const sparsity = pruneFlag === undefined ? null : Number(pruneFlag);
  if (sparsity !== null && !(sparsity >= 0 && sparsity < 1)) throw new UsageError(`--prune expects a fraction in [0, 1), e.g. 0.5; got ${String(pruneFlag)}.`);
  if (args.flags.has('structured') && sparsity === null) throw new UsageError('--structured needs --prune S (the share of MLP neurons to remove).');
  const studentFlag = args.flags.get('distill-into');
  if (studentFlag !== undefined && (typeof studentFlag !== 'string' || !GPT_STUDENTS[studentFlag])) {
    throw new UsageError(`--distill-into expects one of ${Object.keys(GPT_STUDENTS).join(', ')} for ${name}; got ${String(studentFlag)}.`);
  }
  const windowsFlag = args.flags.get('windows');
  const windows = windowsFlag === undefined ? 16 : Number(windowsFlag);
  if (!(Number.isInteger(windows) && windows > 0)) throw new UsageError(`--windows expects a positive whole number of ${name}'s context windows; got ${String(windowsFlag)}.`);
  if (!quantize && sparsity === null && !studentFlag) throw new UsageError('compare needs --quantize int8, --prune S or --distill-into student.');
  await initBackend();
  const result = await compareGptCommand({ name, quantize: quantize !== null, sparsity, structured: args.flags.has('structured'), student: typeof studentFlag === 'string' ? GPT_STUDENTS[studentFlag] : null, windows, json, progress: !json });
  print(json, result.json, result.text);
  return 0;
}

const usage = (message: string) => new UsageError(message);

/**
 * Load `name` (a shipped model or a directory), check that it is a GPT, run `body` on it and
 * write what it returns to stdout (waiting for the write: the logits of a long text are megabytes).
 */
async function withGpt(name: string, command: string, hint: string, body: (model: GPT) => string): Promise<number> {
  const model = loadModel(name);
  try {
    if (!(model instanceof GPT)) throw usage(`${command} ${name}: ${name} is not a GPT${hint}. GPT models: tiny-gpt, or a Hugging Face GPT-2 directory.`);
    const out = body(model);
    await new Promise<void>((resolve) => process.stdout.write(out + '\n', () => resolve()));
  } finally {
    (model as { dispose?: () => void }).dispose?.();
  }
  return 0;
}

/** `train`: run the training script of a shipped model as a child process, with a progress bar over its epochs. */
async function train(args: Args): Promise<number> {
  const scripts: Record<string, string> = { digits: 'train-digits.js', langid: 'train-langid.js' };
  const what = args.positional[1];
  if (!what || !scripts[what]) throw new UsageError(`train needs one of ${Object.keys(scripts).join(', ')}; got ${what ?? 'nothing'}.`);
  const passed: string[] = [];
  for (const flag of ['epochs', 'seed', 'cell']) {
    const v = args.flags.get(flag);
    if (v === undefined) continue;
    if (flag !== 'cell' && !/^\d+$/.test(String(v))) throw new UsageError(`--${flag} expects a whole number; got ${String(v)}.`);
    passed.push(`--${flag}`, String(v));
  }
  const script = path.join(packageRoot(), 'dist', 'scripts', scripts[what]);
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: build first (npm run build).`);
  const epochs = Number(args.flags.get('epochs') ?? (what === 'digits' ? 15 : 6));
  // The langid script draws its own bar (per batch) on stderr; for digits, count its epoch lines.
  const bar = what === 'digits' ? progressBar(epochs, `train ${what}`) : null;
  const child = spawn(process.execPath, [script, ...passed], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (bar && /^epoch \d+\//.test(line)) {
        process.stderr.write('\r\x1b[K');
        bar.tick(1, line.replace(/^epoch \S+\s+/, ''));
      }
      process.stdout.write(line + '\n');
    }
  });
  const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  if (buffered) process.stdout.write(buffered + '\n');
  bar?.done(code === 0 ? 'done' : `failed (exit ${code})`);
  return code;
}

/** The flags each command takes (--help goes with all); anything else is a usage error. */
const COMMAND_FLAGS: Record<string, FlagSpec> = {
  help: {},
  backend: { json: 'boolean' },
  models: { json: 'boolean' },
  eval: { json: 'boolean' },
  run: { input: 'string', trace: 'string', ...GPT_RUN_FLAGS, json: 'boolean' },
  generate: { ...GENERATE_FLAGS, json: 'boolean' },
  compare: {
    quantize: 'string',
    'per-channel': 'boolean',
    asymmetric: 'boolean',
    activations: 'string',
    calibration: 'string',
    prune: 'string',
    structured: 'boolean',
    'distill-into': 'string',
    windows: 'string',
    json: 'boolean',
  },
  train: { epochs: 'string', seed: 'string', cell: 'string' },
  kernel: { json: 'boolean' },
  lab: {},
  'reset-notebook': { json: 'boolean' },
  serve: { port: 'string', host: 'string', json: 'boolean' },
};

async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, COMMAND_FLAGS, { help: 'boolean' });
  const command = args.positional[0];
  const json = args.flags.get('json') === true;
  if (!command || command === 'help' || args.flags.has('help')) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  switch (command) {
    case 'backend': {
      const name = await initBackend();
      print(json, { backend: name }, `backend: ${name}`);
      return 0;
    }
    case 'models': {
      await initBackend();
      const models = listModels();
      const rows = models.map(
        (m) =>
          `${m.name.padEnd(14)} ${m.task.padEnd(52)} ${String(m.params).padStart(8)} params ${String(m.bytes).padStart(9)} bytes  ` +
          (m.heldOut ? `${m.heldOut.metric} ${m.heldOut.value.toFixed(4)} (n=${m.heldOut.n})` : ''),
      );
      print(json, models, `backend: ${backend()}\n${rows.join('\n')}`);
      return 0;
    }
    case 'eval': {
      const name = requireModelName(args, 'eval');
      await initBackend();
      const model = loadModel(name);
      if (model instanceof CharRNN) {
        // Language ID: the held-out words saved next to the shipped LSTM.
        const held = readWordSet(path.join(packageRoot(), 'assets', 'langid-lstm', 'heldout.json'));
        const guesses = model.classifyWords(held.words);
        const correct = guesses.filter((g, i) => g.label === held.languages[held.labels[i]]).length;
        model.dispose();
        const out = { model: name, metric: 'accuracy', value: correct / held.words.length, n: held.words.length };
        print(json, out, `backend: ${backend()}\n${name}: held-out accuracy ${out.value.toFixed(4)} on ${out.n} words`);
        return 0;
      }
      if (model instanceof KeywordCNN) {
        // Keyword spotting: the committed clips of held-out speakers, clean and at each SNR.
        const evaluation = evaluateKeywords(model, loadKeywordHeldOut());
        model.dispose();
        const bySnr = evaluation.results.map((r) => ({ snr: Number.isFinite(r.snrDb) ? r.snrDb : 'clean', accuracy: r.accuracy }));
        const out = { model: name, metric: 'accuracy', value: evaluation.results[0].accuracy, n: evaluation.results[0].n, bySnr };
        print(json, out, `backend: ${backend()}\n${name}: held-out accuracy ${bySnr.map((r) => `${r.snr === 'clean' ? 'clean' : `${r.snr} dB`} ${r.accuracy.toFixed(4)}`).join(', ')} on ${out.n} clips of unseen speakers`);
        return 0;
      }
      const result = evaluateDigits(model, loadMnist().heldOut);
      (model as DigitsCNN).dispose();
      const out = { model: name, metric: result.metric, value: result.value, n: result.n };
      print(json, out, `backend: ${backend()}\n${name}: held-out ${result.metric} ${result.value.toFixed(4)} on ${result.n} digits`);
      return 0;
    }
    case 'run': {
      const name = requireModelName(args, 'run');
      const inputSpec = args.flags.get('input');
      const gptInput = gptRunInput(args, usage);
      await initBackend();
      if (gptInput) return withGpt(name, 'run', ' (--text and --tokens are for GPT models; an image model takes --input)', (gpt) => runGpt(gpt, gptInput, json));
      const loaded = loadModel(name);
      if (loaded instanceof GPT || typeof inputSpec !== 'string') {
        (loaded as DigitsCNN).dispose();
        throw usage(loaded instanceof GPT ? `run ${name} needs --text STR or --tokens 1,2,3 (it is a GPT).` : 'run needs --input <file.png|file.json|heldout:N>.');
      }
      const model = loaded as DigitsCNN;
      const input = readInput(inputSpec);
      try {
        const trace = model.trace(input, { keepTensors: true });
        const top = model.classify(input, 3)[0];
        const steps = trace.steps.map((s) => ({ name: s.name, shape: s.outputShape }));
        const tracePath = args.flags.get('trace');
        if (typeof tracePath === 'string') {
          const full = trace.steps.map(({ tensor, ...rest }) => rest);
          fs.writeFileSync(tracePath, JSON.stringify({ model: name, backend: backend(), steps: full }, null, 2) + '\n');
        }
        const text = `backend: ${backend()}\n${trace.toString()}\n\nprediction: ${top.map((p) => `${p.label} (${(p.p * 100).toFixed(1)}%)`).join(', ')}`;
        trace.dispose();
        print(json, { model: name, top, steps }, text);
      } finally {
        input.dispose();
        model.dispose();
      }
      return 0;
    }
    case 'generate': {
      const name = requireModelName(args, 'generate');
      const { prompt, options } = generateOptions(args, usage);
      await initBackend();
      return withGpt(name, 'generate', '', (gpt) => generateText(gpt, prompt, options, json));
    }
    case 'compare':
      return compare(args, json);
    case 'train':
      return train(args);
    case 'kernel': {
      const action = args.positional[1];
      if (action === 'install') {
        const dir = await installKernel();
        // The project's own JupyterLab (if any) prefers the spec inside its venv: refresh that one too.
        const venvDir = fs.existsSync(VENV_DIR) ? await installKernel(venvKernelDir()) : null;
        print(json, { installed: true, dir, venv_dir: venvDir }, `installed kernel "TypeScript (Inference Lab)" in ${dir}${venvDir ? ` and ${venvDir}` : ''}`);
      } else if (action === 'remove') {
        await removeKernel();
        print(json, { installed: false }, 'removed kernel "inference-lab"');
      } else if (action === 'status') {
        const status = kernelStatus();
        print(json, status, status.installed ? `installed in ${status.dir}\nargv: ${(status.argv ?? []).join(' ')}` : 'not installed (run: inference-lab kernel install)');
      } else {
        throw new UsageError(`kernel needs one of install, remove, status; got ${action ?? 'nothing'}.`);
      }
      return 0;
    }
    case 'lab': {
      const sync = syncWorkspace(path.join(packageRoot(), 'notebooks'), defaultWorkspaceDir(), packageRoot());
      const lines = [`your notebooks: ${sync.dir}`];
      if (sync.added.length) lines.push(`  copied in from the course: ${sync.added.join(', ')}`);
      if (sync.updated.length) lines.push(`  updated to the course's new version (you had not edited them): ${sync.updated.join(', ')}`);
      if (sync.keptEdited.length) lines.push(`  the course changed these, but you edited them, so they are kept: ${sync.keptEdited.join(', ')} (inference-lab reset-notebook NN takes the course's version)`);
      process.stderr.write(lines.join('\n') + '\n');
      return startLab(sync.dir);
    }
    case 'reset-notebook': {
      const which = args.positional[1];
      if (!which) throw new UsageError('reset-notebook needs a notebook: its number (e.g. 04) or file name.');
      const r = resetNotebook(path.join(packageRoot(), 'notebooks'), defaultWorkspaceDir(), which);
      print(json, r, `${r.path} is the course's version again${r.backup ? `; your edited copy is kept as ${r.backup}` : ''}`);
      return 0;
    }
    case 'serve': {
      const portFlag = args.flags.get('port');
      const port = portFlag === undefined ? 8080 : Number(portFlag);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${String(portFlag)}: expected an integer 0..65535.`);
      const hostFlag = args.flags.get('host');
      const host = typeof hostFlag === 'string' ? hostFlag : '127.0.0.1';
      // Loaded here so the other commands never load Express.
      const { serve } = require('./server/main') as typeof import('./server/main');
      const site = await serve({ port, host });
      if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
        process.stderr.write(`inference-lab: serving on ${host}: anyone who can reach this address can use the site (compute is rate-limited).\n`);
      }
      print(json, { url: site.url, backend: backend() }, `Inference Lab: lessons, stepper and comparison at ${site.url}  (backend ${backend()}; Ctrl-C to stop)`);
      return new Promise<number>((resolve) => {
        const stop = () => void site.close().then(() => resolve(0));
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    }
    default:
      throw new UsageError(`Unknown command "${command}". Commands: models, eval, run, generate, compare, lab, reset-notebook, serve, kernel, backend.`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`inference-lab: ${message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
