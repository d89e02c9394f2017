/**
 * The full retrieval ranking of `das eval` on a retrieval split: every image scored against every
 * caption by the rank head (as ViLT's and METER's recall evaluation does), then Recall@1/5/10 for
 * image retrieval (caption -> images) and text retrieval (image -> captions). Quadratic in the
 * split (Flickr30k test: 1,000 x 5,000 pairs), so it is `das eval`'s job, not the training loop's.
 * Data parallel, rank r scores the images r, r + W, ... and the score matrix is summed over the
 * ranks (each entry comes from exactly one rank, so the sum is exact).
 */
import { collateRetrievalImages, collateRetrievalTexts, retrievalEvalChunks, type CollateContext } from '../data/collate.js';
import type { RetrievalDataset } from '../data/dataset-types.js';
import type { ImageBatch } from '../data/image-collate.js';
import { retrievalRecall } from '../data/metrics.js';
import { SINGLE_PROCESS, type World } from '../dist/world.js';
import type { Model } from '../models/model.js';
import type { NativeBatch } from '../native/binding.js';

export interface RecallOptions {
  /** Captions scored per forward pass (each against one image). Default 32. */
  batchSize?: number;
  onProgress?: (pairsDone: number, pairsTotal: number) => void;
}

/** Recall@K as flat metrics: irR1, irR5, irR10, trR1, trR5, trR10. */
export async function retrievalRecallMetrics(
  model: Model,
  ds: RetrievalDataset,
  ctx: CollateContext,
  skip: readonly string[],
  options: RecallOptions = {},
  world: World = SINGLE_PROCESS,
): Promise<Record<string, number>> {
  const numImages = ds.images.length;
  const numTexts = ds.texts.length;
  let scores: Float32Array = new Float32Array(numImages * numTexts);
  let images: { first: number; batch: ImageBatch } | undefined;
  let done = 0;
  const mine = (image: number) => image % world.size === world.rank;
  const total = numTexts * Array.from({ length: numImages }, (_, i) => i).filter(mine).length;
  // one image per pass keeps the batch at `batchSize` rows; its pixels are prepared once for all its caption chunks
  for (const { imageIndices, textIndices } of retrievalEvalChunks(ds, 1, options.batchSize ?? 32)) {
    const image = imageIndices[0]!;
    if (!mine(image)) continue;
    if (images?.first !== image) images = { first: image, batch: await collateRetrievalImages(ds, imageIndices, ctx) };
    const text = collateRetrievalTexts(ds, textIndices, ctx.tokenizer);
    const batch: NativeBatch = {
      input_ids: { dtype: 'int32', shape: [text.batchSize, text.length], data: text.inputIds },
      attention_mask: { dtype: 'uint8', shape: [text.batchSize, text.length], data: text.attentionMask },
      pixel_values: { dtype: 'float32', shape: [1, 3, images.batch.height, images.batch.width], data: images.batch.pixels },
      pixel_mask: { dtype: 'uint8', shape: [1, images.batch.height, images.batch.width], data: images.batch.pixelMask },
    };
    const { logits } = await model.evalStep(batch, { skip, logits: true });
    scores.set(logits!.data as Float32Array, image * numTexts + textIndices[0]!);
    done += textIndices.length;
    options.onProgress?.(done, total);
  }
  scores = await world.sumArray(scores);
  const recall = retrievalRecall(scores, numImages, ds.texts.map((t) => t.imageIndex));
  return { irR1: recall.ir.r1, irR5: recall.ir.r5, irR10: recall.ir.r10, trR1: recall.tr.r1, trR5: recall.tr.r5, trR10: recall.tr.r10 };
}
