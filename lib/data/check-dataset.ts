/**
 * Validation of a dataset directory for one task (the engine of `das data check`): opens each
 * split the task trains and validates on, counts examples and images, reports the label vocabulary
 * size, checks that every image file exists and that a sample of images decodes, and collects the
 * first problems found instead of stopping at one.
 */
import { stat } from 'node:fs/promises';
import { DasError } from '../errors.js';
import { datasetSize, type DataProblem, type DatasetFormat, type ModelName, type TaskDataset, type TaskName } from './dataset-types.js';
import type { ImageRef } from './image-source.js';
import { readImageBytes } from './image-source.js';
import { decodeRgb } from './image-transform.js';
import { detectFormat, openTaskDataset } from './open-dataset.js';
import { fileKind } from '../util/regular-file.js';

export interface CheckDatasetConfig {
  task: TaskName;
  data: string;
  /** Splits to check. Default: train and val. */
  splits?: string[];
  model?: ModelName;
  format?: DatasetFormat;
  /** Images decoded per split (evenly spaced). Default 16. */
  imageSample?: number;
  /** Problems kept in the report (all are counted). Default 20. */
  maxProblems?: number;
  numAnswers?: number;
  minAnswerCount?: number;
}

export interface SplitReport {
  split: string;
  files: string[];
  /** Training examples (questions, sentence pairs, image-caption pairs, sentences). */
  examples: number;
  /** Distinct images, for image tasks. */
  images?: number;
  /** Why the split could not be read at all. */
  error?: string;
}

export interface DatasetReport {
  task: TaskName;
  data: string;
  format: DatasetFormat | 'unknown';
  ok: boolean;
  splits: SplitReport[];
  /** Classes of the task head: VQA answers, 2 for NLVR2 and SST-2, 3 for MNLI; absent for retrieval. */
  labelVocabularySize?: number;
  problemCount: number;
  problems: DataProblem[];
}

export async function checkDataset(config: CheckDatasetConfig): Promise<DatasetReport> {
  const maxProblems = config.maxProblems ?? 20;
  const report: DatasetReport = { task: config.task, data: config.data, format: 'unknown', ok: false, splits: [], problemCount: 0, problems: [] };
  const add = (p: DataProblem) => {
    report.problemCount++;
    if (report.problems.length < maxProblems) report.problems.push(p);
  };
  try {
    report.format = config.format ?? (await detectFormat(config.task, config.data));
  } catch (err) {
    add({ file: config.data, message: (err as Error).message });
    return report;
  }
  for (const split of config.splits ?? ['train', 'val']) {
    let ds: TaskDataset;
    try {
      ds = await openTaskDataset({ ...config, split, format: report.format, onProblem: add });
    } catch (err) {
      const message = (err as Error).message;
      report.splits.push({ split, files: [], examples: 0, error: message });
      add({ file: fileOf(err, config.data), where: `split ${split}`, message });
      continue;
    }
    const refs = imageRefs(ds);
    report.splits.push({ split, files: ds.files, examples: datasetSize(ds), ...(refs.length > 0 ? { images: uniqueImages(refs) } : {}) });
    report.labelVocabularySize = labelVocabularySize(ds);
    if (refs.length > 0) await checkImages(refs, config.imageSample ?? 16, split, add);
  }
  report.ok = report.problemCount === 0;
  return report;
}

function fileOf(err: unknown, fallback: string): string {
  const match = err instanceof DasError ? /(\/[^\s:,()]+)/.exec(err.message) : null;
  return match ? match[1]! : fallback;
}

function imageRefs(ds: TaskDataset): ImageRef[] {
  switch (ds.task) {
    case 'vqa':
      return ds.examples.map((e) => e.image);
    case 'nlvr2':
      return ds.examples.flatMap((e) => e.images);
    case 'irtr':
      return ds.images.map((i) => i.image);
    default:
      return [];
  }
}

function uniqueImages(refs: ImageRef[]): number {
  return new Set(refs.map((r) => `${r.file}@${r.offset ?? ''}`)).size;
}

function labelVocabularySize(ds: TaskDataset): number | undefined {
  if (ds.task === 'vqa') return ds.numAnswers;
  if (ds.task === 'nlvr2') return 2;
  if (ds.task === 'irtr') return undefined;
  return ds.labels.length;
}

/** Every whole-file image must exist; a spread sample of all images must decode. */
async function checkImages(refs: ImageRef[], sample: number, split: string, add: (p: DataProblem) => void): Promise<void> {
  const unique = [...new Map(refs.map((r) => [`${r.file}@${r.offset ?? ''}`, r])).values()];
  const files = unique.filter((r) => r.offset === undefined);
  for (let i = 0; i < files.length; i += 64) {
    await Promise.all(
      files.slice(i, i + 64).map(async (r) => {
        const info = await stat(r.file).catch(() => null);
        if (!info) add({ file: r.file, where: `split ${split}`, message: 'image file is missing' });
        else if (!info.isFile()) add({ file: r.file, where: `split ${split}`, message: `image file is ${fileKind(info)}, not a regular file` });
      }),
    );
  }
  const step = Math.max(1, Math.floor(unique.length / Math.max(1, sample)));
  for (let i = 0; i < unique.length && i / step < sample; i += step) {
    const ref = unique[i]!;
    try {
      await decodeRgb(await readImageBytes(ref));
    } catch (err) {
      if ((err as DasError).code === 'DAS_FILE' && ref.offset === undefined) continue; // already reported as missing
      add({ file: ref.file, where: `split ${split}`, message: `unreadable image ${ref.label}: ${(err as Error).message}` });
    }
  }
}

/** The human form of a report, for `das data check`. */
export function formatDatasetReport(report: DatasetReport): string {
  const lines = [`Dataset check: task ${report.task}, ${report.data} (format: ${report.format})`];
  for (const s of report.splits) {
    if (s.error) lines.push(`  ${s.split}: unreadable`);
    else lines.push(`  ${s.split}: ${s.examples} examples${s.images !== undefined ? `, ${s.images} images` : ''} from ${s.files.length} file(s)`);
  }
  if (report.labelVocabularySize !== undefined) lines.push(`  label vocabulary: ${report.labelVocabularySize}`);
  if (report.ok) lines.push('  OK: no problems found');
  else {
    lines.push(`  ${report.problemCount} problem(s)${report.problemCount > report.problems.length ? `, first ${report.problems.length}` : ''}:`);
    for (const p of report.problems) lines.push(`    - ${p.file}${p.where ? ` (${p.where})` : ''}: ${p.message}`);
  }
  return lines.join('\n');
}
