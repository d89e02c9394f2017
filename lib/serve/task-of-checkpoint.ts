/**
 * Which task a published vision-language checkpoint was fine-tuned for, from the head it holds:
 * HuggingFace's config.json `architectures`, else the head tensors of the official namings. A
 * RoBERTa checkpoint's head is sized by its config.json, so it needs no task.
 */
import { DasError } from '../errors.js';
import type { Architecture } from '../models/model.js';
import { checkpointConfigJson, locateCheckpoint } from '../models/pretrained.js';
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
  ['vqa_classifier.0.weight', 'vqa'],
  ['nlvr2_classifier.0.weight', 'nlvr2'],
  ['rank_output.weight', 'irtr'],
  ['itm_score.fc.weight', 'irtr'],
];

export async function inferTask(architecture: Architecture, checkpoint: string): Promise<string> {
  if (architecture === 'roberta') return TEXT_CLASSIFICATION;
  const json = checkpointConfigJson(checkpoint);
  const named = Array.isArray(json?.architectures) ? (json!.architectures as unknown[]).map((a) => HF_ARCHITECTURES[String(a)]).find(Boolean) : undefined;
  if (named) return named;
  const { names } = await readCheckpoint(locateCheckpoint(checkpoint).weights, { names: HEADS.map(([name]) => name) });
  const found = HEADS.find(([name]) => names.includes(name));
  if (found) return found[1];
  throw new DasError('DAS_INVALID_ARGUMENT', `${checkpoint}: cannot tell which task its head is for (no ${HEADS.map(([n]) => n).join(', ')}, no config.json "architectures"); pass --task`);
}
