#!/usr/bin/env node
// The `inference-lab` command. Output with --json is a contract other tools rely on; errors are
// one line on stderr and a non-zero exit, never a stack trace.
import { assertFiniteTrace } from '../hooks/non-finite';
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
// The registrations the entry (src/index.ts) makes: views for display, the ONNX fast path for compile('onnx').
import '../viz/register';
import '../fastpath/register';
import { progressBar } from '../engine/display';
import { tf } from '../engine/tf';
import { initBackend, backend, backendInfo, backendLabel, nativeStatus } from '../engine/backend';
import { setupNative, NativeSetupError } from '../engine/native-build';
import { assetsDir, entryOf, evaluateModel, isTfjsModelDir, listModels, loadModel, modelInfo, modelNames, packageRoot, readEvalData, tfjsModelRefusal } from '../models/registry';
import { loadImportedModel } from '../models/imported';
import { defaultWorkspaceDir, resetNotebook, syncWorkspace } from '../io/workspace';
import { installKernel, installUserKernel, removeKernel, kernelStatus, startLab, venvKernelDir, VENV_DIR } from '../../kernel/install';
import type { GPT } from '../models/gpt';
import type { Translator, Translation } from '../models/translator';
import { readTranslationHeldOut } from '../data/translation';
import { GENERATE_FLAGS, GPT_RUN_FLAGS, generateOptions, generateText, gptRunInput, runGpt } from './gpt';
import { parseCommandLine, UsageError, type Args, type FlagSpec } from './args';
import { compareCommand } from './compare';

const USAGE = `inference-lab: learn, inspect and measure how model inference works

Usage:
  inference-lab models [dir] [--json]                 shipped models with their held-out metric (or one model
                                                      directory: a Hugging Face GPT-2 or a TensorFlow.js model.json)
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
                [--force]                             (install keeps a kernel of another existing clone unless --force)
  inference-lab backend                               which TensorFlow.js backend runs (package, TensorFlow
                                                      version, device) and whether a native build is here
  inference-lab backend install cpu|gpu               build tfjs-node (or -gpu) into .native/ from npm + PyPI
                                                      (= npm run setup:native [-- --gpu]; needs g++, pip)
  inference-lab train <digits|langid> [--epochs N] [--seed S] [--cell lstm|gru|both]
                                                      retrain a shipped model (writes assets/), with a progress bar`;

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : text + '\n');
}

function requireModelName(args: Args, command: string): string {
  const name = args.positional[1];
  if (!name) throw new UsageError(`${command} needs a model name. Known models: ${modelNames().join(', ')}.`);
  if (isTfjsModelDir(name)) throw new UsageError(tfjsModelRefusal(name, command));
  return name;
}

/** `models DIR` for a TensorFlow.js model folder: its format, input, output, size and hook points (no task: the registry knows none). */
async function describeTfjsModel(dir: string, json: boolean): Promise<void> {
  const model = await loadImportedModel(dir);
  try {
    const info = {
      name: model.name,
      task: null,
      architecture: `tfjs ${model.format}`,
      input: { name: model.input.name, shape: model.input.shape, dtype: model.input.dtype },
      output: model.outputHook,
      params: model.parameterCount,
      bytes: model.byteSize,
      heldOut: null,
      hookPoints: model.hookNames.length,
      commands: 'eval, run and compare need a task (labels, an input encoding, a metric), which a model.json does not declare: use lab.loadImportedModel in code',
    };
    const text =
      `${dir}: TensorFlow.js ${model.format}, input ${info.input.name} [${info.input.shape.join(', ')}] ${info.input.dtype}, output ${info.output}, ` +
      `${info.params} params, ${info.bytes} bytes, ${info.hookPoints} hook points\n${info.commands}.`;
    print(json, info, text);
  } finally {
    model.dispose();
  }
}

/** `compare`: the original against optimized copies, for every registered model (src/cli/compare.ts). */
async function compare(args: Args, json: boolean): Promise<number> {
  const name = requireModelName(args, 'compare');
  const entry = entryOf(name); // an unknown model fails before the backend starts
  if (entry.notComparable) throw usage(`compare ${name}: ${name} is ${entry.notComparable}.`);
  await initBackend();
  const result = await compareCommand(name, args, json);
  await new Promise<void>((resolve) => process.stdout.write((json ? JSON.stringify(result.json) : result.text) + '\n', () => resolve()));
  return 0;
}

const usage = (message: string) => new UsageError(message);

/**
 * Load `name` (a shipped model or a directory), check that it is a GPT, run `body` on it and
 * write what it returns to stdout (waiting for the write: the logits of a long text are megabytes).
 */
async function withGpt(name: string, command: string, hint: string, body: (model: GPT) => string): Promise<number> {
  const entry = entryOf(name);
  if (entry.input !== 'text') throw usage(`${command} ${name}: ${name} is not a language model (it reads ${entry.input}: ${entry.inputHelp})${hint}. Language models: ${modelNames().filter((n) => entryOf(n).input === 'text').join(', ')}, or a Hugging Face GPT-2 directory.`);
  const model = loadModel(name) as GPT; // the entry says: a GPT
  try {
    const out = body(model);
    await new Promise<void>((resolve) => process.stdout.write(out + '\n', () => resolve()));
  } finally {
    model.dispose();
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
    if (flag === 'seed' && Number(v) > 2 ** 32 - 1) throw new UsageError(`--seed expects a whole number 0..${2 ** 32 - 1} (seeds are 32 bits; larger ones would alias smaller); got ${String(v)}.`);
    if (flag === 'epochs' && Number(v) > 1000) throw new UsageError(`--epochs expects a whole number 0..1000; got ${String(v)}.`);
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
  eval: { data: 'string', json: 'boolean' },
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
    data: 'string',
    json: 'boolean',
  },
  train: { epochs: 'string', seed: 'string', cell: 'string' },
  kernel: { json: 'boolean', force: 'boolean' },
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
      const sub = args.positional[1];
      if (sub === 'install') {
        const variant = args.positional[2] ?? 'cpu';
        if (variant !== 'cpu' && variant !== 'gpu') throw new UsageError(`backend install expects cpu or gpu; got "${variant}"`);
        try {
          await setupNative(variant);
        } catch (err) {
          if (err instanceof NativeSetupError) {
            console.error(err.message);
            return 1;
          }
          throw err;
        }
        return 0;
      }
      if (sub !== undefined) throw new UsageError(`Unknown backend subcommand "${sub}". Use: inference-lab backend [install cpu|gpu] [--json]`);
      const name = await initBackend();
      const info = backendInfo();
      const native = nativeStatus();
      const lines = [`backend: ${backendLabel()}`];
      if (name !== 'tensorflow') lines.push(`native: ${native.summary}`);
      print(json, { backend: name, package: info.package, version: info.version, tensorflow: info.tensorflow, device: info.device, native: native.summary }, lines.join('\n'));
      return 0;
    }
    case 'models': {
      const dir = args.positional[1];
      await initBackend();
      if (dir !== undefined && isTfjsModelDir(dir)) {
        await describeTfjsModel(dir, json);
        return 0;
      }
      const models = dir === undefined ? listModels() : [modelInfo(dir)];
      const rows = models.map(
        (m) =>
          `${m.name.padEnd(28)} ${m.input.padEnd(6)} ${String(m.params).padStart(8)} params ${String(m.bytes).padStart(9)} bytes  ` +
          (m.heldOut ? `${m.heldOut.metric} ${m.heldOut.value.toFixed(4)}${m.heldOut.lowerIsBetter ? ' (lower is better)' : ''} (n=${m.heldOut.n})` : 'no held-out figure'),
      );
      print(json, models, `backend: ${backendLabel()}\n${rows.join('\n')}`);
      return 0;
    }
    case 'eval': {
      const name = requireModelName(args, 'eval');
      const dataFlag = args.flags.get('data');
      const entry = entryOf(name); // an unknown model or architecture fails here, before the backend starts
      await initBackend();
      const data = typeof dataFlag === 'string' ? readEvalData(name, dataFlag) : undefined;
      const model = loadModel(name);
      try {
        const r = evaluateModel(name, model, data);
        const out = { model: name, metric: r.metric, lower_is_better: r.lowerIsBetter, value: r.value, n: r.n, data: r.data, ...(r.extra ?? {}) };
        const bySnr = r.extra?.bySnr as { snr: number | 'clean'; accuracy: number }[] | undefined;
        const detail = bySnr && bySnr.length > 1 ? ` (${bySnr.map((b) => `${b.snr === 'clean' ? 'clean' : `${b.snr} dB`} ${b.accuracy.toFixed(4)}`).join(', ')})` : '';
        print(json, out, `backend: ${backendLabel()}\n${name} (${entry.input} model): ${r.metric} ${r.value.toFixed(4)}${r.lowerIsBetter ? ' (lower is better)' : ''} on n=${r.n}${detail}\ndata: ${r.data}`);
      } finally {
        model.dispose();
      }
      return 0;
    }
    case 'run': {
      const name = requireModelName(args, 'run');
      const inputSpec = args.flags.get('input');
      const gptInput = gptRunInput(args, usage);
      const entry = entryOf(name);
      await initBackend();
      if (entry.input === 'text') {
        if (!gptInput) throw usage(`run ${name} needs ${entry.inputHelp} (it is a language model).`);
        const model = loadModel(name) as GPT; // the entry says: a GPT
        try {
          const out = runGpt(model, gptInput, json);
          await new Promise<void>((resolve) => process.stdout.write(out + '\n', () => resolve())); // the logits of a long text are megabytes
        } finally {
          model.dispose();
        }
        return 0;
      }
      if (gptInput) throw usage(`run ${name}: --text and --tokens are for language models; ${name} takes ${entry.inputHelp}.`);
      if (typeof inputSpec !== 'string') throw usage(`run ${name} needs ${entry.inputHelp}.`);
      if (entry.input === 'sentence') {
        const translator = loadModel(name) as Translator; // the entry says: a translator
        try {
          let greedy: Translation;
          let beam: Translation;
          try {
            const spanish = /^heldout:\d+$/.test(inputSpec) ? translatorHeldOutVerse(inputSpec) : inputSpec;
            greedy = translator.translate(spanish);
            beam = translator.translate(spanish, { beamWidth: 4 });
          } catch (err) {
            throw usage((err as Error).message);
          }
          const out = { model: name, source: greedy.source, greedy: greedy.text, beam: beam.text, greedyLogProb: greedy.logProb, beamLogProb: beam.logProb };
          print(json, out, `backend: ${backendLabel()}\nSpanish (as read): ${greedy.source.join(' ')}\ngreedy:           ${greedy.text}  (log p ${greedy.logProb.toFixed(2)})\nbeam search (4):  ${beam.text}  (log p ${beam.logProb.toFixed(2)})`);
        } finally {
          translator.dispose();
        }
        return 0;
      }
      const model = loadModel(name);
      let input: tf.Tensor | null = null;
      try {
        try {
          input = entry.encode(model, inputSpec);
        } catch (err) {
          throw usage((err as Error).message);
        }
        const trace = model.trace(input, { keepTensors: true });
        try {
          assertFiniteTrace(trace); // NaN/Infinity is no answer: name the step where it starts
        } catch (err) {
          trace.dispose();
          throw err;
        }
        const steps = trace.steps.map((s) => ({ name: s.name, shape: s.outputShape }));
        if (entry.estimate) {
          // A regression model answers with a number in the target's units, not labels with probabilities.
          const { values, target } = entry.estimate(model, input);
          const text = `backend: ${backendLabel()}\n${trace.toString()}\n\nprediction: ${values.map((v) => v.toFixed(1)).join(', ')} (${target})`;
          trace.dispose();
          print(json, { model: name, values, target, steps }, text);
          return 0;
        }
        const top = entry.predict(model, input, 3);
        const tracePath = args.flags.get('trace');
        if (typeof tracePath === 'string') {
          const full = trace.steps.map(({ tensor, ...rest }) => rest);
          fs.writeFileSync(tracePath, JSON.stringify({ model: name, backend: backend(), steps: full }, null, 2) + '\n');
        }
        const text = `backend: ${backendLabel()}\n${trace.toString()}\n\nprediction: ${top.map((p) => `${p.label} (${(p.p * 100).toFixed(1)}%)`).join(', ')}`;
        trace.dispose();
        print(json, { model: name, top, steps }, text);
      } finally {
        input?.dispose();
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
        const user = await installUserKernel({ force: args.flags.has('force') });
        // The project's own JupyterLab (if any) prefers the spec inside its venv: refresh that one too.
        const venvDir = fs.existsSync(VENV_DIR) ? await installKernel(venvKernelDir()) : null;
        print(json, { installed: user.action !== 'kept', action: user.action, dir: user.dir, previous: user.previous, venv_dir: venvDir }, `${user.message}${venvDir ? `\nthe project's JupyterLab: ${venvDir}` : ''}`);
      } else if (action === 'remove') {
        await removeKernel();
        print(json, { installed: false }, 'removed kernel "inference-lab"');
      } else if (action === 'status') {
        const status = kernelStatus();
        const runs = status.entry === null ? '' : `\nruns: ${status.entry} (${!status.entryExists ? 'MISSING: that clone is gone; run: inference-lab kernel install' : path.resolve(status.entry) === path.join(packageRoot(), 'dist', 'kernel', 'main.js') ? 'this clone' : 'another clone; inference-lab kernel install --force switches to this one'})`;
        print(json, status, status.installed ? `installed in ${status.dir}${runs}\nargv: ${(status.argv ?? []).join(' ')}` : 'not installed (run: inference-lab kernel install)');
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
      const { serve } = require('../server/main') as typeof import('../server/main');
      const site = await serve({ port, host });
      if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
        process.stderr.write(`inference-lab: serving on ${host}: anyone who can reach this address can use the site (compute is rate-limited).\n`);
      }
      print(json, { url: site.url, backend: backend() }, `Inference Lab: lessons, stepper and comparison at ${site.url}  (backend ${backendLabel()}; Ctrl-C to stop)`);
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

/** The Spanish tokens of held-out verse N of the translator (`heldout:N`). */
function translatorHeldOutVerse(spec: string): string[] {
  const verses = readTranslationHeldOut(path.join(assetsDir(), 'translator-es-en')).verses;
  const i = Number(spec.slice('heldout:'.length));
  if (i >= verses.length) throw new Error(`${spec} is out of range; expected heldout:0..${verses.length - 1}.`);
  return verses[i].es;
}
