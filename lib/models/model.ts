/**
 * A model living in the addon, as TypeScript sees it: steps, state and reports, with overlapping
 * calls queued so that one operation runs at a time (the addon refuses a second one).
 */
import path from 'node:path';
import { invalidArgument } from '../errors.js';
import { validateHostTensor, type HostTensor } from '../host-tensor.js';
import { checkMethod, resolveMethod, type MethodConfig, type MethodName } from '../methods/index.js';
import { describeArchitecture } from './architecture.js';
import type { NativeArchitectureDescriptor, NativeBatch, NativeLoadReport, NativeModel, NativeParameterInfo, NativeStepResult } from '../native/binding.js';
import { callAsync, callSync } from '../native/call.js';
import type { ProcessGroup } from '../native/process-group.js';
import { normalizeDevice } from '../native/runtime.js';
import { validateMeterConfig, type MeterConfig } from './meter-config.js';
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

function validateBatch(batch: NativeBatch): void {
  if (typeof batch !== 'object' || batch === null) throw invalidArgument('batch', 'an object of named tensors', batch);
  for (const [name, tensor] of Object.entries(batch)) validateHostTensor(tensor, `batch.${name}`);
}

function validateSkip(skip: readonly string[]): string[] {
  if (!Array.isArray(skip) || skip.some((name) => typeof name !== 'string')) throw invalidArgument('skip', 'an array of layer names', skip);
  return [...skip];
}

export class Model<A extends Architecture = Architecture> {
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly architecture: A,
    readonly config: Readonly<ConfigByArchitecture[A]>,
    /** The method the model was built with (every option resolved). */
    readonly method: Readonly<MethodConfig>,
    private readonly native: NativeModel,
  ) {}

  static async create<A extends Architecture>(architecture: A, config: ConfigByArchitecture[A], options: ModelOptions = {}): Promise<Model<A>> {
    if (!Object.hasOwn(VALIDATORS, architecture)) throw invalidArgument('architecture', Object.keys(VALIDATORS).join(', '), architecture);
    if (typeof config !== 'object' || config === null) throw invalidArgument('config', `a ${architecture} configuration object`, config);
    const checked = VALIDATORS[architecture](copyConfig(config));
    const device = normalizeDevice(options.device ?? 'cpu');
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw invalidArgument('seed', 'a non-negative integer', seed);
    const method = resolveMethod(options.method);
    checkMethod(method, describeArchitecture(architecture, checked));
    const native = await callAsync((binding) => binding.createModel(architecture, checked, device, seed, method));
    return new Model<A>(architecture, Object.freeze(checked), Object.freeze(method), native);
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

  /** Skippable layers in forward order, or the candidates of a search scope. */
  layerNames(scope?: string): string[] {
    return callSync(() => this.native.layerNames(scope));
  }

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

  configureOptimizer(options: OptimizerOptions = {}): void {
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    const config = { weightDecay: options.weightDecay ?? 0.01, beta1, beta2, eps: options.eps ?? 1e-8, headLrMultiplier: options.headLrMultiplier ?? 1 };
    for (const [key, value] of Object.entries(config)) {
      if (!Number.isFinite(value) || value < 0) throw invalidArgument(`optimizer ${key}`, 'a finite number >= 0', value);
    }
    callSync(() => this.native.configureOptimizer(config));
  }

  /** Forward + backward with `skip` replaced by skip adapters; `lossScale` = 1 / accumulation steps. */
  trainStep(batch: NativeBatch, options: { skip?: readonly string[]; lossScale?: number } = {}): Promise<NativeStepResult> {
    validateBatch(batch);
    const skip = validateSkip(options.skip ?? []);
    const scale = options.lossScale ?? 1;
    if (!(scale > 0)) throw invalidArgument('lossScale', 'a positive number', scale);
    return this.queue(() => callAsync(() => this.native.trainStep(batch, skip, scale)));
  }

  evalStep(batch: NativeBatch, options: { skip?: readonly string[]; logits?: boolean } = {}): Promise<NativeStepResult> {
    validateBatch(batch);
    const skip = validateSkip(options.skip ?? []);
    return this.queue(() => callAsync(() => this.native.evalStep(batch, skip, options.logits ?? false)));
  }

  optimizerStep(lr: number): Promise<void> {
    if (!Number.isFinite(lr) || lr < 0) throw invalidArgument('lr', 'a finite number >= 0', lr);
    return this.queue(() => callAsync(() => this.native.optimizerStep(lr)));
  }

  loadState(
    tensors: Record<string, HostTensor>,
    options: { strict?: boolean; expect?: 'pretrained' | 'trainable' | 'all' } = {},
  ): Promise<NativeLoadReport> {
    for (const [name, tensor] of Object.entries(tensors)) validateHostTensor(tensor, `tensors['${name}']`);
    return this.queue(() => callAsync(() => this.native.loadState(tensors, options.strict ?? false, options.expect ?? 'pretrained')));
  }

  /** Loads a checkpoint file (safetensors, torch.save zip or legacy) straight into the model. */
  loadCheckpoint(file: string, options: { strict?: boolean; expect?: 'pretrained' | 'trainable' | 'all' } = {}): Promise<NativeLoadReport> {
    if (typeof file !== 'string' || file === '') throw invalidArgument('checkpoint path', 'a file path', file);
    return this.queue(() => callAsync(() => this.native.loadCheckpoint(path.resolve(file), options.strict ?? false, options.expect ?? 'pretrained')));
  }

  state(which: 'trainable' | 'all' = 'trainable'): Promise<Record<string, HostTensor>> {
    return this.queue(() => callAsync(() => this.native.state(which)));
  }

  /** AdamW moments and step counts, as opaque bytes for a checkpoint. */
  optimizerState(): Promise<HostTensor<'uint8'>> {
    return this.queue(() => callAsync(() => this.native.optimizerState()));
  }

  /** Restores optimizerState() into an optimizer configured with the same options. */
  loadOptimizerState(bytes: HostTensor<'uint8'>): Promise<void> {
    validateHostTensor(bytes, 'optimizer state');
    if (bytes.dtype !== 'uint8') throw invalidArgument('optimizer state dtype', 'uint8', bytes.dtype);
    return this.queue(() => callAsync(() => this.native.loadOptimizerState(bytes)));
  }

  /** Model-specific counters: METER's feature cache (hits, misses, bypassed.*) and frozen prefixes (frozen.*). */
  counters(): Promise<Record<string, number>> {
    return this.queue(() => callAsync(() => this.native.counters()));
  }

  /**
   * Makes exactly `names` trainable (e.g. pre-training a small model from scratch), or restores the
   * method's split with null. Call configureOptimizer afterwards.
   */
  setTrainable(names: readonly string[] | null): void {
    if (names !== null && (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))) throw invalidArgument('trainable names', 'an array of parameter names or null', names);
    callSync(() => this.native.setTrainable(names ? [...names] : null));
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
  mergeLora(): Promise<number> {
    return this.queue(() => callAsync(() => this.native.mergeLora()));
  }

  /** Frees the model's native memory after the operations already queued; later calls fail. */
  dispose(): Promise<void> {
    return this.queue(async () => callSync(() => this.native.dispose()));
  }

  profileFlops(batch: NativeBatch, skip: readonly string[] = []): Promise<{ total: number; layers: Record<string, number> }> {
    validateBatch(batch);
    const names = validateSkip(skip);
    return this.queue(() => callAsync(() => this.native.profileFlops(batch, names)));
  }
}
