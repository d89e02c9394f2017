/**
 * The head a published vision-language checkpoint was fine-tuned with: its task, from HuggingFace's
 * config.json `architectures` or else the head tensors of the official namings, and for VQA the
 * answer count, from the output layer's shape. A RoBERTa checkpoint's head is sized by its
 * config.json, so it needs neither.
 */
import { DasError } from '../errors.js';
import type { Architecture } from '../models/model.js';
import { readCheckpoint } from '../native/checkpoint.js';

/** The task of text classification with RoBERTa's own head. */
export const TEXT_CLASSIFICATION = 'classification';

const HF_ARCHITECTURES: Record<string, string> = {
  ViltForQuestionAnswering: 'vqa',
  ViltForImagesAndTextClassification: 'nlvr2',
  ViltForImageAndTextRetrieval: 'irtr',
};

/** Head tensors of the official ViLT and METER checkpoints, in order of preference (a VQA model keeps its pre-training ITM head). */
const HEADS: [string, string][] = [
  ['vqa_classifier.3.weight', 'vqa'],
  ['nlvr2_classifier.3.weight', 'nlvr2'],
  ['rank_output.weight', 'irtr'],
  ['itm_score.fc.weight', 'irtr'],
];
/** HuggingFace ViLT's VQA output layer. */
const HF_VQA_OUTPUT = 'classifier.3.weight';

export interface PublishedHead {
  task: string;
  /** VQA: the answers the output layer scores. */
  numAnswers?: number;
}

/** `weights` is the checkpoint's weights file, `json` its config.json when it has one. */
export async function publishedHead(architecture: Architecture, weights: string, json: Record<string, unknown> | undefined, task?: string): Promise<PublishedHead> {
  if (architecture === 'roberta') return { task: task ?? TEXT_CLASSIFICATION };
  const named = Array.isArray(json?.architectures) ? (json!.architectures as unknown[]).map((a) => HF_ARCHITECTURES[String(a)]).find(Boolean) : undefined;
  const { tensors } = await readCheckpoint(weights, { names: [...HEADS.map(([name]) => name), HF_VQA_OUTPUT] });
  const resolved = task ?? named ?? HEADS.find(([name]) => name in tensors)?.[1];
  if (!resolved) {
    throw new DasError('DAS_INVALID_ARGUMENT', `${weights}: cannot tell which task its head is for (no ${HEADS.map(([n]) => n).join(', ')}, no config.json "architectures"); pass --task`);
  }
  const output = tensors['vqa_classifier.3.weight'] ?? (named === 'vqa' ? tensors[HF_VQA_OUTPUT] : undefined);
  return resolved === 'vqa' && output ? { task: resolved, numAnswers: output.shape[0]! } : { task: resolved };
}
