/**
 * GLUE TSV files as the GLUE download unpacks them: MNLI/{train,dev_matched,dev_mismatched}.tsv
 * (columns found by header: sentence1, sentence2, gold_label) and SST-2/{train,dev}.tsv (sentence,
 * label). Fields are tab-separated with no quoting (quotes are text), as GLUE writes them. Label
 * order follows the HuggingFace GLUE datasets.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DasError } from '../errors.js';
import { reportProblem, type GlueDataset, type GlueExample, type ProblemHandler } from './dataset-types.js';
import { checkSplit } from './splits.js';
import { readTextFile } from '../util/text-file.js';

export const MNLI_LABELS = ['entailment', 'neutral', 'contradiction'] as const;
export const SST2_LABELS = ['negative', 'positive'] as const;

const FILES: Record<'mnli' | 'sst2', Record<string, string>> = {
  mnli: { train: 'train.tsv', val: 'dev_matched.tsv', 'val-mismatched': 'dev_mismatched.tsv' },
  sst2: { train: 'train.tsv', val: 'dev.tsv' },
};

/** The task folder: <dir>/MNLI or <dir>/SST-2 when present, else <dir> itself. */
export async function glueTaskDir(dir: string, task: 'mnli' | 'sst2'): Promise<string> {
  const sub = join(dir, task === 'mnli' ? 'MNLI' : 'SST-2');
  const info = await stat(sub).catch(() => null);
  return info?.isDirectory() ? sub : dir;
}

export async function openGlue(dir: string, task: 'mnli' | 'sst2', split: string, options: { onProblem?: ProblemHandler } = {}): Promise<GlueDataset> {
  checkSplit(task, split);
  const file = join(await glueTaskDir(dir, task), FILES[task][split]!);
  const text = await readTextFile(file, { what: 'Dataset file' });
  const lines = text.split(/\r?\n/);
  const header = lines[0]!.split('\t');
  const labels: readonly string[] = task === 'mnli' ? MNLI_LABELS : SST2_LABELS;
  const cols = task === 'mnli' ? ['sentence1', 'sentence2', 'gold_label'] : ['sentence', 'label'];
  const idx = cols.map((c) => header.indexOf(c));
  const missing = cols.filter((_, i) => idx[i]! < 0);
  if (missing.length > 0) throw new DasError('DAS_DATA', `Dataset file ${file} has no column ${missing.join(', ')} in its header (it has: ${header.join(', ')})`);
  const examples: GlueExample[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const fields = lines[i]!.split('\t');
    const where = `line ${i + 1}`;
    if (fields.length < header.length) {
      reportProblem(options.onProblem, { file, where, message: `${fields.length} fields where the header has ${header.length} (a truncated line?)` });
      continue;
    }
    const rawLabel = fields[idx[idx.length - 1]!]!;
    const label = task === 'mnli' ? labels.indexOf(rawLabel) : rawLabel === '0' || rawLabel === '1' ? Number(rawLabel) : -1;
    if (label < 0) {
      reportProblem(options.onProblem, { file, where, message: `label ${JSON.stringify(rawLabel)} is not one of ${task === 'mnli' ? labels.join(', ') : '0, 1'}` });
      continue;
    }
    examples.push(task === 'mnli' ? { text: fields[idx[0]!]!, pair: fields[idx[1]!]!, label } : { text: fields[idx[0]!]!, label });
  }
  return { task, split, files: [file], labels, examples };
}
