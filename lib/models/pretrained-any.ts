/**
 * Opening a checkpoint of any architecture: the configuration from its config.json (or the
 * architecture's published preset), the model built, the weights loaded and checked. A DAS model
 * written by `das export` brings its whole configuration and only the tensors it executes. RoBERTa
 * details (HF names) live in pretrained.ts.
 */
import { DasError } from '../errors.js';
import type { NativeLoadReport } from '../native/binding.js';
import { describeArchitecture, isExecuted, layerNames } from './architecture.js';
import { exportSectionOf, type ExportSection } from './export-format.js';
import { meterConfigFor, meterConfigFromJson } from './meter-config.js';
import { Model, type Architecture, type ConfigByArchitecture, type ModelOptions } from './model.js';
import { checkLoad, checkPretrainedLoad, checkpointConfigJson, checkpointRobertaConfig, locateCheckpoint, type CheckpointFiles } from './pretrained.js';
import { ROBERTA_TASK_LABELS, type RobertaTask } from './presets.js';
import { VILT_B32, viltConfigFromHf, type VisionLanguageTask } from './vilt-config.js';

export interface AnyPretrainedOptions extends ModelOptions {
  task: string;
  /** VQA answer vocabulary size, when it is not 3129. */
  numAnswers?: number;
  /** The model exactly as published: no adapters, no METER token4classifier (predict without a run). */
  withoutAdapters?: boolean;
}

export interface AnyPretrained {
  model: Model;
  files: CheckpointFiles;
  report: NativeLoadReport;
  /** Set when the checkpoint is a DAS model written by `das export`. */
  exported?: ExportSection;
}

/** What a checkpoint's folder says about it, read once: its files, config.json, and the `das` section of an export. */
export interface CheckpointDescription {
  files: CheckpointFiles;
  json?: Record<string, unknown>;
  exported?: ExportSection;
}

export function describeCheckpoint(spec: string): CheckpointDescription {
  const files = locateCheckpoint(spec);
  const json = checkpointConfigJson(spec);
  const exported = json ? exportSectionOf(json, files.config!) : undefined;
  return { files, ...(json ? { json } : {}), ...(exported ? { exported } : {}) };
}

/** The `das` section of an exported DAS model's config.json, or undefined for any other checkpoint. */
export function exportedSection(spec: string): ExportSection | undefined {
  return describeCheckpoint(spec).exported;
}

/** The model exactly as published: no adapters, and METER without DAS's token4classifier. */
export function withoutAdapters<A extends Architecture>(architecture: A, config: ConfigByArchitecture[A]): ConfigByArchitecture[A] {
  const none = { adapterBottleneck: 0, skipBottleneck: 0 };
  if (architecture !== 'meter') return { ...config, ...none };
  const meter = config as ConfigByArchitecture['meter'];
  return { ...meter, ...none, classifierToken: false, text: { ...meter.text, ...none } } as ConfigByArchitecture[A];
}

const MODEL_TYPES: readonly string[] = ['roberta', 'vilt', 'meter'];

/** Fails when the checkpoint says it holds another architecture (an export's section, or config.json's model_type). */
export function checkArchitecture(architecture: Architecture, spec: string, described = describeCheckpoint(spec)): void {
  const { exported, json } = described;
  if (exported && exported.architecture !== architecture) throw new DasError('DAS_INVALID_ARGUMENT', `${spec} is an exported ${exported.architecture} model, not ${architecture}`);
  const type = json?.model_type;
  if (!exported && typeof type === 'string' && MODEL_TYPES.includes(type) && type !== architecture) {
    throw new DasError('DAS_INVALID_ARGUMENT', `${spec} holds a ${type} model (config.json model_type), not ${architecture}`);
  }
}

/** The model configuration a checkpoint describes for `task`, without loading weights. */
export function checkpointModelConfig<A extends Architecture>(architecture: A, spec: string, task: string, numAnswers?: number, described = describeCheckpoint(spec)): ConfigByArchitecture[A] {
  checkArchitecture(architecture, spec, described);
  const { exported, json, files } = described;
  if (exported) return exported.config as ConfigByArchitecture[A];
  // a RoBERTa task sizes the head; without one (predict) config.json does
  if (architecture === 'roberta') return checkpointRobertaConfig(spec, task in ROBERTA_TASK_LABELS ? { task: task as RobertaTask } : {}) as ConfigByArchitecture[A];
  const answers = numAnswers ? { numAnswers } : {};
  const vlTask = task as VisionLanguageTask;
  if (architecture === 'meter') return (json ? meterConfigFromJson(json, files.config!, vlTask, answers) : meterConfigFor(vlTask, answers)) as ConfigByArchitecture[A];
  return (json ? viltConfigFromHf(json, files.config!, { task: vlTask, ...answers }) : { ...VILT_B32, task: vlTask, ...answers }) as ConfigByArchitecture[A];
}

/**
 * Builds the model a checkpoint describes and loads its weights. A pre-trained checkpoint must
 * provide every frozen weight; an exported DAS model every tensor it executes (the weights of its
 * skipped layers are expected to be absent).
 */
export async function loadPretrained(architecture: Architecture, spec: string, options: AnyPretrainedOptions): Promise<AnyPretrained> {
  const described = describeCheckpoint(spec);
  const { files, exported } = described;
  const config = checkpointModelConfig(architecture, spec, options.task, options.numAnswers, described);
  // an exported model is built with the method its tensors were written for
  const method = exported ? (exported.method ?? 'das') : options.method;
  const model = await Model.create(architecture, options.withoutAdapters ? withoutAdapters(architecture, config) : config, { ...options, method });
  try {
    const report = await model.loadCheckpoint(files.weights);
    if (exported) {
      const descriptor = model.describe();
      checkLoad(model, report, files.weights, { needed: (name) => isExecuted(descriptor, name, exported.skipped), label: 'weights' });
    } else {
      checkPretrainedLoad(model, report, files.weights);
    }
    return { model, files, report, ...(exported ? { exported } : {}) };
  } catch (error) {
    await model.dispose(); // a checkpoint that does not fit leaves no native model behind
    throw error;
  }
}

/** Skippable layers (the global scope) of the model a checkpoint describes, without loading weights. */
export function checkpointLayerNames(architecture: Architecture, spec: string): string[] {
  const task = architecture === 'roberta' ? 'sst2' : 'vqa';
  return layerNames(describeArchitecture(architecture, checkpointModelConfig(architecture, spec, task)));
}
