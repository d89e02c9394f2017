/**
 * The in-memory form of every supported dataset, whatever format it was read from. Text and labels
 * are held in memory (small); images stay on disk as ImageRefs and are read when batched.
 */
import { DasError } from '../errors.js';
import type { ImageRef } from './image-source.js';

export type TaskName = 'vqa' | 'nlvr2' | 'irtr' | 'mnli' | 'sst2';
export type ModelName = 'vilt' | 'meter' | 'roberta';
export type DatasetFormat = 'arrow' | 'official';

export const TASKS: readonly TaskName[] = ['vqa', 'nlvr2', 'irtr', 'mnli', 'sst2'];

export interface VqaExample {
  questionId: number;
  imageId: number;
  question: string;
  image: ImageRef;
  /** Answer-vocabulary indices with a non-zero soft score (empty for test splits). */
  labels: number[];
  /** Soft scores matching `labels` (0.3 / 0.6 / 0.9 / 1 for 1 / 2 / 3 / >= 4 annotators). */
  scores: number[];
  /** The 10 annotators' raw answers, when the source has them (official JSON), for the official accuracy. */
  annotatorAnswers?: string[];
}

export interface VqaDataset {
  task: 'vqa';
  split: string;
  files: string[];
  examples: VqaExample[];
  /** Label index -> answer string ('' for an index no example names). */
  answers: string[];
  /** Size of the classifier output (3129 for VQA v2). */
  numAnswers: number;
}

export interface Nlvr2Example {
  identifier: string;
  sentence: string;
  images: [ImageRef, ImageRef];
  /** 1 for "True", 0 for "False". */
  label: number;
}

export interface Nlvr2Dataset {
  task: 'nlvr2';
  split: string;
  files: string[];
  examples: Nlvr2Example[];
}

export interface RetrievalImage {
  imageId: string;
  image: ImageRef;
  /** Indices into RetrievalDataset.texts of this image's captions. */
  captions: number[];
}

export interface RetrievalDataset {
  task: 'irtr';
  split: string;
  files: string[];
  images: RetrievalImage[];
  texts: Array<{ text: string; imageIndex: number }>;
}

export interface GlueExample {
  text: string;
  pair?: string;
  /** Index into GlueDataset.labels; -1 for an unlabelled (test) example. */
  label: number;
}

export interface GlueDataset {
  task: 'mnli' | 'sst2';
  split: string;
  files: string[];
  /** Label names in class-index order. */
  labels: readonly string[];
  examples: GlueExample[];
}

export type TaskDataset = VqaDataset | Nlvr2Dataset | RetrievalDataset | GlueDataset;

/** A data problem found while reading: where it is and what is wrong. */
export interface DataProblem {
  file: string;
  /** Row, line, record batch, question..., when known. */
  where?: string;
  message: string;
}

/**
 * Readers report recoverable row-level problems (a label outside the vocabulary, a missing image
 * file) here. Without a handler the first problem is thrown: training never skips data silently;
 * `checkDataset` passes a handler to collect them.
 */
export type ProblemHandler = (problem: DataProblem) => void;

export function reportProblem(handler: ProblemHandler | undefined, problem: DataProblem): void {
  if (!handler) throw new DasError('DAS_DATA', formatProblem(problem));
  handler(problem);
}

export function formatProblem(p: DataProblem): string {
  return `${p.file}${p.where ? ` (${p.where})` : ''}: ${p.message}`;
}

/** Number of examples a training loop iterates over (retrieval: image-caption pairs). */
export function datasetSize(ds: TaskDataset): number {
  return ds.task === 'irtr' ? ds.texts.length : ds.examples.length;
}
