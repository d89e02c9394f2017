/** Shared helpers for the data tests: temporary directories and error assertions. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VqaArrowRow } from '../../lib/data/synthetic/arrow-writers.js';
import { DasError } from '../../lib/errors.js';

export function tempDir(name: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `das-data-${name}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Asserts a DasError with the code whose message contains every fragment. */
export async function rejectsDas(fn: () => unknown, code: string, ...fragments: string[]): Promise<void> {
  await assert.rejects(async () => fn(), (err: unknown) => {
    assert.ok(err instanceof DasError, `expected a DasError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const f of fragments) assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    return true;
  });
}

/** Row `i` of a small ViLT VQA Arrow file: an image of `imageBytes` bytes, two questions with their answers, ids and scores. */
export function vqaArrowRow(i: number, change: Partial<VqaArrowRow> = {}, imageBytes = 5 + i): VqaArrowRow {
  return {
    image: new Uint8Array(imageBytes).fill(i % 251),
    questions: [`question ${i}`, `another ${i}`],
    answers: [['yes'], ['2', 'red']],
    answerLabels: [[0], [2, 3]],
    answerScores: [[1], [0.3, 0.6]],
    imageId: 100 + i,
    questionIds: [1000 + 2 * i, 1001 + 2 * i],
    split: 'train',
    ...change,
  };
}
