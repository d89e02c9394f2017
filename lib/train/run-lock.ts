/**
 * The advisory lock of a run folder: `run.lock` holds the owner's pid, host and start time, and is
 * created with O_EXCL so that of two processes opening the same run only one proceeds. A lock whose
 * process is gone (same host, pid not running, or running but started after the lock: a reused pid)
 * is stale and taken over. A lock from another host cannot be checked from here: it is refused,
 * with the command that clears it once that process is known to be gone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DasError } from '../errors.js';

export const LOCK_FILE = 'run.lock';

export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  processStart?: string;
  command?: string;
}

/** Field 22 of /proc/<pid>/stat: when the process started (Linux only; undefined elsewhere or when it is gone). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by another user
  }
}

/** Why a lock on this host no longer holds, or undefined when its owner still runs. */
export function staleReason(owner: LockOwner): string | undefined {
  if (!Number.isSafeInteger(owner.pid) || owner.pid <= 0) return 'it names no process';
  if (!isRunning(owner.pid)) return `process ${owner.pid} is no longer running`;
  const start = processStartTime(owner.pid);
  if (owner.processStart && start && start !== owner.processStart) return `process ${owner.pid} is another program now (the pid was reused)`;
  return undefined;
}

function describeOwner(owner: LockOwner): string {
  return `process ${owner.pid} on ${owner.host} (since ${owner.since}${owner.command ? `: ${owner.command}` : ''})`;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    return typeof owner === 'object' && owner !== null ? owner : undefined;
  } catch {
    return undefined; // being written, or damaged: treated below
  }
}

export class RunLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(
    readonly file: string,
    private readonly owner: LockOwner,
  ) {
    process.on('exit', this.onExit);
  }

  /**
   * Takes the lock of `dir` (which must exist), or fails naming the process that holds it. A stale
   * lock is taken over, and `onWarning` says so.
   */
  static acquire(dir: string, onWarning: (message: string) => void): RunLock {
    const file = path.join(dir, LOCK_FILE);
    const start = processStartTime(process.pid);
    const owner: LockOwner = {
      pid: process.pid,
      host: os.hostname(),
      since: new Date().toISOString(),
      ...(start ? { processStart: start } : {}),
      command: process.argv.slice(1).join(' ').slice(0, 300),
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(file, 'wx');
        try {
          fs.writeFileSync(fd, `${JSON.stringify(owner)}\n`);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        // two processes that both removed the same stale lock both create one: the file tells who won
        if (readOwner(file)?.pid === owner.pid && readOwner(file)?.since === owner.since) return new RunLock(file, owner);
        continue;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new DasError('DAS_FILE', `cannot lock the run folder ${dir}: ${(error as Error).message}`, { cause: error });
      }
      const held = readOwner(file);
      if (!held) {
        // a lock file without a readable owner: an owner that died while writing it, or one writing it now
        const age = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
        if (age < 5_000) throw new DasError('DAS_INVALID_ARGUMENT', `the run folder ${dir} is being locked by another process (${file}); try again`);
        onWarning(`${file} was unreadable and is ${Math.round(age / 1000)} s old: taking it over`);
        fs.rmSync(file, { force: true });
        continue;
      }
      if (held.host !== os.hostname()) {
        throw new DasError(
          'DAS_INVALID_ARGUMENT',
          `the run folder ${dir} is in use by ${describeOwner(held)}; only one process may run it at a time. ` +
            `If that process has ended, remove ${file} and try again.`,
        );
      }
      const stale = staleReason(held);
      if (!stale) throw new DasError('DAS_INVALID_ARGUMENT', `the run folder ${dir} is in use by ${describeOwner(held)}; only one process may run it at a time`);
      onWarning(`taking over the stale lock of ${dir}: ${stale}`);
      fs.rmSync(file, { force: true });
    }
    throw new DasError('DAS_INVALID_ARGUMENT', `the run folder ${dir} is contended by other processes (${file}); try again`);
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    const current = readOwner(this.file);
    if (current?.pid === this.owner.pid && current.since === this.owner.since) fs.rmSync(this.file, { force: true });
  }
}
