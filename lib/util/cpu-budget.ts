/**
 * How many CPU threads this process should use. A cluster job or a container usually may use far
 * fewer CPUs than the machine has: the scheduler says so in OMP_NUM_THREADS or
 * SLURM_CPUS_PER_TASK, and the kernel enforces a cgroup CPU quota (Docker --cpus, Kubernetes
 * limits, systemd CPUQuota) that os.availableParallelism() does not see (it only sees the CPU
 * affinity). Running more compute threads than the quota allows makes every step slower, not
 * faster. Order: DAS_NUM_THREADS, OMP_NUM_THREADS, SLURM_CPUS_PER_TASK, the cgroup quota, the
 * CPUs this process may run on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DasError } from '../errors.js';

export interface CpuBudget {
  /** Threads to use for compute. */
  threads: number;
  /** Where `threads` comes from: "DAS_NUM_THREADS", "OMP_NUM_THREADS", "SLURM_CPUS_PER_TASK", "cgroup CPU quota" or "available CPUs". */
  source: string;
  /** CPUs this process may actually use: its CPU affinity, capped by the cgroup quota. */
  usable: number;
  /** The cgroup quota in CPUs (fractional), when there is one. */
  quota?: number;
}

/** Reads a small system file, or undefined when it is not there. */
export type FileReader = (file: string) => string | undefined;

const readSystemFile: FileReader = (file) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** A positive integer setting, or undefined when it is absent or not one (the first of a comma list, as OpenMP nests them). */
function positiveInteger(raw: string | undefined): number | undefined {
  const value = Number(raw?.split(',')[0]?.trim());
  return raw !== undefined && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/**
 * The tightest CPU quota (in CPUs) over this process's cgroup and its ancestors: cgroup v2
 * `cpu.max` ("max 100000" or "<quota> <period>"), or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`.
 */
export function cgroupCpuQuota(read: FileReader = readSystemFile, root = '/sys/fs/cgroup'): number | undefined {
  const membership = read('/proc/self/cgroup');
  if (!membership) return undefined;
  let tightest: number | undefined;
  const consider = (quota: number, period: number) => {
    if (quota > 0 && period > 0) tightest = Math.min(tightest ?? Infinity, quota / period);
  };
  const ancestors = (cgroupPath: string) => {
    const out: string[] = [];
    for (let p = path.posix.normalize(`/${cgroupPath}`); ; p = path.posix.dirname(p)) {
      out.push(p);
      if (p === '/') return out;
    }
  };
  for (const line of membership.split('\n')) {
    const [, controllers, cgroupPath] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (cgroupPath === undefined) continue;
    if (controllers === '') {
      for (const dir of ancestors(cgroupPath)) {
        const [quota, period] = (read(path.posix.join(root, dir, 'cpu.max')) ?? '').trim().split(/\s+/);
        if (quota && quota !== 'max') consider(Number(quota), Number(period));
      }
    } else if (controllers!.split(',').includes('cpu')) {
      for (const mount of [controllers!, 'cpu', 'cpu,cpuacct']) {
        for (const dir of ancestors(cgroupPath)) {
          const quota = read(path.posix.join(root, mount, dir, 'cpu.cfs_quota_us'));
          const period = read(path.posix.join(root, mount, dir, 'cpu.cfs_period_us'));
          if (quota !== undefined && period !== undefined) consider(Number(quota), Number(period));
        }
      }
    }
  }
  return tightest;
}

export function cpuBudget(env: NodeJS.ProcessEnv = process.env, read: FileReader = readSystemFile, affinity = os.availableParallelism()): CpuBudget {
  const quota = cgroupCpuQuota(read);
  const usable = Math.max(1, Math.min(affinity, quota === undefined ? Infinity : Math.floor(quota)));
  const base = { usable, ...(quota !== undefined ? { quota } : {}) };
  const explicit = env.DAS_NUM_THREADS;
  if (explicit !== undefined && explicit.trim() !== '') {
    const threads = Number(explicit);
    if (!Number.isSafeInteger(threads) || threads < 1) throw new DasError('DAS_INVALID_ARGUMENT', `Expected a positive integer for DAS_NUM_THREADS but received ${JSON.stringify(explicit)}`);
    return { threads, source: 'DAS_NUM_THREADS', ...base };
  }
  for (const name of ['OMP_NUM_THREADS', 'SLURM_CPUS_PER_TASK'] as const) {
    const threads = positiveInteger(env[name]);
    if (threads !== undefined) return { threads, source: name, ...base };
  }
  return { threads: usable, source: quota !== undefined && Math.floor(quota) < affinity ? 'cgroup CPU quota' : 'available CPUs', ...base };
}
