/**
 * Checks a rank makes before it joins a job, so that a wrong set-up fails at once with a message
 * that says what to change, instead of after a rendezvous timeout: the backend exists in this build
 * and suits the device, the master's name resolves and no other program answers at its port, and
 * each rank's device follows LOCAL_RANK.
 * (A port in use is found by rank 0's store itself: listening on it here first would accept the
 * other ranks' early connections and then reset them.)
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import { DasError, invalidArgument } from '../errors.js';

export type Backend = 'gloo' | 'nccl';
export const BACKENDS: readonly Backend[] = ['gloo', 'nccl'];

/** NCCL for CUDA devices when this build has it, else Gloo; an explicit choice is checked. */
export function chooseBackend(device: string, available: readonly string[], requested?: string): Backend {
  const cuda = device.startsWith('cuda');
  if (requested !== undefined) {
    if (!BACKENDS.includes(requested as Backend)) throw invalidArgument('--dist-backend', BACKENDS.join(' or '), requested);
    if (!available.includes(requested)) {
      throw new DasError('DAS_INVALID_ARGUMENT', `this build of das-torch has no ${requested} backend (it has: ${available.join(', ') || 'none'}); see README, scale-out`);
    }
    if (requested === 'nccl' && !cuda) throw new DasError('DAS_INVALID_ARGUMENT', `the nccl backend needs a CUDA device, but --device is ${device}`);
    return requested as Backend;
  }
  if (cuda && available.includes('nccl')) return 'nccl';
  if (available.includes('gloo')) return 'gloo';
  throw new DasError('DAS_INVALID_ARGUMENT', `this build of das-torch has no distributed backend for ${device} (it has: ${available.join(', ') || 'none'}); see README, scale-out`);
}

/**
 * The device of a rank: "cuda" means this machine's GPU number LOCAL_RANK, or the only GPU the
 * process sees (a scheduler that gives each task its own GPU); anything else is taken as given.
 */
export function rankDevice(device: string, localRank: number, cudaDeviceCount: number): string {
  if (device !== 'cuda') return device;
  if (cudaDeviceCount === 1) return 'cuda:0';
  if (localRank >= cudaDeviceCount) {
    throw new DasError('DAS_INVALID_ARGUMENT', `LOCAL_RANK ${localRank} has no GPU of its own: this machine shows ${cudaDeviceCount} (start at most ${cudaDeviceCount} ranks per machine, or check CUDA_VISIBLE_DEVICES)`);
  }
  return `cuda:${localRank}`;
}

/** MASTER_ADDR must be a name or address this machine can resolve. */
export async function assertResolvable(host: string): Promise<void> {
  try {
    await dns.lookup(host);
  } catch (error) {
    throw new DasError('DAS_DISTRIBUTED', `MASTER_ADDR ${JSON.stringify(host)} does not resolve on this machine (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); it must name the machine of rank 0`);
  }
}

/**
 * A rank that connects to a store: the program at MASTER_ADDR:MASTER_PORT must not speak first. A
 * rendezvous store only answers; the greeting of another program (SSH, SMTP) would be read by
 * libtorch 1.13's store client as a reply, and its watcher thread aborts the process on it.
 * Nothing listening yet is fine: the store's own connection waits for rank 0.
 */
export async function assertNoGreeting(rank: number, host: string, port: number, listenMs = 200): Promise<void> {
  const greeting = await new Promise<Buffer | undefined>((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (data?: Buffer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    };
    let timer = setTimeout(() => finish(), 2000); // an address that does not answer: left to the store's own timeout
    socket.once('connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(), listenMs);
    });
    socket.once('data', (data: Buffer) => finish(data));
    socket.once('error', () => finish());
    socket.once('close', () => finish());
  });
  if (!greeting) return;
  const firstLine = greeting.toString('latin1').split(/\r?\n/)[0]!.replace(/[^\x20-\x7e]/g, '?').slice(0, 60);
  throw new DasError(
    'DAS_DISTRIBUTED',
    `rank ${rank} reached a program at ${host}:${port} that is not a rendezvous store (it greets with ${JSON.stringify(firstLine)}): does MASTER_PORT belong to another program?`,
  );
}
