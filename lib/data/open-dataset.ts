/**
 * One entry point from (task, data directory, split, model) to an in-memory dataset, whichever
 * format the directory holds: the ViLT/METER Arrow files when any are present, else the official
 * release layout (VQA JSON + COCO, NLVR2 jsonl, Karpathy JSON), and GLUE TSV for text tasks.
 */
import { readdir } from 'node:fs/promises';
import { DasError, invalidArgument } from '../errors.js';
import { openF30kArrow, openNlvr2Arrow, openVqaArrow } from './arrow-datasets.js';
import { datasetSize, TASKS, type DatasetFormat, type ModelName, type ProblemHandler, type TaskDataset, type TaskName } from './dataset-types.js';
import { openGlue } from './glue-tsv.js';
import { openFlickr30kKarpathy } from './karpathy-f30k.js';
import { openNlvr2Official } from './nlvr2-official.js';
import { checkSplit } from './splits.js';
import { openVqaOfficial } from './vqa-official.js';

export interface OpenDatasetConfig {
  task: TaskName;
  /** Dataset directory. */
  data: string;
  /** Default 'train'. */
  split?: string;
  /** Decides the VQA split files (ViLT or METER); default 'vilt' for vision tasks. */
  model?: ModelName;
  /** Default: detected ('arrow' when the directory holds the task's .arrow files). */
  format?: DatasetFormat;
  /** VQA classifier size for Arrow files. Default 3129. */
  numAnswers?: number;
  /** VQA official JSON: answers seen at least this often form the vocabulary. Default 9. */
  minAnswerCount?: number;
  /** Collect row-level problems instead of throwing the first. */
  onProblem?: ProblemHandler;
}

const ARROW_PREFIX: Record<'vqa' | 'nlvr2' | 'irtr', string> = { vqa: 'vqav2_', nlvr2: 'nlvr2_', irtr: 'f30k_caption_karpathy_' };

export async function detectFormat(task: TaskName, dir: string): Promise<DatasetFormat> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new DasError('DAS_FILE', `Dataset directory ${dir} does not exist or cannot be read: ${(err as Error).message}`, { cause: err });
  }
  if (task === 'mnli' || task === 'sst2') return 'official';
  return entries.some((e) => e.startsWith(ARROW_PREFIX[task]) && e.endsWith('.arrow')) ? 'arrow' : 'official';
}

/** Opens a split; a split without a single example is an error that names its files. */
export async function openTaskDataset(config: OpenDatasetConfig): Promise<TaskDataset> {
  const dataset = await openSplit(config);
  if (datasetSize(dataset) === 0) {
    throw new DasError('DAS_DATA', `the ${dataset.split} split of ${config.task} holds no examples (read from ${dataset.files.join(', ')})`);
  }
  return dataset;
}

async function openSplit(config: OpenDatasetConfig): Promise<TaskDataset> {
  if (!TASKS.includes(config.task)) throw invalidArgument('task', TASKS.map((t) => JSON.stringify(t)).join(' or '), config.task);
  if (typeof config.data !== 'string' || config.data === '') throw invalidArgument('data directory', 'a path', config.data);
  const split = config.split ?? 'train';
  checkSplit(config.task, split);
  const format = config.format ?? (await detectFormat(config.task, config.data));
  const visionModel = config.model === 'meter' ? 'meter' : 'vilt';
  const arrowOptions = { onProblem: config.onProblem, numAnswers: config.numAnswers };
  switch (config.task) {
    case 'vqa':
      return format === 'arrow'
        ? openVqaArrow(config.data, split, visionModel, arrowOptions)
        : openVqaOfficial(config.data, split, visionModel, { minAnswerCount: config.minAnswerCount });
    case 'nlvr2':
      return format === 'arrow' ? openNlvr2Arrow(config.data, split, arrowOptions) : openNlvr2Official(config.data, split, { onProblem: config.onProblem });
    case 'irtr':
      return format === 'arrow' ? openF30kArrow(config.data, split, arrowOptions) : openFlickr30kKarpathy(config.data, split);
    case 'mnli':
    case 'sst2':
      return openGlue(config.data, config.task, split, { onProblem: config.onProblem });
  }
}
