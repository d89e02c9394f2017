/**
 * The ranks of a data-parallel job as a run sees them. Every rank runs the same loop; the World
 * keeps them in step: averaged gradients (through the model), sums that come out bit-identical on
 * every rank (losses of reward rounds, evaluation counts), every rank's bytes (RNG states for
 * checkpoints), and agreement on failures during set-up, so that a rank that cannot start stops
 * every other one with its reason instead of leaving them waiting. A process outside any job gets
 * SINGLE_PROCESS, the same interface at no cost.
 */
import os from 'node:os';
import { DasError, type DasErrorCode } from '../errors.js';
import type { Model } from '../models/model.js';
import { distributedBackends, ProcessGroup } from '../native/process-group.js';
import { packageVersion } from '../package-info.js';
import type { DistEnv } from './env.js';
import { assertNoGreeting, assertResolvable, chooseBackend, type Backend } from './preflight.js';

export interface CollectiveTime {
  calls: number;
  bytes: number;
  /** Wall seconds inside collectives, waiting for the slowest rank included. */
  seconds: number;
}

export interface World {
  readonly rank: number;
  readonly size: number;
  readonly localRank: number;
  /** The communication backend; undefined for a single process. */
  readonly backend?: Backend;
  /** Rank 0: the one that writes the run directory and prints results. */
  readonly isMain: boolean;
  /** Element-wise sums over the ranks, added in rank order in float64: the same bits on every rank. */
  sum(values: readonly number[]): Promise<number[]>;
  /** Element-wise sums of large arrays over the ranks (an all-reduce: exact where one rank contributes each element). */
  sumArray(values: Float32Array): Promise<Float32Array>;
  /** Every rank's bytes (the same length on every rank), in rank order. */
  gather(bytes: Uint8Array): Promise<Uint8Array[]>;
  /** Runs `work`; if it failed on any rank, every rank throws that rank's error. */
  agree<T>(what: string, work: () => Promise<T> | T): Promise<T>;
  /** Rank 0's `value` (anything JSON can carry) on every rank; the others' values are ignored. */
  fromMain<T>(what: string, value: T): Promise<T>;
  /** Throws on every rank when `value` is not the same on all of them, naming the ranks and fields. */
  checkSame(what: string, value: Record<string, unknown>): Promise<void>;
  /** Trains `model` data-parallel: rank 0's parameters everywhere, gradients averaged at every step. */
  attach(model: Model): Promise<void>;
  stats(): CollectiveTime;
  /** The orderly end, on every rank. */
  close(): Promise<void>;
  /** This rank stops because of `error`: the others stop too, with its message. */
  abort(error: unknown): Promise<void>;
}

export const SINGLE_PROCESS: World = Object.freeze({
  rank: 0,
  size: 1,
  localRank: 0,
  isMain: true,
  sum: async (values: readonly number[]) => [...values],
  sumArray: async (values: Float32Array) => values,
  gather: async (bytes: Uint8Array) => [bytes],
  agree: async <T>(_what: string, work: () => Promise<T> | T) => work(),
  fromMain: async <T>(_what: string, value: T) => value,
  checkSame: async () => {},
  attach: async () => {},
  stats: () => ({ calls: 0, bytes: 0, seconds: 0 }),
  close: async () => {},
  abort: async () => {},
});

interface Outcome {
  ok: boolean;
  code?: DasErrorCode;
  message?: string;
}

function describeValue(value: unknown): string {
  return value === undefined ? '(unset)' : JSON.stringify(value);
}

class ProcessGroupWorld implements World {
  readonly isMain: boolean;
  private sequence = 0;

  constructor(
    private readonly group: ProcessGroup,
    readonly rank: number,
    readonly size: number,
    readonly localRank: number,
    readonly backend: Backend,
  ) {
    this.isMain = rank === 0;
  }

  /** Keys of store exchanges: every rank makes the same calls in the same order, so they match. */
  private key(what: string): string {
    return `${this.sequence++}/${what}`;
  }

  async sum(values: readonly number[]): Promise<number[]> {
    const n = values.length;
    const all = await this.group.allGather({ dtype: 'float64', shape: [n], data: Float64Array.from(values) });
    const sums = new Array<number>(n).fill(0);
    for (let r = 0; r < this.size; r++) for (let i = 0; i < n; i++) sums[i]! += all.data[r * n + i]!;
    return sums;
  }

  async sumArray(values: Float32Array): Promise<Float32Array> {
    return (await this.group.allReduce({ dtype: 'float32', shape: [values.length], data: values }, 'sum')).data;
  }

  async gather(bytes: Uint8Array): Promise<Uint8Array[]> {
    const all = await this.group.allGather({ dtype: 'uint8', shape: [bytes.length], data: bytes });
    return Array.from({ length: this.size }, (_, r) => all.data.slice(r * bytes.length, (r + 1) * bytes.length));
  }

  async agree<T>(what: string, work: () => Promise<T> | T): Promise<T> {
    let value: T | undefined;
    let failure: unknown;
    let outcome: Outcome = { ok: true };
    try {
      value = await work();
    } catch (error) {
      failure = error;
      outcome = { ok: false, code: error instanceof DasError ? error.code : undefined, message: error instanceof Error ? error.message : String(error) };
    }
    const all = (await this.group.exchange(this.key(what), JSON.stringify(outcome))).map((text) => JSON.parse(text) as Outcome);
    if (failure !== undefined) throw failure;
    const failed = all.findIndex((o) => !o.ok);
    if (failed >= 0) throw new DasError(all[failed]!.code ?? 'DAS_DISTRIBUTED', `rank ${failed} failed ${what}: ${all[failed]!.message}`);
    return value as T;
  }

  async fromMain<T>(what: string, value: T): Promise<T> {
    const all = await this.group.exchange(this.key(what), this.isMain ? JSON.stringify(value ?? null) : 'null');
    return JSON.parse(all[0]!) as T;
  }

  async checkSame(what: string, value: Record<string, unknown>): Promise<void> {
    const all = (await this.group.exchange(this.key(what), JSON.stringify(value))).map((text) => JSON.parse(text) as Record<string, unknown>);
    const reference = all[0]!;
    for (let r = 1; r < this.size; r++) {
      const keys = [...new Set([...Object.keys(reference), ...Object.keys(all[r]!)])];
      const differ = keys.filter((k) => JSON.stringify(reference[k]) !== JSON.stringify(all[r]![k]));
      if (differ.length > 0) {
        const fields = differ.map((k) => `${k}: rank 0 has ${describeValue(reference[k])}, rank ${r} has ${describeValue(all[r]![k])}`);
        throw new DasError('DAS_INVALID_ARGUMENT', `the ranks disagree on ${what} (${fields.join('; ')}): start every rank with the same arguments`);
      }
    }
  }

  attach(model: Model): Promise<void> {
    return model.attachProcessGroup(this.group);
  }

  stats(): CollectiveTime {
    return this.group.stats();
  }

  async close(): Promise<void> {
    await this.group.barrier();
    await this.group.close();
  }

  async abort(error: unknown): Promise<void> {
    await this.group.abort(error instanceof Error ? error.message : String(error));
  }
}

export interface JoinOptions {
  /** The job, from distEnvFrom(); undefined: a single process. */
  env?: DistEnv;
  /** This rank's device (already mapped to its GPU). */
  device: string;
  /** Default: nccl for CUDA devices when built, else gloo. */
  backend?: string;
  /** Limit for the rendezvous and every collective; a rank missing by then is reported. Default 1800 s. */
  timeoutSeconds?: number;
}

export const DEFAULT_TIMEOUT_SECONDS = 1800;
/** The longest --dist-timeout: a week. */
const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** A run resumes with the number of ranks that made it: its data shards and RNG states are per rank. */
export function assertSameWorldSize(run: string, recorded: number, current: number): void {
  if (recorded === current) return;
  throw new DasError(
    'DAS_INVALID_ARGUMENT',
    `${run} was made by ${recorded} rank${recorded === 1 ? '' : 's'} and cannot be resumed by ${current}: its checkpoint holds each rank's ` +
      `position in its own shard of the data and its own random state, which do not carry over to another number of ranks; ` +
      `resume it with ${recorded === 1 ? 'one process' : `${recorded} ranks (--nproc-per-node ${recorded}, or WORLD_SIZE=${recorded})`}`,
  );
}

/** Joins the job that `env` describes: checks, rendezvous, agreement on the set-up, connections. */
export async function joinWorld(options: JoinOptions): Promise<World> {
  const { env } = options;
  if (!env || env.worldSize === 1) return SINGLE_PROCESS;
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (!(timeoutSeconds > 0 && timeoutSeconds <= MAX_TIMEOUT_SECONDS)) {
    throw new DasError('DAS_INVALID_ARGUMENT', `Expected a number of seconds in (0, ${MAX_TIMEOUT_SECONDS}] (a week) for --dist-timeout but received ${timeoutSeconds}`);
  }
  const backend = chooseBackend(options.device, distributedBackends(), options.backend);
  await assertResolvable(env.masterAddr);
  if (env.rank !== 0 || env.agentStore) await assertNoGreeting(env.rank, env.masterAddr, env.masterPort);
  const cudaDevice = backend === 'nccl' ? { cudaDevice: Number(options.device.split(':')[1] ?? 0) } : {};
  const group = await ProcessGroup.create({
    backend, rank: env.rank, worldSize: env.worldSize, masterAddr: env.masterAddr, masterPort: env.masterPort,
    hostStore: !env.agentStore, storePrefix: env.agentStore?.prefix ?? '', timeoutMs: Math.round(timeoutSeconds * 1000), ...cudaDevice,
  });
  const world = new ProcessGroupWorld(group, env.rank, env.worldSize, env.localRank, backend);
  try {
    await world.checkSame('the job', { worldSize: env.worldSize, backend, version: packageVersion });
    if (backend === 'nccl') {
      const gpus = await group.exchange('gpus', `${os.hostname()} ${options.device}`);
      const first = gpus.findIndex((g, r) => gpus.indexOf(g) !== r);
      if (first >= 0) throw new DasError('DAS_INVALID_ARGUMENT', `two ranks use the same GPU (${gpus[first]}): give each rank on a machine its own LOCAL_RANK`);
    }
    await group.connect();
  } catch (error) {
    await world.abort(error);
    throw error;
  }
  return world;
}
