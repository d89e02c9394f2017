/**
 * The loop core shared by adapter training and the DAS search: optimizer steps made of
 * gradient-accumulated micro-batches, the learning-rate schedule, checkpoints at step boundaries,
 * and a per-epoch evaluation. The search is this loop plus a SearchPolicy: the policy picks the
 * skipped layers of every step and runs a reward round when one is due.
 *
 * Data parallel, every rank runs this same loop on its shard of the data, and the World keeps the
 * ranks in step: gradients are averaged inside the optimizer step, the logged loss and reward-round
 * losses are averaged over the ranks (so every rank's policy sees the same numbers and keeps
 * bit-identical gates), a stop request on any rank stops all of them at the same step, and rank 0
 * alone writes.
 */
import { DasError } from '../errors.js';
import type { TaskLoader } from '../data/loader.js';
import type { SearchPolicy } from '../das/index.js';
import { SINGLE_PROCESS, type World } from '../dist/world.js';
import type { Model } from '../models/model.js';
import type { EvalMetrics } from './evaluation.js';
import { learningRate } from './lr-schedule.js';
import { toModelBatch } from './model-batch.js';
import type { RunDir } from './run-dir.js';
import { saveTrainingCheckpoint, type LoopState } from './train-checkpoint.js';

export interface ProgressEvent {
  phase: 'train' | 'reward' | 'eval' | 'checkpoint';
  epoch: number;
  step: number;
  totalSteps: number;
  loss?: number;
  lr?: number;
  skip?: string[];
  metrics?: EvalMetrics;
}

export interface LoopOptions {
  model: Model;
  train: TaskLoader;
  /** Validation batches for reward rounds (shuffled, seeded). */
  val: TaskLoader;
  runDir: RunDir;
  epochs: number;
  /** Micro-batches per optimizer step. */
  accumulation: number;
  peakLr: number;
  warmupFraction: number;
  /** Checkpoint every this many optimizer steps (and at every epoch end). */
  checkpointEvery: number;
  /** The search: picks each step's skipped layers and updates the gates. */
  policy?: SearchPolicy;
  /** Training: the fixed skipped layers. */
  skip?: readonly string[];
  /** Evaluates the model with a skip set at each epoch end (training runs). */
  evaluate?: (skip: readonly string[]) => Promise<EvalMetrics>;
  /** The main metric's name in `evaluate`'s result, for the best checkpoint. */
  metric?: string;
  /** Called when the main metric improves (to save the best adapters). */
  onBest?: (metrics: EvalMetrics) => Promise<void>;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** The ranks of a data-parallel run. Default: a single process. */
  world?: World;
}

export function stepsPerEpoch(train: TaskLoader, accumulation: number): number {
  const steps = Math.floor(train.batchesPerEpoch / accumulation);
  if (steps < 1) {
    throw new DasError('DAS_INVALID_ARGUMENT', `an epoch has ${train.batchesPerEpoch} batches, fewer than the ${accumulation} micro-batches of one optimizer step: lower the effective batch`);
  }
  return steps;
}

export function initialLoopState(train: TaskLoader, val: TaskLoader, policy?: SearchPolicy): LoopState {
  return {
    step: 0,
    epoch: 0,
    stepInEpoch: 0,
    trainData: train.state(),
    valData: val.state(),
    ...(policy ? { policy: policy.state() } : {}),
    metricsLines: 0,
    gatesLines: 0,
  };
}

/** Runs from `state` (fresh or resumed) to the end; `state` is updated in place. */
export async function runLoop(options: LoopOptions, state: LoopState): Promise<void> {
  const { model, train, val, runDir, policy, signal } = options;
  const world = options.world ?? SINGLE_PROCESS;
  const perEpoch = stepsPerEpoch(train, options.accumulation);
  const totalSteps = perEpoch * options.epochs;
  train.restore(state.trainData);
  val.restore(state.valData);

  const checkpoint = async () => {
    state.trainData = train.state();
    state.valData = val.state();
    if (policy) state.policy = policy.state();
    state.metricsLines = runDir.lineCount('metrics');
    state.gatesLines = runDir.lineCount('gates');
    await saveTrainingCheckpoint(runDir.lastCheckpoint, model, state, world);
    options.onProgress?.({ phase: 'checkpoint', epoch: state.epoch, step: state.step, totalSteps });
  };

  // a data-parallel run stops where every rank agrees to: at the step after any rank was asked to
  let stopAgreed = false;
  while (state.epoch < options.epochs) {
    while (state.stepInEpoch < perEpoch) {
      if (world.size === 1 ? signal?.aborted : stopAgreed) {
        await checkpoint();
        throw new DasError('DAS_ABORTED', `stopped at step ${state.step} of ${totalSteps}; the run can be resumed (--resume)`);
      }
      const plan = policy ? policy.beginStep() : undefined;
      const skip = plan ? [...plan.skip] : [...(options.skip ?? [])];
      let lossSum = 0;
      for (let micro = 0; micro < options.accumulation; micro++) {
        const batch = await train.next();
        const result = await model.trainStep(toModelBatch(batch), { skip, accumulationWeight: 1 / options.accumulation });
        if (!Number.isFinite(result.loss)) {
          throw new DasError('DAS_DATA', `the training loss is ${result.loss} at step ${state.step} (epoch ${state.epoch}, batch of examples ${batch.indices.slice(0, 4).join(', ')}...); lower the learning rate or check the data`);
        }
        lossSum += result.loss;
      }
      const [rankLosses, stops] = await world.sum([lossSum / options.accumulation, signal?.aborted ? 1 : 0]);
      stopAgreed = stops! > 0;
      const lr = learningRate(state.step, totalSteps, options.peakLr, options.warmupFraction);
      const update = await model.optimizerStep(lr);
      state.step++;
      state.stepInEpoch++;
      const loss = rankLosses! / world.size;
      // fp16: the gradient scale, and the steps whose gradients overflowed (update skipped, scale lowered)
      const scaling = model.gradScaling ? { gradScale: update.gradScale, ...(update.applied ? {} : { overflow: true }) } : {};
      runDir.append('metrics', { type: 'train', step: state.step, epoch: state.epoch, loss, lr, skip, ...scaling });
      options.onProgress?.({ phase: 'train', epoch: state.epoch, step: state.step, totalSteps, loss, lr, skip });

      if (policy?.endStep()) {
        await rewardRound(options, state, totalSteps);
      }
      if (state.step % options.checkpointEvery === 0 && state.stepInEpoch < perEpoch) await checkpoint();
    }
    // the micro-batches left over when an epoch does not divide into whole steps are not used
    if (train.state().epoch === state.epoch) train.restore({ epoch: state.epoch + 1, position: 0 });
    await endEpoch(options, state, totalSteps);
    state.epoch++;
    state.stepInEpoch = 0;
    await checkpoint();
  }
}

async function rewardRound(options: LoopOptions, state: LoopState, totalSteps: number): Promise<void> {
  const { model, val, runDir, policy } = options;
  const world = options.world ?? SINGLE_PROCESS;
  // every sample of a round is scored on the same validation batch (on every rank, its shard of it;
  // the shards are equally long, so the mean of the ranks' losses is the loss of the whole batch)
  const batch = toModelBatch(await val.next());
  // without logits, evalStep needs targets: the validation batch has them, so it reports a loss
  const record = await policy!.rewardRound(async (skip) => {
    const [losses] = await world.sum([(await model.evalStep(batch, { skip })).loss!]);
    return losses! / world.size;
  });
  runDir.append('gates', record);
  options.onProgress?.({ phase: 'reward', epoch: state.epoch, step: state.step, totalSteps, skip: record.subsets.flat() });
}

async function endEpoch(options: LoopOptions, state: LoopState, totalSteps: number): Promise<void> {
  const { runDir, policy } = options;
  let skip = [...(options.skip ?? [])];
  if (policy) {
    const choice = policy.endEpoch();
    skip = [...choice.skipped];
    runDir.append('metrics', { type: 'choice', step: state.step, epoch: state.epoch, skipped: choice.skipped, logits: choice.logits, probs: choice.probs });
  }
  if (!options.evaluate) return;
  const metrics = await options.evaluate(skip);
  runDir.append('metrics', { type: 'eval', step: state.step, epoch: state.epoch, skip, ...metrics });
  options.onProgress?.({ phase: 'eval', epoch: state.epoch, step: state.step, totalSteps, metrics, skip });
  const metric = options.metric ?? 'accuracy';
  const value = metrics[metric];
  if (value !== undefined && (!state.best || value > state.best.value)) {
    state.best = { metric, value, step: state.step };
    await options.onBest?.(metrics);
  }
}
