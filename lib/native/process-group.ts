/**
 * The native half of a data-parallel job: one rank's c10d process group (a TCPStore that rank 0
 * hosts, and Gloo or NCCL). lib/dist/world.ts builds the job on it; nothing else should need it.
 */
import type { DType, HostTensor } from '../host-tensor.js';
import type { NativeProcessGroup, ProcessGroupOptions, ReduceOp } from './binding.js';
import { callAsync, callSync } from './call.js';

export type { ProcessGroupOptions, ReduceOp } from './binding.js';

export class ProcessGroup {
  private constructor(readonly native: NativeProcessGroup) {}

  /** Opens the rendezvous store (rank 0 hosts it, the others connect) and claims the rank. */
  static async create(options: ProcessGroupOptions): Promise<ProcessGroup> {
    return new ProcessGroup(await callAsync((binding) => binding.createProcessGroup(options)));
  }

  /** Every rank's `value` for `key`, in rank order (through the store; works before connect()). */
  exchange(key: string, value: string): Promise<string[]> {
    return callAsync(() => this.native.exchange(key, value));
  }

  /** Connects the backend: every rank to every other one. */
  connect(): Promise<void> {
    return callAsync(() => this.native.connect());
  }

  allReduce<D extends DType>(tensor: HostTensor<D>, op: ReduceOp = 'sum'): Promise<HostTensor<D>> {
    return callAsync(() => this.native.allReduce(tensor, op));
  }

  /** [world, ...shape]: every rank's tensor, in rank order. */
  allGather<D extends DType>(tensor: HostTensor<D>): Promise<HostTensor<D>> {
    return callAsync(() => this.native.allGather(tensor));
  }

  barrier(): Promise<void> {
    return callAsync(() => this.native.barrier());
  }

  /** Tells the other ranks why this one stops, and drops the connections so that they notice now. */
  abort(message: string): Promise<void> {
    return callAsync(() => this.native.abort(message));
  }

  /** The orderly end of the job (after a barrier). */
  close(): Promise<void> {
    return callAsync(() => this.native.close());
  }

  /** Collectives so far: how many, bytes, wall seconds inside them. */
  stats(): { calls: number; bytes: number; seconds: number } {
    return callSync(() => this.native.stats());
  }
}

/** The distributed backends this build of the addon has ('gloo', 'nccl'). */
export function distributedBackends(): string[] {
  return callSync((binding) => binding.distributedBackends());
}
