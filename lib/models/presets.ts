/** Named model configurations for `das flops` (no weights needed) and the tasks they take. */
import fs from 'node:fs';
import path from 'node:path';
import { DasError, invalidArgument } from '../errors.js';
import type { MethodConfig } from '../methods/index.js';
import { exportSectionOf } from './export-format.js';
import { meterConfigFor, meterConfigFromJson, type MeterConfig } from './meter-config.js';
import { ROBERTA_BASE, robertaConfigFromHf, type RobertaConfig } from './roberta-config.js';
import { VILT_B32, VL_TASKS, viltConfigFromHf, type ViltConfig, type VisionLanguageTask } from './vilt-config.js';

export const ROBERTA_TASK_LABELS = { mnli: 3, sst2: 2 } as const;
export type RobertaTask = keyof typeof ROBERTA_TASK_LABELS;

export const PRESETS = ['roberta-base', 'vilt-b32', 'meter-clip16-roberta'] as const;

export type ResolvedModel = (
  | { name: string; architecture: 'roberta'; config: RobertaConfig }
  | { name: string; architecture: 'vilt'; config: ViltConfig }
  | { name: string; architecture: 'meter'; config: MeterConfig }
) & {
  /** An exported model's skipped layers. */
  skipped?: string[];
  /** An exported model's method. */
  method?: MethodConfig;
};

function visionLanguageTask(task: string | undefined, model: string): VisionLanguageTask {
  if (task === undefined) return 'vqa';
  if (!VL_TASKS.includes(task as VisionLanguageTask)) throw invalidArgument('--task', `one of ${VL_TASKS.join(', ')} for ${model}`, task);
  return task as VisionLanguageTask;
}

function robertaOverrides(task: string | undefined): Partial<RobertaConfig> {
  const labels = task === undefined ? undefined : ROBERTA_TASK_LABELS[task as RobertaTask];
  if (task !== undefined && labels === undefined) throw invalidArgument('--task', `one of ${Object.keys(ROBERTA_TASK_LABELS).join(', ')} for RoBERTa`, task);
  return labels === undefined ? {} : { numLabels: labels };
}

/** A preset name, or a checkpoint folder with a config.json (HuggingFace RoBERTa or ViLT, das-torch's METER, or an exported DAS model). */
export function resolveModel(spec: string, task: string | undefined): ResolvedModel {
  if (spec === 'roberta-base') return { name: spec, architecture: 'roberta', config: { ...ROBERTA_BASE, ...robertaOverrides(task) } };
  if (spec === 'vilt-b32') return { name: spec, architecture: 'vilt', config: { ...VILT_B32, task: visionLanguageTask(task, 'ViLT') } };
  if (spec === 'meter-clip16-roberta') return { name: spec, architecture: 'meter', config: meterConfigFor(visionLanguageTask(task, 'METER')) };
  const configPath = path.join(spec, 'config.json');
  if (!fs.existsSync(configPath)) {
    throw invalidArgument('--model', `a preset (${PRESETS.join(', ')}) or a folder with config.json`, spec);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new DasError('DAS_FILE', `${configPath}: not valid JSON (${(error as Error).message})`);
  }
  const exported = exportSectionOf(json, configPath);
  if (exported) return { name: spec, architecture: exported.architecture, config: exported.config, skipped: exported.skipped, ...(exported.method ? { method: exported.method } : {}) } as ResolvedModel;
  if (json.model_type === 'meter') return { name: spec, architecture: 'meter', config: meterConfigFromJson(json, configPath, visionLanguageTask(task, 'METER')) };
  if (json.model_type === 'vilt') {
    return { name: spec, architecture: 'vilt', config: viltConfigFromHf(json, configPath, { task: visionLanguageTask(task, 'ViLT') }) };
  }
  if (json.model_type !== undefined && json.model_type !== 'roberta') {
    throw new DasError('DAS_CHECKPOINT', `${configPath}: model_type ${JSON.stringify(json.model_type)} is not supported here (expected "roberta", "vilt" or "meter")`);
  }
  return { name: spec, architecture: 'roberta', config: robertaConfigFromHf(json, configPath, robertaOverrides(task)) };
}
