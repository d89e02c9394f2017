/**
 * `das export`: the compact model of a run (export-format.ts): only the tensors it executes, so the
 * pre-trained weights of skipped layers are left out, LoRA deltas folded into the weights, and
 * loading it needs nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DasError } from '../errors.js';
import { PEFT_WEIGHTS, savePeftAdapter } from '../methods/lora/peft.js';
import { loadAdapters } from '../models/adapter-checkpoint.js';
import type { Model } from '../models/model.js';
import { isExecuted } from '../models/architecture.js';
import type { ExportSection } from '../models/export-format.js';
import { checkpointConfigJson, locateCheckpoint } from '../models/pretrained.js';
import { loadPretrained } from '../models/pretrained-any.js';
import { exportedMethod } from '../methods/index.js';
import { runMethod } from '../train/runs.js';
import { writeSafetensors } from '../native/checkpoint.js';
import { RunDir } from '../train/run-dir.js';
import { modelCost } from '../train/run-model.js';
import type { ResolvedRunConfig } from '../train/runs.js';
import { FIXED_TASK_LABELS } from '../train/task-labels.js';
import { writeJsonAtomic } from '../util/atomic-file.js';

export interface ExportResult {
  out: string;
  /** Bytes of the exported model.safetensors. */
  bytes: number;
  /** Bytes of the pre-trained weights file it came from. */
  sourceBytes: number;
  flops: number;
  baseFlops: number;
  skipped: string[];
}

/** A LoRA run's adapter as PEFT writes it (unmerged deltas and the head). */
async function exportPeft(model: Model, out: string, base: string, sourceWeights: string, skipped: string[]): Promise<ExportResult> {
  if (skipped.length) throw new DasError('DAS_INVALID_ARGUMENT', `the run skips ${skipped.join(', ')}: PEFT has no skip adapters; export it with --format das`);
  await savePeftAdapter(model, out, { baseModel: base });
  const cost = modelCost(model.architecture, model.config, [], model.method);
  return { out: path.resolve(out), bytes: fs.statSync(path.join(out, PEFT_WEIGHTS)).size, sourceBytes: fs.statSync(sourceWeights).size, flops: cost.flops, baseFlops: cost.baseFlops, skipped };
}

/** config.json's id2label: the run's class names (VQA answers, GLUE and NLVR2 classes), when it has them. */
function id2label(runDir: RunDir, task: string): Record<string, string> | undefined {
  const names = runDir.readLabels() ?? FIXED_TASK_LABELS[task];
  return names ? Object.fromEntries(names.map((name, i) => [String(i), name])) : undefined;
}

export interface ExportOptions {
  run: string;
  out: string;
  /** Which adapters of the run: the best evaluation's (default when there is one) or the final ones. */
  adapters?: 'best' | 'final';
  /** das (default): the compact model; peft: the LoRA adapter in HuggingFace PEFT's format (RoBERTa). */
  format?: 'das' | 'peft';
}

export async function exportRun(options: ExportOptions): Promise<ExportResult> {
  const runDir = RunDir.open(options.run);
  const config = runDir.readConfig<ResolvedRunConfig>();
  const architecture = config.architecture;
  const { model, files } = await loadPretrained(architecture, config.checkpoint, { task: config.task, seed: config.seed, numAnswers: config.numAnswers, method: runMethod(config) });
  const adaptersDir = options.adapters !== 'final' && fs.existsSync(runDir.bestAdaptersDir) ? runDir.bestAdaptersDir : runDir.adaptersDir;
  let skipped: string[];
  let kept;
  try {
    ({ skipped } = await loadAdapters(model, adaptersDir));
    if (options.format === 'peft') return await exportPeft(model, options.out, config.checkpoint, files.weights, skipped);
    await model.mergeLora(); // no inference cost: the deltas live in the weights from here on
    const descriptor = model.describe();
    const state = await model.state('all');
    kept = Object.fromEntries(Object.entries(state).filter(([name]) => isExecuted(descriptor, name, skipped)));
  } finally {
    await model.dispose();
  }

  fs.mkdirSync(options.out, { recursive: true });
  const weights = path.join(options.out, 'model.safetensors');
  const section: ExportSection = {
    format: 'das-torch-export',
    version: 2,
    architecture,
    task: config.task,
    skipped,
    config: model.config,
    method: exportedMethod(model.method),
    run: runDir.dir,
    source: config.checkpoint,
  };
  await writeSafetensors(weights, kept, { format: section.format, architecture, skipped: skipped.join(',') });
  // the source's own config.json fields stay (HuggingFace tools read them); the das section is what loading uses
  const labels = id2label(runDir, config.task);
  const { id2label: _names, label2id: _ids, num_labels: _count, ...source } = checkpointConfigJson(config.checkpoint) ?? {};
  const label2id = labels && Object.fromEntries(Object.entries(labels).filter(([, name]) => name !== '').map(([i, name]) => [name, Number(i)]));
  writeJsonAtomic(path.join(options.out, 'config.json'), { ...source, model_type: source.model_type ?? architecture, ...(labels ? { id2label: labels, label2id } : {}), das: section });
  const tokenizer = locateCheckpoint(config.checkpoint).tokenizer ?? config.tokenizer;
  if (tokenizer && fs.existsSync(tokenizer)) fs.copyFileSync(tokenizer, path.join(options.out, 'tokenizer.json'));
  const cost = modelCost(architecture, model.config, skipped, section.method);
  return { out: path.resolve(options.out), bytes: fs.statSync(weights).size, sourceBytes: fs.statSync(files.weights).size, flops: cost.flops, baseFlops: cost.baseFlops, skipped };
}
