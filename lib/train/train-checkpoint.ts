/**
 * The checkpoint a run resumes from, in one safetensors file written atomically: every trainable
 * tensor, the optimizer state (with fp16's gradient scale) and libtorch's RNG state as byte tensors,
 * and the loop state (step counters, data order, DAS policy state, log line counts, best metric), the
 * method and the precision it was trained in as JSON metadata. In a data-parallel run rank 0 writes
 * it, with every rank's RNG state (das.rng, das.rng.rank1, ...).
 */
import fs from 'node:fs';
import { DasError } from '../errors.js';
import type { HostTensor } from '../host-tensor.js';
import type { SamplerState } from '../data/sampler.js';
import type { SearchPolicyState } from '../das/index.js';
import { assertSameWorldSize, SINGLE_PROCESS, type World } from '../dist/world.js';
import type { Model } from '../models/model.js';
import { readCheckpoint, writeSafetensors } from '../native/checkpoint.js';
import { rngState, setRngState } from '../native/runtime.js';

const OPTIMIZER = 'das.optimizer';
const RNG = 'das.rng';
const LOOP = 'das.loop';
const PRECISION = 'das.precision';
const METHOD = 'das.method';

export interface LoopState {
  /** Optimizer steps done. */
  step: number;
  epoch: number;
  stepInEpoch: number;
  trainData: SamplerState;
  valData: SamplerState;
  policy?: SearchPolicyState;
  metricsLines: number;
  gatesLines: number;
  best?: { metric: string; value: number; step: number };
  /** Ranks of the run (absent in checkpoints of single-process runs). */
  worldSize?: number;
}

const rngKey = (rank: number) => (rank === 0 ? RNG : `${RNG}.rank${rank}`);

/** Called by every rank (it gathers their RNG states); rank 0 writes the file. */
export async function saveTrainingCheckpoint(file: string, model: Model, loop: LoopState, world: World = SINGLE_PROCESS): Promise<void> {
  const rngs = await world.gather(rngState().data);
  if (!world.isMain) return;
  const tensors: Record<string, HostTensor> = await model.state('trainable');
  tensors[OPTIMIZER] = await model.optimizerState();
  rngs.forEach((bytes, rank) => (tensors[rngKey(rank)] = { dtype: 'uint8', shape: [bytes.length], data: bytes }));
  const metadata = { [LOOP]: JSON.stringify(world.size > 1 ? { ...loop, worldSize: world.size } : loop), [METHOD]: JSON.stringify(model.method), [PRECISION]: model.precision };
  await writeSafetensors(file, tensors, metadata);
}

/** Restores model tensors, optimizer and this rank's RNG; returns the loop state. */
export async function loadTrainingCheckpoint(file: string, model: Model, world: World = SINGLE_PROCESS): Promise<LoopState> {
  if (!fs.existsSync(file)) throw new DasError('DAS_FILE', `no checkpoint to resume from: ${file} does not exist`);
  const checkpoint = await readCheckpoint(file);
  const { [OPTIMIZER]: optimizer, ...rest } = checkpoint.tensors;
  const trainable = Object.fromEntries(Object.entries(rest).filter(([name]) => name !== RNG && !name.startsWith(`${RNG}.`)));
  const loop = checkpoint.metadata[LOOP];
  if (!optimizer || !rest[RNG] || !loop) throw new DasError('DAS_CHECKPOINT', `${file} is not a das-torch training checkpoint (no ${OPTIMIZER}, ${RNG} or ${LOOP})`);
  const state = JSON.parse(loop) as LoopState;
  assertSameWorldSize(file, state.worldSize ?? 1, world.size);
  const rng = rest[rngKey(world.rank)];
  if (!rng) throw new DasError('DAS_CHECKPOINT', `${file} has no random state for rank ${world.rank} (${rngKey(world.rank)})`);
  // checkpoints from before methods existed hold what das trained
  const method = checkpoint.metadata[METHOD] ?? JSON.stringify({ name: 'das' });
  if (method !== JSON.stringify(model.method)) throw new DasError('DAS_CHECKPOINT', `${file} was written by method ${method}, not the model's ${JSON.stringify(model.method)}`);
  // checkpoints written before precisions existed are fp32
  const precision = checkpoint.metadata[PRECISION] ?? 'fp32';
  if (precision !== model.precision) {
    throw new DasError('DAS_CHECKPOINT', `${file} was trained in ${precision} but the model computes in ${model.precision}: resume it in ${precision}`);
  }
  await model.loadState(trainable, { strict: true, expect: 'trainable' });
  await model.loadOptimizerState(optimizer as HostTensor<'uint8'>);
  setRngState(rng as HostTensor<'uint8'>);
  return state;
}
