/**
 * What a step of each architecture and task takes: the batch's fields, their kinds, their shapes
 * (sizes named where several fields must agree) and the values they may hold. batch-check.ts
 * checks a batch against it before the batch crosses into the addon.
 */
import type { MeterConfig } from './meter-config.js';
import { robertaMaxTokens, type RobertaConfig } from './roberta-config.js';
import type { ViltConfig } from './vilt-config.js';

/** ids: integers in [0, max); mask: non-zero keeps a position; pixels: floating point; scores: floats in [0, 1]; keys: any integers. */
export type FieldKind = 'ids' | 'mask' | 'pixels' | 'scores' | 'keys';

/** A size: fixed, or named (the first field that has it fixes it for the others). */
export type Dim = number | string;

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  shape: Dim[];
  /** ids: values lie in [0, max), max a number or a named size, for the reason `maxWhy`. */
  max?: Dim;
  maxWhy?: string;
  /** What the values are, for messages ("token ids", "class labels"). */
  meaning: string;
  required?: boolean;
  /** The training target: trainStep needs it, evalStep needs it for a loss. */
  target?: boolean;
}

export interface BatchSpec {
  /** For messages: "roberta", "vilt vqa", ... */
  model: string;
  fields: FieldSpec[];
  /** Bounds of named sizes: [min, max] inclusive, with the reason for the max. */
  limits: Record<string, { min: number; max?: number; why?: string }>;
  /** Sizes derived from others (retrieval: captions per image); returns what is wrong, if anything. */
  derive?: (sizes: Map<string, number>) => { expected: string; what: string; received: string } | undefined;
}

function text(vocab: number): FieldSpec[] {
  return [
    { name: 'input_ids', kind: 'ids', shape: ['rows', 'tokens'], max: vocab, maxWhy: 'the vocabulary', meaning: 'token ids', required: true },
    { name: 'attention_mask', kind: 'mask', shape: ['rows', 'tokens'], meaning: 'a mask' },
  ];
}

function image(suffix: string, rows: string, side: Dim | [Dim, Dim]): FieldSpec[] {
  const [height, width] = Array.isArray(side) ? side : [side, side];
  return [
    { name: `pixel_values${suffix}`, kind: 'pixels', shape: [rows, 3, height, width], meaning: 'pixels', required: true },
    { name: `pixel_mask${suffix}`, kind: 'mask', shape: [rows, height, width], meaning: 'a mask' },
  ];
}

function visionLanguage(task: ViltConfig['task'], numAnswers: number, side: (suffix: string) => Dim | [Dim, Dim]): FieldSpec[] {
  switch (task) {
    case 'vqa':
      return [...image('', 'rows', side('')), { name: 'targets', kind: 'scores', shape: ['rows', numAnswers], meaning: 'soft answer scores', target: true }];
    case 'nlvr2':
      return [
        ...image('', 'rows', side('')),
        ...image('_1', 'rows', side('_1')),
        { name: 'labels', kind: 'ids', shape: ['rows'], max: 2, maxWhy: 'false, true', meaning: 'class labels', target: true },
      ];
    case 'irtr':
      return [...image('', 'images', side('')), { name: 'labels', kind: 'ids', shape: ['images'], max: 'captionsPerImage', maxWhy: 'the captions of each image', meaning: "indices of each image's positive caption", target: true }];
  }
}

/** Retrieval: each image owns a group of the same number of caption rows. */
const retrieval: BatchSpec['derive'] = (sizes) => {
  const rows = sizes.get('rows');
  const images = sizes.get('images');
  if (rows === undefined || images === undefined) return undefined;
  if (rows % images !== 0) {
    return { expected: `a multiple of the ${images} images of pixel_values (a group of captions per image)`, what: 'the rows of batch.input_ids', received: String(rows) };
  }
  sizes.set('captionsPerImage', rows / images);
  return undefined;
};

/** The batch spec of a model of this architecture and configuration. */
export function batchSpec(architecture: 'roberta' | 'vilt' | 'meter', config: RobertaConfig | ViltConfig | MeterConfig): BatchSpec {
  if (architecture === 'roberta') return robertaBatchSpec(config as RobertaConfig);
  if (architecture === 'vilt') return viltBatchSpec(config as ViltConfig);
  return meterBatchSpec(config as MeterConfig);
}

export function robertaBatchSpec(config: RobertaConfig): BatchSpec {
  return {
    model: 'roberta',
    fields: [...text(config.vocabSize), { name: 'labels', kind: 'ids', shape: ['rows'], max: config.numLabels, maxWhy: "the head's classes", meaning: 'class labels', target: true }],
    limits: { rows: { min: 1 }, tokens: { min: 1, max: robertaMaxTokens(config), why: "this RoBERTa's position table" } },
  };
}

export function viltBatchSpec(config: ViltConfig): BatchSpec {
  return {
    model: `vilt ${config.task}`,
    fields: [...text(config.vocabSize), ...visionLanguage(config.task, config.numAnswers, (suffix) => [`height${suffix}`, `width${suffix}`])],
    limits: {
      rows: { min: 1 },
      images: { min: 1 },
      tokens: { min: 1, max: config.maxTextLen, why: "this ViLT's text position table" },
      height: { min: config.patchSize },
      width: { min: config.patchSize },
      height_1: { min: config.patchSize },
      width_1: { min: config.patchSize },
    },
    derive: retrieval,
  };
}

export function meterBatchSpec(config: MeterConfig): BatchSpec {
  const maxTokens = robertaMaxTokens(config.text);
  const fields = [...text(config.text.vocabSize), ...visionLanguage(config.task, config.numAnswers, () => config.vision.imageSize)];
  // Keys of the feature cache: one per text row and one per image.
  fields.push({ name: 'text_keys', kind: 'keys', shape: ['rows'], meaning: 'example keys' });
  fields.push({ name: 'image_keys', kind: 'keys', shape: [config.task === 'irtr' ? 'images' : 'rows'], meaning: 'example keys' });
  if (config.task === 'nlvr2') fields.push({ name: 'image_keys_1', kind: 'keys', shape: ['rows'], meaning: 'example keys' });
  return {
    model: `meter ${config.task}`,
    fields,
    limits: { rows: { min: 1 }, images: { min: 1 }, tokens: { min: 1, max: maxTokens, why: "METER's text position table" } },
    derive: retrieval,
  };
}
