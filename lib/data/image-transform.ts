/**
 * Decoding and preprocessing of one image with sharp (libvips): ViLT's pixelbert transform and
 * METER's CLIP transform, with optional RandAugment before the resize. Resizing uses libvips'
 * "cubic" kernel, Catmull-Rom (a = -0.5), the kernel PIL's BICUBIC uses, with the same
 * antialiasing when shrinking. Output is float32 CHW, normalised like torchvision's ToTensor +
 * Normalize.
 */
import sharp, { type Sharp } from 'sharp';
import { DasError, invalidArgument } from '../errors.js';
import { centerCropOffset, clipResizeSize, viltLongerSide, viltResizeSize, type Size } from './image-geometry.js';
import { randAugment, type RgbImage } from './rand-augment.js';
import { createRng } from './random.js';

export interface ImageTransformConfig {
  /**
   * `vilt`: shorter side to `size`, longer side at most int(1333/800 * size), both multiples of 32,
   * mean = std = 0.5. `clip` (METER): shorter side to `size`, centre crop `size` x `size`, CLIP
   * mean/std.
   */
  kind: 'vilt' | 'clip';
  /** Shorter side (vilt) or square side (clip). Default 384 (ViLT VQA, METER VQA/IR-TR; METER NLVR2 uses 288). */
  size?: number;
  /** RandAugment(2, 9) before the resize, as the original `*_randaug` training transforms. Default false. */
  randAugment?: boolean;
}

/** One preprocessed image: float32 [3, height, width]. */
export interface PreparedImage {
  data: Float32Array;
  width: number;
  height: number;
}

export const VILT_MEAN = [0.5, 0.5, 0.5] as const;
export const VILT_STD = [0.5, 0.5, 0.5] as const;
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** Checks a transform config once, so worker threads receive only valid plain data. */
export function validateImageTransform(config: ImageTransformConfig): Required<ImageTransformConfig> {
  if (config === null || typeof config !== 'object') throw invalidArgument('image transform', 'an object', config);
  if (config.kind !== 'vilt' && config.kind !== 'clip') throw invalidArgument('image transform kind', '"vilt" or "clip"', config.kind);
  const size = config.size ?? 384;
  if (!Number.isInteger(size) || size < 32 || size > 4096) throw invalidArgument('image transform size', 'an integer in [32, 4096]', size);
  return { kind: config.kind, size, randAugment: config.randAugment ?? false };
}

/**
 * Decodes, (optionally) augments, resizes and normalises one encoded image. `seed` drives the
 * augmentation; `label` names the image in errors.
 */
export async function prepareImage(bytes: Uint8Array, config: ImageTransformConfig, options: { seed?: number; label?: string } = {}): Promise<PreparedImage> {
  const cfg = validateImageTransform(config);
  const label = options.label ?? 'image';
  try {
    let input: Sharp;
    let source: Size;
    if (cfg.randAugment) {
      const raw = await decodeRgb(bytes);
      const augmented = randAugment(raw, createRng(options.seed ?? 0));
      input = sharp(augmented.data, { raw: { width: augmented.width, height: augmented.height, channels: 3 } });
      source = augmented;
    } else {
      const meta = await sharp(bytes).metadata();
      if (!meta.width || !meta.height) throw new Error('no image dimensions in the header');
      input = sharp(bytes).removeAlpha().toColourspace('srgb');
      source = { width: meta.width, height: meta.height };
    }
    let pipeline: Sharp;
    let out: Size;
    if (cfg.kind === 'vilt') {
      out = viltResizeSize(source.width, source.height, cfg.size, viltLongerSide(cfg.size));
      pipeline = input.resize(out.width, out.height, { kernel: 'cubic', fit: 'fill' });
    } else {
      const resized = clipResizeSize(source.width, source.height, cfg.size);
      const { left, top } = centerCropOffset(resized, cfg.size);
      out = { width: cfg.size, height: cfg.size };
      pipeline = input.resize(resized.width, resized.height, { kernel: 'cubic', fit: 'fill' }).extract({ left, top, width: cfg.size, height: cfg.size });
    }
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== out.width || info.height !== out.height) {
      throw new Error(`unexpected decoded layout ${info.width}x${info.height}x${info.channels}`);
    }
    const [mean, std] = cfg.kind === 'vilt' ? [VILT_MEAN, VILT_STD] : [CLIP_MEAN, CLIP_STD];
    return { data: normalizeToChw(data, out.width, out.height, mean, std), width: out.width, height: out.height };
  } catch (err) {
    if (err instanceof DasError) throw err;
    throw new DasError('DAS_DATA', `Image ${label} cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
}

/** Decodes to packed 8-bit RGB at the original size (alpha dropped, grey expanded), like PIL's convert("RGB"). */
export async function decodeRgb(bytes: Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels instead of 3`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/** HWC uint8 -> CHW float32 through a per-channel lookup table ((x / 255 - mean) / std). */
export function normalizeToChw(raw: Uint8Array, width: number, height: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  const luts = [0, 1, 2].map((c) => {
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = (Math.fround(v / 255) - mean[c]!) / std[c]!;
    return lut;
  });
  const [l0, l1, l2] = luts as [Float32Array, Float32Array, Float32Array];
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[i] = l0[raw[p]!]!;
    out[plane + i] = l1[raw[p + 1]!]!;
    out[2 * plane + i] = l2[raw[p + 2]!]!;
  }
  return out;
}
