/**
 * The data-parallel side of `search`, `train` and `eval`: the flags, the local launcher
 * (--nproc-per-node), and which rank this process is (only rank 0 prints results and progress).
 */
import { Option, type Command } from 'commander';
import { distEnvFrom } from '../dist/env.js';
import { launch, watchLauncher } from '../dist/launcher.js';
import { DasError } from '../errors.js';
import { integer, positiveNumber } from './options.js';
import { reportError } from './output.js';
import { progressReporter } from './progress.js';

export interface DistFlags {
  nprocPerNode?: number;
  distBackend?: string;
  distTimeout?: number;
  json?: boolean;
}

export function addDistOptions(command: Command): Command {
  return command
    .option('--nproc-per-node <n>', 'data parallel: start n ranks on this machine, like torchrun (under torchrun or srun, the job sets the ranks)', integer(1))
    .addOption(new Option('--dist-backend <backend>', 'collective backend (default: nccl on CUDA devices when built, else gloo)').choices(['gloo', 'nccl']))
    .option('--dist-timeout <s>', 'seconds a rank may miss the rendezvous or a collective before the job stops, naming it (default 1800, at most a week)', positiveNumber);
}

export function distOptionsFrom(flags: DistFlags): { distBackend?: string; distTimeout?: number } {
  return { distBackend: flags.distBackend, distTimeout: flags.distTimeout };
}

/** This process's rank (0 outside a job). */
export function processRank(): number {
  return distEnvFrom().env?.rank ?? 0;
}

/** The command line without --nproc-per-node and its value (what each rank runs). */
export function withoutNproc(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--nproc-per-node') i++;
    else if (!argv[i]!.startsWith('--nproc-per-node=')) out.push(argv[i]!);
  }
  return out;
}

/**
 * With --nproc-per-node n > 1, runs this same command as n ranks and returns the exit code to end
 * with; otherwise returns undefined and the command runs here (as the rank the environment says).
 */
export async function launchIfAsked(flags: DistFlags): Promise<number | undefined> {
  const { env, warning } = distEnvFrom();
  if (flags.nprocPerNode !== undefined && env) {
    throw new DasError('DAS_INVALID_ARGUMENT', `--nproc-per-node starts the ranks itself, but this process is already rank ${env.rank} of ${env.worldSize} (${env.source} set it): drop --nproc-per-node`);
  }
  if (flags.nprocPerNode !== undefined && flags.nprocPerNode > 1) {
    const [script, ...args] = process.argv.slice(1);
    return launch({ nproc: flags.nprocPerNode, command: process.execPath, args: [...process.execArgv, script!, ...withoutNproc(args)], json: flags.json });
  }
  if (warning) process.stderr.write(`das: ${warning}\n`);
  watchLauncher();
  return undefined;
}

/**
 * Launches the ranks (--nproc-per-node) or reports a bad job set-up: true when the command has
 * nothing more to do in this process.
 */
export async function launchedHere(flags: DistFlags): Promise<boolean> {
  try {
    const code = await launchIfAsked(flags);
    if (code === undefined) return false;
    process.exitCode = code;
    return true;
  } catch (error) {
    reportError(error, flags);
    return true;
  }
}

/** Progress on rank 0; the other ranks are quiet (they do the same work). */
export function rankProgress(label: string, rank: number): ReturnType<typeof progressReporter> {
  return rank === 0 ? progressReporter(label) : { onProgress: () => {}, done: () => {} };
}
