/** Evaluation over a whole split with a fixed skip set: the task's metric and mean loss. */
import { argmaxRows, accuracy } from '../data/metrics.js';
import type { TaskLoader } from '../data/loader.js';
import type { Model } from '../models/model.js';
import { batchLabels, toModelBatch } from './model-batch.js';

export interface EvalMetrics {
  /** The task's main metric (accuracy for MNLI, SST-2, NLVR2). */
  [metric: string]: number;
  loss: number;
  examples: number;
}

/** Main metric name per task, as reports and best-checkpoint tracking use it. */
export function mainMetric(task: string): string {
  return task === 'vqa' ? 'vqaScore' : task === 'irtr' ? 'irR1' : 'accuracy';
}

/** Runs every batch of one epoch of `loader` (which should not shuffle). */
export async function evaluateSplit(model: Model, loader: TaskLoader, skip: readonly string[]): Promise<EvalMetrics> {
  let lossSum = 0;
  let examples = 0;
  const predictions: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < loader.batchesPerEpoch; i++) {
    const batch = await loader.next();
    const result = await model.evalStep(toModelBatch(batch), { skip, logits: true });
    const batchLabelsArray = batchLabels(batch);
    const size = batchLabelsArray.length;
    lossSum += result.loss * size;
    examples += size;
    const logits = result.logits!;
    predictions.push(...argmaxRows(logits.data, logits.shape[1]!));
    labels.push(...batchLabelsArray);
  }
  return { accuracy: accuracy(predictions, labels), loss: lossSum / examples, examples };
}
