/**
 * A run directory: config.json (the resolved configuration), labels.json (the head's class names,
 * for predict and export), metrics.jsonl and gates.jsonl (one JSON record a line, appended as the
 * run goes), checkpoints/, adapters/, best/ and result.json, plus run.lock while a process runs it.
 *
 * What protects the user's files:
 * - a new run starts only in a missing or empty folder, or over a run of ours that stopped before
 *   its first checkpoint (nothing in it can be resumed); it never writes into a folder of other files;
 * - one process at a time: the folder's lock (run-lock.ts) is taken before anything is read or written;
 * - whole files are written atomically, and the temp files of writes a crash interrupted are removed
 *   when the run resumes and when it ends;
 * - a resumed run first cuts the logs back to the line counts its checkpoint recorded, so nothing is
 *   duplicated; a log shorter than that (deleted, edited) stops the resume instead of leaving a gap.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DasError, invalidArgument } from '../errors.js';
import { removeAtomicTemps, writeFileAtomic, writeJsonAtomic } from '../util/atomic-file.js';
import { LOCK_FILE, RunLock } from './run-lock.js';

export type LogName = 'metrics' | 'gates';

/** What a folder holds, as far as runs are concerned. */
export type RunFolderState =
  | { kind: 'absent' | 'empty' }
  /** Files that are not a das-torch run (listed, a few). */
  | { kind: 'foreign'; entries: string[] }
  /** A run that stopped before its first checkpoint: nothing to resume, safe to start over. */
  | { kind: 'started' }
  | { kind: 'resumable' | 'finished' };

/** Everything a run writes in its folder (the lock aside): what starting a run over removes. */
const RUN_ENTRIES = ['config.json', 'labels.json', 'metrics.jsonl', 'gates.jsonl', 'result.json', 'checkpoints', 'adapters', 'best'];
const SUBFOLDERS = ['checkpoints', 'adapters', 'best'];

export interface RunDirOptions {
  /** Notices for people (a stale lock taken over, a run started over). */
  onWarning?: (message: string) => void;
}

/** Checks a run folder argument: a non-empty path (an empty one would mean the working directory). */
export function checkRunFolder(dir: unknown, what = '--out'): string {
  if (typeof dir !== 'string' || dir.trim() === '' || dir.includes('\0')) throw invalidArgument(what, 'a folder path', dir);
  return path.resolve(dir);
}

function isOurConfig(file: string): boolean {
  try {
    const config = JSON.parse(fs.readFileSync(file, 'utf8')) as { mode?: unknown; architecture?: unknown } | null;
    return (config?.mode === 'search' || config?.mode === 'train') && typeof config.architecture === 'string';
  } catch {
    return false;
  }
}

/** Classifies a folder: missing, empty, someone else's files, or one of our runs and how far it got. */
export function runFolderState(dir: string): RunFolderState {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return { kind: 'foreign', entries: [] };
    throw new DasError('DAS_FILE', `cannot read the run folder ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const config = path.join(dir, 'config.json');
  if (fs.existsSync(config) && isOurConfig(config)) {
    if (fs.existsSync(path.join(dir, 'result.json'))) return { kind: 'finished' };
    if (fs.existsSync(path.join(dir, 'checkpoints', 'last.safetensors'))) return { kind: 'resumable' };
    return { kind: 'started' };
  }
  const others = entries.filter((name) => name !== LOCK_FILE);
  return others.length === 0 ? { kind: 'empty' } : { kind: 'foreign', entries: others.slice(0, 5).concat(others.length > 5 ? [`... (${others.length} entries)`] : []) };
}

export class RunDir {
  private readonly lines: Record<LogName, number> = { metrics: 0, gates: 0 };
  private lock?: RunLock;

  private constructor(
    readonly dir: string,
    /** False for the ranks other than 0 of a data-parallel run: they read, and write nothing. */
    readonly writes = true,
  ) {}

  /**
   * The run as the ranks other than 0 of a data-parallel job see it: the same paths and line
   * counts, but writes do nothing (rank 0 alone writes the run directory).
   */
  static follower(dir: string): RunDir {
    return new RunDir(path.resolve(dir), false);
  }

  /**
   * A new run in `dir`: the folder must be missing or empty, or hold a run of ours that stopped
   * before its first checkpoint (started over, and `onWarning` says so). Takes the folder's lock;
   * call close() at the end.
   */
  static create(dir: string, options: RunDirOptions = {}): RunDir {
    const run = RunDir.locked(dir, options);
    try {
      const state = runFolderState(run.dir);
      if (state.kind === 'resumable' || state.kind === 'finished') {
        throw new DasError('DAS_INVALID_ARGUMENT', `${run.dir} already holds a run (config.json${state.kind === 'finished' ? ', result.json' : ', a checkpoint'}); pass --resume to continue it, or choose another --out`);
      }
      run.prepareFresh(state, options);
      return run;
    } catch (error) {
      run.close();
      throw error;
    }
  }

  /**
   * An existing run, locked, to continue. `fresh` is true when the run had stopped before its first
   * checkpoint: it was cleared (and `onWarning` said so) and starts over like a new run.
   */
  static resume(dir: string, options: RunDirOptions = {}): { runDir: RunDir; fresh: boolean } {
    const run = RunDir.locked(dir, options, { mustExist: true });
    try {
      const state = runFolderState(run.dir);
      if (state.kind === 'resumable' || state.kind === 'finished') {
        removeAtomicTemps(run.dir);
        for (const sub of SUBFOLDERS) removeAtomicTemps(path.join(run.dir, sub));
        run.countLines();
        return { runDir: run, fresh: false };
      }
      if (state.kind !== 'started') throw new DasError('DAS_FILE', `${run.dir} is not a run directory (no config.json of a das-torch run)`);
      run.prepareFresh(state, options);
      return { runDir: run, fresh: true };
    } catch (error) {
      run.close();
      throw error;
    }
  }

  /** An existing run, read-only and without the lock (evaluate, export, predict, reports). */
  static open(dir: string): RunDir {
    const run = new RunDir(checkRunFolder(dir, 'run directory'));
    if (!fs.existsSync(run.configPath)) throw new DasError('DAS_FILE', `${run.dir} is not a run directory (no config.json)`);
    run.countLines();
    return run;
  }

  private static locked(dir: string, options: RunDirOptions, { mustExist = false } = {}): RunDir {
    const run = new RunDir(checkRunFolder(dir));
    if (mustExist && !fs.existsSync(run.configPath)) throw new DasError('DAS_FILE', `${run.dir} is not a run directory (no config.json)`);
    try {
      fs.mkdirSync(run.dir, { recursive: true });
    } catch (error) {
      throw new DasError('DAS_FILE', `cannot create the run folder ${run.dir}: ${(error as Error).message}`, { cause: error });
    }
    run.lock = RunLock.acquire(run.dir, options.onWarning ?? (() => {}));
    return run;
  }

  /** Makes a locked folder ready for a new run: refuses other files, clears a run that never checkpointed. */
  private prepareFresh(state: RunFolderState, options: RunDirOptions): void {
    if (state.kind === 'foreign') {
      throw new DasError('DAS_INVALID_ARGUMENT', `${this.dir} is not empty and holds no das-torch run (it has: ${state.entries.join(', ')}); a new run needs a new or empty folder for --out`);
    }
    if (state.kind === 'started') {
      options.onWarning?.(`${this.dir} holds a run that stopped before its first checkpoint (nothing to resume): starting it over`);
      for (const name of RUN_ENTRIES) fs.rmSync(path.join(this.dir, name), { recursive: true, force: true });
    }
    removeAtomicTemps(this.dir);
    fs.mkdirSync(this.checkpointsDir, { recursive: true });
    this.lines.metrics = 0;
    this.lines.gates = 0;
  }

  private countLines(): void {
    for (const name of ['metrics', 'gates'] as const) this.lines[name] = this.readLog(name).length;
  }

  /**
   * Ends this process's use of the run: removes what interrupted writes left behind (when
   * `finished`, i.e. no write can still be in flight) and releases the lock. Idempotent.
   */
  close(options: { finished?: boolean } = {}): void {
    if (options.finished && this.writes) {
      removeAtomicTemps(this.dir);
      for (const sub of SUBFOLDERS) removeAtomicTemps(path.join(this.dir, sub));
    }
    this.lock?.release();
  }

  get configPath(): string {
    return path.join(this.dir, 'config.json');
  }
  get resultPath(): string {
    return path.join(this.dir, 'result.json');
  }
  get checkpointsDir(): string {
    return path.join(this.dir, 'checkpoints');
  }
  get lastCheckpoint(): string {
    return path.join(this.checkpointsDir, 'last.safetensors');
  }
  /** Adapters of the final model (saveAdapters layout). */
  get adaptersDir(): string {
    return path.join(this.dir, 'adapters');
  }
  /** Adapters of the best evaluation so far. */
  get bestAdaptersDir(): string {
    return path.join(this.dir, 'best');
  }
  logPath(name: LogName): string {
    return path.join(this.dir, `${name}.jsonl`);
  }

  /**
   * The adapters to evaluate or export: `best` (the best evaluation's; an error when the run saved
   * none), `final`, or by default the best when saved, else the final ones.
   */
  adaptersFor(which?: 'best' | 'final'): string {
    const hasBest = fs.existsSync(this.bestAdaptersDir);
    if (which === 'best' && !hasBest) {
      throw new DasError('DAS_INVALID_ARGUMENT', `${this.dir} has no best adapters (only training runs that evaluate save them); use --adapters final`);
    }
    return which !== 'final' && hasBest ? this.bestAdaptersDir : this.adaptersDir;
  }

  writeConfig(config: unknown): void {
    if (this.writes) writeJsonAtomic(this.configPath, config);
  }

  readConfig<T>(): T {
    return readJson<T>(this.configPath);
  }

  get labelsPath(): string {
    return path.join(this.dir, 'labels.json');
  }

  /** The task head's class names in index order ('' where the data names none). */
  writeLabels(labels: readonly string[]): void {
    if (this.writes) writeJsonAtomic(this.labelsPath, labels);
  }

  /** The class names, or undefined for a run without them (retrieval, or written by an older version). */
  readLabels(): string[] | undefined {
    return fs.existsSync(this.labelsPath) ? readJson<string[]>(this.labelsPath) : undefined;
  }

  writeResult(result: unknown): void {
    if (this.writes) writeJsonAtomic(this.resultPath, result);
  }

  readResult<T>(): T {
    if (!fs.existsSync(this.resultPath)) throw new DasError('DAS_FILE', `${this.dir} has no result.json yet (the run has not finished)`);
    return readJson<T>(this.resultPath);
  }

  lineCount(name: LogName): number {
    return this.lines[name];
  }

  /** Appends one record as one line (a single write). */
  append(name: LogName, record: unknown): void {
    if (this.writes) fs.appendFileSync(this.logPath(name), `${JSON.stringify(record)}\n`);
    this.lines[name]++;
  }

  readLog<T = Record<string, unknown>>(name: LogName): T[] {
    const file = this.logPath(name);
    if (!fs.existsSync(file)) return [];
    const text = fs.readFileSync(file, 'utf8');
    // a line cut short by a crash has no newline: it is not part of the log
    const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
    return complete
      .split('\n')
      .filter(Boolean)
      .map((line, i) => {
        try {
          return JSON.parse(line) as T;
        } catch (error) {
          throw new DasError('DAS_FILE', `${file} line ${i + 1} is not a JSON record (${(error as Error).message})`, { cause: error });
        }
      });
  }

  /**
   * Keeps the first `lines` records of a log (what the checkpoint being resumed had written). A log
   * holding fewer is an error: resuming would finish the run with records silently missing.
   */
  truncateLog(name: LogName, lines: number): void {
    if (!this.writes) {
      this.lines[name] = lines;
      return;
    }
    const records = this.readLog(name);
    if (records.length < lines) {
      const found = fs.existsSync(this.logPath(name)) ? `holds only ${records.length} of the ${lines} records` : `is missing, but held ${lines} records`;
      throw new DasError('DAS_FILE', `cannot resume ${this.dir}: ${name}.jsonl ${found} when its last checkpoint was written (deleted or edited?); restore the file, or start a new run in another folder`);
    }
    const kept = records.slice(0, lines);
    writeFileAtomic(this.logPath(name), kept.map((record) => `${JSON.stringify(record)}\n`).join(''));
    this.lines[name] = kept.length;
  }
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new DasError('DAS_FILE', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}
