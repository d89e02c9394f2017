/**
 * The ViLT/METER Arrow datasets (columns as the original write_vqa.py, write_nlvr2.py and
 * write_f30k_karpathy.py produce them) read into the common in-memory form. Every file of a split
 * must exist: the original silently skipped missing files, which trains on half the data unnoticed.
 */
import { join } from 'node:path';
import { ArrowIpcFile } from './arrow-file.js';
import { reportProblem, type Nlvr2Dataset, type Nlvr2Example, type ProblemHandler, type RetrievalDataset, type VqaDataset, type VqaExample } from './dataset-types.js';
import type { ImageRef } from './image-source.js';
import { arrowSplitFiles } from './splits.js';

/** The columns of each dataset and their types, as the original makers write them (pyarrow from pandas). */
export const VQA_ARROW_TYPES = {
  image: 'binary',
  questions: 'list<string>',
  answers: 'list<list<string>>',
  answer_labels: 'list<list<int>>',
  answer_scores: 'list<list<number>>',
  image_id: 'int',
  question_id: 'list<int>',
} as const;
export const NLVR2_ARROW_TYPES = { image_0: 'binary', image_1: 'binary', questions: 'list<string>', answers: 'list<string>', identifier: 'string' } as const;
export const F30K_ARROW_TYPES = { image: 'binary', caption: 'list<string>', image_id: 'string' } as const;

export const VQA_ARROW_COLUMNS = Object.keys(VQA_ARROW_TYPES) as (keyof typeof VQA_ARROW_TYPES)[];
export const NLVR2_ARROW_COLUMNS = Object.keys(NLVR2_ARROW_TYPES) as (keyof typeof NLVR2_ARROW_TYPES)[];
export const F30K_ARROW_COLUMNS = Object.keys(F30K_ARROW_TYPES) as (keyof typeof F30K_ARROW_TYPES)[];

export interface ArrowReadOptions {
  /** Collects row-level problems instead of throwing the first (see ProblemHandler). */
  onProblem?: ProblemHandler;
  /** VQA classifier size; labels at or above it are problems. Default 3129. */
  numAnswers?: number;
}

/** Opens each file of a split, checks its columns and their types, and visits its record batches in order. */
async function forEachBatch(
  dir: string,
  names: readonly string[],
  types: Readonly<Record<string, string>>,
  visit: (file: ArrowIpcFile, batch: number) => Promise<void>,
): Promise<string[]> {
  const paths = names.map((n) => join(dir, `${n}.arrow`));
  for (const path of paths) {
    const file = await ArrowIpcFile.open(path);
    try {
      file.requireColumns(Object.keys(types));
      file.requireColumnTypes(types);
      for (let b = 0; b < file.numBatches; b++) await visit(file, b);
    } finally {
      await file.close();
    }
  }
  return paths;
}

function imageOrProblem(ref: ImageRef | null | undefined, file: ArrowIpcFile, where: string, onProblem?: ProblemHandler): ImageRef | null {
  if (ref && ref.length! > 0) return ref;
  reportProblem(onProblem, { file: file.path, where, message: 'the image is missing (null or empty bytes)' });
  return null;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The first of `lists` that is null or not as long as `length`, described; undefined when all match. */
function lengthMismatch(length: number, unit: string, lists: [string, unknown][]): string | undefined {
  for (const [name, list] of lists) {
    if (!Array.isArray(list)) return `${name} is null where ${length} ${unit} need one entry each`;
    if (list.length !== length) return `${length} ${unit} but ${list.length} entries in ${name}`;
  }
  return undefined;
}

/** Why one question's answers are unusable, or undefined. */
function answerProblem(labels: unknown[], scores: unknown[], names: unknown[], numAnswers: number): string | undefined {
  const bad = labels.findIndex((l) => !Number.isInteger(l) || (l as number) < 0 || (l as number) >= numAnswers);
  if (bad >= 0) return `answer label ${labels[bad]} is outside the answer vocabulary of ${numAnswers}`;
  if (labels.length !== scores.length) return `${labels.length} answer labels but ${scores.length} scores`;
  if (labels.length !== names.length) return `${labels.length} answer labels but ${names.length} answers`;
  const score = scores.findIndex((v) => typeof v !== 'number' || !(v >= 0 && v <= 1));
  if (score >= 0) return `answer score ${scores[score]} is not a number in [0, 1]`;
  return undefined;
}

export async function openVqaArrow(dir: string, split: string, model: 'vilt' | 'meter', options: ArrowReadOptions = {}): Promise<VqaDataset> {
  const numAnswers = options.numAnswers ?? 3129;
  const answers = new Array<string>(numAnswers).fill('');
  const examples: VqaExample[] = [];
  const isTest = split === 'test' || split === 'test-dev';
  // test splits have no answers (the original writes empty lists there)
  const { answers: _a, answer_labels: _l, answer_scores: _s, ...testTypes } = VQA_ARROW_TYPES;
  const types: Record<string, string> = isTest ? testTypes : VQA_ARROW_TYPES;
  const files = await forEachBatch(dir, arrowSplitFiles('vqa', split, model), types, async (file, b) => {
    const refs = await file.binaryRefs(b, 'image');
    const col = async (name: string) => (name in types ? file.readColumn(b, name) : []);
    const [questions, qids, imageIds, answerCol, labelCol, scoreCol] = await Promise.all(
      ['questions', 'question_id', 'image_id', 'answers', 'answer_labels', 'answer_scores'].map(col),
    );
    const problem = (where: string, message: string) => reportProblem(options.onProblem, { file: file.path, where, message });
    for (let row = 0; row < refs.length; row++) {
      const where = `record batch ${b} row ${row}`;
      const image = imageOrProblem(refs[row], file, where, options.onProblem);
      if (!image) continue;
      const qs = questions![row];
      if (!Array.isArray(qs)) {
        problem(where, 'questions is null');
        continue;
      }
      const lists: [string, unknown][] = [['question_id', qids![row]], ...(isTest ? [] : ([['answers', answerCol![row]], ['answer_labels', labelCol![row]], ['answer_scores', scoreCol![row]]] as [string, unknown][]))];
      const mismatch = lengthMismatch(qs.length, 'questions', lists);
      if (mismatch) {
        problem(where, mismatch);
        continue;
      }
      const imageId = imageIds![row];
      if (!Number.isInteger(imageId)) {
        problem(where, `image_id ${imageId} is not an integer`);
        continue;
      }
      const ids = qids![row] as unknown[];
      for (let q = 0; q < qs.length; q++) {
        if (typeof qs[q] !== 'string' || !Number.isInteger(ids[q])) {
          problem(`${where} question ${q}`, typeof qs[q] !== 'string' ? 'the question is null' : `question_id ${ids[q]} is not an integer`);
          continue;
        }
        const labels = isTest ? [] : asArray(asArray(labelCol![row])[q]);
        const scores = isTest ? [] : asArray(asArray(scoreCol![row])[q]);
        const names = isTest ? [] : asArray(asArray(answerCol![row])[q]);
        const bad = answerProblem(labels, scores, names, numAnswers);
        if (bad) {
          problem(`${where} question ${q}`, bad);
          continue;
        }
        labels.forEach((l, i) => {
          if (typeof names[i] === 'string') answers[l as number] = names[i] as string;
        });
        examples.push({ questionId: ids[q] as number, imageId: imageId as number, question: qs[q] as string, image, labels: labels as number[], scores: scores as number[] });
      }
    }
  });
  return { task: 'vqa', split, files, examples, answers, numAnswers };
}

export async function openNlvr2Arrow(dir: string, split: string, options: ArrowReadOptions = {}): Promise<Nlvr2Dataset> {
  const examples: Nlvr2Example[] = [];
  const files = await forEachBatch(dir, arrowSplitFiles('nlvr2', split, 'vilt'), NLVR2_ARROW_TYPES, async (file, b) => {
    const [refs0, refs1] = await Promise.all([file.binaryRefs(b, 'image_0'), file.binaryRefs(b, 'image_1')]);
    const [questions, answers, identifiers] = await Promise.all(['questions', 'answers', 'identifier'].map((c) => file.readColumn(b, c)));
    for (let row = 0; row < refs0.length; row++) {
      const where = `record batch ${b} row ${row}`;
      const img0 = imageOrProblem(refs0[row], file, `${where} image_0`, options.onProblem);
      const img1 = imageOrProblem(refs1[row], file, `${where} image_1`, options.onProblem);
      if (!img0 || !img1) continue;
      const qs = questions![row] as unknown[];
      const as = answers![row] as unknown[];
      const mismatch = Array.isArray(qs) ? lengthMismatch(qs.length, 'sentences', [['answers', as]]) : 'questions is null';
      if (mismatch || typeof identifiers![row] !== 'string') {
        reportProblem(options.onProblem, { file: file.path, where, message: mismatch ?? 'identifier is null' });
        continue;
      }
      for (let q = 0; q < qs.length; q++) {
        if (typeof qs[q] !== 'string') {
          reportProblem(options.onProblem, { file: file.path, where: `${where} sentence ${q}`, message: 'the sentence is null' });
          continue;
        }
        if (as[q] !== 'True' && as[q] !== 'False') {
          reportProblem(options.onProblem, { file: file.path, where: `${where} sentence ${q}`, message: `answer ${JSON.stringify(as[q])} is not "True" or "False"` });
          continue;
        }
        examples.push({ identifier: `${String(identifiers![row])}-${q}`, sentence: String(qs[q]), images: [img0, img1], label: as[q] === 'True' ? 1 : 0 });
      }
    }
  });
  return { task: 'nlvr2', split, files, examples };
}

export async function openF30kArrow(dir: string, split: string, options: ArrowReadOptions = {}): Promise<RetrievalDataset> {
  const ds: RetrievalDataset = { task: 'irtr', split, files: [], images: [], texts: [] };
  ds.files = await forEachBatch(dir, arrowSplitFiles('irtr', split, 'vilt'), F30K_ARROW_TYPES, async (file, b) => {
    const refs = await file.binaryRefs(b, 'image');
    const [captions, imageIds] = await Promise.all(['caption', 'image_id'].map((c) => file.readColumn(b, c)));
    for (let row = 0; row < refs.length; row++) {
      const where = `record batch ${b} row ${row}`;
      const image = imageOrProblem(refs[row], file, where, options.onProblem);
      if (!image) continue;
      const rowCaptions = captions![row];
      const unusable = !Array.isArray(rowCaptions) ? 'caption is null' : rowCaptions.some((c) => typeof c !== 'string') ? 'a caption is null' : typeof imageIds![row] !== 'string' ? 'image_id is null' : undefined;
      if (unusable) {
        reportProblem(options.onProblem, { file: file.path, where, message: unusable });
        continue;
      }
      // ViLT de-duplicates an image's captions (remove_duplicate=True); keep first-seen order.
      const texts = [...new Set(rowCaptions as string[])];
      const imageIndex = ds.images.length;
      ds.images.push({ imageId: String(imageIds![row]), image, captions: texts.map((_, i) => ds.texts.length + i) });
      for (const text of texts) ds.texts.push({ text, imageIndex });
    }
  });
  return ds;
}
