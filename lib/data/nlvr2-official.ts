/**
 * The official NLVR2 release: JSON-lines annotation files (nlvr2/data/{train,dev,test1}.json, one
 * object per line with identifier, sentence, label "True"/"False", and for train the image
 * directory) beside the image folders as the archives unpack (images/train/<directory>/,
 * dev/, test1/). The two images of identifier "dev-850-0-0" are dev/dev-850-0-img0.png and -img1.png.
 */
import { join } from 'node:path';
import { reportProblem, type Nlvr2Dataset, type Nlvr2Example, type ProblemHandler } from './dataset-types.js';
import { checkSplit } from './splits.js';
import { readTextFile } from '../util/text-file.js';

const SPLIT_FILES: Record<string, string> = { train: 'train', val: 'dev', test: 'test1' };

export const nlvr2AnnotationFile = (dir: string, name: string) => join(dir, 'nlvr2', 'data', `${name}.json`);

export function nlvr2ImagePaths(dir: string, name: string, identifier: string, directory?: string): [string, string] {
  const prefix = identifier.split('-').slice(0, -1).join('-');
  const folder = name === 'train' ? join(dir, 'images', 'train', directory ?? '') : join(dir, name);
  return [join(folder, `${prefix}-img0.png`), join(folder, `${prefix}-img1.png`)];
}

export async function openNlvr2Official(dir: string, split: string, options: { onProblem?: ProblemHandler } = {}): Promise<Nlvr2Dataset> {
  checkSplit('nlvr2', split);
  const name = SPLIT_FILES[split]!;
  const file = nlvr2AnnotationFile(dir, name);
  const text = await readTextFile(file, { what: 'Dataset file' });
  const examples: Nlvr2Example[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const where = `line ${i + 1}`;
    let row: { identifier?: unknown; sentence?: unknown; label?: unknown; directory?: unknown };
    try {
      row = JSON.parse(line);
    } catch (err) {
      reportProblem(options.onProblem, { file, where, message: `not valid JSON (${(err as Error).message})` });
      continue;
    }
    // a line of valid JSON that is not an object ("null", a number, a list) is no example
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      reportProblem(options.onProblem, { file, where, message: `not a JSON object (${line.trim().slice(0, 40)})` });
      continue;
    }
    if (typeof row.identifier !== 'string' || typeof row.sentence !== 'string') {
      reportProblem(options.onProblem, { file, where, message: 'missing "identifier" or "sentence"' });
      continue;
    }
    if (row.label !== 'True' && row.label !== 'False') {
      reportProblem(options.onProblem, { file, where, message: `label ${JSON.stringify(row.label)} is not "True" or "False"` });
      continue;
    }
    if (name === 'train' && row.directory === undefined) {
      reportProblem(options.onProblem, { file, where, message: 'a train example needs its image "directory"' });
      continue;
    }
    const [p0, p1] = nlvr2ImagePaths(dir, name, row.identifier, row.directory === undefined ? undefined : String(row.directory));
    examples.push({
      identifier: row.identifier,
      sentence: row.sentence,
      images: [{ file: p0, label: p0 }, { file: p1, label: p1 }],
      label: row.label === 'True' ? 1 : 0,
    });
  }
  return { task: 'nlvr2', split, files: [file], examples };
}
