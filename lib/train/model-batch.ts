/** From the data layer's batches (lib/data collate) to the named tensors a model step takes. */
import type { ImageBatch } from '../data/image-collate.js';
import type { NativeBatch } from '../native/binding.js';
import type { TaskBatch } from '../data/collate.js';
import { DasError } from '../errors.js';

function images(batch: ImageBatch, suffix = ''): NativeBatch {
  return {
    [`pixel_values${suffix}`]: { dtype: 'float32', shape: [batch.batchSize, 3, batch.height, batch.width], data: batch.pixels },
    [`pixel_mask${suffix}`]: { dtype: 'uint8', shape: [batch.batchSize, batch.height, batch.width], data: batch.pixelMask },
  };
}

export function toModelBatch(batch: TaskBatch): NativeBatch {
  const { text } = batch;
  const tokens: NativeBatch = {
    input_ids: { dtype: 'int32', shape: [text.batchSize, text.length], data: text.inputIds },
    attention_mask: { dtype: 'uint8', shape: [text.batchSize, text.length], data: text.attentionMask },
  };
  switch (batch.task) {
    case 'mnli':
    case 'sst2':
      return { ...tokens, labels: { dtype: 'int32', shape: [batch.labels.length], data: batch.labels } };
    case 'vqa':
      return { ...tokens, ...images(batch.images), targets: { dtype: 'float32', shape: [text.batchSize, batch.numAnswers], data: batch.targets } };
    case 'nlvr2':
      return { ...tokens, ...images(batch.images[0]), ...images(batch.images[1], '_1'), labels: { dtype: 'int32', shape: [batch.labels.length], data: batch.labels } };
    case 'irtr': {
      // the collate puts each image's positive caption first in its group
      const groups = batch.images.batchSize;
      return { ...tokens, ...images(batch.images), labels: { dtype: 'int32', shape: [groups], data: new Int32Array(groups) } };
    }
  }
}

/** Labels of a classification batch, for metrics. */
export function batchLabels(batch: TaskBatch): Int32Array {
  if (batch.task === 'mnli' || batch.task === 'sst2' || batch.task === 'nlvr2') return batch.labels;
  throw new DasError('DAS_INVALID_ARGUMENT', `task ${batch.task} has no class labels`);
}
