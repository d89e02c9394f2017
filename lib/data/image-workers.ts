/**
 * Where image preparation runs. sharp already decodes and resizes on libuv's thread pool, but the
 * JS parts (reading, RandAugment, normalisation to float32 CHW) would otherwise occupy the thread
 * that drives the model; a pool of worker threads moves them off it. `threads: 0` prepares inline
 * (simplest, and best when the model leaves no cores free); scripts/bench/data-throughput.mjs
 * measures both.
 */
import { Worker } from 'node:worker_threads';
import { DasError, invalidArgument, type DasErrorCode } from '../errors.js';
import { readImageBytes, type ImageRef } from './image-source.js';
import { prepareImage, validateImageTransform, type ImageTransformConfig, type PreparedImage } from './image-transform.js';
import type { ImageTask, ImageTaskResult } from './image-worker.js';
import { cpuBudget } from '../util/cpu-budget.js';

export interface ImagePreparer {
  prepare(ref: ImageRef, config: ImageTransformConfig, seed: number): Promise<PreparedImage>;
  close(): Promise<void>;
}

export interface ImagePreparerConfig {
  /**
   * Worker threads; 0 prepares on the calling thread. Default: 0 up to 4 cores (sharp already
   * spreads decoding over libuv's pool, and the benchmark shows no gain from workers there),
   * else cores - 2, at most 4.
   */
  threads?: number;
}

export function createImagePreparer(config: ImagePreparerConfig = {}): ImagePreparer {
  const cores = cpuBudget().usable;
  const threads = config.threads ?? (cores > 4 ? Math.min(4, cores - 2) : 0);
  if (!Number.isInteger(threads) || threads < 0 || threads > 64) throw invalidArgument('image threads', 'an integer in [0, 64]', threads);
  return threads === 0 ? new InlinePreparer() : new WorkerPool(threads);
}

class InlinePreparer implements ImagePreparer {
  async prepare(ref: ImageRef, config: ImageTransformConfig, seed: number): Promise<PreparedImage> {
    return prepareImage(await readImageBytes(ref), config, { seed, label: ref.label });
  }

  async close(): Promise<void> {}
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

class WorkerPool implements ImagePreparer {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, { resolve: (img: PreparedImage) => void; reject: (err: Error) => void; slot: Slot }>();
  private nextId = 0;
  private closed = false;

  constructor(threads: number) {
    const script = new URL('./image-worker.js', import.meta.url);
    this.slots = Array.from({ length: threads }, () => {
      const slot: Slot = { worker: new Worker(script), inFlight: 0 };
      slot.worker.unref();
      slot.worker.on('message', (msg: ImageTaskResult) => this.settle(msg));
      slot.worker.on('error', (err) => this.failSlot(slot, err));
      return slot;
    });
  }

  prepare(ref: ImageRef, config: ImageTransformConfig, seed: number): Promise<PreparedImage> {
    if (this.closed) return Promise.reject(new DasError('DAS_ABORTED', 'The image worker pool is closed'));
    const cfg = validateImageTransform(config);
    const slot = this.slots.reduce((best, s) => (s.inFlight < best.inFlight ? s : best));
    const id = this.nextId++;
    // A busy worker keeps the process alive; an idle one must not (nobody awaits it).
    if (slot.inFlight++ === 0) slot.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, ref, config: cfg, seed } satisfies ImageTask);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [id, p] of this.pending) {
      p.reject(new DasError('DAS_ABORTED', 'The image worker pool was closed with work in flight'));
      this.pending.delete(id);
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private settle(msg: ImageTaskResult): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (--p.slot.inFlight === 0) p.slot.worker.unref();
    if ('error' in msg) p.reject(new DasError(msg.error.code as DasErrorCode, msg.error.message));
    else p.resolve({ data: msg.data, width: msg.width, height: msg.height });
  }

  private failSlot(slot: Slot, err: Error): void {
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.pending.delete(id);
      p.reject(new DasError('DAS_DATA', `An image worker thread failed: ${err.message}`, { cause: err }));
    }
    slot.inFlight = 0;
  }
}
