/**
 * Which files make up each split, as the original runs use them. ViLT trains VQA on
 * train + trainable_val and validates on rest_val (the last 1000 val images); METER trains on train
 * + val and validates on val. Flickr30k trains on Karpathy train + val and evaluates on test. NLVR2
 * validates on dev and tests on test1 (test-P).
 */
import { invalidArgument } from '../errors.js';
import type { ModelName, TaskName } from './dataset-types.js';

const VQA_ARROW: Record<'vilt' | 'meter', Record<string, string[]>> = {
  vilt: { train: ['vqav2_train', 'vqav2_trainable_val'], val: ['vqav2_rest_val'], test: ['vqav2_test'], 'test-dev': ['vqav2_test-dev'] },
  meter: { train: ['vqav2_train', 'vqav2_val'], val: ['vqav2_val'], test: ['vqav2_test'], 'test-dev': ['vqav2_test-dev'] },
};

const ARROW: Record<'nlvr2' | 'irtr', Record<string, string[]>> = {
  nlvr2: { train: ['nlvr2_train'], val: ['nlvr2_dev'], test: ['nlvr2_test1'] },
  irtr: { train: ['f30k_caption_karpathy_train', 'f30k_caption_karpathy_val'], val: ['f30k_caption_karpathy_test'], test: ['f30k_caption_karpathy_test'] },
};

/** Number of val2014 images ViLT holds out as rest_val (the rest is trainable_val). */
export const VILT_REST_VAL_IMAGES = 1000;

export const SPLITS: Record<TaskName, readonly string[]> = {
  vqa: ['train', 'val', 'test', 'test-dev'],
  nlvr2: ['train', 'val', 'test'],
  irtr: ['train', 'val', 'test'],
  mnli: ['train', 'val', 'val-mismatched'],
  sst2: ['train', 'val'],
};

export function checkSplit(task: TaskName, split: string): void {
  if (!SPLITS[task].includes(split)) throw invalidArgument(`split of task ${task}`, SPLITS[task].map((s) => JSON.stringify(s)).join(' or '), split);
}

/** Arrow file names (without .arrow) of a split. */
export function arrowSplitFiles(task: 'vqa' | 'nlvr2' | 'irtr', split: string, model: ModelName): string[] {
  checkSplit(task, split);
  if (task === 'vqa') return VQA_ARROW[model === 'meter' ? 'meter' : 'vilt'][split]!;
  return ARROW[task][split]!;
}
