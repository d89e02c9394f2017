/**
 * The checkpoint a run resumes from, in one safetensors file written atomically: every trainable
 * tensor, the optimizer state (with fp16's gradient scale) and libtorch's RNG state as byte tensors,
 * and the loop state (step counters, data order, DAS policy state, log line counts, best metric), the
 * method and the precision it was trained in as JSON metadata.
 */
import fs from 'node:fs';
import { DasError } from '../errors.js';
import type { HostTensor } from '../host-tensor.js';
import type { SamplerState } from '../data/sampler.js';
import type { SearchPolicyState } from '../das/index.js';
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
}

export async function saveTrainingCheckpoint(file: string, model: Model, loop: LoopState): Promise<void> {
  const tensors: Record<string, HostTensor> = await model.state('trainable');
  tensors[OPTIMIZER] = await model.optimizerState();
  tensors[RNG] = rngState();
  await writeSafetensors(file, tensors, { [LOOP]: JSON.stringify(loop), [METHOD]: JSON.stringify(model.method), [PRECISION]: model.precision });
}

/** Restores model tensors, optimizer and RNG; returns the loop state. */
export async function loadTrainingCheckpoint(file: string, model: Model): Promise<LoopState> {
  if (!fs.existsSync(file)) throw new DasError('DAS_FILE', `no checkpoint to resume from: ${file} does not exist`);
  const checkpoint = await readCheckpoint(file);
  const { [OPTIMIZER]: optimizer, [RNG]: rng, ...trainable } = checkpoint.tensors;
  const loop = checkpoint.metadata[LOOP];
  if (!optimizer || !rng || !loop) throw new DasError('DAS_CHECKPOINT', `${file} is not a das-torch training checkpoint (no ${OPTIMIZER}, ${RNG} or ${LOOP})`);
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
  return JSON.parse(loop) as LoopState;
}
