/**
 * `das export`: the compact model of a run (export-format.ts): only the tensors it executes, so the
 * pre-trained weights of skipped layers are left out, LoRA deltas folded into the weights, and
 * loading it needs nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DasError } from '../errors.js';
import { PEFT_CONFIG, PEFT_WEIGHTS, savePeftAdapter } from '../methods/lora/peft.js';
import { loadAdapters } from '../models/adapter-checkpoint.js';
import type { Model } from '../models/model.js';
import { isExecuted } from '../models/architecture.js';
import { exportSectionOf, type ExportSection } from '../models/export-format.js';
import { checkpointConfigJson, locateCheckpoint } from '../models/pretrained.js';
import { loadPretrained } from '../models/pretrained-any.js';
import { exportedMethod } from '../methods/index.js';
import { runMethod } from '../train/runs.js';
import { writeSafetensors } from '../native/checkpoint.js';
import { checkRunFolder, RunDir, runFolderState } from '../train/run-dir.js';
import { modelCost } from '../train/run-model.js';
import type { ResolvedRunConfig } from '../train/runs.js';
import { FIXED_TASK_LABELS } from '../train/task-labels.js';
import { copyFileAtomic, isAtomicTemp, removeAtomicTemps, writeJsonAtomic } from '../util/atomic-file.js';

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
  /** A training (or search) run directory. */
  run: string;
  /** The folder to write: new, empty, or holding a previous export (replaced). */
  out: string;
  /** Which adapters: the best evaluation's (default when saved) or the final ones. */
  adapters?: 'best' | 'final';
  /** das (default): the compact model; peft: the LoRA adapter in HuggingFace PEFT's format (RoBERTa). */
  format?: 'das' | 'peft';
  /** Write into a non-empty folder that is not a previous export (only the export's own files are replaced there). */
  force?: boolean;
}

/** The files an export of each format consists of (the first one tells a previous export apart). */
export const EXPORT_FILES = { das: ['config.json', 'model.safetensors', 'tokenizer.json'], peft: [PEFT_CONFIG, PEFT_WEIGHTS] } as const;

function isPreviousExport(dir: string, entries: string[], format: 'das' | 'peft'): boolean {
  const files: readonly string[] = EXPORT_FILES[format];
  if (!entries.every((name) => files.includes(name) || isAtomicTemp(name))) return false;
  try {
    const json = JSON.parse(fs.readFileSync(path.join(dir, files[0]!), 'utf8')) as Record<string, unknown>;
    return format === 'das' ? exportSectionOf(json, dir) !== undefined : typeof json.peft_type === 'string';
  } catch {
    return false;
  }
}

/**
 * Where an export may go: never into a run folder or the run's pre-trained checkpoint folder; into
 * a non-empty folder only when it holds a previous export, or with `force`. Returns the folder.
 */
function checkExportTarget(options: ExportOptions, runDir: RunDir, config: ResolvedRunConfig): string {
  const out = checkRunFolder(options.out);
  const format = options.format ?? 'das';
  if (out === runDir.dir || ['started', 'resumable', 'finished'].includes(runFolderState(out).kind)) {
    throw new DasError('DAS_INVALID_ARGUMENT', `--out ${out} is a run directory: an export never writes into one (it would replace the run's config.json); choose another folder`);
  }
  const source = path.dirname(path.resolve(locateCheckpoint(config.checkpoint).weights));
  if (out === source) throw new DasError('DAS_INVALID_ARGUMENT', `--out ${out} holds the run's pre-trained checkpoint, which the export would replace; choose another folder`);
  let entries: string[];
  try {
    entries = fs.readdirSync(out);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw new DasError('DAS_INVALID_ARGUMENT', `--out ${out} is not a folder that can be written (${(error as Error).message})`, { cause: error });
  }
  if (entries.every(isAtomicTemp) || isPreviousExport(out, entries, format) || options.force) return out;
  const listed = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, ... (${entries.length} entries)` : '');
  throw new DasError(
    'DAS_INVALID_ARGUMENT',
    `--out ${out} is not empty (it has: ${listed}) and holds no previous export; choose a new or empty folder, ` +
      `or pass --force to write ${EXPORT_FILES[format].join(', ')} there (other files are left alone)`,
  );
}

export async function exportRun(options: ExportOptions): Promise<ExportResult> {
  const runDir = RunDir.open(options.run);
  const config = runDir.readConfig<ResolvedRunConfig>();
  const out = checkExportTarget(options, runDir, config);
  const adaptersDir = runDir.adaptersFor(options.adapters);
  const architecture = config.architecture;
  const { model, files } = await loadPretrained(architecture, config.checkpoint, { task: config.task, seed: config.seed, numAnswers: config.numAnswers, method: runMethod(config) });
  let skipped: string[];
  let kept;
  try {
    ({ skipped } = await loadAdapters(model, adaptersDir));
    if (options.format === 'peft') return await exportPeft(model, out, config.checkpoint, files.weights, skipped);
    await model.mergeLora(); // no inference cost: the deltas live in the weights from here on
    const descriptor = model.describe();
    const state = await model.state('all');
    kept = Object.fromEntries(Object.entries(state).filter(([name]) => isExecuted(descriptor, name, skipped)));
  } finally {
    await model.dispose();
  }

  fs.mkdirSync(out, { recursive: true });
  const weights = path.join(out, 'model.safetensors');
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
  // config.json last: a folder with an export's config.json holds a whole export
  const tokenizer = locateCheckpoint(config.checkpoint).tokenizer ?? config.tokenizer;
  if (tokenizer && fs.existsSync(tokenizer)) copyFileAtomic(tokenizer, path.join(out, 'tokenizer.json'));
  await writeSafetensors(weights, kept, { format: section.format, architecture, skipped: skipped.join(',') });
  // the source's own config.json fields stay (HuggingFace tools read them); the das section is what loading uses
  const labels = id2label(runDir, config.task);
  const { id2label: _names, label2id: _ids, num_labels: _count, ...source } = checkpointConfigJson(config.checkpoint) ?? {};
  const label2id = labels && Object.fromEntries(Object.entries(labels).filter(([, name]) => name !== '').map(([i, name]) => [name, Number(i)]));
  writeJsonAtomic(path.join(out, 'config.json'), { ...source, model_type: source.model_type ?? architecture, ...(labels ? { id2label: labels, label2id } : {}), das: section });
  removeAtomicTemps(out, EXPORT_FILES.das);
  const cost = modelCost(architecture, model.config, skipped, section.method);
  return { out, bytes: fs.statSync(weights).size, sourceBytes: fs.statSync(files.weights).size, flops: cost.flops, baseFlops: cost.baseFlops, skipped };
}
