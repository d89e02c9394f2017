/**
 * Where an image's encoded bytes live: a whole file (COCO, NLVR2 and Flickr30k folders) or a byte
 * range inside an Arrow file (the ViLT/METER datasets). A plain-data reference, so it can be sent
 * to a worker thread, which reads the bytes itself instead of copying them through the main thread.
 *
 * Reads are bounded: only regular files (a FIFO or /dev/zero would block or never end), at most
 * DAS_MAX_IMAGE_BYTES bytes per image (default 64 MiB; real photos are well under 10 MiB), and
 * within DAS_IMAGE_READ_TIMEOUT seconds (default 120; a stuck network mount then fails the run
 * with the image's name instead of hanging it).
 */
import { DasError } from '../errors.js';
import { openRegularFile, withDeadline } from '../util/regular-file.js';

export interface ImageRef {
  /** File holding the encoded image (JPEG, PNG, ...). */
  file: string;
  /** Byte offset of the image inside `file`; absent for a whole-file image. */
  offset?: number;
  /** Byte length of the image inside `file`; absent for a whole-file image. */
  length?: number;
  /** How to name this image in messages, e.g. "vqav2_val.arrow record batch 0 row 12 column image". */
  label: string;
}

export const DEFAULT_MAX_IMAGE_BYTES = 64 * 2 ** 20;
export const DEFAULT_IMAGE_READ_TIMEOUT_S = 120;

export interface ImageReadLimits {
  maxBytes: number;
  timeoutMs: number;
}

function positiveSetting(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new DasError('DAS_INVALID_ARGUMENT', `Expected a positive number for ${name} but received ${JSON.stringify(raw)}`);
  return value;
}

/** The limits in force: DAS_MAX_IMAGE_BYTES and DAS_IMAGE_READ_TIMEOUT (seconds), else the defaults. */
export function imageReadLimits(env: NodeJS.ProcessEnv = process.env): ImageReadLimits {
  return {
    maxBytes: Math.floor(positiveSetting(env, 'DAS_MAX_IMAGE_BYTES', DEFAULT_MAX_IMAGE_BYTES)),
    timeoutMs: positiveSetting(env, 'DAS_IMAGE_READ_TIMEOUT', DEFAULT_IMAGE_READ_TIMEOUT_S) * 1000,
  };
}

async function readBytes(ref: ImageRef, limits: ImageReadLimits): Promise<Buffer> {
  const whole = ref.offset === undefined || ref.length === undefined;
  if (!whole && ref.length! > limits.maxBytes) {
    throw new DasError('DAS_FILE', `Image ${ref.label} is ${ref.length} bytes, more than the ${limits.maxBytes}-byte limit (the limit is set by DAS_MAX_IMAGE_BYTES)`);
  }
  const what = ref.label === ref.file ? 'Image' : `Image ${ref.label}: file`;
  const { handle } = await openRegularFile(ref.file, { what, ...(whole ? { maxBytes: limits.maxBytes, maxBytesSetting: 'DAS_MAX_IMAGE_BYTES' } : {}) });
  try {
    if (whole) return await handle.readFile();
    const out = Buffer.allocUnsafe(ref.length!);
    const { bytesRead } = await handle.read(out, 0, ref.length!, ref.offset!);
    if (bytesRead !== ref.length) {
      throw new DasError('DAS_FILE', `Image ${ref.label} is truncated: expected ${ref.length} bytes at offset ${ref.offset} of ${ref.file}, found ${bytesRead}`);
    }
    return out;
  } finally {
    await handle.close();
  }
}

/** Reads an image's encoded bytes; a missing, unusual, oversized, truncated or stuck file is an error that names it. */
export async function readImageBytes(ref: ImageRef, limits: ImageReadLimits = imageReadLimits()): Promise<Buffer> {
  return withDeadline(readBytes(ref, limits), limits.timeoutMs, () => `Image ${ref.label} could not be read within ${limits.timeoutMs / 1000} s (a stuck network file system?; the limit is set by DAS_IMAGE_READ_TIMEOUT)`);
}
