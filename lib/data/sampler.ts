/**
 * Epoch order with a seed and a resumable position. The permutation of epoch e is a pure function
 * of (seed, e), so the state to save is just { epoch, position }: restoring it replays exactly the
 * batches an uninterrupted run would have produced next.
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
}

/** Saved position: the next batch starts at `position` within epoch `epoch`'s order. */
export interface SamplerState {
  epoch: number;
  position: number;
}

export class EpochSampler {
  readonly size: number;
  readonly batchSize: number;
  private readonly shuffle: boolean;
  private readonly seed: number;
  private readonly dropLast: boolean;
  private epoch = 0;
  private position = 0;
  private order: Uint32Array | null = null;

  constructor(size: number, batchSize: number, config: SamplerConfig = {}) {
    if (!Number.isInteger(size) || size < 1) throw invalidArgument('dataset size', 'a positive integer', size);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidArgument('batch size', 'a positive integer', batchSize);
    this.size = size;
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

  /** The example order of an epoch. */
  epochOrder(epoch: number): Uint32Array {
    if (!this.shuffle) return Uint32Array.from({ length: this.size }, (_, i) => i);
    return permutation(this.size, createRng(deriveSeed(this.seed, epoch)));
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
