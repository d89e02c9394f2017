/**
 * The only module that loads the native addon, and the declaration of everything it exports.
 * Keep this interface in step with native/binding/addon.cc. [sync] calls return at once and are
 * cheap; [async] calls run on the libuv thread pool and return a Promise.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { DasError } from '../errors.js';
import type { DType, HostTensor } from '../host-tensor.js';
import { packageRoot } from '../package-info.js';

export interface NativeRuntimeInfo {
  torch: {
    headerVersion: string;
    runtimeVersion: string;
    library: string;
    foundVia: string;
    cmakeDir: string;
    mkldnn: boolean;
    parallelBackend: string;
  };
  cuda: { built: boolean; available: boolean; deviceCount: number };
  blas: { vendor: string; library: string; detail: string; threading: string; threads: number; builtWith: string };
  threads: { intraOp: number; interOp: number };
  build: { system: string; compiler: string; type: string; cxx11Abi: boolean; napiVersion: number };
}

export interface NativeParameterInfo {
  name: string;
  shape: number[];
  numel: number;
  trainable: boolean;
  /** Part of the task head (counted apart from the updated parameters, as in the paper). */
  head: boolean;
  /** AdamW weight decay applies (not biases, not LayerNorm weights). */
  decay: boolean;
  /**
   * pretrained: the published backbone; task: parts every method trains (poolers, modality tables, ...);
   * head / frozen_head: the task head (the matching head that only initialises the rank head never trains);
   * method: the method's own modules (adapters, LoRA deltas, prefixes, skip adapters).
   */
  role: 'pretrained' | 'task' | 'head' | 'frozen_head' | 'method';
}

/** One projection of a layer that a LoRA delta can attach to. */
export interface NativeProjection {
  /** query, key, value, attn_out, cross_query, cross_key, cross_value, cross_out, ffn_in, ffn_out */
  role: string;
  /** The module holding it, relative to the layer (attention.self.query; ViLT's q/k/v share attn.qkv). */
  module: string;
  in: number;
  out: number;
  /** First output of its slice of the module (fused qkv), and the slice's parameter name suffix ('_q'). */
  offset: number;
  suffix: string;
}

/** One transformer layer with attachment points, as the addon describes it. */
export interface NativeLayerDescriptor {
  /** Paper name: En3, FL0, FV2, LEn7. */
  name: string;
  /** Prefix of its parameters' names. */
  prefix: string;
  /** encoder (RoBERTa, ViLT), fusion or text (METER). */
  region: string;
  norm: 'post' | 'pre';
  /** The tokens it runs on (ViLT: the joint text + image sequence). */
  stream: 'text' | 'image' | 'joint';
  /** The stream its cross-attention reads (METER's fusion layers). */
  context?: 'text' | 'image';
  skippable: boolean;
  /** Methods attach their modules here (METER's language encoder: skip adapters only). */
  adapted: boolean;
  hidden: number;
  heads: number;
  intermediate: number;
  crossAttention: boolean;
  /** LayerNorms of width `hidden` inside the layer. */
  layerNorms: number;
  projections: NativeProjection[];
  /** Sub-layers with adapter sites. */
  sites: ('attn' | 'cross' | 'ffn')[];
  /** The configuration's adapter sizes for this layer. */
  adapterSizes: { parallel: number; skip: number; scale: number };
}

export interface NativeArchitectureDescriptor {
  architecture: string;
  /** Layers with attachment points, in forward order. */
  layers: NativeLayerDescriptor[];
  /** Search scopes: candidate layer names. */
  scopes: Record<string, string[]>;
  /** Module name of a layer's skip adapter: the only part of a skipped layer that runs. */
  skipAdapter: string;
}

export interface NativeStepResult {
  loss: number;
  parts: Record<string, number>;
  logits?: HostTensor<'float32'>;
}

export interface NativeLoadReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
  ignored: string[];
  mismatched: { name: string; expected: number[]; received: number[] }[];
}

export type NativeBatch = Record<string, HostTensor>;

/** One model and its optimizer in the addon. One operation at a time (lib/models/model.ts queues them). */
export interface NativeModel {
  /** [sync] */ architecture(): string;
  /** [sync] skippable layers, or the candidates of a search scope */ layerNames(scope?: string): string[];
  /** [sync] */ parameters(): NativeParameterInfo[];
  /** [sync] */ device(): string;
  /** [sync] */ configureOptimizer(options: { weightDecay: number; beta1: number; beta2: number; eps: number; headLrMultiplier: number }): void;
  /** [async] forward + backward in train mode; gradients accumulate */ trainStep(batch: NativeBatch, skip: string[], lossScale: number): Promise<NativeStepResult>;
  /** [async] forward in eval mode, no autograd */ evalStep(batch: NativeBatch, skip: string[], wantLogits: boolean): Promise<NativeStepResult>;
  /** [async] AdamW update at `lr` (times group multipliers), then zero gradients */ optimizerStep(lr: number): Promise<void>;
  /** [async] */ loadState(tensors: Record<string, HostTensor>, strict: boolean, expect: 'pretrained' | 'trainable' | 'all'): Promise<NativeLoadReport>;
  /** [async] read natively, no JS copies */ loadCheckpoint(path: string, strict: boolean, expect: 'pretrained' | 'trainable' | 'all'): Promise<NativeLoadReport>;
  /** [async] */ state(which: 'trainable' | 'all'): Promise<Record<string, HostTensor>>;
  /** [async] multiply-accumulates of one real forward pass, per layer */ profileFlops(batch: NativeBatch, skip: string[]): Promise<{
    total: number;
    layers: Record<string, number>;
  }>;
  /** [async] opaque bytes (libtorch archive) for checkpoints */ optimizerState(): Promise<HostTensor<'uint8'>>;
  /** [async] into an optimizer configured the same way */ loadOptimizerState(bytes: HostTensor<'uint8'>): Promise<void>;
  /** [async] model-specific counters (feature cache, frozen prefixes) */ counters(): Promise<Record<string, number>>;
  /** [sync] frees the model once running operations finish; later calls fail */ dispose(): void;
  /** [sync] exactly these parameters train (null: the method's split); reconfigure the optimizer after */ setTrainable(names: string[] | null): void;
  /** [sync] */ describe(): NativeArchitectureDescriptor;
  /** [async] folds every LoRA delta into its projection's weight; resolves to how many */ mergeLora(): Promise<number>;
  /** [async] data parallel: rank 0's trainable parameters everywhere, then gradients averaged at every optimizer step; null detaches */ attachProcessGroup(group: NativeProcessGroup | null): Promise<void>;
}

export type ReduceOp = 'sum' | 'max' | 'min';

export interface ProcessGroupOptions {
  backend: string;
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  /** Rank 0 hosts the store (false: a launcher's agent does). */
  hostStore: boolean;
  /** Prefix of every key this job puts in the store ('' for none). */
  storePrefix: string;
  timeoutMs: number;
  /** NCCL: this rank's GPU; -1 otherwise. */
  cudaDevice: number;
}

/**
 * One rank's membership of a data-parallel job (c10d: a TCPStore rank 0 hosts, Gloo or NCCL).
 * Collectives must be called by every rank in the same order; they run on the compute thread, in
 * line with model steps. Failures reject with code DAS_DISTRIBUTED and name the rank that was lost.
 */
export interface NativeProcessGroup {
  /** [async] every rank's value, in rank order, through the store */ exchange(key: string, value: string): Promise<string[]>;
  /** [async] connects the backend to every other rank */ connect(): Promise<void>;
  /** [async] */ allReduce<D extends DType>(tensor: HostTensor<D>, op: ReduceOp): Promise<HostTensor<D>>;
  /** [async] [world, ...shape], in rank order */ allGather<D extends DType>(tensor: HostTensor<D>): Promise<HostTensor<D>>;
  /** [async] */ barrier(): Promise<void>;
  /** [async] tells the other ranks why this one stops, and drops its connections */ abort(message: string): Promise<void>;
  /** [async] the orderly end, after a barrier */ close(): Promise<void>;
  /** [sync] collectives so far */ stats(): { calls: number; bytes: number; seconds: number };
}

export type CheckpointFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';

export interface NativeCheckpoint {
  format: CheckpointFormat;
  /** Tensor names in file order (object keys that look like integers would lose it). */
  names: string[];
  tensors: Record<string, HostTensor>;
  metadata: Record<string, string>;
}

export interface NativeBinding {
  /** [async] `method`: { name, ...options } with every default resolved (lib/methods/) */
  createModel(architecture: 'roberta' | 'vilt' | 'meter', config: object, device: string, seed: number, method: object): Promise<NativeModel>;
  /** [sync] the layers, scopes and attachment points of a configuration, without building the model */
  describeArchitecture(architecture: 'roberta' | 'vilt' | 'meter', config: object): NativeArchitectureDescriptor;
  /** [sync] seeds libtorch's generators (dropout) */ manualSeed(seed: number): void;
  /** [sync] libtorch's CPU generator state */ rngState(): HostTensor<'uint8'>;
  /** [sync] */ setRngState(state: HostTensor<'uint8'>): void;
  /** [sync] */ runtimeInfo(): NativeRuntimeInfo;
  /** [sync] */ setNumThreads(threads: number): void;
  /** [sync] "cuda" -> "cuda:0"; throws when the device does not exist here. */ normalizeDevice(spec: string): string;
  /** [async] copy to `device` (converting to `dtype`) and back. */
  echoTensor(tensor: HostTensor, device: string, dtype: DType | null): Promise<HostTensor>;
  /** [async] */ matmul(a: HostTensor, b: HostTensor, device: string): Promise<HostTensor>;
  /** [async] */ timeGemm(options: { n: number; iterations: number; warmup: number; dtype: DType; device: string }): Promise<{
    n: number;
    seconds: number[];
  }>;
  /** [async] weights-only read of a safetensors, torch.save zip or legacy file; `names` null = all tensors. */
  readCheckpoint(path: string, names: string[] | null): Promise<NativeCheckpoint>;
  /** [async] opens the rendezvous store and claims the rank (connect() follows) */ createProcessGroup(options: ProcessGroupOptions): Promise<NativeProcessGroup>;
  /** [sync] the distributed backends this build has ('gloo', 'nccl') */ distributedBackends(): string[];
  /** [async] atomic write (temp file, fsync, rename). */
  writeSafetensors(path: string, tensors: Record<string, HostTensor>, metadata: Record<string, string>): Promise<void>;
}


/** Where the addon is looked for, in order. */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.DAS_ADDON_PATH) return [path.resolve(env.DAS_ADDON_PATH)];
  return ['build/Release/das_torch.node', 'build/Debug/das_torch.node'].map((p) => path.join(packageRoot, p));
}

function explainLoadFailure(tried: string[], error: unknown): DasError {
  const reason = error instanceof Error ? error.message : String(error);
  const missing = tried.every((p) => !fs.existsSync(p));
  const hints: string[] = [];
  if (missing) {
    hints.push('the addon is not built: run `npm run build:native` (or reinstall the package)');
  } else if (/lib(torch|c10)[^ ]*\.so.*cannot open shared object/.test(reason)) {
    hints.push('libtorch was found at build time but not now: add its lib folder to LD_LIBRARY_PATH, or rebuild');
  } else if (/undefined symbol/.test(reason)) {
    hints.push(
      'undefined symbol: the addon and the loaded libtorch disagree (another libtorch version, or the other C++ ABI, ' +
        '_GLIBCXX_USE_CXX11_ABI); rebuild with `npm run build:native` against the libtorch you run with',
    );
  } else {
    hints.push('rebuild with `npm run build:native`; `node scripts/find-libtorch.mjs --json` shows which libtorch the build uses');
  }
  return new DasError(
    'DAS_ADDON_LOAD',
    `das-torch: cannot load the native addon.\n  tried: ${tried.join(', ')}\n  error: ${reason}\n  likely cause: ${hints.join('; ')}`,
    { cause: error },
  );
}

let loaded: { binding: NativeBinding; path: string } | undefined;

/** Loads the addon once and sets libtorch's thread count (DAS_NUM_THREADS, else all available cores). */
export function loadBinding(): { binding: NativeBinding; path: string } {
  if (loaded) return loaded;
  const tried = addonCandidates();
  const found = tried.find((p) => fs.existsSync(p));
  let binding: NativeBinding;
  try {
    binding = createRequire(import.meta.url)(found ?? tried[0]!) as NativeBinding;
  } catch (error) {
    throw explainLoadFailure(tried, error);
  }
  binding.setNumThreads(defaultThreadCount());
  loaded = { binding, path: found ?? tried[0]! };
  return loaded;
}

export function defaultThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  const requested = env.DAS_NUM_THREADS;
  if (requested !== undefined && requested !== '') {
    const threads = Number(requested);
    if (!Number.isInteger(threads) || threads < 1) {
      throw new DasError('DAS_INVALID_ARGUMENT', `Expected a positive integer for DAS_NUM_THREADS but received ${JSON.stringify(requested)}`);
    }
    return threads;
  }
  return os.availableParallelism();
}
