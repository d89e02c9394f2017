/**
 * The numeric precision a model computes in. `bf16` and `fp16` run the forward pass under libtorch's
 * autocast (matrix products in the low-precision dtype; LayerNorm, softmax and losses in fp32),
 * while master weights, gradients and optimizer state stay fp32. `fp16` also scales the loss
 * dynamically so that small gradients survive, and needs a CUDA device.
 */
import { DasError, invalidArgument } from '../errors.js';
import type { NativePrecisionOptions } from '../native/binding.js';

export const PRECISIONS = ['fp32', 'bf16', 'fp16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Dynamic gradient scaling (fp16). Defaults are PyTorch GradScaler's. */
export interface GradScalerOptions {
  /** On for fp16, off otherwise; can be forced either way. */
  enabled?: boolean;
  /** Default 65536. */
  initScale?: number;
  /** Default 2. */
  growthFactor?: number;
  /** Default 0.5. */
  backoffFactor?: number;
  /** Clean steps in a row before the scale grows. Default 2000. */
  growthInterval?: number;
}

export function isPrecision(value: unknown): value is Precision {
  return typeof value === 'string' && (PRECISIONS as readonly string[]).includes(value);
}

/** The precision a run's config.json records; runs written before precisions existed ran in fp32. */
export function runPrecision(config: { precision?: Precision }): Precision {
  return config.precision ?? 'fp32';
}

/** Checks a precision against the (normalized) device it will run on. */
export function validatePrecision(value: unknown, device: string): Precision {
  if (!isPrecision(value)) throw invalidArgument('precision', PRECISIONS.map((p) => `'${p}'`).join(', '), value);
  if (value === 'fp16' && !device.startsWith('cuda')) {
    throw new DasError(
      'DAS_INVALID_ARGUMENT',
      `precision fp16 needs a CUDA device (float16 autocast with gradient scaling runs on GPUs only), but the device is ${device}; ` +
        'use bf16 (fast on CPUs with AVX512-BF16 or AMX: see das doctor) or fp32',
    );
  }
  return value;
}

/** The precision options of the addon's createModel, checked. */
export function nativePrecisionOptions(precision: Precision, scaler: GradScalerOptions = {}): NativePrecisionOptions {
  const { enabled, ...numbers } = scaler;
  if (enabled !== undefined && typeof enabled !== 'boolean') throw invalidArgument('gradScaler.enabled', 'a boolean', enabled);
  const checks: [keyof typeof numbers, (v: number) => boolean, string][] = [
    ['initScale', (v) => v > 0 && Number.isFinite(v), 'a finite number > 0'],
    ['growthFactor', (v) => v > 1 && Number.isFinite(v), 'a finite number > 1'],
    ['backoffFactor', (v) => v > 0 && v < 1, 'a number between 0 and 1'],
    ['growthInterval', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'],
  ];
  for (const [key, ok, expected] of checks) {
    const value = numbers[key];
    if (value !== undefined && (typeof value !== 'number' || !ok(value))) throw invalidArgument(`gradScaler.${key}`, expected, value);
  }
  return { precision, ...(enabled !== undefined ? { gradScaling: enabled } : {}), ...numbers };
}
