/** Data-parallel jobs in tests: N ranks of a script on localhost, started the way torchrun starts them. */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../lib/dist/launcher.js';

export interface RankExit {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RanksOptions {
  worldSize: number;
  /** Extra environment for every rank. */
  env?: NodeJS.ProcessEnv;
  /** Called as each rank starts (to watch or kill it). */
  onSpawn?: (rank: number, child: ChildProcess) => void;
  /** Milliseconds to wait before starting each rank (by rank; default none). */
  startDelays?: number[];
}

/** torchrun's variables for `rank` of a local job. */
export function rankEnv(rank: number, worldSize: number, port: number): NodeJS.ProcessEnv {
  return { RANK: String(rank), WORLD_SIZE: String(worldSize), LOCAL_RANK: String(rank), LOCAL_WORLD_SIZE: String(worldSize), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), DAS_NUM_THREADS: '1' };
}

/** Runs `node <args>` as every rank of one job and waits for all of them. */
export async function runRanks(args: string[], options: RanksOptions): Promise<RankExit[]> {
  const port = await freePort();
  return Promise.all(
    Array.from({ length: options.worldSize }, async (_, rank) => {
      await new Promise((resolve) => setTimeout(resolve, options.startDelays?.[rank] ?? 0));
      const child = spawn(process.execPath, args, { env: { ...process.env, ...options.env, ...rankEnv(rank, options.worldSize, port) } });
      options.onSpawn?.(rank, child);
      return collect(rank, child);
    }),
  );
}

/** Output and exit of a child process. */
export function collect(rank: number, child: ChildProcess): Promise<RankExit> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ rank, code, signal, stdout, stderr })));
}
