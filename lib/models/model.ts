/**
 * A model living in the addon, as TypeScript sees it: steps, state and reports. Every call that
 * computes or changes the model (steps, loading, optimizer set-up, trainable set) goes through one
 * queue, so one operation runs at a time, in call order, on the addon's compute thread. The async
 * methods check their arguments before queueing and report a mistake as a rejected promise.
 */
import path from 'node:path';
import { resolveSkipSet, skipSetNames } from '../das/skip-set.js';
import { invalidArgument } from '../errors.js';
import { validateHostTensor, type HostTensor } from '../host-tensor.js';
import { checkMethod, resolveMethod, type MethodConfig, type MethodName } from '../methods/index.js';
import { describeArchitecture } from './architecture.js';
import type { NativeArchitectureDescriptor, NativeBatch, NativeLoadReport, NativeModel, NativeParameterInfo, NativeStepResult } from '../native/binding.js';
import { checkBatch } from './batch-check.js';
import { batchSpec, type BatchSpec } from './batch-spec.js';
import { checkModelFits } from './memory-estimate.js';
import { callAsync, callSync } from '../native/call.js';
import type { ProcessGroup } from '../native/process-group.js';
import { deviceMemory, normalizeDevice } from '../native/runtime.js';
import { validateMeterConfig, type MeterConfig } from './meter-config.js';
import { nativePrecisionOptions, validatePrecision, type GradScalerOptions, type Precision } from './precision.js';
import { validateRobertaConfig, type RobertaConfig } from './roberta-config.js';
import { validateViltConfig, type ViltConfig } from './vilt-config.js';

/** The configuration type of each architecture. */
export interface ConfigByArchitecture {
  roberta: RobertaConfig;
  vilt: ViltConfig;
  meter: MeterConfig;
}

export type Architecture = keyof ConfigByArchitecture;

const VALIDATORS: { [A in Architecture]: (config: ConfigByArchitecture[A]) => ConfigByArchitecture[A] } = {
  roberta: validateRobertaConfig,
  vilt: validateViltConfig,
  meter: validateMeterConfig,
};

/** A deep copy of a plain config object (nested objects included), so later edits by the caller do not leak in. */
function copyConfig<T>(config: T): T {
  return JSON.parse(JSON.stringify(config)) as T;
}

export interface ModelOptions {
  /** "cpu", "cuda" or "cuda:N". Default cpu. */
  device?: string;
  /** Seeds the initialisation of adapters and heads. Default 0. */
  seed?: number;
  /** The parameter-efficient method: what is attached and what trains. Default das. */
  method?: MethodConfig | MethodName;
  /**
   * Compute precision of forward passes: 'fp32' (default), 'bf16' (autocast; CPU and CUDA) or
   * 'fp16' (autocast with dynamic gradient scaling; CUDA only). Weights and optimizer state stay fp32.
   */
  precision?: Precision;
  /** Dynamic gradient scaling settings (fp16 uses it by default). */
  gradScaler?: GradScalerOptions;
}

/** What an optimizer step did. */
export interface OptimizerStepResult {
  /** False when fp16 gradients overflowed: the update was skipped and the gradient scale lowered. */
  applied: boolean;
  /** The gradient scale for the next step (1 without gradient scaling). */
  gradScale: number;
}

export interface ParameterCounts {
  /** Every parameter of the model as built (frozen backbone, all adapters, head). */
  total: number;
  /** Trainable parameters outside the task head (adapters, poolers, ...). */
  updated: number;
  /** Task head parameters. */
  head: number;
}

export interface OptimizerOptions {
  /** Default 0.01 (not applied to biases and LayerNorm weights). */
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
  /** Learning-rate multiplier of the task head. Default 1. */
  headLrMultiplier?: number;
}

/** A train step's result: the batch always has targets, so there is a loss. */
export interface TrainStepResult extends NativeStepResult {
  loss: number;
}

function validateSkip(skip: readonly string[]): string[] {
  if (!Array.isArray(skip) || skip.some((name) => typeof name !== 'string')) throw invalidArgument('skip', 'an array of layer names', skip);
  return [...skip];
}

export class Model<A extends Architecture = Architecture> {
  private tail: Promise<unknown> = Promise.resolve();
  private skipSet: readonly string[] = [];
  private disposal?: Promise<void>;

  private constructor(
    readonly architecture: A,
    readonly config: Readonly<ConfigByArchitecture[A]>,
    /** The method the model was built with (every option resolved). */
    readonly method: Readonly<MethodConfig>,
    /** The compute precision of forward passes. */
    readonly precision: Precision,
    /** Dynamic gradient scaling is on (fp16 by default). */
    readonly gradScaling: boolean,
    private readonly native: NativeModel,
    /** What a batch of this model holds (checked before every step). */
    readonly batchSpec: BatchSpec,
  ) {}

  static async create<A extends Architecture>(architecture: A, config: ConfigByArchitecture[A], options: ModelOptions = {}): Promise<Model<A>> {
    if (!Object.hasOwn(VALIDATORS, architecture)) throw invalidArgument('architecture', Object.keys(VALIDATORS).join(', '), architecture);
    if (typeof config !== 'object' || config === null) throw invalidArgument('config', `a ${architecture} configuration object`, config);
    const checked = VALIDATORS[architecture](copyConfig(config));
    const device = normalizeDevice(options.device ?? 'cpu');
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw invalidArgument('seed', 'a non-negative integer', seed);
    const precision = validatePrecision(options.precision ?? 'fp32', device);
    const precisionOptions = nativePrecisionOptions(precision, options.gradScaler);
    const method = resolveMethod(options.method);
    checkMethod(method, describeArchitecture(architecture, checked));
    const source = `${{ roberta: 'RoBERTa', vilt: 'ViLT', meter: 'METER' }[architecture]} config`;
    checkModelFits(architecture, checked, { source, device, deviceFree: device === 'cpu' ? null : deviceMemory(device)?.free });
    const native = await callAsync((binding) => binding.createModel(architecture, checked, device, seed, method, precisionOptions));
    const gradScaling = precisionOptions.gradScaling ?? precision === 'fp16';
    return new Model<A>(architecture, Object.freeze(checked), Object.freeze(method), precision, gradScaling, native, batchSpec(architecture, checked));
  }

  /** Runs `work` after every operation queued before it. */
  private queue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  get device(): string {
    return callSync(() => this.native.device());
  }

  /**
   * The layers this model skips when a call names none: set by setSkipped, and by loading an
   * exported DAS model or an adapter checkpoint. Empty for a freshly built model.
   */
  get skipped(): readonly string[] {
    return this.skipSet;
  }

  /** Remembers the skipped layers (in forward order); a per-call `skip` still overrides them. */
  setSkipped(names: readonly string[]): void {
    const layers = this.layerNames();
    this.skipSet = Object.freeze(skipSetNames(layers, resolveSkipSet(layers, names, 'the skipped layers')));
  }

  /** Skippable layers in forward order, or the candidates of a search scope. */
  layerNames(scope?: string): string[] {
    return callSync(() => this.native.layerNames(scope));
  }

  /** Every parameter, as of the last settled call that changed which ones train. */
  parameters(): NativeParameterInfo[] {
    return callSync(() => this.native.parameters());
  }

  /** Layers, scopes and attachment points (the same as describeArchitecture for this configuration). */
  describe(): NativeArchitectureDescriptor {
    return callSync(() => this.native.describe());
  }

  parameterCounts(): ParameterCounts {
    const counts = { total: 0, updated: 0, head: 0 };
    for (const p of this.parameters()) {
      counts.total += p.numel;
      if (p.head) counts.head += p.numel;
      else if (p.trainable) counts.updated += p.numel;
    }
    return counts;
  }

  /** A fresh AdamW over the parameters trainable now, after the operations already queued. */
  async configureOptimizer(options: OptimizerOptions = {}): Promise<void> {
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    const config = { weightDecay: options.weightDecay ?? 0.01, beta1, beta2, eps: options.eps ?? 1e-8, headLrMultiplier: options.headLrMultiplier ?? 1 };
    for (const [key, value] of Object.entries(config)) {
      if (!Number.isFinite(value) || value < 0) throw invalidArgument(`optimizer ${key}`, 'a finite number >= 0', value);
    }
    return this.queue(() => callAsync(() => this.native.configureOptimizer(config)));
  }

  /**
   * Forward + backward with `skip` (default: the model's skipped layers) replaced by skip adapters;
   * gradients add up until optimizerStep. `accumulationWeight` weighs this micro-batch's loss:
   * 1 / micro-batches per optimizer step.
   */
  async trainStep(batch: NativeBatch, options: { skip?: readonly string[]; accumulationWeight?: number } = {}): Promise<TrainStepResult> {
    checkBatch(this.batchSpec, batch, 'train');
    const skip = validateSkip(options.skip ?? this.skipSet);
    const weight = options.accumulationWeight ?? 1;
    if (!(weight > 0 && weight <= 1)) throw invalidArgument('accumulationWeight', 'a number in (0, 1]', weight);
    return this.queue(() => callAsync(() => this.native.trainStep(batch, skip, weight) as Promise<TrainStepResult>));
  }

  /**
   * Forward in eval mode, skipping `skip` (default: the model's skipped layers). The
   * result has a loss when the batch carries the task's targets (labels, or VQA's targets), and
   * logits when asked for; a batch with neither to give is refused.
   */
  async evalStep(batch: NativeBatch, options: { skip?: readonly string[]; logits?: boolean } = {}): Promise<NativeStepResult> {
    checkBatch(this.batchSpec, batch, options.logits ? 'eval-logits' : 'eval');
    const skip = validateSkip(options.skip ?? this.skipSet);
    return this.queue(() => callAsync(() => this.native.evalStep(batch, skip, options.logits ?? false)));
  }

  /** One AdamW update of the trainable parameters (skipped when fp16 gradients overflowed), then zeroes gradients. */
  async optimizerStep(lr: number): Promise<OptimizerStepResult> {
    if (!Number.isFinite(lr) || lr < 0) throw invalidArgument('lr', 'a finite number >= 0', lr);
    return this.queue(() => callAsync(() => this.native.optimizerStep(lr)));
  }

  async loadState(
    tensors: Record<string, HostTensor>,
    options: { strict?: boolean; expect?: 'pretrained' | 'trainable' | 'all' } = {},
  ): Promise<NativeLoadReport> {
    for (const [name, tensor] of Object.entries(tensors)) validateHostTensor(tensor, `tensors['${name}']`);
    return this.queue(() => callAsync(() => this.native.loadState(tensors, options.strict ?? false, options.expect ?? 'pretrained')));
  }

  /** Loads a checkpoint file (safetensors, torch.save zip or legacy) straight into the model. */
  async loadCheckpoint(file: string, options: { strict?: boolean; expect?: 'pretrained' | 'trainable' | 'all' } = {}): Promise<NativeLoadReport> {
    if (typeof file !== 'string' || file === '') throw invalidArgument('checkpoint path', 'a file path', file);
    return this.queue(() => callAsync(() => this.native.loadCheckpoint(path.resolve(file), options.strict ?? false, options.expect ?? 'pretrained')));
  }

  async state(which: 'trainable' | 'all' = 'trainable'): Promise<Record<string, HostTensor>> {
    return this.queue(() => callAsync(() => this.native.state(which)));
  }

  /** AdamW moments and step counts, as opaque bytes for a checkpoint. */
  async optimizerState(): Promise<HostTensor<'uint8'>> {
    return this.queue(() => callAsync(() => this.native.optimizerState()));
  }

  /** Restores optimizerState() into an optimizer configured with the same options. */
  async loadOptimizerState(bytes: HostTensor<'uint8'>): Promise<void> {
    validateHostTensor(bytes, 'optimizer state');
    if (bytes.dtype !== 'uint8') throw invalidArgument('optimizer state dtype', 'uint8', bytes.dtype);
    return this.queue(() => callAsync(() => this.native.loadOptimizerState(bytes)));
  }

  /** Model-specific counters: METER's feature cache (hits, misses, bypassed.*) and frozen prefixes (frozen.*). */
  async counters(): Promise<Record<string, number>> {
    return this.queue(() => callAsync(() => this.native.counters()));
  }

  /**
   * Makes exactly `names` trainable (e.g. pre-training a small model from scratch), or restores the
   * method's split with null, after the operations already queued. Call configureOptimizer
   * afterwards.
   */
  async setTrainable(names: readonly string[] | null): Promise<void> {
    if (names !== null && (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))) throw invalidArgument('trainable names', 'an array of parameter names or null', names);
    const list = names ? [...names] : null;
    return this.queue(() => callAsync(() => this.native.setTrainable(list)));
  }

  /**
   * Data-parallel training: copies rank 0's trainable parameters to this rank, and from then on
   * every optimizer step first averages the gradients over the group's ranks. null detaches.
   */
  attachProcessGroup(group: ProcessGroup | null): Promise<void> {
    return this.queue(() => callAsync(() => this.native.attachProcessGroup(group?.native ?? null)));
  }

  /**
   * Folds every LoRA delta into its projection's weight and removes the deltas: the same outputs
   * (up to rounding) with no extra inference cost. Resolves to how many deltas were merged.
   */
  async mergeLora(): Promise<number> {
    return this.queue(() => callAsync(() => this.native.mergeLora()));
  }

  /** Frees the model's native memory after the operations already queued; later calls fail. Idempotent. */
  async dispose(): Promise<void> {
    this.disposal ??= this.queue(async () => callSync(() => this.native.dispose()));
    return this.disposal;
  }

  /** `await using model = await Model.create(...)` disposes the model at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  async profileFlops(batch: NativeBatch, skip: readonly string[] = this.skipSet): Promise<{ total: number; layers: Record<string, number> }> {
    checkBatch(this.batchSpec, batch, 'profile');
    const names = validateSkip(skip);
    return this.queue(() => callAsync(() => this.native.profileFlops(batch, names)));
  }
}
