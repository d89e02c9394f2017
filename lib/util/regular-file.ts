/**
 * Reading user-named files without hanging. A path can name a FIFO (opening it blocks until a
 * writer comes, which may be never), a character device such as /dev/zero (a read that never
 * ends) or a socket; a file on a stuck network mount can block a read indefinitely. So: files
 * are opened with O_NONBLOCK (which makes opening a FIFO return at once) and accepted only when
 * fstat says they are regular files; a size cap bounds memory; and reads can be given a deadline.
 */
import fs from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { DasError } from '../errors.js';

const FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/** What a non-regular file is, for messages ("a FIFO (named pipe)"). */
export function fileKind(stats: fs.Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(what: string, file: string, stats: fs.Stats): DasError {
  return new DasError('DAS_FILE', `${what} ${file} is ${fileKind(stats)}, not a regular file; only regular files are read (a pipe or device could block or never end)`);
}

function cannotOpen(what: string, file: string, error: unknown): DasError {
  // opening a socket fails (ENXIO): say what it is rather than echo the errno
  const stats = fs.statSync(file, { throwIfNoEntry: false });
  if (stats && !stats.isFile()) return notRegular(what, file, stats);
  return new DasError('DAS_FILE', `${what} ${file} does not exist or cannot be read: ${(error as Error).message}`, { cause: error });
}

function tooLarge(what: string, file: string, size: number, maxBytes: number, setting?: string): DasError {
  const hint = setting ? ` (the limit is set by ${setting})` : '';
  return new DasError('DAS_FILE', `${what} ${file} is ${size} bytes, more than the ${maxBytes}-byte limit${hint}`);
}

export interface RegularReadOptions {
  /** How to name the file in messages, e.g. "Image", "Dataset file". */
  what?: string;
  /** Refuse larger files. */
  maxBytes?: number;
  /** The environment variable that sets `maxBytes`, for the message. */
  maxBytesSetting?: string;
}

/** Opens a regular file for reading; anything else is a DAS_FILE error naming it and what it is. */
export async function openRegularFile(file: string, options: RegularReadOptions = {}): Promise<{ handle: FileHandle; size: number }> {
  const what = options.what ?? 'File';
  let handle: FileHandle;
  try {
    handle = await open(file, FLAGS);
  } catch (error) {
    throw cannotOpen(what, file, error);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegular(what, file, stats);
    if (options.maxBytes !== undefined && stats.size > options.maxBytes) throw tooLarge(what, file, stats.size, options.maxBytes, options.maxBytesSetting);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The whole content of a regular file. */
export async function readRegularFile(file: string, options: RegularReadOptions = {}): Promise<Buffer> {
  const { handle } = await openRegularFile(file, options);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The whole content of a regular file, synchronously (small files: configs, JSON, inputs). */
export function readRegularFileSync(file: string, options: RegularReadOptions = {}): Buffer {
  const what = options.what ?? 'File';
  let fd: number;
  try {
    fd = fs.openSync(file, FLAGS);
  } catch (error) {
    throw cannotOpen(what, file, error);
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw notRegular(what, file, stats);
    if (options.maxBytes !== undefined && stats.size > options.maxBytes) throw tooLarge(what, file, stats.size, options.maxBytes, options.maxBytesSetting);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Fails unless `file` is a regular file (without opening it: for files another component opens). */
export function checkRegularFile(file: string, what = 'File'): void {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(file);
  } catch (error) {
    throw cannotOpen(what, file, error);
  }
  if (!stats.isFile()) throw notRegular(what, file, stats);
}

/**
 * Settles like `work`, or rejects with `message` after `ms` (the work itself cannot be cancelled;
 * its late result is dropped). The timer does not keep the process alive.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DasError('DAS_FILE', message())), ms);
    timer.unref();
  });
  work.catch(() => undefined); // a failure after the deadline has nobody to report to
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
