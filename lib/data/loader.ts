/**
 * A task loader: sampler + collate + a few batches prepared ahead. Its state() is the position of
 * the next batch it will *return* (prefetched batches do not count), so a checkpoint taken between
 * steps resumes exactly.
 */
import { invalidArgument } from '../errors.js';
import { collateGlue, collateNlvr2, collateRetrievalTrain, collateVqa, type TaskBatch } from './collate.js';
import { datasetSize, type TaskDataset } from './dataset-types.js';
import type { ImageTransformConfig } from './image-transform.js';
import type { ImagePreparer } from './image-workers.js';
import { EpochSampler, type SamplerConfig, type SamplerState } from './sampler.js';
import type { TextTokenizer } from './tokenizer.js';

export interface LoaderConfig extends SamplerConfig {
  batchSize: number;
  tokenizer: TextTokenizer;
  /** Image tasks: how images are prepared and where. */
  transform?: ImageTransformConfig;
  preparer?: ImagePreparer;
  /** Batches prepared ahead of the consumer. Default 2. */
  prefetch?: number;
  /** Retrieval: negative captions per image. Default 15. */
  negatives?: number;
}

export type LoadedBatch = TaskBatch & { epoch: number };

interface Pending {
  state: SamplerState;
  batch: Promise<LoadedBatch>;
}

export class TaskLoader {
  readonly dataset: TaskDataset;
  private readonly config: LoaderConfig;
  private readonly sampler: EpochSampler;
  private queue: Pending[] = [];

  constructor(dataset: TaskDataset, config: LoaderConfig) {
    this.dataset = dataset;
    this.config = config;
    const prefetch = config.prefetch ?? 2;
    if (!Number.isInteger(prefetch) || prefetch < 0) throw invalidArgument('loader prefetch', 'an integer >= 0', prefetch);
    if (dataset.task !== 'mnli' && dataset.task !== 'sst2' && (!config.transform || !config.preparer)) {
      throw invalidArgument(`loader config for task ${dataset.task}`, 'a transform and an image preparer', config);
    }
    this.sampler = new EpochSampler(datasetSize(dataset), config.batchSize, config);
  }

  get batchesPerEpoch(): number {
    return this.sampler.batchesPerEpoch;
  }

  /** Where the next returned batch starts; save it with a checkpoint. */
  state(): SamplerState {
    return this.queue[0]?.state ?? this.sampler.state();
  }

  /** Continues from a saved state; work prepared ahead is discarded. */
  restore(state: SamplerState): void {
    this.queue = [];
    this.sampler.restore(state);
  }

  async next(): Promise<LoadedBatch> {
    const ahead = Math.max(1, (this.config.prefetch ?? 2) + 1);
    while (this.queue.length < ahead) this.queue.push(this.schedule());
    const head = this.queue.shift()!;
    this.queue.push(this.schedule());
    return head.batch;
  }

  private schedule(): Pending {
    const state = this.sampler.state();
    const { epoch, indices } = this.sampler.next();
    const batch = this.collate(epoch, indices);
    batch.catch(() => {}); // surfaced when awaited by next(); discarded work must not crash the process
    return { state, batch };
  }

  private async collate(epoch: number, indices: number[]): Promise<LoadedBatch> {
    const ds = this.dataset;
    const ctx = { tokenizer: this.config.tokenizer, preparer: this.config.preparer, transform: this.config.transform, seed: this.config.seed ?? 0, epoch };
    switch (ds.task) {
      case 'vqa':
        return { ...(await collateVqa(ds, indices, ctx)), epoch };
      case 'nlvr2':
        return { ...(await collateNlvr2(ds, indices, ctx)), epoch };
      case 'irtr':
        return { ...(await collateRetrievalTrain(ds, indices, ctx, this.config.negatives ?? 15)), epoch };
      default:
        return { ...collateGlue(ds, indices, this.config.tokenizer), epoch };
    }
  }
}
