/** The runtime-level native calls: information, threads, devices, and small diagnostic ops. */
import { invalidArgument } from '../errors.js';
import { isDType, validateHostTensor, type DType, type HostTensor } from '../host-tensor.js';
import { loadBinding, type NativeRuntimeInfo } from './binding.js';
import { callAsync, callSync } from './call.js';

export type { NativeRuntimeInfo } from './binding.js';

export function runtimeInfo(): NativeRuntimeInfo & { addonPath: string } {
  return { ...callSync((binding) => binding.runtimeInfo()), addonPath: loadBinding().path };
}

export function setNumThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) throw invalidArgument('threads', 'a positive integer', threads);
  callSync((binding) => binding.setNumThreads(threads));
}

/** Canonical device name ("cpu", "cuda:N"); throws a DasError when the device is not usable here. */
export function normalizeDevice(spec: string): string {
  if (typeof spec !== 'string') throw invalidArgument('device', "'cpu', 'cuda' or 'cuda:N'", spec);
  return callSync((binding) => binding.normalizeDevice(spec));
}

function checkDType(dtype: unknown, what: string): asserts dtype is DType | undefined {
  if (dtype !== undefined && !isDType(dtype)) throw invalidArgument(what, 'a dtype name', dtype);
}

/** Copies a tensor to `device` (optionally converting it) and back to the host. */
export async function echoTensor(tensor: HostTensor, options: { device?: string; dtype?: DType } = {}): Promise<HostTensor> {
  validateHostTensor(tensor, 'tensor');
  checkDType(options.dtype, 'dtype');
  const device = normalizeDevice(options.device ?? 'cpu');
  return callAsync((binding) => binding.echoTensor(tensor, device, options.dtype ?? null));
}

/** a @ b on `device` (libtorch matmul semantics, including batching and broadcasting). */
export async function matmul(a: HostTensor, b: HostTensor, options: { device?: string } = {}): Promise<HostTensor> {
  validateHostTensor(a, 'a');
  validateHostTensor(b, 'b');
  const device = normalizeDevice(options.device ?? 'cpu');
  return callAsync((binding) => binding.matmul(a, b, device));
}

export interface GemmTimingOptions {
  /** Matrix size (n x n times n x n). */
  n: number;
  /** Timed products. Default 10. */
  iterations?: number;
  /** Untimed products first. Default 2. */
  warmup?: number;
  /** Default float32. */
  dtype?: DType;
  /** Default cpu. */
  device?: string;
}

export interface GemmTiming {
  n: number;
  seconds: number[];
  /** 2 n^3 / median seconds, in GFLOP/s. */
  gflops: number;
}

/** Times square matrix products inside libtorch (no boundary crossings in the timed loop). */
export async function timeGemm(options: GemmTimingOptions): Promise<GemmTiming> {
  const { n, iterations = 10, warmup = 2, dtype = 'float32' } = options;
  for (const [name, value, min] of [['n', n, 1], ['iterations', iterations, 1], ['warmup', warmup, 0]] as const) {
    if (!Number.isInteger(value) || value < min) throw invalidArgument(name, `an integer >= ${min}`, value);
  }
  checkDType(dtype, 'dtype');
  const device = normalizeDevice(options.device ?? 'cpu');
  const timing = await callAsync((binding) => binding.timeGemm({ n, iterations, warmup, dtype, device }));
  const sorted = [...timing.seconds].sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return { ...timing, gflops: (2 * n ** 3) / median / 1e9 };
}

/** Seeds libtorch's generators (dropout, initialisation), for reproducible runs. */
/** Free and total bytes of a CUDA device; null for the CPU, or where libtorch's CUDA runtime does not say. */
export function deviceMemory(device: string): { free: number; total: number } | null {
  return callSync((binding) => binding.deviceMemory(device));
}

export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw invalidArgument('seed', 'a non-negative integer', seed);
  callSync((binding) => binding.manualSeed(seed));
}

/** libtorch's CPU generator state, for checkpoints that resume exactly. */
export function rngState(): HostTensor<'uint8'> {
  return callSync((binding) => binding.rngState());
}

export function setRngState(state: HostTensor<'uint8'>): void {
  validateHostTensor(state, 'rng state');
  if (state.dtype !== 'uint8') throw invalidArgument('rng state dtype', 'uint8', state.dtype);
  callSync((binding) => binding.setRngState(state));
}
