/** From the data layer's batches (lib/data collate) to the named tensors a model step takes. */
import { DasError } from '../errors.js';
import type { NativeBatch } from '../native/binding.js';
import type { TaskBatch } from '../data/collate.js';

export function toModelBatch(batch: TaskBatch): NativeBatch {
  const { text } = batch;
  const tokens = { input_ids: { dtype: 'int32' as const, shape: [text.batchSize, text.length], data: text.inputIds }, attention_mask: { dtype: 'uint8' as const, shape: [text.batchSize, text.length], data: text.attentionMask } };
  switch (batch.task) {
    case 'mnli':
    case 'sst2':
      return { ...tokens, labels: { dtype: 'int32', shape: [batch.labels.length], data: batch.labels } };
    default:
      throw new DasError('DAS_INVALID_ARGUMENT', `task ${batch.task} needs a vision-language model, which is not available yet`);
  }
}

/** Labels of a classification batch, for metrics. */
export function batchLabels(batch: TaskBatch): Int32Array {
  if (batch.task === 'mnli' || batch.task === 'sst2' || batch.task === 'nlvr2') return batch.labels;
  throw new DasError('DAS_INVALID_ARGUMENT', `task ${batch.task} has no class labels`);
}
