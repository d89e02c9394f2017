/**
 * Names of a task head's classes, in index order: what `das predict` prints as the label and what
 * `das export` records as config.json's id2label. VQA answers come from the dataset's vocabulary;
 * the GLUE and NLVR2 classes have fixed names; retrieval has a score, not classes.
 */
import type { TaskDataset } from '../data/dataset-types.js';

export const FIXED_TASK_LABELS: Readonly<Record<string, readonly string[]>> = {
  mnli: ['entailment', 'neutral', 'contradiction'],
  sst2: ['negative', 'positive'],
  nlvr2: ['False', 'True'],
};

/** The class names the datasets of a run give (each VQA split may name answers the others do not). */
export function datasetLabelNames(datasets: readonly TaskDataset[]): string[] | undefined {
  const first = datasets[0];
  if (!first) return undefined;
  switch (first.task) {
    case 'vqa': {
      const names = [...first.answers];
      for (const ds of datasets) if (ds.task === 'vqa') ds.answers.forEach((answer, i) => (names[i] ||= answer));
      return names;
    }
    case 'mnli':
    case 'sst2':
      return [...first.labels];
    case 'nlvr2':
      return [...FIXED_TASK_LABELS.nlvr2!];
    case 'irtr':
      return undefined;
  }
}
