/**
 * The only module that loads the native addon, and the declaration of everything it exports.
 * Keep this interface in step with native/binding/addon.cc. [sync] calls return at once and are
 * cheap; [async] calls run on the addon's compute thread, in call order, and return a Promise.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DasError } from '../errors.js';
import type { DType, HostTensor } from '../host-tensor.js';
import { packageRoot } from '../package-info.js';
import { cpuBudget } from '../util/cpu-budget.js';

export interface NativeRuntimeInfo {
  torch: {
    headerVersion: string;
    runtimeVersion: string;
    library: string;
    foundVia: string;
    cmakeDir: string;
    mkldnn: boolean;
    parallelBackend: string;
    /** Attention runs through scaled_dot_product_attention (libtorch >= 2.0) rather than the explicit path. */
    fusedAttention: boolean;
  };
  cuda: {
    /** libtorch has CUDA compiled in (whether or not a GPU is visible). */
    built: boolean;
    available: boolean;
    deviceCount: number;
    /** The loaded libtorch_cuda ("" without CUDA). */
    library: string;
    /** The CUDA runtime, cuDNN and NCCL that libtorch uses ("" when not built in / not loaded). */
    runtimeVersion: string;
    cudnnVersion: string;
    ncclVersion: string;
    /** False for builds made without the CUDA headers (node-gyp), which cannot list device details. */
    deviceDetails: boolean;
    devices: { name: string; capability: string; memoryBytes: number; fastBf16: boolean }[];
  };
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
  /** Absent when the batch has no targets (an eval step for logits only). */
  loss?: number;
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

export interface NativePrecisionOptions {
  precision: 'fp32' | 'bf16' | 'fp16';
  gradScaling?: boolean;
  initScale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  growthInterval?: number;
}

/** One model and its optimizer in the addon. One operation at a time (lib/models/model.ts queues them). */
export interface NativeModel {
  /** [sync] */ architecture(): string;
  /** [sync] skippable layers, or the candidates of a search scope */ layerNames(scope?: string): string[];
  /** [sync] as of the last settled call that changed them */ parameters(): NativeParameterInfo[];
  /** [sync] */ device(): string;
  /** [async] a fresh AdamW over the parameters trainable now */ configureOptimizer(options: { weightDecay: number; beta1: number; beta2: number; eps: number; headLrMultiplier: number }): Promise<void>;
  /** [async] forward + backward in train mode; gradients accumulate */ trainStep(batch: NativeBatch, skip: string[], accumulationWeight: number): Promise<NativeStepResult>;
  /** [async] forward in eval mode, no autograd */ evalStep(batch: NativeBatch, skip: string[], wantLogits: boolean): Promise<NativeStepResult>;
  /** [async] unscale/check fp16 gradients, AdamW update at `lr` (times group multipliers) unless they overflowed, zero gradients */ optimizerStep(
    lr: number,
  ): Promise<{ applied: boolean; gradScale: number }>;
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
  /** [async] exactly these parameters train (null: the DAS split: adapters, heads, poolers); reconfigure the optimizer after */ setTrainable(names: string[] | null): Promise<void>;
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
  /** NCCL: the rank's GPU index (absent for Gloo). */
  cudaDevice?: number;
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
  /**
   * [async] `method`: { name, ...options } with every default resolved (lib/methods/); `precision`:
   * the forward passes' autocast dtype and fp16's gradient scaling (fp32 when undefined).
   */
  createModel(
    architecture: 'roberta' | 'vilt' | 'meter',
    config: object,
    device: string,
    seed: number,
    method: object,
    precision?: NativePrecisionOptions,
  ): Promise<NativeModel>;
  /** [sync] the layers, scopes and attachment points of a configuration, without building the model */
  describeArchitecture(architecture: 'roberta' | 'vilt' | 'meter', config: object): NativeArchitectureDescriptor;
  /** [sync] seeds libtorch's generators (dropout) */ manualSeed(seed: number): void;
  /** [sync] libtorch's CPU generator state */ rngState(): HostTensor<'uint8'>;
  /** [sync] */ setRngState(state: HostTensor<'uint8'>): void;
  /** [sync] */ runtimeInfo(): NativeRuntimeInfo;
  /** [sync] */ setNumThreads(threads: number): void;
  /** [sync] the compute thread shared by every Node environment of the process (main thread, workers) */
  computeThreadStats(): { jobsRun: number; jobsDropped: number; environments: number; threadsStarted: number };
  /** [sync] free and total bytes of a CUDA device; null for the CPU or when the CUDA runtime does not say */
  deviceMemory(device: string): { free: number; total: number } | null;
  /** [sync] "cuda" -> "cuda:0"; throws when the device does not exist here. */ normalizeDevice(spec: string): string;
  /** [sync] scaled_dot_product_attention on/off (libtorch >= 2.0); returns whether it is now used. */ setFusedAttention(enabled: boolean): boolean;
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
  const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!; // not Node's require stack
  const missing = tried.every((p) => !fs.existsSync(p));
  const hints: string[] = [];
  if (missing) {
    // npm install --ignore-scripts, pnpm (until the package is allowed to build) and bun (until trusted) skip the build
    hints.push(
      'the addon is not built (the package manager skipped install scripts: npm --ignore-scripts, pnpm, bun); build it with\n' +
        `      node ${path.join(packageRoot, 'scripts', 'build-native.mjs')}\n` +
        '    or let the package manager run it: pnpm approve-builds / `pnpm rebuild das-torch`, `bun pm trust das-torch`, `npm rebuild das-torch`',
    );
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

/** Loads the addon once and sets libtorch's thread count (defaultThreadCount). */
export function loadBinding(): { binding: NativeBinding; path: string } {
  if (loaded) return loaded;
  const tried = addonCandidates();
  const found = tried.find((p) => fs.existsSync(p));
  // libtorch built with glog (Debian's) logs its own text to stderr, such as c10d's socket errors
  // that the addon reports in its own words; it reads this setting when it loads. Set it to 0 to see them.
  process.env.GLOG_minloglevel ??= '3';
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

/** DAS_NUM_THREADS, else OMP_NUM_THREADS, SLURM_CPUS_PER_TASK, the cgroup CPU quota, the available CPUs (util/cpu-budget.ts). */
export function defaultThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  return cpuBudget(env).threads;
}
