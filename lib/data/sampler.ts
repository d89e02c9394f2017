/**
 * Epoch order with a seed and a resumable position. The permutation of epoch e is a pure function
 * of (seed, e), so the state to save is just { epoch, position }: restoring it replays exactly the
 * batches an uninterrupted run would have produced next.
 *
 * In a data-parallel job every rank draws the same permutation and keeps its shard of it: rank r
 * of W takes positions r, r + W, r + 2W, ... (PyTorch's DistributedSampler). Training pads the
 * permutation with its own first examples to a multiple of W, so every rank has as many batches
 * as every other; evaluation does not pad (every example counts once, shards differ by at most 1).
 */
import { invalidArgument } from '../errors.js';
import { createRng, deriveSeed, permutation } from './random.js';

export interface SamplerConfig {
  /** Shuffle each epoch. Default true. */
  shuffle?: boolean;
  /** Default 0. */
  seed?: number;
  /** Drop a last batch smaller than batchSize. Default false. */
  dropLast?: boolean;
  /** This rank's shard of every epoch's order. Default: the whole order. */
  shard?: Shard;
}

export interface Shard {
  rank: number;
  /** Number of shards (the world size). */
  count: number;
  /** Pad the order to a multiple of `count` so that every shard has the same length (training). */
  pad: boolean;
}

/** Length of `shard` of an order of `size` examples. */
export function shardLength(size: number, shard: Shard): number {
  return shard.pad ? Math.ceil(size / shard.count) : Math.max(0, Math.ceil((size - shard.rank) / shard.count));
}

function validateShard(shard: Shard): void {
  if (!Number.isInteger(shard.count) || shard.count < 1) throw invalidArgument('shard count', 'a positive integer', shard.count);
  if (!Number.isInteger(shard.rank) || shard.rank < 0 || shard.rank >= shard.count) throw invalidArgument('shard rank', `an integer in 0..${shard.count - 1}`, shard.rank);
}

/** Saved position: the next batch starts at `position` within epoch `epoch`'s order. */
export interface SamplerState {
  epoch: number;
  position: number;
}

export class EpochSampler {
  /** Examples per epoch (this rank's shard). */
  readonly size: number;
  readonly batchSize: number;
  private readonly shuffle: boolean;
  private readonly seed: number;
  private readonly dropLast: boolean;
  private readonly shard?: Shard;
  /** The whole dataset (all shards). */
  private readonly total: number;
  private epoch = 0;
  private position = 0;
  private order: Uint32Array | null = null;

  constructor(size: number, batchSize: number, config: SamplerConfig = {}) {
    if (!Number.isInteger(size) || size < 1) throw invalidArgument('dataset size', 'a positive integer', size);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidArgument('batch size', 'a positive integer', batchSize);
    if (config.shard) validateShard(config.shard);
    this.total = size;
    this.shard = config.shard;
    this.size = config.shard ? shardLength(size, config.shard) : size;
    this.batchSize = batchSize;
    this.shuffle = config.shuffle ?? true;
    this.seed = config.seed ?? 0;
    this.dropLast = config.dropLast ?? false;
    if (this.dropLast && batchSize > size) throw invalidArgument('batch size with dropLast', `at most the dataset size ${size}`, batchSize);
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    return this.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  state(): SamplerState {
    return { epoch: this.epoch, position: this.position };
  }

  restore(state: SamplerState): void {
    if (!state || !Number.isInteger(state.epoch) || state.epoch < 0 || !Number.isInteger(state.position) || state.position < 0 || state.position > this.size) {
      throw invalidArgument('sampler state', `{ epoch >= 0, position in [0, ${this.size}] }`, state);
    }
    this.epoch = state.epoch;
    this.position = state.position;
    this.order = null;
  }

  /** The example order of an epoch (this rank's shard of it). */
  epochOrder(epoch: number): Uint32Array {
    const order = this.shuffle ? permutation(this.total, createRng(deriveSeed(this.seed, epoch))) : Uint32Array.from({ length: this.total }, (_, i) => i);
    if (!this.shard) return order;
    const { rank, count } = this.shard;
    // position p of the padded order is order[p mod total]: the padding repeats the first examples
    return Uint32Array.from({ length: this.size }, (_, i) => order[(rank + i * count) % this.total]!);
  }

  /** The next batch's example indices and the epoch they belong to; rolls over to the next epoch. */
  next(): { epoch: number; indices: number[] } {
    const remaining = this.size - this.position;
    if (remaining <= 0 || (this.dropLast && remaining < this.batchSize)) {
      this.epoch++;
      this.position = 0;
      this.order = null;
    }
    this.order ??= this.epochOrder(this.epoch);
    const end = Math.min(this.size, this.position + this.batchSize);
    const indices = Array.from(this.order.subarray(this.position, end));
    const epoch = this.epoch;
    this.position = end;
    return { epoch, indices };
  }
}
