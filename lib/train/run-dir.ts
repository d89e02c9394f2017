/**
 * A run directory: config.json (the resolved configuration), labels.json (the head's class names,
 * for predict and export), metrics.jsonl and gates.jsonl (one JSON record a line, appended as the
 * run goes), checkpoints/, adapters/ and result.json. Whole files are written atomically; a
 * resumed run first cuts the logs back to the line counts its checkpoint recorded, so nothing is
 * duplicated or lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DasError } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-file.js';

export type LogName = 'metrics' | 'gates';

export class RunDir {
  private readonly lines: Record<LogName, number> = { metrics: 0, gates: 0 };

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

  /** A new run: `dir` must not hold one already. */
  static create(dir: string): RunDir {
    const run = new RunDir(path.resolve(dir));
    if (fs.existsSync(run.configPath)) {
      throw new DasError('DAS_INVALID_ARGUMENT', `${run.dir} already holds a run (config.json); pass --resume to continue it, or choose another --out`);
    }
    fs.mkdirSync(run.checkpointsDir, { recursive: true });
    return run;
  }

  /** An existing run, for resuming or evaluating. */
  static open(dir: string): RunDir {
    const run = new RunDir(path.resolve(dir));
    if (!fs.existsSync(run.configPath)) throw new DasError('DAS_FILE', `${run.dir} is not a run directory (no config.json)`);
    for (const name of ['metrics', 'gates'] as const) run.lines[name] = run.readLog(name).length;
    return run;
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
    return complete.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);
  }

  /** Keeps the first `lines` records of a log (what the checkpoint being resumed had written). */
  truncateLog(name: LogName, lines: number): void {
    if (!this.writes) {
      this.lines[name] = lines;
      return;
    }
    const kept = this.readLog(name).slice(0, lines);
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
