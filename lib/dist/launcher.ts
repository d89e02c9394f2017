/**
 * `das <command> ... --nproc-per-node N`: this machine's launcher, like `torchrun --nproc-per-node`.
 * It starts N workers running the same command with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
 * MASTER_ADDR (loopback) and a free MASTER_PORT set, and splits the CPU threads between them. It
 * passes Ctrl-C (SIGINT) and SIGTERM on to them once, so they stop together at a step boundary;
 * when one fails it says which rank, stops the others (SIGTERM, then SIGKILL after a grace period)
 * and exits with that rank's code. Workers watch their launcher and stop if it goes away.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';

export interface LaunchOptions {
  /** Workers to start (ranks 0..nproc-1). */
  nproc: number;
  /** The worker's command: executable and arguments (the same `das` command without --nproc-per-node). */
  command: string;
  args: string[];
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: a free port. */
  masterPort?: number;
  /** Seconds between SIGTERM and SIGKILL for the other workers after one failed. Default 30. */
  graceSeconds?: number;
  /** With --json: if the job fails before rank 0 printed its JSON line, print one for it. */
  json?: boolean;
  /** Messages (default: stderr). */
  log?: (line: string) => void;
}

/** Marks a worker started by this launcher: it stops when the launcher is gone. */
export const LAUNCHED_BY = 'DAS_LAUNCHER_PID';

/** A port that is free now on the loopback interface (the OS picks it, so concurrent jobs do not collide). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** CPU threads per worker: the machine's cores shared out, unless DAS_NUM_THREADS says otherwise. */
export function threadsPerWorker(nproc: number, env: NodeJS.ProcessEnv = process.env): string {
  return env.DAS_NUM_THREADS || String(Math.max(1, Math.floor(os.availableParallelism() / nproc)));
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  return signal ? 128 + (os.constants.signals[signal] ?? 1) : (code ?? 1);
}

/** Runs the job; resolves with the exit code the launcher should end with. */
export async function launch(options: LaunchOptions): Promise<number> {
  const { nproc, json } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const masterPort = options.masterPort ?? (await freePort());
  const grace = (options.graceSeconds ?? 30) * 1000;
  const baseEnv = options.env ?? process.env;
  const workers: ChildProcess[] = [];
  let failure: { rank: number; text: string; code: number } | undefined;
  let interrupted = false;
  let lastMainLine = '';
  let killTimer: NodeJS.Timeout | undefined;

  const stopOthers = () => {
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGTERM');
    killTimer ??= setTimeout(() => {
      for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    }, grace);
  };
  const forward = (signal: NodeJS.Signals) => {
    interrupted = true;
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);

  try {
    const exits = Array.from({ length: nproc }, (_, rank) => {
      const env = {
        ...baseEnv,
        RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(nproc), LOCAL_WORLD_SIZE: String(nproc),
        MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(masterPort),
        DAS_NUM_THREADS: threadsPerWorker(nproc, baseEnv), [LAUNCHED_BY]: String(process.pid),
      };
      // own process group: a Ctrl-C reaches the launcher alone, which passes it on exactly once
      const worker = spawn(options.command, options.args, { env, detached: true, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
      workers.push(worker);
      let pending = '';
      worker.stdout!.on('data', (chunk: Buffer) => {
        process.stdout.write(chunk);
        if (rank !== 0) return;
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop()!;
        const complete = lines.filter((line) => line.trim() !== '');
        if (complete.length) lastMainLine = complete.at(-1)!;
      });
      return new Promise<void>((resolve) => {
        worker.once('error', (error) => {
          failure ??= { rank, text: `could not start (${error.message})`, code: 1 };
          stopOthers();
          resolve();
        });
        worker.once('exit', (code, signal) => {
          if ((code !== 0 || signal) && !failure) {
            failure = { rank, text: describeExit(code, signal), code: exitCodeOf(code, signal) };
            if (!interrupted) log(`das: rank ${rank} (pid ${worker.pid}) ${failure.text}; stopping the other ranks`);
            stopOthers();
          }
          resolve();
        });
      });
    });
    await Promise.all(exits);
  } finally {
    clearTimeout(killTimer);
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
  if (!failure) return 0;
  if (json && !lastMainLine.startsWith('{')) {
    process.stdout.write(`${JSON.stringify({ error: { code: 'DAS_DISTRIBUTED', message: `rank ${failure.rank} ${failure.text}` } })}\n`);
  }
  return failure.code;
}

/**
 * In a worker this launcher started: stop when the launcher goes away (its IPC channel closes), so
 * that killing the launcher never leaves workers behind.
 */
export function watchLauncher(env: NodeJS.ProcessEnv = process.env): void {
  if (!env[LAUNCHED_BY] || !process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => {
    process.stderr.write(`das (rank ${env.RANK}): the launcher (pid ${env[LAUNCHED_BY]}) is gone; stopping\n`);
    process.exit(1);
  });
}
