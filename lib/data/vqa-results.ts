/**
 * VQA predictions in the official submission format: a JSON array of {"question_id": int,
 * "answer": string}, one per question, written atomically (temp file, fsync, rename).
 */
import { open, rename, rm } from 'node:fs/promises';
import { DasError, invalidArgument } from '../errors.js';
import { argmaxRows } from './metrics.js';

export interface VqaResult {
  question_id: number;
  answer: string;
}

/** Arg-max answers of a [questions, numAnswers] logit matrix, mapped through the vocabulary. */
export function vqaPredictions(logits: ArrayLike<number>, questionIds: readonly number[], answers: readonly string[]): VqaResult[] {
  const best = argmaxRows(logits, answers.length);
  if (best.length !== questionIds.length) throw invalidArgument('question ids', `${best.length} ids (one per logit row)`, questionIds.length);
  return Array.from(best, (label, r) => ({ question_id: questionIds[r]!, answer: answers[label]! }));
}

export async function writeVqaResultFile(path: string, results: readonly VqaResult[]): Promise<void> {
  const seen = new Set<number>();
  for (const [i, r] of results.entries()) {
    if (!Number.isInteger(r?.question_id) || typeof r.answer !== 'string') throw invalidArgument(`VQA result ${i}`, '{ question_id: integer, answer: string }', r);
    if (seen.has(r.question_id)) throw new DasError('DAS_DATA', `VQA results name question ${r.question_id} twice`);
    seen.add(r.question_id);
  }
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify(results.map((r) => ({ question_id: r.question_id, answer: r.answer }))));
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw new DasError('DAS_FILE', `Cannot write VQA results to ${path}: ${(err as Error).message}`, { cause: err });
  }
  await handle.close();
  await rename(tmp, path);
}
