/**
 * Atomic file writes: a temp file in the same folder, fsync, rename over the target, fsync the
 * folder. Temp files are named `<target>.tmp-<pid>-<n>`, as the addon names its own, so that one
 * rule finds what an interrupted write left behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DasError } from '../errors.js';

let counter = 0;

/** A temp-file name beside `file` that no other writer (thread or process) uses. */
export function tempPathFor(file: string): string {
  return `${path.resolve(file)}.tmp-${process.pid}-${Date.now()}${counter++}`;
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  const temp = tempPathFor(file);
  try {
    fs.mkdirSync(dir, { recursive: true });
    const fd = fs.openSync(temp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
    const dirFd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new DasError('DAS_FILE', `cannot write ${file}: ${(error as Error).message}`, { cause: error });
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Copies a file atomically (the target is either the old file or the whole new one). */
export function copyFileAtomic(from: string, to: string): void {
  const temp = tempPathFor(to);
  try {
    fs.copyFileSync(from, temp);
    fs.renameSync(temp, to);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new DasError('DAS_FILE', `cannot copy ${from} to ${to}: ${(error as Error).message}`, { cause: error });
  }
}

/** Temp files of an atomic write: this module's and the addon's (`x.tmp-<pid>-<n>`), and the older `.x.<pid>.<ms>.tmp`. */
export function isAtomicTemp(name: string): boolean {
  return /\.tmp-\d+-\d+$/.test(name) || /^\..+\.\d+\.\d+\.tmp$/.test(name);
}

/**
 * Removes the temp files interrupted atomic writes left in `dir` (not in its subfolders), or only
 * those of the targets named in `of`. Only call it while no write into `dir` can be in flight (a
 * run folder's lock holder, between writes). Returns the names removed.
 */
export function removeAtomicTemps(dir: string, of?: readonly string[]): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed = names.filter((name) => isAtomicTemp(name) && (!of || of.some((target) => name.startsWith(`${target}.tmp-`))));
  for (const name of removed) fs.rmSync(path.join(dir, name), { force: true });
  return removed;
}
