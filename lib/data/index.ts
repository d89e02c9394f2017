/**
 * The data layer: tokenizers, image preprocessing, dataset readers in the formats users have,
 * batching, metrics and dataset checks. It produces host typed arrays and never loads the addon.
 */
export { TextTokenizer, TEXT_PRESETS, type TokenizerConfig, type TextBatch, type EncodedText } from './tokenizer.js';
export {
  prepareImage, decodeRgb, normalizeToChw, validateImageTransform, VILT_MEAN, VILT_STD, CLIP_MEAN, CLIP_STD,
  type ImageTransformConfig, type PreparedImage,
} from './image-transform.js';
export { viltResizeSize, viltLongerSide, clipResizeSize, centerCropOffset, pythonRound, type Size } from './image-geometry.js';
export { randAugment, applyAugmentOp, RAND_AUGMENT_OPS, type RgbImage, type RandAugmentConfig, type RandAugmentOp } from './rand-augment.js';
export { padImages, type ImageBatch } from './image-collate.js';
export { readImageBytes, imageReadLimits, DEFAULT_MAX_IMAGE_BYTES, DEFAULT_IMAGE_READ_TIMEOUT_S, type ImageRef, type ImageReadLimits } from './image-source.js';
export { createImagePreparer, type ImagePreparer, type ImagePreparerConfig } from './image-workers.js';
export { ArrowIpcFile } from './arrow-file.js';
export {
  openVqaArrow, openNlvr2Arrow, openF30kArrow, VQA_ARROW_COLUMNS, NLVR2_ARROW_COLUMNS, F30K_ARROW_COLUMNS, VQA_ARROW_TYPES, NLVR2_ARROW_TYPES, F30K_ARROW_TYPES,
  type ArrowReadOptions,
} from './arrow-datasets.js';
export { openVqaOfficial, buildVqaAnswerVocabulary, vqaSoftScore, type VqaOfficialOptions } from './vqa-official.js';
export { openNlvr2Official } from './nlvr2-official.js';
export { openFlickr30kKarpathy } from './karpathy-f30k.js';
export { openGlue, MNLI_LABELS, SST2_LABELS } from './glue-tsv.js';
export { openTaskDataset, detectFormat, type OpenDatasetConfig } from './open-dataset.js';
export { arrowSplitFiles, SPLITS, VILT_REST_VAL_IMAGES } from './splits.js';
export * from './dataset-types.js';
export { EpochSampler, type SamplerConfig, type SamplerState, type Shard } from './sampler.js';
export {
  collateVqa, collateNlvr2, collateRetrievalTrain, collateRetrievalImages, collateRetrievalTexts, retrievalEvalChunks, collateGlue,
  type CollateContext, type VqaBatch, type Nlvr2Batch, type RetrievalTrainBatch, type GlueBatch, type TaskBatch,
} from './collate.js';
export { TaskLoader, type LoaderConfig, type LoadedBatch } from './loader.js';
export { argmaxRows, vqaArgmaxScores, vqaOfficialAccuracy, accuracy, retrievalRecall, type RetrievalRecall } from './metrics.js';
export { normalizeVqaAnswer, processPunctuation, processDigitArticle } from './vqa-normalize.js';
export { vqaPredictions, writeVqaResultFile, type VqaResult } from './vqa-results.js';
export { checkDataset, formatDatasetReport, type CheckDatasetConfig, type DatasetReport, type SplitReport } from './check-dataset.js';
export { createRng, deriveSeed, type Rng } from './random.js';
export * from './synthetic/index.js';
