/** Reading a checkpoint's config.json (HuggingFace fields, das-torch's METER, an export's `das` section). */
import { DasError, describe } from '../errors.js';
import { readJsonFileSync } from '../util/text-file.js';

/** A config.json: a JSON object (not null, not a list), or an error naming the file. */
export function readConfigJson(file: string): Record<string, unknown> {
  const json = readJsonFileSync(file, 'Checkpoint config');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new DasError('DAS_CHECKPOINT', `${file} holds ${describe(json)}, not a JSON object of model settings; restore the config.json the weights were saved with`);
  }
  return json as Record<string, unknown>;
}
