/** The JSONL input of `das predict`: one object a line with `text`, optional `text_pair`, and image paths for the vision-language models. */
import fs from 'node:fs';
import { DasError } from '../errors.js';

export interface PredictInput {
  text: string;
  text_pair?: string;
  image?: string;
  image_0?: string;
  image_1?: string;
}

export function parsePredictInputs(lines: readonly string[], source: string): PredictInput[] {
  const inputs: PredictInput[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new DasError('DAS_DATA', `${source} line ${i + 1}: not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DasError('DAS_DATA', `${source} line ${i + 1}: expected a JSON object`);
    const record = value as Record<string, unknown>;
    if (typeof record.text !== 'string') throw new DasError('DAS_DATA', `${source} line ${i + 1}: missing the string field "text"`);
    for (const field of ['text_pair', 'image', 'image_0', 'image_1']) {
      if (record[field] !== undefined && typeof record[field] !== 'string') throw new DasError('DAS_DATA', `${source} line ${i + 1}: field "${field}" must be a string`);
    }
    inputs.push(record as unknown as PredictInput);
  });
  if (inputs.length === 0) throw new DasError('DAS_DATA', `${source} holds no input lines`);
  return inputs;
}

export function readPredictInputs(file: string): PredictInput[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new DasError('DAS_FILE', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parsePredictInputs(text.split('\n'), file);
}
