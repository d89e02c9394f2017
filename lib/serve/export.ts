/**
 * `das export`: the compact DAS model of a run (export-format.ts): only the tensors it executes,
 * so the pre-trained weights of skipped layers are left out, and loading it needs nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadAdapters } from '../models/adapter-checkpoint.js';
import { DasError } from '../errors.js';
import { isExecuted } from '../models/architecture.js';
import { exportSectionOf, type ExportSection } from '../models/export-format.js';
import { checkpointConfigJson, locateCheckpoint } from '../models/pretrained.js';
import { loadPretrained } from '../models/pretrained-any.js';
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
  /** Write into a non-empty folder that is not a previous export (only the export's three files are replaced there). */
  force?: boolean;
}

/** The files an export consists of. */
export const EXPORT_FILES = ['model.safetensors', 'config.json', 'tokenizer.json'] as const;

function isPreviousExport(dir: string, entries: string[]): boolean {
  if (!entries.every((name) => (EXPORT_FILES as readonly string[]).includes(name) || isAtomicTemp(name))) return false;
  try {
    return exportSectionOf(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>, dir) !== undefined;
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
  if (entries.every(isAtomicTemp) || isPreviousExport(out, entries) || options.force) return out;
  const listed = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, ... (${entries.length} entries)` : '');
  throw new DasError(
    'DAS_INVALID_ARGUMENT',
    `--out ${out} is not empty (it has: ${listed}) and holds no previous export; choose a new or empty folder, ` +
      `or pass --force to write ${EXPORT_FILES.join(', ')} there (other files are left alone)`,
  );
}

export async function exportRun(options: ExportOptions): Promise<ExportResult> {
  const runDir = RunDir.open(options.run);
  const config = runDir.readConfig<ResolvedRunConfig>();
  const out = checkExportTarget(options, runDir, config);
  const adaptersDir = runDir.adaptersFor(options.adapters);
  const architecture = config.architecture;
  const { model, files } = await loadPretrained(architecture, config.checkpoint, { task: config.task, seed: config.seed, numAnswers: config.numAnswers });
  let skipped: string[];
  let kept;
  try {
    ({ skipped } = await loadAdapters(model, adaptersDir));
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
  removeAtomicTemps(out, EXPORT_FILES);
  const cost = modelCost(architecture, model.config, skipped);
  return { out, bytes: fs.statSync(weights).size, sourceBytes: fs.statSync(files.weights).size, flops: cost.flops, baseFlops: cost.baseFlops, skipped };
}
