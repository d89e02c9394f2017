/**
 * Where an image's encoded bytes live: a whole file (COCO, NLVR2 and Flickr30k folders) or a byte
 * range inside an Arrow file (the ViLT/METER datasets). A plain-data reference, so it can be sent
 * to a worker thread, which reads the bytes itself instead of copying them through the main thread.
 */
import { open, readFile } from 'node:fs/promises';
import { DasError } from '../errors.js';

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

/** Reads an image's encoded bytes; a missing file or a short read is an error that names it. */
export async function readImageBytes(ref: ImageRef): Promise<Buffer> {
  if (ref.offset === undefined || ref.length === undefined) {
    try {
      return await readFile(ref.file);
    } catch (err) {
      throw new DasError('DAS_FILE', `Image ${ref.label} cannot be read: ${(err as Error).message}`, { cause: err });
    }
  }
  let handle;
  try {
    handle = await open(ref.file, 'r');
  } catch (err) {
    throw new DasError('DAS_FILE', `Image ${ref.label} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  try {
    const out = Buffer.allocUnsafe(ref.length);
    const { bytesRead } = await handle.read(out, 0, ref.length, ref.offset);
    if (bytesRead !== ref.length) {
      throw new DasError('DAS_FILE', `Image ${ref.label} is truncated: expected ${ref.length} bytes at offset ${ref.offset} of ${ref.file}, found ${bytesRead}`);
    }
    return out;
  } finally {
    await handle.close();
  }
}
