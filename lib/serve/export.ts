/**
 * `das export`: the compact DAS model of a run (export-format.ts): only the tensors it executes,
 * so the pre-trained weights of skipped layers are left out, and loading it needs nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DasError } from '../errors.js';
import { loadAdapters } from '../models/adapter-checkpoint.js';
import { isDroppedBySkip, isUnusedAdapter, type ExportSection } from '../models/export-format.js';
import { checkpointConfigJson, loadPretrainedRoberta, locateCheckpoint } from '../models/pretrained.js';
import type { RobertaTask } from '../models/presets.js';
import { writeSafetensors } from '../native/checkpoint.js';
import { RunDir } from '../train/run-dir.js';
import { modelCost } from '../train/run-model.js';
import type { ResolvedRunConfig } from '../train/runs.js';
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

export async function exportRun(options: { run: string; out: string; adapters?: 'best' | 'final' }): Promise<ExportResult> {
  const runDir = RunDir.open(options.run);
  const config = runDir.readConfig<ResolvedRunConfig>();
  if (config.architecture !== 'roberta') throw new DasError('DAS_INVALID_ARGUMENT', `exporting ${config.architecture} runs is not available yet`);
  const { model, files } = await loadPretrainedRoberta(config.checkpoint, { task: config.task as RobertaTask, seed: config.seed });
  const adaptersDir = options.adapters !== 'final' && fs.existsSync(runDir.bestAdaptersDir) ? runDir.bestAdaptersDir : runDir.adaptersDir;
  const { skipped } = await loadAdapters(model, adaptersDir);
  const state = await model.state('all');
  await model.dispose();
  const kept = Object.fromEntries(Object.entries(state).filter(([name]) => !isDroppedBySkip(name, skipped) && !isUnusedAdapter(name, skipped)));

  fs.mkdirSync(options.out, { recursive: true });
  const weights = path.join(options.out, 'model.safetensors');
  const section: ExportSection = {
    format: 'das-torch-export',
    version: 1,
    architecture: 'roberta',
    task: config.task,
    skipped,
    adapterBottleneck: model.config.adapterBottleneck,
    skipBottleneck: model.config.skipBottleneck,
    adapterScale: model.config.adapterScale,
    run: runDir.dir,
    source: config.checkpoint,
  };
  await writeSafetensors(weights, kept, { format: section.format, skipped: skipped.join(',') });
  const hf = checkpointConfigJson(config.checkpoint) ?? {};
  writeJsonAtomic(path.join(options.out, 'config.json'), { ...hf, model_type: 'roberta', num_labels: model.config.numLabels, das: section });
  const tokenizer = locateCheckpoint(config.checkpoint).tokenizer ?? config.tokenizer;
  if (tokenizer && fs.existsSync(tokenizer)) fs.copyFileSync(tokenizer, path.join(options.out, 'tokenizer.json'));
  const report = modelCost('roberta', model.config, skipped);
  return { out: path.resolve(options.out), bytes: fs.statSync(weights).size, sourceBytes: fs.statSync(files.weights).size, flops: report.flops, baseFlops: report.baseFlops, skipped };
}
