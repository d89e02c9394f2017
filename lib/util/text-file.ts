/**
 * Text files users hand us (TSV, JSON, JSONL, config.json): UTF-8, with the byte-order mark that
 * Windows tools (Excel, Notepad) write removed, since it would otherwise stick to the first header
 * name or make the first JSON line invalid, invisibly. UTF-16 files are refused by name instead of
 * being read as garbage.
 */
import { DasError } from '../errors.js';
import { readRegularFile, readRegularFileSync, type RegularReadOptions } from './regular-file.js';

function decode(bytes: Buffer, file: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new DasError('DAS_DATA', `${file} is UTF-16 encoded (it starts with a UTF-16 byte-order mark); save it as UTF-8`);
  }
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return bytes.toString('utf8', start);
}

/** A UTF-8 text file (a leading byte-order mark removed); only regular files are read. */
export async function readTextFile(file: string, options: RegularReadOptions = {}): Promise<string> {
  return decode(await readRegularFile(file, options), file);
}

export function readTextFileSync(file: string, options: RegularReadOptions = {}): string {
  return decode(readRegularFileSync(file, options), file);
}

/** A JSON file, parsed; errors name the file. */
export function readJsonFileSync(file: string, what = 'File'): unknown {
  const text = readTextFileSync(file, { what });
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new DasError('DAS_FILE', `${what} ${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}
