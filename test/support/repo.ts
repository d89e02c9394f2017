/** Paths and process helpers shared by the tests. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../../lib/package-info.js';

export const repoRoot = packageRoot;
export const cliPath = path.join(repoRoot, 'dist/lib/cli/main.js');

/** Runs the `das` command line in a child process (killed after `timeoutMs`, default 120 s). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: timeoutMs,
  });
}

/** The last line of stdout parsed as JSON (the --json contract). */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}
