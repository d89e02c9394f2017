/**
 * Writes Arrow IPC files with the exact columns and types of the original ViLT `write_*.py` makers
 * (pyarrow from a pandas DataFrame): vqav2_*.arrow, nlvr2_*.arrow, f30k_caption_karpathy_*.arrow.
 * Files are produced by apache-arrow's own IPC file writer, optionally split into several record
 * batches, so readers meet the same layout as in real files.
 */
import { writeFile } from 'node:fs/promises';
import { Binary, Field, Float64, Int64, List, Table, Utf8, tableToIPC, vectorFromArray, type DataType, type Vector } from 'apache-arrow';

const list = (t: DataType) => new List(new Field('item', t, true));

/** One row per COCO image: its questions and, per question, answers, labels and soft scores. */
export interface VqaArrowRow {
  image: Uint8Array;
  questions: string[];
  answers: string[][];
  answerLabels: number[][];
  answerScores: number[][];
  imageId: number;
  questionIds: number[];
  split: string;
}

/** One row per NLVR2 image pair: its sentences and "True"/"False" answers. */
export interface Nlvr2ArrowRow {
  image0: Uint8Array;
  image1: Uint8Array;
  questions: string[];
  answers: string[];
  identifier: string;
}

/** One row per Flickr30k image: its captions, file name and Karpathy split. */
export interface F30kArrowRow {
  image: Uint8Array;
  caption: string[];
  imageId: string;
  split: string;
}

export interface ArrowWriteOptions {
  /** Rows per record batch; default: all rows in one batch (what pyarrow writes below 2 GB). */
  rowsPerBatch?: number;
}

/** The columns of an Arrow file: name, Arrow type, and how to take the value from a row. */
export type ColumnSpec<R> = Array<[name: string, type: DataType, get: (row: R) => unknown]>;

const big = (n: number) => BigInt(n);

export const VQA_COLUMNS: ColumnSpec<VqaArrowRow> = [
  ['image', new Binary(), (r) => r.image],
  ['questions', list(new Utf8()), (r) => r.questions],
  ['answers', list(list(new Utf8())), (r) => r.answers],
  ['answer_labels', list(list(new Int64())), (r) => r.answerLabels.map((l) => l.map(big))],
  ['answer_scores', list(list(new Float64())), (r) => r.answerScores],
  ['image_id', new Int64(), (r) => big(r.imageId)],
  ['question_id', list(new Int64()), (r) => r.questionIds.map(big)],
  ['split', new Utf8(), (r) => r.split],
];

export const NLVR2_COLUMNS: ColumnSpec<Nlvr2ArrowRow> = [
  ['image_0', new Binary(), (r) => r.image0],
  ['image_1', new Binary(), (r) => r.image1],
  ['questions', list(new Utf8()), (r) => r.questions],
  ['answers', list(new Utf8()), (r) => r.answers],
  ['identifier', new Utf8(), (r) => r.identifier],
];

export const F30K_COLUMNS: ColumnSpec<F30kArrowRow> = [
  ['image', new Binary(), (r) => r.image],
  ['caption', list(new Utf8()), (r) => r.caption],
  ['image_id', new Utf8(), (r) => r.imageId],
  ['split', new Utf8(), (r) => r.split],
];

/** Encodes rows as an Arrow IPC file (bytes). */
export function encodeArrowFile<R>(columns: ColumnSpec<R>, rows: readonly R[], options: ArrowWriteOptions = {}): Uint8Array {
  const per = Math.max(1, options.rowsPerBatch ?? Math.max(1, rows.length));
  const tables: Table[] = [];
  for (let start = 0; start < Math.max(1, rows.length); start += per) {
    const chunk = rows.slice(start, start + per);
    const vectors: Record<string, Vector> = {};
    for (const [name, type, get] of columns) vectors[name] = vectorFromArray(chunk.map(get) as never[], type);
    tables.push(new Table(vectors));
  }
  const table = new Table(tables.flatMap((t) => t.batches));
  return tableToIPC(table, 'file');
}

export async function writeArrowFile<R>(path: string, columns: ColumnSpec<R>, rows: readonly R[], options: ArrowWriteOptions = {}): Promise<void> {
  await writeFile(path, encodeArrowFile(columns, rows, options));
}
