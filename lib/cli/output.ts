/**
 * How every command ends: the `--json` contract (the last line of stdout is one JSON object),
 * human output otherwise, and exit codes scripts can rely on.
 */
import { DasError } from '../errors.js';

export const ExitCode = {
  ok: 0,
  /** The work failed (bad data, native error, ...). */
  failure: 1,
  /** The command line was wrong (unknown flag, bad value); nothing was done. */
  usage: 2,
  /** Stopped on request (SIGINT/abort); the run can be resumed. */
  aborted: 130,
} as const;

export interface OutputOptions {
  json?: boolean;
  /** A data-parallel rank other than 0: names itself on stderr, and leaves stdout to rank 0. */
  rank?: number;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof DasError) {
    if (error.code === 'DAS_INVALID_ARGUMENT') return ExitCode.usage;
    if (error.code === 'DAS_ABORTED') return ExitCode.aborted;
  }
  return ExitCode.failure;
}

/** Reports an error (as the final JSON line with --json) and sets the exit code. */
export function reportError(error: unknown, options: OutputOptions): void {
  const code = error instanceof DasError ? error.code : 'DAS_INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  if (options.json && !options.rank) printJson({ error: { code, message } });
  process.stderr.write(`${options.rank ? `das (rank ${options.rank})` : 'das'}: ${message}\n`);
  if (!(error instanceof DasError) && error instanceof Error && error.stack && process.env.DAS_DEBUG) process.stderr.write(`${error.stack}\n`);
  process.exitCode = exitCodeFor(error);
}
