/**
 * How much memory this process may still take: the smaller of the RAM the kernel says is available
 * and what is left of the memory cgroup's limit (containers, SLURM jobs), so that the estimate of a
 * model is compared with what the job may really use rather than with the machine's RAM.
 */
import fs from 'node:fs';
import os from 'node:os';

export interface HostMemory {
  bytes: number;
  /** Where the figure comes from, for messages. */
  source: string;
}

function readNumber(file: string): number | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    const value = Number(text);
    return text !== '' && Number.isFinite(value) ? value : undefined; // "max" (no limit) reads as undefined
  } catch {
    return undefined;
  }
}

/** What is left of the memory cgroup's limit (v2, else v1), or undefined without a limit. */
export function cgroupMemoryLeft(root = '/sys/fs/cgroup'): number | undefined {
  const own = readOwnCgroup();
  for (const dir of [...(own ? [`${root}${own}`] : []), root]) {
    const limit = readNumber(`${dir}/memory.max`);
    if (limit !== undefined) return Math.max(0, limit - (readNumber(`${dir}/memory.current`) ?? 0));
  }
  const limit = readNumber(`${root}/memory/memory.limit_in_bytes`);
  // cgroup v1 says "no limit" with a huge number (about 2^63)
  if (limit !== undefined && limit < 2 ** 60) return Math.max(0, limit - (readNumber(`${root}/memory/memory.usage_in_bytes`) ?? 0));
  return undefined;
}

/** The cgroup v2 path of this process ("/..."), if any. */
function readOwnCgroup(): string | undefined {
  try {
    const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    const dir = line?.slice(3).trim();
    return dir && dir !== '/' ? dir : undefined;
  } catch {
    return undefined;
  }
}

export function availableHostMemory(): HostMemory {
  const free = os.freemem(); // MemAvailable on Linux
  const left = cgroupMemoryLeft();
  if (left !== undefined && left < free) return { bytes: left, source: 'left of the memory cgroup limit' };
  return { bytes: free, source: 'RAM available' };
}
