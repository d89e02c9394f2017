/**
 * The official VQA v2 release: question and annotation JSON files beside the COCO image folders
 * (train2014/, val2014/, test2015/). The answer vocabulary is every normalised
 * multiple_choice_answer of train + val seen at least 9 times, in first-seen order (3129 answers
 * for VQA v2), as ViLT's write_vqa.py builds it. Per question, each annotator answer is normalised
 * the same way and counted; an answer in the vocabulary scores 0.3 / 0.6 / 0.9 / 1 for 1 / 2 / 3 /
 * >= 4 annotators. Train and val questions whose answers are all outside the vocabulary are dropped,
 * as in the original.
 */
import { join } from 'node:path';
import { DasError } from '../errors.js';
import type { VqaDataset, VqaExample } from './dataset-types.js';
import { VILT_REST_VAL_IMAGES, checkSplit } from './splits.js';
import { normalizeVqaAnswer } from './vqa-normalize.js';
import { readTextFile } from '../util/text-file.js';

export interface VqaOfficialOptions {
  /** Minimum count of a multiple_choice_answer to enter the vocabulary. Default 9. */
  minAnswerCount?: number;
  /** Val images ViLT holds out as rest_val (last ones by image id). Default 1000. */
  restValImages?: number;
}

type Subset = 'train2014' | 'val2014' | 'test2015' | 'test-dev2015';

interface RawQuestion {
  question_id: number;
  image_id: number;
  question: string;
}

interface RawAnnotation {
  question_id: number;
  image_id: number;
  multiple_choice_answer: string;
  answers: Array<{ answer: string }>;
}

export const vqaQuestionsFile = (s: Subset) => `v2_OpenEnded_mscoco_${s}_questions.json`;
export const vqaAnnotationsFile = (s: 'train2014' | 'val2014') => `v2_mscoco_${s}_annotations.json`;
export const cocoImagePath = (dir: string, s: Subset, imageId: number) => {
  const folder = s === 'test-dev2015' ? 'test2015' : s;
  return join(dir, folder, `COCO_${folder}_${String(imageId).padStart(12, '0')}.jpg`);
};

/** Soft score of an answer given by `count` of the 10 annotators. */
export function vqaSoftScore(count: number): number {
  if (count <= 0) return 0;
  return count === 1 ? 0.3 : count === 2 ? 0.6 : count === 3 ? 0.9 : 1;
}

export async function readJsonFile(path: string, field: string): Promise<unknown[]> {
  const text = await readTextFile(path, { what: 'Dataset file' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new DasError('DAS_FILE', `Dataset file ${path} is not valid JSON (truncated?): ${(err as Error).message}`, { cause: err });
  }
  const list = (parsed as Record<string, unknown> | null)?.[field];
  if (!Array.isArray(list)) throw new DasError('DAS_DATA', `Dataset file ${path} has no "${field}" array`);
  return list;
}

/** Builds the answer vocabulary from the train and val annotation files. */
export async function buildVqaAnswerVocabulary(dir: string, minCount = 9): Promise<string[]> {
  const counts = new Map<string, number>();
  for (const s of ['train2014', 'val2014'] as const) {
    const file = join(dir, vqaAnnotationsFile(s));
    for (const a of (await readJsonFile(file, 'annotations')) as RawAnnotation[]) {
      if (typeof a?.multiple_choice_answer !== 'string') throw new DasError('DAS_DATA', `Dataset file ${file}: annotation of question ${a?.question_id} has no multiple_choice_answer`);
      const key = normalizeVqaAnswer(a.multiple_choice_answer);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts].filter(([, n]) => n >= minCount).map(([answer]) => answer);
}

async function readSubset(dir: string, subset: Subset, vocab: Map<string, number> | null): Promise<VqaExample[]> {
  const qFile = join(dir, vqaQuestionsFile(subset));
  const questions = (await readJsonFile(qFile, 'questions')) as RawQuestion[];
  const annotations = new Map<number, RawAnnotation>();
  if (vocab && (subset === 'train2014' || subset === 'val2014')) {
    for (const a of (await readJsonFile(join(dir, vqaAnnotationsFile(subset)), 'annotations')) as RawAnnotation[]) annotations.set(a.question_id, a);
  }
  const out: VqaExample[] = [];
  for (const [i, q] of questions.entries()) {
    if (typeof q?.question !== 'string' || !Number.isInteger(q.question_id) || !Number.isInteger(q.image_id)) {
      throw new DasError('DAS_DATA', `Dataset file ${qFile}: question ${i} lacks question, question_id or image_id`);
    }
    const image = { file: cocoImagePath(dir, subset, q.image_id), label: `COCO image ${q.image_id} (${cocoImagePath(dir, subset, q.image_id)})` };
    const example: VqaExample = { questionId: q.question_id, imageId: q.image_id, question: q.question, image, labels: [], scores: [] };
    if (vocab && annotations.size > 0) {
      const ann = annotations.get(q.question_id);
      if (!ann) throw new DasError('DAS_DATA', `Dataset file ${join(dir, vqaAnnotationsFile(subset as 'train2014'))} has no annotation for question ${q.question_id}`);
      const counts = new Map<number, number>();
      for (const a of ann.answers) {
        const label = vocab.get(normalizeVqaAnswer(String(a.answer)));
        if (label !== undefined) counts.set(label, (counts.get(label) ?? 0) + 1);
      }
      if (counts.size === 0) continue;
      example.labels = [...counts.keys()];
      example.scores = [...counts.values()].map(vqaSoftScore);
      example.annotatorAnswers = ann.answers.map((a) => String(a.answer));
    }
    out.push(example);
  }
  return out;
}

/** Opens a split of the official release laid out as the VQA and COCO downloads unpack. */
export async function openVqaOfficial(dir: string, split: string, model: 'vilt' | 'meter', options: VqaOfficialOptions = {}): Promise<VqaDataset> {
  checkSplit('vqa', split);
  const answers = await buildVqaAnswerVocabulary(dir, options.minAnswerCount ?? 9);
  const vocab = new Map(answers.map((a, i) => [a, i]));
  const files: string[] = [];
  let examples: VqaExample[];
  if (split === 'test' || split === 'test-dev') {
    const subset = split === 'test' ? 'test2015' : 'test-dev2015';
    files.push(join(dir, vqaQuestionsFile(subset)));
    examples = await readSubset(dir, subset, null);
  } else {
    const train = split === 'train' ? await readSubset(dir, 'train2014', vocab) : [];
    const val = await readSubset(dir, 'val2014', vocab);
    files.push(join(dir, vqaQuestionsFile('val2014')), join(dir, vqaAnnotationsFile('val2014')));
    if (split === 'train') files.unshift(join(dir, vqaQuestionsFile('train2014')), join(dir, vqaAnnotationsFile('train2014')));
    if (model === 'meter') {
      examples = split === 'train' ? train.concat(val) : val;
    } else {
      // ViLT's rest_val: the last val images (here by image id, for a reproducible choice).
      const ids = [...new Set(val.map((e) => e.imageId))].sort((a, b) => a - b);
      const held = new Set(ids.slice(Math.max(0, ids.length - (options.restValImages ?? VILT_REST_VAL_IMAGES))));
      examples = split === 'train' ? train.concat(val.filter((e) => !held.has(e.imageId))) : val.filter((e) => held.has(e.imageId));
    }
  }
  return { task: 'vqa', split, files, examples, answers, numAnswers: answers.length };
}
