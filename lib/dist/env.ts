/**
 * Who this process is in a data-parallel job, read from the environment the way PyTorch jobs are
 * started:
 * - torchrun (or any launcher that sets the same variables, das's own `--nproc-per-node` included):
 *   RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT;
 * - SLURM, inside `srun`: SLURM_PROCID, SLURM_STEP_NUM_TASKS (else SLURM_NTASKS), SLURM_LOCALID;
 *   the master is the first host of SLURM_STEP_NODELIST (else SLURM_JOB_NODELIST) unless
 *   MASTER_ADDR says otherwise, and the port MASTER_PORT, else 20000 + SLURM_JOB_ID mod 10000 (so
 *   that two jobs sharing a node do not collide).
 * torchrun's variables win over SLURM's (`srun torchrun ...` is a common pattern). When torchrun's
 * agent hosts the store itself (TORCHELASTIC_USE_AGENT_STORE=True), every rank connects to it, under
 * the key prefix of the current restart, as PyTorch's own workers do. Pure: tests pass their own
 * environment.
 */
import { DasError } from '../errors.js';
import { firstHost } from './hostlist.js';

export interface DistEnv {
  rank: number;
  worldSize: number;
  /** Rank within this machine: picks the GPU (cuda:LOCAL_RANK). */
  localRank: number;
  /** Ranks on this machine, when the launcher says. */
  localWorldSize?: number;
  masterAddr: string;
  masterPort: number;
  source: 'torchrun' | 'slurm';
  /** Set when torchrun's agent hosts the rendezvous store: the prefix of this restart's keys. */
  agentStore?: { prefix: string };
}

export interface DistEnvResult {
  /** Undefined: one process (no job, or a job of one rank). */
  env?: DistEnv;
  /** A set-up that runs, but probably not as meant (a SLURM batch script outside srun). */
  warning?: string;
}

const TORCHRUN_KEYS = ['RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE'] as const;

function inconsistent(message: string): DasError {
  return new DasError('DAS_INVALID_ARGUMENT', `inconsistent distributed environment: ${message}`);
}

function integerVar(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = env[name];
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
    throw new DasError('DAS_INVALID_ARGUMENT', `Expected ${range} for ${name} but received ${text === undefined ? 'nothing (it is not set)' : JSON.stringify(text)}`);
  }
  return value;
}

function optionalInteger(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  return env[name] === undefined || env[name] === '' ? undefined : integerVar(env, name, min);
}

function master(env: NodeJS.ProcessEnv, worldSize: number, fallbackAddr?: string, fallbackPort?: number): { masterAddr: string; masterPort: number } {
  const masterAddr = env.MASTER_ADDR?.trim() || fallbackAddr;
  if (!masterAddr) throw inconsistent(`MASTER_ADDR is not set, but WORLD_SIZE is ${worldSize}: every rank needs the address of rank 0`);
  const masterPort = env.MASTER_PORT !== undefined && env.MASTER_PORT !== '' ? integerVar(env, 'MASTER_PORT', 1, 65535) : fallbackPort;
  if (masterPort === undefined) throw inconsistent(`MASTER_PORT is not set, but WORLD_SIZE is ${worldSize}: every rank needs the port of rank 0`);
  return { masterAddr, masterPort };
}

function fromTorchrun(env: NodeJS.ProcessEnv): DistEnv | undefined {
  const set = TORCHRUN_KEYS.filter((key) => env[key] !== undefined && env[key] !== '');
  if (!set.includes('RANK') || !set.includes('WORLD_SIZE')) {
    const missing = ['RANK', 'WORLD_SIZE'].filter((key) => !set.includes(key as 'RANK'));
    throw inconsistent(`${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but not ${missing.join(' and ')}: set all of RANK, WORLD_SIZE and LOCAL_RANK, or none`);
  }
  const worldSize = integerVar(env, 'WORLD_SIZE', 1);
  const rank = integerVar(env, 'RANK', 0, worldSize - 1);
  const localWorldSize = optionalInteger(env, 'LOCAL_WORLD_SIZE', 1);
  if (localWorldSize !== undefined && localWorldSize > worldSize) throw inconsistent(`LOCAL_WORLD_SIZE=${localWorldSize} is larger than WORLD_SIZE=${worldSize}`);
  let localRank = optionalInteger(env, 'LOCAL_RANK', 0);
  if (localRank === undefined) {
    if (worldSize > 1) throw inconsistent(`LOCAL_RANK is not set (RANK=${rank}, WORLD_SIZE=${worldSize}): it says which of this machine's GPUs the rank uses`);
    localRank = 0;
  }
  if (localRank > rank) throw inconsistent(`LOCAL_RANK=${localRank} is larger than RANK=${rank}`);
  if (localWorldSize !== undefined && localRank >= localWorldSize) throw inconsistent(`LOCAL_RANK=${localRank} is not below LOCAL_WORLD_SIZE=${localWorldSize}`);
  if (worldSize === 1) return undefined;
  const agentStore = env.TORCHELASTIC_USE_AGENT_STORE === 'True' ? { agentStore: { prefix: `/worker/attempt_${optionalInteger(env, 'TORCHELASTIC_RESTART_COUNT', 0) ?? 0}/` } } : {};
  return { rank, worldSize, localRank, ...(localWorldSize !== undefined ? { localWorldSize } : {}), ...master(env, worldSize), source: 'torchrun', ...agentStore };
}

function fromSlurm(env: NodeJS.ProcessEnv): DistEnvResult {
  const inStep = env.SLURM_STEP_ID !== undefined || env.SLURM_STEP_NUM_TASKS !== undefined;
  if (!inStep) {
    const tasks = Number(env.SLURM_NTASKS ?? 1);
    return tasks > 1
      ? { warning: `running as one process: this is the job's batch script (SLURM_NTASKS=${tasks}, but no srun step); start one process per task with \`srun das ...\`` }
      : {};
  }
  const worldSize = integerVar(env, env.SLURM_STEP_NUM_TASKS !== undefined ? 'SLURM_STEP_NUM_TASKS' : 'SLURM_NTASKS', 1);
  if (worldSize === 1) return {};
  const rank = integerVar(env, 'SLURM_PROCID', 0, worldSize - 1);
  const localRank = integerVar(env, 'SLURM_LOCALID', 0);
  if (localRank > rank) throw inconsistent(`SLURM_LOCALID=${localRank} is larger than SLURM_PROCID=${rank}`);
  const nodes = env.SLURM_STEP_NODELIST ?? env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST;
  const jobId = optionalInteger(env, 'SLURM_JOB_ID', 0) ?? optionalInteger(env, 'SLURM_JOBID', 0);
  const defaultPort = jobId === undefined ? 29500 : 20000 + (jobId % 10000);
  return { env: { rank, worldSize, localRank, ...master(env, worldSize, nodes ? firstHost(nodes) : undefined, defaultPort), source: 'slurm' } };
}

/** This process's place in a job, from torchrun's variables or SLURM's; throws naming what is inconsistent. */
export function distEnvFrom(env: NodeJS.ProcessEnv = process.env): DistEnvResult {
  const torchrun = TORCHRUN_KEYS.some((key) => env[key] !== undefined && env[key] !== '');
  if (!torchrun) return env.SLURM_PROCID !== undefined ? fromSlurm(env) : {};
  const found = fromTorchrun(env);
  // RANK exported in a batch script and inherited by every srun task: all of them would be the same rank
  const stepTasks = env.SLURM_STEP_NUM_TASKS;
  if (found && stepTasks !== undefined && Number(stepTasks) === found.worldSize && env.SLURM_PROCID !== undefined && Number(env.SLURM_PROCID) !== found.rank) {
    throw inconsistent(
      `RANK=${found.rank} but SLURM_PROCID=${env.SLURM_PROCID} in a step of ${stepTasks} tasks: RANK looks inherited by every task; ` +
        'unset RANK, WORLD_SIZE and LOCAL_RANK so that each task takes its rank from SLURM',
    );
  }
  return found ? { env: found } : {};
}
