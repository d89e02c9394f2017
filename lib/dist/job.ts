/**
 * How a run takes its place in a data-parallel job: from the environment (torchrun, SLURM, das's
 * own launcher), or a World the caller joined already (to run several steps in one job).
 */
import { runtimeInfo } from '../native/runtime.js';
import { distEnvFrom } from './env.js';
import { rankDevice } from './preflight.js';
import { joinWorld, type World } from './world.js';

export interface DistributedOptions {
  /** A job the caller joined (joinWorld); it stays open after the run. Default: the environment's. */
  world?: World;
  /** Default: nccl for CUDA devices when this build has it, else gloo. */
  distBackend?: string;
  /** Seconds the rendezvous and every collective may take before the job fails, naming the missing rank. Default 1800. */
  distTimeout?: number;
}

/**
 * Runs `work` as this process's rank: joins the job before (with `device` mapped to the rank's GPU)
 * and closes it after. When `work` fails here, the other ranks learn why and stop too.
 */
export async function inWorld<T>(device: string, options: DistributedOptions, work: (world: World, device: string) => Promise<T>): Promise<T> {
  const given = options.world;
  const env = given ? undefined : distEnvFrom().env;
  const distributed = given ? given.size > 1 : env !== undefined;
  const cudaCount = () => (device === 'cuda' ? runtimeInfo().cuda.deviceCount : 0);
  const rankDev = distributed ? rankDevice(device, given?.localRank ?? env!.localRank, cudaCount()) : device;
  const world = given ?? (await joinWorld({ env, device: rankDev, backend: options.distBackend, timeoutSeconds: options.distTimeout }));
  let result: T;
  try {
    result = await work(world, rankDev);
  } catch (error) {
    await world.abort(error).catch(() => undefined);
    throw error;
  }
  if (!given) await world.close();
  return result;
}
