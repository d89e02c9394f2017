/**
 * Opening a published checkpoint: a file (model.safetensors, pytorch_model.bin, a Lightning .ckpt)
 * or a folder holding config.json, the weights and tokenizer.json. Nothing is downloaded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DasError } from '../errors.js';
import type { NativeLoadReport } from '../native/binding.js';
import { Model, type ModelOptions } from './model.js';
import { ROBERTA_TASK_LABELS, type RobertaTask } from './presets.js';
import { ROBERTA_BASE, robertaConfigFromHf, type RobertaConfig } from './roberta-config.js';
import { exportSectionOf } from './export-format.js';

const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'];

export interface CheckpointFiles {
  weights: string;
  /** config.json beside the weights, when there is one. */
  config?: string;
  /** tokenizer.json beside the weights, when there is one. */
  tokenizer?: string;
}

/** Finds the weights, config.json and tokenizer.json of a checkpoint file or folder. */
export function locateCheckpoint(spec: string): CheckpointFiles {
  if (!fs.existsSync(spec)) throw new DasError('DAS_FILE', `checkpoint ${spec} does not exist`);
  const isDir = fs.statSync(spec).isDirectory();
  const dir = isDir ? spec : path.dirname(spec);
  const weights = isDir ? WEIGHT_FILES.map((f) => path.join(spec, f)).find((f) => fs.existsSync(f)) : spec;
  if (!weights) throw new DasError('DAS_FILE', `checkpoint folder ${spec} holds none of ${WEIGHT_FILES.join(', ')}`);
  const beside = (name: string) => (fs.existsSync(path.join(dir, name)) ? path.join(dir, name) : undefined);
  const files: CheckpointFiles = { weights };
  const config = beside('config.json');
  const tokenizer = beside('tokenizer.json');
  if (config) files.config = config;
  if (tokenizer) files.tokenizer = tokenizer;
  return files;
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new DasError('DAS_FILE', `${file}: cannot read JSON (${(error as Error).message})`, { cause: error });
  }
}

export interface PretrainedOptions extends ModelOptions {
  /** Sets the number of labels of the head (mnli 3, sst2 2). */
  task?: RobertaTask;
  /** Changes on top of config.json (adapter sizes, dropout, ...). */
  overrides?: Partial<RobertaConfig>;
}

/** config.json of a checkpoint, or undefined when it has none. */
export function checkpointConfigJson(spec: string): Record<string, unknown> | undefined {
  const files = locateCheckpoint(spec);
  return files.config ? readJson(files.config) : undefined;
}

/** The model configuration a checkpoint describes (config.json, else roberta-base), without loading weights. */
export function checkpointRobertaConfig(spec: string, options: Pick<PretrainedOptions, 'task' | 'overrides'> = {}): RobertaConfig {
  const files = locateCheckpoint(spec);
  const json = checkpointConfigJson(spec);
  const labels = options.task ? { numLabels: ROBERTA_TASK_LABELS[options.task] } : {};
  return json ? robertaConfigFromHf(json, files.config!, { ...labels, ...options.overrides }) : { ...ROBERTA_BASE, ...labels, ...options.overrides };
}

export interface Pretrained {
  model: Model<'roberta'>;
  files: CheckpointFiles;
  report: NativeLoadReport;
}

/**
 * Builds the model from config.json (roberta-base when there is none) and loads the weights. Fails,
 * naming the keys, when a pre-trained weight is missing or mis-shaped; keys the model does not use
 * (an MLM head, a pooler) are only reported. Exported DAS models load through loadPretrained.
 */
export async function loadPretrainedRoberta(spec: string, options: PretrainedOptions = {}): Promise<Pretrained> {
  const files = locateCheckpoint(spec);
  const json = checkpointConfigJson(spec);
  if (json && exportSectionOf(json, files.config!)) throw new DasError('DAS_INVALID_ARGUMENT', `${spec} is an exported DAS model: open it with loadPretrained('roberta', ...)`);
  const model = await Model.create('roberta', checkpointRobertaConfig(spec, options), options);
  const report = await model.loadCheckpoint(files.weights);
  checkPretrainedLoad(model, report, files.weights);
  return { model, files, report };
}

/**
 * Fails, naming them, on mis-shaped keys and on `needed` parameters the checkpoint did not provide;
 * keys the model does not use are left to the report.
 */
export function checkLoad(model: Model, report: NativeLoadReport, weights: string, expect: { needed: (name: string) => boolean; label: string }): void {
  const missing = report.missing.filter(expect.needed);
  const problems = [
    ...report.mismatched.map((m) => `shape of ${m.name}: model [${m.expected.join(', ')}], checkpoint [${m.received.join(', ')}]`),
    ...(missing.length ? [`missing ${expect.label}: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? `, ... (${missing.length})` : ''}`] : []),
  ];
  if (problems.length) throw new DasError('DAS_CHECKPOINT', `${weights} does not fit a ${model.architecture} model:\n  - ${problems.join('\n  - ')}`);
}

/** A pre-trained checkpoint must provide every pre-trained weight (trainable or not) and the heads that never train. */
export function checkPretrainedLoad(model: Model, report: NativeLoadReport, weights: string): void {
  const needed = new Set(model.parameters().filter((p) => p.role === 'pretrained' || p.role === 'frozen_head').map((p) => p.name));
  checkLoad(model, report, weights, { needed: (name) => needed.has(name), label: 'pre-trained weights' });
}
