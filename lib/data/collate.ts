/**
 * Turning a list of example indices into the typed arrays one model step consumes, per task:
 * VQA soft targets over the answer vocabulary, NLVR2 image pairs, retrieval groups (one positive
 * and `negatives` other captions per image, the positive first) and GLUE labels.
 */
import { invalidArgument } from '../errors.js';
import type { GlueDataset, Nlvr2Dataset, RetrievalDataset, VqaDataset } from './dataset-types.js';
import { padImages, type ImageBatch } from './image-collate.js';
import type { ImageRef } from './image-source.js';
import type { ImageTransformConfig, PreparedImage } from './image-transform.js';
import type { ImagePreparer } from './image-workers.js';
import { createRng, deriveSeed } from './random.js';
import type { TextBatch, TextTokenizer } from './tokenizer.js';

export interface CollateContext {
  tokenizer: TextTokenizer;
  /** Needed by the image tasks. */
  preparer?: ImagePreparer;
  transform?: ImageTransformConfig;
  /** Seeds augmentation and negative sampling, mixed with epoch and example index. */
  seed: number;
  epoch: number;
}

export interface VqaBatch {
  task: 'vqa';
  text: TextBatch;
  images: ImageBatch;
  /** float32 [batch, numAnswers] soft scores. */
  targets: Float32Array;
  numAnswers: number;
  questionIds: number[];
  indices: number[];
}

export interface Nlvr2Batch {
  task: 'nlvr2';
  text: TextBatch;
  /** The left and right images, padded to one shared size. */
  images: [ImageBatch, ImageBatch];
  labels: Int32Array;
  indices: number[];
}

export interface RetrievalTrainBatch {
  task: 'irtr';
  /** [batch * groupSize] captions: for each image its positive, then its negatives. */
  text: TextBatch;
  images: ImageBatch;
  groupSize: number;
  /** Caption index of each text row (positives and the negatives drawn). */
  textIndices: number[];
  indices: number[];
}

export interface GlueBatch {
  task: 'mnli' | 'sst2';
  text: TextBatch;
  labels: Int32Array;
  indices: number[];
}

export type TaskBatch = VqaBatch | Nlvr2Batch | RetrievalTrainBatch | GlueBatch;

/** Prepares images through the context's preparer, seeding each by (seed, epoch, index, slot). */
export async function prepareImages(refs: readonly ImageRef[], keys: readonly number[], ctx: CollateContext, slot = 0): Promise<PreparedImage[]> {
  if (!ctx.preparer || !ctx.transform) throw invalidArgument('collate context', 'an image preparer and transform for an image task', ctx);
  return Promise.all(refs.map((ref, i) => ctx.preparer!.prepare(ref, ctx.transform!, deriveSeed(ctx.seed, ctx.epoch, keys[i]!, slot))));
}

export async function collateVqa(ds: VqaDataset, indices: number[], ctx: CollateContext): Promise<VqaBatch> {
  const examples = indices.map((i) => ds.examples[i]!);
  const images = padImages(await prepareImages(examples.map((e) => e.image), indices, ctx));
  const targets = new Float32Array(indices.length * ds.numAnswers);
  examples.forEach((e, b) => e.labels.forEach((l, k) => (targets[b * ds.numAnswers + l] = e.scores[k]!)));
  return {
    task: 'vqa',
    text: ctx.tokenizer.encodeBatch(examples.map((e) => e.question)),
    images,
    targets,
    numAnswers: ds.numAnswers,
    questionIds: examples.map((e) => e.questionId),
    indices,
  };
}

export async function collateNlvr2(ds: Nlvr2Dataset, indices: number[], ctx: CollateContext): Promise<Nlvr2Batch> {
  const examples = indices.map((i) => ds.examples[i]!);
  const [left, right] = await Promise.all([0, 1].map((slot) => prepareImages(examples.map((e) => e.images[slot]!), indices, ctx, slot)));
  const shared = { width: Math.max(...left!.concat(right!).map((i) => i.width)), height: Math.max(...left!.concat(right!).map((i) => i.height)) };
  return {
    task: 'nlvr2',
    text: ctx.tokenizer.encodeBatch(examples.map((e) => e.sentence)),
    images: [padImages(left!, shared), padImages(right!, shared)],
    labels: Int32Array.from(examples, (e) => e.label),
    indices,
  };
}

/**
 * Retrieval training over (image, caption) pairs: `indices` are caption indices; each group is
 * the caption's image with that caption and `negatives` captions drawn from other images.
 */
export async function collateRetrievalTrain(ds: RetrievalDataset, indices: number[], ctx: CollateContext, negatives = 15): Promise<RetrievalTrainBatch> {
  if (ds.images.length < 2) throw invalidArgument('retrieval dataset', 'at least two images to draw negatives from', ds.images.length);
  const textIndices: number[] = [];
  const imageRefs: ImageRef[] = [];
  for (const t of indices) {
    const pos = ds.texts[t]!;
    imageRefs.push(ds.images[pos.imageIndex]!.image);
    textIndices.push(t);
    const rng = createRng(deriveSeed(ctx.seed, ctx.epoch, t, 7));
    for (let k = 0; k < negatives; k++) {
      let neg = rng.int(ds.texts.length);
      while (ds.texts[neg]!.imageIndex === pos.imageIndex) neg = rng.int(ds.texts.length);
      textIndices.push(neg);
    }
  }
  return {
    task: 'irtr',
    text: ctx.tokenizer.encodeBatch(textIndices.map((k) => ds.texts[k]!.text)),
    images: padImages(await prepareImages(imageRefs, indices, ctx)),
    groupSize: negatives + 1,
    textIndices,
    indices,
  };
}

/** Evaluation helpers for the full image x caption ranking: images and captions batched separately. */
export async function collateRetrievalImages(ds: RetrievalDataset, imageIndices: number[], ctx: CollateContext): Promise<ImageBatch> {
  return padImages(await prepareImages(imageIndices.map((i) => ds.images[i]!.image), imageIndices, ctx));
}

export function collateRetrievalTexts(ds: RetrievalDataset, textIndices: number[], tokenizer: TextTokenizer): TextBatch {
  return tokenizer.encodeBatch(textIndices.map((t) => ds.texts[t]!.text));
}

/** Chunks of the full ranking: every (image chunk, text chunk) pair, images outermost. */
export function* retrievalEvalChunks(ds: RetrievalDataset, imageChunk: number, textChunk: number): Generator<{ imageIndices: number[]; textIndices: number[] }> {
  for (let i = 0; i < ds.images.length; i += imageChunk) {
    const imageIndices = range(i, Math.min(ds.images.length, i + imageChunk));
    for (let t = 0; t < ds.texts.length; t += textChunk) yield { imageIndices, textIndices: range(t, Math.min(ds.texts.length, t + textChunk)) };
  }
}

export function collateGlue(ds: GlueDataset, indices: number[], tokenizer: TextTokenizer): GlueBatch {
  const examples = indices.map((i) => ds.examples[i]!);
  const hasPair = examples.some((e) => e.pair !== undefined);
  return {
    task: ds.task,
    text: tokenizer.encodeBatch(examples.map((e) => e.text), hasPair ? examples.map((e) => e.pair ?? '') : undefined),
    labels: Int32Array.from(examples, (e) => e.label),
    indices,
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k);
}
