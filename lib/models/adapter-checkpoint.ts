/**
 * Our own checkpoints of what a method trains: every trainable tensor (the method's modules, skip
 * adapters, task parts, heads; all weights for full tuning) in `adapters.safetensors`, and a JSON
 * sidecar `adapters.json` that says which model they belong to (architecture, configuration, method,
 * layer names) and which layers are skipped. The frozen backbone is not copied: it comes from the
 * pre-trained checkpoint.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DasError } from '../errors.js';
import { writeSafetensors } from '../native/checkpoint.js';
import { packageVersion } from '../package-info.js';
import { writeJsonAtomic } from '../util/atomic-file.js';
import type { MethodConfig } from '../methods/index.js';
import type { Model } from './model.js';

export const ADAPTER_TENSORS = 'adapters.safetensors';
export const ADAPTER_SIDECAR = 'adapters.json';

export interface AdapterSidecar {
  format: 'das-torch-adapters';
  version: 1;
  architecture: string;
  config: Record<string, unknown>;
  /** The method that trained them (absent in sidecars written before methods: das). */
  method?: MethodConfig;
  layerNames: string[];
  skipped: string[];
  task?: string;
  createdBy: string;
}

/** Writes the model's trainable tensors and the sidecar into `dir` (each file atomically). */
export async function saveAdapters(model: Model, dir: string, info: { skipped: string[]; task?: string }): Promise<AdapterSidecar> {
  const layerNames = model.layerNames();
  for (const name of info.skipped) {
    if (!layerNames.includes(name)) throw new DasError('DAS_INVALID_ARGUMENT', `cannot save: skipped layer ${name} is not a layer of this model`);
  }
  const sidecar: AdapterSidecar = {
    format: 'das-torch-adapters',
    version: 1,
    architecture: model.architecture,
    config: { ...model.config },
    method: { ...model.method },
    layerNames,
    skipped: [...info.skipped],
    ...(info.task ? { task: info.task } : {}),
    createdBy: `das-torch ${packageVersion}`,
  };
  fs.mkdirSync(dir, { recursive: true });
  await writeSafetensors(path.join(dir, ADAPTER_TENSORS), await model.state('trainable'), { format: sidecar.format, sidecar: ADAPTER_SIDECAR });
  writeJsonAtomic(path.join(dir, ADAPTER_SIDECAR), sidecar);
  return sidecar;
}

export function readAdapterSidecar(dir: string): AdapterSidecar {
  const file = path.join(dir, ADAPTER_SIDECAR);
  if (!fs.existsSync(file)) throw new DasError('DAS_FILE', `${file} does not exist (not a das-torch adapter checkpoint)`);
  let sidecar: AdapterSidecar;
  try {
    sidecar = JSON.parse(fs.readFileSync(file, 'utf8')) as AdapterSidecar;
  } catch (error) {
    throw new DasError('DAS_CHECKPOINT', `${file}: not valid JSON (${(error as Error).message})`);
  }
  if (sidecar.format !== 'das-torch-adapters' || sidecar.version !== 1) {
    throw new DasError('DAS_CHECKPOINT', `${file}: expected format "das-torch-adapters" version 1, found ${JSON.stringify(sidecar.format)} version ${sidecar.version}`);
  }
  if (!Array.isArray(sidecar.skipped) || !Array.isArray(sidecar.layerNames) || typeof sidecar.config !== 'object') {
    throw new DasError('DAS_CHECKPOINT', `${file}: fields skipped, layerNames and config are required`);
  }
  return sidecar;
}

/**
 * Loads adapters saved by saveAdapters into `model` (built from the same pre-trained checkpoint).
 * The architecture and every configuration field must match; every trainable tensor must be there.
 */
export async function loadAdapters(model: Model, dir: string): Promise<AdapterSidecar> {
  const sidecar = readAdapterSidecar(dir);
  if (sidecar.architecture !== model.architecture) {
    throw new DasError('DAS_CHECKPOINT', `${dir} holds adapters of a ${sidecar.architecture} model, not ${model.architecture}`);
  }
  // nested sections (METER's vision and text) compare by value
  const differing = Object.entries(model.config).filter(([key, value]) => JSON.stringify(sidecar.config[key]) !== JSON.stringify(value));
  if (differing.length) {
    const detail = differing.map(([key, value]) => `${key}: model ${JSON.stringify(value)}, saved ${JSON.stringify(sidecar.config[key])}`).join('; ');
    throw new DasError('DAS_CHECKPOINT', `${dir} was saved from a differently configured model (${detail})`);
  }
  const saved = JSON.stringify(sidecar.method ?? { name: 'das' });
  if (saved !== JSON.stringify(model.method)) {
    throw new DasError('DAS_CHECKPOINT', `${dir} holds what method ${saved} trained, but the model was built with ${JSON.stringify(model.method)}`);
  }
  await model.loadCheckpoint(path.join(dir, ADAPTER_TENSORS), { strict: true, expect: 'trainable' });
  return sidecar;
}
