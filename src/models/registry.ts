// The shipped models: each lives in assets/<name>/ as config.json + weights.safetensors,
// written by the training script named in its config.
import { readJsonFile } from '../io/read-file';
import * as fs from 'fs';
import * as path from 'path';
import { DigitsCNN } from './cnn';
import { CharRNN } from './rnn';
import { GPT } from './gpt';
import { loadGPT2 } from './gpt2-loader';
import { KeywordCNN } from './speech';
import type { HookedModel } from '../hooks/hooked-model';
import { assetsDir } from '../io/paths';

export { packageRoot, assetsDir } from '../io/paths';

export interface ModelInfo {
  name: string;
  task: string;
  architecture: string;
  params: number;
  bytes: number;
  heldOut: { metric: string; value: number; n: number } | null;
  trainedBy: string;
}

const LOADERS: Record<string, (dir: string, name: string) => HookedModel> = {
  'digits-cnn': (dir, name) => DigitsCNN.load(dir, name),
  'char-rnn': (dir, name) => CharRNN.load(dir, name),
  gpt: (dir, name) => GPT.load(dir, name),
  'kws-cnn': (dir, name) => KeywordCNN.load(dir, name),
};

/** Names of the shipped models (directories under assets/ with a known architecture). */
export function modelNames(): string[] {
  const root = assetsDir();
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((d) => fs.existsSync(path.join(root, d, 'config.json')))
    .sort();
}

function unknownModel(name: string): Error {
  return new Error(`Unknown model "${name}". Known models: ${modelNames().join(', ') || '(none shipped)'}.`);
}

export function modelInfo(name: string): ModelInfo {
  if (!modelNames().includes(name)) throw unknownModel(name);
  const dir = path.join(assetsDir(), name);
  const saved = readJsonFile(path.join(dir, 'config.json'), 'model config');
  const weightsBytes = fs.statSync(path.join(dir, 'weights.safetensors')).size;
  const model = loadModel(name);
  const params = 'parameterCount' in model ? (model as DigitsCNN).parameterCount : 0;
  (model as DigitsCNN).dispose?.();
  return {
    name,
    task: saved.task ?? '',
    architecture: saved.architecture,
    params,
    bytes: weightsBytes,
    heldOut: saved.heldOut ?? null,
    trainedBy: saved.trainedBy ?? '',
  };
}

export function listModels(): ModelInfo[] {
  return modelNames().map(modelInfo);
}

/** Load a shipped model by name, or a model directory by path (also a Hugging Face GPT-2 directory). */
export function loadModel(nameOrDir: string): HookedModel {
  const isDir = nameOrDir.includes(path.sep) || nameOrDir.startsWith('.');
  const dir = isDir ? path.resolve(nameOrDir) : path.join(assetsDir(), nameOrDir);
  if (!isDir && !modelNames().includes(nameOrDir)) throw unknownModel(nameOrDir);
  const configFile = path.join(dir, 'config.json');
  if (!fs.existsSync(configFile)) throw new Error(`No model at ${dir}: expected ${configFile} and weights.safetensors (or, for a Hugging Face GPT-2, model.safetensors).`);
  const saved = readJsonFile(configFile, 'model config');
  if (saved.model_type === 'gpt2' && saved.architecture === undefined) return loadGPT2(dir); // a Hugging Face GPT-2 directory
  const architecture = saved.architecture;
  const load = LOADERS[architecture];
  if (!load) throw new Error(`${configFile}: unknown architecture "${architecture}". Expected one of: ${Object.keys(LOADERS).join(', ')}.`);
  return load(dir, path.basename(dir));
}
