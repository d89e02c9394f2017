/**
 * LoRA adapters in HuggingFace PEFT's format: a folder with `adapter_config.json` and
 * `adapter_model.safetensors`, whose keys are `base_model.model.<module>.lora_A.weight` /
 * `lora_B.weight` and, for the modules PEFT saves whole (`modules_to_save`: the task head),
 * `base_model.model.<module>.<param>`. das-torch registers RoBERTa under HuggingFace's names, so a
 * PEFT adapter of a RobertaForSequenceClassification loads here and one written here loads in PEFT.
 * ViLT (fused qkv under the official names) and METER (no HuggingFace class) keep das-torch's own
 * adapter format.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DasError } from '../../errors.js';
import type { HostTensor } from '../../host-tensor.js';
import { describeArchitecture, type ArchitectureDescriptor } from '../../models/architecture.js';
import type { Model } from '../../models/model.js';
import type { NativeLoadReport } from '../../native/binding.js';
import { readCheckpoint, writeSafetensors } from '../../native/checkpoint.js';
import { packageVersion } from '../../package-info.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import type { LoraMethodConfig, LoraTarget } from './index.js';

export const PEFT_CONFIG = 'adapter_config.json';
export const PEFT_WEIGHTS = 'adapter_model.safetensors';
const PREFIX = 'base_model.model.';
/** RobertaForSequenceClassification's head, saved whole by PEFT (its SEQ_CLS default). */
const MODULES_TO_SAVE = ['classifier', 'score'];

function requireRoberta(architecture: string, what: string): void {
  if (architecture !== 'roberta') {
    throw new DasError('DAS_INVALID_ARGUMENT', `${what}: PEFT's format covers RoBERTa (HuggingFace names); ${architecture} adapters stay in das-torch's adapters/ format`);
  }
}

/** The roles whose projections PEFT's `target_modules` (a list of name suffixes, or one regex) selects. */
function rolesOf(targets: unknown, descriptor: ArchitectureDescriptor, file: string): LoraTarget[] {
  const matches = (module: string): boolean => {
    if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(module);
    if (Array.isArray(targets)) return targets.some((t) => typeof t === 'string' && (module === t || module.endsWith(`.${t}`)));
    throw new DasError('DAS_CHECKPOINT', `${file}: target_modules must be a list of module names or a regular expression, found ${JSON.stringify(targets)}`);
  };
  const roles = new Set<LoraTarget>();
  const partial = new Set<string>();
  for (const layer of descriptor.layers) {
    for (const p of layer.projections) {
      if (matches(`${layer.prefix}${p.module}`)) roles.add(p.role as LoraTarget);
      else partial.add(p.role);
    }
  }
  // das-torch puts a delta on a role in every adapted layer; PEFT could have picked some layers only
  for (const role of roles) {
    if (partial.has(role)) throw new DasError('DAS_CHECKPOINT', `${file}: target_modules selects ${role} in some layers only; das-torch applies LoRA to every layer`);
  }
  if (roles.size === 0) throw new DasError('DAS_CHECKPOINT', `${file}: target_modules ${JSON.stringify(targets)} selects no projection of this model`);
  return [...roles];
}

/** The LoRA configuration a PEFT adapter folder describes, for a model of `architecture` with `config`. */
export function readPeftConfig(dir: string, architecture: 'roberta' | 'vilt' | 'meter', config: object): LoraMethodConfig {
  requireRoberta(architecture, dir);
  const file = path.join(dir, PEFT_CONFIG);
  if (!fs.existsSync(file)) throw new DasError('DAS_FILE', `${file} does not exist (not a PEFT adapter folder)`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new DasError('DAS_CHECKPOINT', `${file}: not valid JSON (${(error as Error).message})`);
  }
  if (json.peft_type !== 'LORA') throw new DasError('DAS_CHECKPOINT', `${file}: peft_type ${JSON.stringify(json.peft_type)} is not LORA`);
  // PEFT options das-torch does not implement: refuse rather than compute something else
  const unsupported: [string, unknown][] = [
    ['use_dora', false], ['use_rslora', false], ['fan_in_fan_out', false], ['bias', 'none'], ['lora_bias', false], ['layers_to_transform', null],
  ];
  for (const [key, expected] of unsupported) {
    if (json[key] !== undefined && json[key] !== expected) throw new DasError('DAS_CHECKPOINT', `${file}: ${key} ${JSON.stringify(json[key])} is not supported (das-torch implements ${key} ${JSON.stringify(expected)})`);
  }
  for (const key of ['rank_pattern', 'alpha_pattern']) {
    const value = json[key];
    if (value && typeof value === 'object' && Object.keys(value).length) throw new DasError('DAS_CHECKPOINT', `${file}: per-layer ${key} is not supported`);
  }
  const number = (key: string): number => {
    if (typeof json[key] !== 'number' || !Number.isFinite(json[key])) throw new DasError('DAS_CHECKPOINT', `${file}: ${key} must be a number, found ${JSON.stringify(json[key])}`);
    return json[key] as number;
  };
  const targets = rolesOf(json.target_modules, describeArchitecture(architecture, config), file);
  return { name: 'lora', r: number('r'), alpha: number('lora_alpha'), dropout: json.lora_dropout === undefined ? 0 : number('lora_dropout'), targets, skipBottleneck: 0 };
}

/** The RoBERTa task a PEFT adapter's head is sized for (3 classes: mnli, 2: sst2). */
export async function peftTask(dir: string): Promise<'mnli' | 'sst2'> {
  const file = path.join(dir, PEFT_WEIGHTS);
  if (!fs.existsSync(file)) throw new DasError('DAS_FILE', `${file} does not exist (PEFT writes the adapter's tensors there)`);
  const name = `${PREFIX}classifier.out_proj.weight`;
  const head = (await readCheckpoint(file, { names: [name] })).tensors[name];
  if (!head) throw new DasError('DAS_CHECKPOINT', `${file} holds no ${name}: pass --task mnli or sst2`);
  if (head.shape[0] === 3) return 'mnli';
  if (head.shape[0] === 2) return 'sst2';
  throw new DasError('DAS_CHECKPOINT', `${file}: a head of ${head.shape[0]} classes is neither MNLI's (3) nor SST-2's (2)`);
}

/** Loads a PEFT adapter's tensors into `model`, built with readPeftConfig's method; every trainable tensor must be there. */
export async function loadPeftAdapter(model: Model, dir: string): Promise<NativeLoadReport> {
  requireRoberta(model.architecture, dir);
  if (model.method.name !== 'lora') throw new DasError('DAS_INVALID_ARGUMENT', `a PEFT LoRA adapter loads into a model built with method lora, not ${model.method.name}`);
  const file = path.join(dir, PEFT_WEIGHTS);
  if (!fs.existsSync(file)) throw new DasError('DAS_FILE', `${file} does not exist (PEFT writes the adapter's tensors there)`);
  const { tensors } = await readCheckpoint(file);
  const ours: Record<string, HostTensor> = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    if (!name.startsWith(PREFIX)) throw new DasError('DAS_CHECKPOINT', `${file}: key ${name} does not start with ${PREFIX}`);
    // PEFT's in-memory names carry the adapter name ("lora_A.default.weight"); saved files normally do not
    ours[name.slice(PREFIX.length).replace(/\.(lora_[AB])\.default\./, '.$1.').replace('.modules_to_save.default.', '.')] = tensor;
  }
  return model.loadState(ours, { strict: true, expect: 'trainable' });
}

/**
 * Writes the model's LoRA deltas and head in PEFT's format (unmerged, as PEFT keeps them). Skip
 * adapters and merged deltas have no PEFT form and are refused.
 */
export async function savePeftAdapter(model: Model, dir: string, options: { baseModel?: string } = {}): Promise<void> {
  requireRoberta(model.architecture, dir);
  const method = model.method;
  if (method.name !== 'lora' || method.merged) throw new DasError('DAS_INVALID_ARGUMENT', `PEFT's LoRA format needs a model with unmerged LoRA deltas (method ${method.name}${method.name === 'lora' ? ', merged' : ''})`);
  const params = model.parameters().filter((p) => p.trainable);
  const foreign = params.filter((p) => p.role === 'method' && !/\.lora_[AB]\.weight$/.test(p.name));
  if (foreign.length) throw new DasError('DAS_INVALID_ARGUMENT', `PEFT's LoRA format cannot hold ${foreign[0]!.name} (skip adapters are das-torch's own)`);
  const state = await model.state('trainable');
  const tensors = Object.fromEntries(Object.entries(state).map(([name, tensor]) => [`${PREFIX}${name}`, tensor]));
  const descriptor = model.describe();
  // module paths inside a layer ("attention.self.query"): PEFT matches them as name suffixes, and unlike
  // a bare "dense" they select exactly the targeted projections
  const modules = [...new Set(descriptor.layers.flatMap((layer) => layer.projections.filter((p) => method.targets.includes(p.role as LoraTarget)).map((p) => p.module)))];
  fs.mkdirSync(dir, { recursive: true });
  await writeSafetensors(path.join(dir, PEFT_WEIGHTS), tensors, { format: 'pt', written_by: `das-torch ${packageVersion}` });
  writeJsonAtomic(path.join(dir, PEFT_CONFIG), {
    peft_type: 'LORA',
    task_type: 'SEQ_CLS',
    base_model_name_or_path: options.baseModel ?? null,
    r: method.r,
    lora_alpha: method.alpha,
    lora_dropout: method.dropout,
    target_modules: modules,
    modules_to_save: MODULES_TO_SAVE,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    use_dora: false,
    init_lora_weights: true,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    inference_mode: true,
    revision: null,
  });
}
