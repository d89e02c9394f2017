/** Evaluation over a whole split with a fixed skip set: the task's metric and mean loss. */
import { argmaxRows, vqaArgmaxScores } from '../data/metrics.js';
import type { TaskLoader } from '../data/loader.js';
import { SINGLE_PROCESS, type World } from '../dist/world.js';
import { DasError } from '../errors.js';
import type { Model } from '../models/model.js';
import { batchLabels, toModelBatch } from './model-batch.js';

export interface EvalMetrics {
  /** The task's main metric (accuracy for MNLI, SST-2, NLVR2; vqaScore for VQA). */
  [metric: string]: number;
  loss: number;
  examples: number;
}

/** Main metric name per task, as reports and best-checkpoint tracking use it. */
export function mainMetric(task: string): string {
  return task === 'vqa' ? 'vqaScore' : task === 'irtr' ? 'groupAccuracy' : 'accuracy';
}

/**
 * Runs every batch of one epoch of `loader` (which should not shuffle). VQA reports the training-time
 * VQA score (the soft score of the arg-max answer); retrieval, how often the positive caption ranks
 * first in its group of 1 + negatives (the full Recall@K ranking is `das eval`'s: retrieval-eval.ts).
 * Data parallel, each rank runs its shard and the metrics come from sums over all ranks (loss x
 * rows, examples, scores or correct answers), so they equal a single process's exactly.
 */
export async function evaluateSplit(model: Model, loader: TaskLoader, skip: readonly string[], world: World = SINGLE_PROCESS): Promise<EvalMetrics> {
  let lossSum = 0;
  let examples = 0;
  let scoreSum = 0;
  for (let i = 0; i < loader.batchesPerEpoch; i++) {
    const batch = await loader.next();
    const result = await model.evalStep(toModelBatch(batch), { skip, logits: true });
    const logits = result.logits!;
    const rows = logits.shape[0]!;
    const classes = logits.shape[1]!;
    lossSum += result.loss! * rows; // a task batch carries its targets, so the step reports a loss
    examples += rows;
    if (batch.task === 'vqa') {
      for (const score of vqaArgmaxScores(logits.data, batch.targets, batch.numAnswers)) scoreSum += score;
    } else if (batch.task === 'irtr') {
      for (const best of argmaxRows(logits.data, classes)) scoreSum += best === 0 ? 1 : 0;
    } else {
      const labels = batchLabels(batch);
      argmaxRows(logits.data, classes).forEach((predicted, row) => (scoreSum += predicted === labels[row] ? 1 : 0));
    }
  }
  const [loss, count, score] = await world.sum([lossSum, examples, scoreSum]);
  if (count === 0) throw new DasError('DAS_DATA', 'the evaluation split has no examples');
  return { [mainMetric(loader.dataset.task)]: score! / count!, loss: loss! / count!, examples: count! };
}
