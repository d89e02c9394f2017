/**
 * Opening a pre-trained checkpoint of any architecture: the configuration from its config.json (or
 * the architecture's published preset), the model built, the weights loaded and checked. RoBERTa
 * details (exports, HF names) live in pretrained.ts.
 */
import type { NativeLoadReport } from '../native/binding.js';
import { meterConfigFor } from './meter-config.js';
import { Model, type Architecture, type ConfigByArchitecture, type ModelOptions } from './model.js';
import { robertaLayerNames } from './flops.js';
import { checkPretrainedLoad, checkpointConfigJson, checkpointRobertaConfig, loadPretrainedRoberta, locateCheckpoint, type CheckpointFiles } from './pretrained.js';
import { meterScope, viltLayerNames } from './vl-flops.js';
import type { RobertaTask } from './presets.js';
import { VILT_B32, viltConfigFromHf, type VisionLanguageTask } from './vilt-config.js';

export interface AnyPretrainedOptions extends ModelOptions {
  task: string;
  /** VQA answer vocabulary size, when it is not 3129. */
  numAnswers?: number;
}

export interface AnyPretrained {
  model: Model;
  files: CheckpointFiles;
  report: NativeLoadReport;
}

/** The model configuration a checkpoint describes for `task`, without loading weights. */
export function checkpointModelConfig<A extends Architecture>(architecture: A, spec: string, task: string, numAnswers?: number): ConfigByArchitecture[A] {
  if (architecture === 'roberta') return checkpointRobertaConfig(spec, { task: task as RobertaTask }) as ConfigByArchitecture[A];
  const answers = numAnswers ? { numAnswers } : {};
  const vlTask = task as VisionLanguageTask;
  if (architecture === 'meter') return meterConfigFor(vlTask, answers) as ConfigByArchitecture[A];
  const json = checkpointConfigJson(spec);
  return (json ? viltConfigFromHf(json, locateCheckpoint(spec).config!, { task: vlTask, ...answers }) : { ...VILT_B32, task: vlTask, ...answers }) as ConfigByArchitecture[A];
}

export async function loadPretrained(architecture: Architecture, spec: string, options: AnyPretrainedOptions): Promise<AnyPretrained> {
  if (architecture === 'roberta') return loadPretrainedRoberta(spec, { ...options, task: options.task as RobertaTask });
  const files = locateCheckpoint(spec);
  const model = await Model.create(architecture, checkpointModelConfig(architecture, spec, options.task, options.numAnswers), options);
  const report = await model.loadCheckpoint(files.weights);
  checkPretrainedLoad(model, report, files.weights);
  return { model, files, report };
}

/** Skippable layers (the global scope) of the model a checkpoint describes, without loading weights. */
export function checkpointLayerNames(architecture: Architecture, spec: string): string[] {
  if (architecture === 'roberta') return robertaLayerNames(checkpointRobertaConfig(spec));
  if (architecture === 'vilt') return viltLayerNames(checkpointModelConfig('vilt', spec, 'vqa'));
  return meterScope(meterConfigFor('vqa'), 'global');
}
