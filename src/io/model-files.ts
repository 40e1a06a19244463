// A shipped model on disk: `config.json` ({architecture, config, ...what trained it}) and
// `weights.safetensors`. Shared by every model class, so every one fails the same clear way.
import * as fs from 'fs';
import * as path from 'path';
import type { tf } from '../engine/tf';
import { readSafetensors, serializeSafetensors, takeTensor, WeightsError } from './safetensors';

/** Write a model directory; `extra` records how it was made (task, trainedBy, heldOut, ...). */
export function saveModelFiles(dir: string, architecture: string, config: unknown, weights: Record<string, tf.Variable>, extra: Record<string, unknown> = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'weights.safetensors'), serializeSafetensors(weights, { format: 'inference-lab', model: architecture }));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architecture, config, ...extra }, null, 2) + '\n');
}

/** The `config` of a model directory, checking that it holds the expected architecture. */
export function readModelConfig<C>(dir: string, architecture: string): C {
  const configFile = path.join(dir, 'config.json');
  let saved: { architecture?: string; config?: C };
  try {
    saved = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  } catch (err) {
    throw new WeightsError(`Cannot read model config ${configFile}: ${(err as Error).message}.`);
  }
  if (saved.architecture !== architecture || !saved.config) {
    throw new WeightsError(`${configFile}: expected {"architecture": "${architecture}", "config": {...}}, got architecture ${JSON.stringify(saved.architecture)}.`);
  }
  return saved.config;
}

/** The `optimization` entry of a model directory's config.json (undefined when the model was saved unoptimized). */
export function readSavedOptimization(dir: string): unknown {
  const configFile = path.join(dir, 'config.json');
  return (JSON.parse(fs.readFileSync(configFile, 'utf8')) as { optimization?: unknown }).optimization;
}

/** Fill every variable from the directory's safetensors; a missing or misshaped tensor is named. */
export function loadWeightsInto(dir: string, weights: Record<string, tf.Variable>): void {
  const file = path.join(dir, 'weights.safetensors');
  const parsed = readSafetensors(file);
  for (const [key, variable] of Object.entries(weights)) {
    const value = takeTensor(parsed, key, variable.shape, file);
    variable.assign(value);
    value.dispose();
  }
}

/** Build a model from a directory's config and fill its weights; frees it if the weights do not fit. */
export function loadModelDir<C, M extends { weights: Record<string, tf.Variable>; dispose(): void }>(dir: string, architecture: string, create: (config: C) => M): M {
  const model = create(readModelConfig<C>(dir, architecture));
  try {
    loadWeightsInto(dir, model.weights);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
