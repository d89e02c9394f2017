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

export const VQA_ARROW_COLUMNS = ['image', 'questions', 'answers', 'answer_labels', 'answer_scores', 'image_id', 'question_id'] as const;
export const NLVR2_ARROW_COLUMNS = ['image_0', 'image_1', 'questions', 'answers', 'identifier'] as const;
export const F30K_ARROW_COLUMNS = ['image', 'caption', 'image_id'] as const;

export interface ArrowReadOptions {
  /** Collects row-level problems instead of throwing the first (see ProblemHandler). */
  onProblem?: ProblemHandler;
  /** VQA classifier size; labels at or above it are problems. Default 3129. */
  numAnswers?: number;
}

/** Opens each file of a split, checks its columns, and visits its record batches in order. */
async function forEachBatch(
  dir: string,
  names: readonly string[],
  columns: readonly string[],
  visit: (file: ArrowIpcFile, batch: number) => Promise<void>,
): Promise<string[]> {
  const paths = names.map((n) => join(dir, `${n}.arrow`));
  for (const path of paths) {
    const file = await ArrowIpcFile.open(path);
    try {
      file.requireColumns(columns);
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

export async function openVqaArrow(dir: string, split: string, model: 'vilt' | 'meter', options: ArrowReadOptions = {}): Promise<VqaDataset> {
  const numAnswers = options.numAnswers ?? 3129;
  const answers = new Array<string>(numAnswers).fill('');
  const examples: VqaExample[] = [];
  const isTest = split === 'test' || split === 'test-dev';
  const columns = isTest ? ['image', 'questions', 'question_id', 'image_id'] : [...VQA_ARROW_COLUMNS];
  const files = await forEachBatch(dir, arrowSplitFiles('vqa', split, model), columns, async (file, b) => {
    const refs = await file.binaryRefs(b, 'image');
    const col = async (name: string) => (columns.includes(name) ? file.readColumn(b, name) : []);
    const [questions, qids, imageIds, answerCol, labelCol, scoreCol] = await Promise.all(
      ['questions', 'question_id', 'image_id', 'answers', 'answer_labels', 'answer_scores'].map(col),
    );
    for (let row = 0; row < refs.length; row++) {
      const where = `record batch ${b} row ${row}`;
      const image = imageOrProblem(refs[row], file, where, options.onProblem);
      if (!image) continue;
      const qs = asArray(questions![row]);
      const ids = asArray(qids![row]);
      for (let q = 0; q < qs.length; q++) {
        const labels = asArray(asArray(labelCol![row])[q]) as number[];
        const scores = asArray(asArray(scoreCol![row])[q]) as number[];
        const names = asArray(asArray(answerCol![row])[q]) as string[];
        const bad = labels.findIndex((l) => !Number.isInteger(l) || l < 0 || l >= numAnswers);
        if (bad >= 0 || labels.length !== scores.length) {
          const message = bad >= 0 ? `answer label ${labels[bad]} is outside the answer vocabulary of ${numAnswers}` : `${labels.length} answer labels but ${scores.length} scores`;
          reportProblem(options.onProblem, { file: file.path, where: `${where} question ${q}`, message });
          continue;
        }
        labels.forEach((l, i) => {
          if (names[i] !== undefined) answers[l] = names[i]!;
        });
        examples.push({ questionId: Number(ids[q]), imageId: Number(imageIds![row]), question: String(qs[q]), image, labels, scores });
      }
    }
  });
  return { task: 'vqa', split, files, examples, answers, numAnswers };
}

export async function openNlvr2Arrow(dir: string, split: string, options: ArrowReadOptions = {}): Promise<Nlvr2Dataset> {
  const examples: Nlvr2Example[] = [];
  const files = await forEachBatch(dir, arrowSplitFiles('nlvr2', split, 'vilt'), NLVR2_ARROW_COLUMNS, async (file, b) => {
    const [refs0, refs1] = await Promise.all([file.binaryRefs(b, 'image_0'), file.binaryRefs(b, 'image_1')]);
    const [questions, answers, identifiers] = await Promise.all(['questions', 'answers', 'identifier'].map((c) => file.readColumn(b, c)));
    for (let row = 0; row < refs0.length; row++) {
      const where = `record batch ${b} row ${row}`;
      const img0 = imageOrProblem(refs0[row], file, `${where} image_0`, options.onProblem);
      const img1 = imageOrProblem(refs1[row], file, `${where} image_1`, options.onProblem);
      if (!img0 || !img1) continue;
      const qs = asArray(questions![row]);
      const as = asArray(answers![row]);
      for (let q = 0; q < qs.length; q++) {
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
  ds.files = await forEachBatch(dir, arrowSplitFiles('irtr', split, 'vilt'), F30K_ARROW_COLUMNS, async (file, b) => {
    const refs = await file.binaryRefs(b, 'image');
    const [captions, imageIds] = await Promise.all(['caption', 'image_id'].map((c) => file.readColumn(b, c)));
    for (let row = 0; row < refs.length; row++) {
      const image = imageOrProblem(refs[row], file, `record batch ${b} row ${row}`, options.onProblem);
      if (!image) continue;
      // ViLT de-duplicates an image's captions (remove_duplicate=True); keep first-seen order.
      const texts = [...new Set(asArray(captions![row]).map(String))];
      const imageIndex = ds.images.length;
      ds.images.push({ imageId: String(imageIds![row]), image, captions: texts.map((_, i) => ds.texts.length + i) });
      for (const text of texts) ds.texts.push({ text, imageIndex });
    }
  });
  return ds;
}
