/**
 * Opening a published checkpoint: a file (model.safetensors, pytorch_model.bin, a Lightning .ckpt)
 * or a folder holding config.json, the weights and tokenizer.json. Nothing is downloaded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DasError, invalidArgument } from '../errors.js';
import { checkRegularFile } from '../util/regular-file.js';
import { readConfigJson } from './config-json.js';
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
  if (typeof spec !== 'string' || spec === '') throw invalidArgument('checkpoint', 'a file or folder path', spec);
  if (!fs.existsSync(spec)) throw new DasError('DAS_FILE', `checkpoint ${spec} does not exist`);
  const isDir = fs.statSync(spec).isDirectory();
  const dir = isDir ? spec : path.dirname(spec);
  const weights = isDir ? WEIGHT_FILES.map((f) => path.join(spec, f)).find((f) => fs.existsSync(f)) : spec;
  if (!weights) throw new DasError('DAS_FILE', `checkpoint folder ${spec} holds none of ${WEIGHT_FILES.join(', ')}`);
  checkRegularFile(weights, 'Checkpoint weights'); // a FIFO or device would block the reader
  // a folder describes its model in config.json; without one it would be built at the published sizes and fail on every shape
  if (isDir && !fs.existsSync(path.join(spec, 'config.json'))) {
    throw new DasError('DAS_CHECKPOINT', `checkpoint folder ${spec} has no config.json (it gives the model's sizes); add the one the weights were saved with, or pass the weights file itself to build the published configuration`);
  }
  const beside = (name: string) => (fs.existsSync(path.join(dir, name)) ? path.join(dir, name) : undefined);
  const files: CheckpointFiles = { weights };
  const config = beside('config.json');
  const tokenizer = beside('tokenizer.json');
  if (config) files.config = config;
  if (tokenizer) files.tokenizer = tokenizer;
  return files;
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
  return files.config ? readConfigJson(files.config) : undefined;
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
    ...extraLayers(model, report),
    ...report.mismatched.slice(0, 10).map((m) => `shape of ${m.name}: model [${m.expected.join(', ')}], checkpoint [${m.received.join(', ')}]`),
    ...(report.mismatched.length > 10 ? [`... ${report.mismatched.length - 10} more shape mismatches`] : []),
    ...(missing.length ? [`missing ${expect.label}: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? `, ... (${missing.length})` : ''}`] : []),
  ];
  if (problems.length === 0) return;
  // the usual cause of many mismatches: a weights file without its config.json, built at the published sizes
  const config = path.join(path.dirname(weights), 'config.json');
  if (report.mismatched.length > 0 && !fs.existsSync(config)) {
    problems.unshift(`there is no ${config}, so the model was built with the published ${model.architecture} configuration; put the config.json the weights were saved with beside them`);
  }
  throw new DasError('DAS_CHECKPOINT', `${weights} does not fit a ${model.architecture} model:\n  - ${problems.join('\n  - ')}`);
}

/** The first numbered part of a parameter name ("roberta.encoder.layer.", 3), when it has one. */
function stackOf(name: string): [string, number] | undefined {
  const match = /^(.*?\.)(\d+)\./.exec(name);
  return match ? [match[1]!, Number(match[2])] : undefined;
}

/**
 * Layer stacks in which the checkpoint has more layers than the model builds: a config.json with
 * fewer layers than the weights would otherwise give a silently truncated model.
 */
function extraLayers(model: Model, report: NativeLoadReport): string[] {
  const built = new Map<string, number>();
  for (const { name } of model.parameters()) {
    const stack = stackOf(name);
    if (stack) built.set(stack[0], Math.max(built.get(stack[0]) ?? 0, stack[1] + 1));
  }
  const held = new Map<string, number>();
  for (const name of report.unexpected) {
    const stack = stackOf(name);
    if (stack && built.has(stack[0]) && stack[1] >= built.get(stack[0])!) held.set(stack[0], Math.max(held.get(stack[0]) ?? 0, stack[1] + 1));
  }
  return [...held].map(([prefix, count]) => `the weights hold ${count} layers of ${prefix}* but the configuration builds ${built.get(prefix)}: config.json has fewer layers than the weights`);
}

/** A pre-trained checkpoint must provide every pre-trained weight (trainable or not) and the heads that never train. */
export function checkPretrainedLoad(model: Model, report: NativeLoadReport, weights: string): void {
  const needed = new Set(model.parameters().filter((p) => p.role === 'pretrained' || p.role === 'frozen_head').map((p) => p.name));
  checkLoad(model, report, weights, { needed: (name) => needed.has(name), label: 'pre-trained weights' });
}
