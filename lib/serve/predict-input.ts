/**
 * The JSONL input of `das predict`: one object a line with `text`, optional `text_pair` (RoBERTa),
 * and image paths for the vision-language models: `image` (VQA, retrieval) or `image_0` and
 * `image_1` (NLVR2). Relative image paths are taken from the JSONL file's folder.
 */
import path from 'node:path';
import { DasError } from '../errors.js';
import { readTextFileSync } from '../util/text-file.js';

export interface PredictInput {
  text: string;
  text_pair?: string;
  image?: string;
  image_0?: string;
  image_1?: string;
}

export type PredictField = keyof PredictInput;
const FIELDS: readonly PredictField[] = ['text', 'text_pair', 'image', 'image_0', 'image_1'];

/** Which fields a model and task take: the required ones, and the optional ones. */
export interface InputFields {
  required: readonly PredictField[];
  optional: readonly PredictField[];
  /** Names the model and task in messages, e.g. "ViLT NLVR2". */
  model: string;
}

/** Checks one input against the fields its model takes; `where` names it ("inputs.jsonl line 3"). */
export function checkPredictInput(value: unknown, where: string, fields: InputFields): PredictInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DasError('DAS_DATA', `${where}: expected a JSON object`);
  const record = value as Record<string, unknown>;
  for (const field of fields.required) {
    if (record[field] === undefined) throw new DasError('DAS_DATA', `${where}: missing the field "${field}" (${fields.model} takes ${fields.required.join(', ')})`);
  }
  for (const field of FIELDS) {
    if (record[field] === undefined) continue;
    if (typeof record[field] !== 'string') throw new DasError('DAS_DATA', `${where}: field "${field}" must be a string`);
    if (!fields.required.includes(field) && !fields.optional.includes(field)) throw new DasError('DAS_DATA', `${where}: field "${field}" is not used by ${fields.model}`);
  }
  return record as unknown as PredictInput;
}

/** Parses JSONL lines (blank lines skipped); image paths are resolved against `baseDir`. */
export function parsePredictInputs(lines: readonly string[], source: string, fields: InputFields, baseDir = '.'): PredictInput[] {
  const inputs: PredictInput[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new DasError('DAS_DATA', `${source} line ${i + 1}: not valid JSON (${(error as Error).message})`);
    }
    const input = { ...checkPredictInput(value, `${source} line ${i + 1}`, fields) };
    for (const field of ['image', 'image_0', 'image_1'] as const) if (input[field] !== undefined) input[field] = path.resolve(baseDir, input[field]);
    inputs.push(input);
  });
  if (inputs.length === 0) throw new DasError('DAS_DATA', `${source} holds no input lines`);
  return inputs;
}

export function readPredictInputs(file: string, fields: InputFields): PredictInput[] {
  const text = readTextFileSync(file, { what: 'Input file' });
  return parsePredictInputs(text.split('\n'), file, fields, path.dirname(file));
}
