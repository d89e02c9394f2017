/**
 * RandAugment(n = 2, m = 9) as the original ViLT/METER `*_randaug` transforms apply it: two ops drawn
 * with replacement from 14 (AutoContrast, Equalize, Rotate, Posterize, Solarize, SolarizeAdd, Color,
 * Contrast, Brightness, Sharpness, ShearX/Y, TranslateX/Y in pixels), each at magnitude m / 30 of
 * its range, geometric ones with a random sign. Implemented on raw 8-bit RGB with PIL's arithmetic
 * (nearest-neighbour affine with black fill, PIL's LUT formulas), before the resize, like the
 * original. Randomness comes from the caller's seeded generator, so augmentation is reproducible.
 */
import type { Rng } from './random.js';

/** Packed 8-bit RGB, row-major, 3 bytes per pixel. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface RandAugmentConfig {
  /** Ops per image. Default 2. */
  n?: number;
  /** Magnitude on the 0..30 scale. Default 9. */
  m?: number;
}

/** One augmentation: the image, its magnitude in [0, 1], the generator. */
export type RandAugmentOp = (img: RgbImage, v: number, rng: Rng) => RgbImage;

/** The 14 ops with their [min, max] magnitude ranges, in the original order. */
export const RAND_AUGMENT_OPS: ReadonlyArray<readonly [string, RandAugmentOp, number, number]> = [
  ['AutoContrast', (img) => mapChannels(img, autoContrastLuts(img)), 0, 1],
  ['Equalize', (img) => mapChannels(img, equalizeLuts(img)), 0, 1],
  ['Rotate', (img, v, rng) => rotate(img, signed(v, rng)), 0, 30],
  ['Posterize', (img, v) => posterize(img, Math.max(1, Math.trunc(v))), 0, 4],
  ['Solarize', (img, v) => solarize(img, v), 0, 256],
  ['SolarizeAdd', (img, v) => solarize(mapAll(img, (x) => Math.min(255, x + Math.trunc(v))), 128), 0, 110],
  ['Color', (img, v) => blend(grayscaleRgb(img), img, v), 0.1, 1.9],
  ['Contrast', (img, v) => blend(solid(img, meanGray(img)), img, v), 0.1, 1.9],
  ['Brightness', (img, v) => blend(solid(img, 0), img, v), 0.1, 1.9],
  ['Sharpness', (img, v) => blend(smooth(img), img, v), 0.1, 1.9],
  ['ShearX', (img, v, rng) => affine(img, [1, signed(v, rng), 0, 0, 1, 0]), 0, 0.3],
  ['ShearY', (img, v, rng) => affine(img, [1, 0, 0, signed(v, rng), 1, 0]), 0, 0.3],
  ['TranslateXabs', (img, v, rng) => affine(img, [1, 0, signed(v, rng), 0, 1, 0]), 0, 100],
  ['TranslateYabs', (img, v, rng) => affine(img, [1, 0, 0, 0, 1, signed(v, rng)]), 0, 100],
];

export function randAugment(img: RgbImage, rng: Rng, config: RandAugmentConfig = {}): RgbImage {
  const n = config.n ?? 2;
  const m = config.m ?? 9;
  let out = img;
  for (let i = 0; i < n; i++) {
    const [, op, lo, hi] = RAND_AUGMENT_OPS[rng.int(RAND_AUGMENT_OPS.length)]!;
    out = op(out, (m / 30) * (hi - lo) + lo, rng);
  }
  return out;
}

/** Applies one named op (tests and debugging). */
export function applyAugmentOp(name: string, img: RgbImage, magnitude: number, rng: Rng): RgbImage {
  const entry = RAND_AUGMENT_OPS.find(([n]) => n === name);
  if (!entry) throw new Error(`Unknown RandAugment op ${name}`);
  return entry[1](img, magnitude, rng);
}

function signed(v: number, rng: Rng): number {
  return rng.next() > 0.5 ? -v : v;
}

function clip8(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : v;
}

function mapAll(img: RgbImage, f: (x: number) => number): RgbImage {
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = f(i);
  return mapChannels(img, [lut, lut, lut]);
}

function mapChannels(img: RgbImage, luts: Uint8Array[]): RgbImage {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i += 3) {
    out[i] = luts[0]![img.data[i]!]!;
    out[i + 1] = luts[1]![img.data[i + 1]!]!;
    out[i + 2] = luts[2]![img.data[i + 2]!]!;
  }
  return { data: out, width: img.width, height: img.height };
}

function histograms(img: RgbImage): Uint32Array[] {
  const h = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  for (let i = 0; i < img.data.length; i += 3) {
    h[0]![img.data[i]!]!++;
    h[1]![img.data[i + 1]!]!++;
    h[2]![img.data[i + 2]!]!++;
  }
  return h;
}

/** PIL ImageOps.autocontrast(cutoff=0): stretch each channel's [min, max] to [0, 255]. */
function autoContrastLuts(img: RgbImage): Uint8Array[] {
  return histograms(img).map((h) => {
    const lut = new Uint8Array(256);
    let lo = 0;
    while (lo < 256 && h[lo] === 0) lo++;
    let hi = 255;
    while (hi >= 0 && h[hi] === 0) hi--;
    for (let i = 0; i < 256; i++) {
      if (hi <= lo) lut[i] = i;
      else {
        const scale = 255 / (hi - lo);
        lut[i] = clip8(Math.trunc(i * scale - lo * scale));
      }
    }
    return lut;
  });
}

/** PIL ImageOps.equalize: per-channel histogram equalisation with PIL's step rule. */
function equalizeLuts(img: RgbImage): Uint8Array[] {
  return histograms(img).map((h) => {
    const lut = new Uint8Array(256);
    const nonzero = [...h].filter((c) => c > 0);
    const step = nonzero.length <= 1 ? 0 : Math.floor((nonzero.reduce((a, b) => a + b, 0) - nonzero[nonzero.length - 1]!) / 255);
    if (step === 0) {
      for (let i = 0; i < 256; i++) lut[i] = i;
      return lut;
    }
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      lut[i] = Math.min(255, Math.floor(n / step));
      n += h[i]!;
    }
    return lut;
  });
}

function posterize(img: RgbImage, bits: number): RgbImage {
  const mask = ~(2 ** (8 - bits) - 1) & 0xff;
  return mapAll(img, (x) => x & mask);
}

function solarize(img: RgbImage, threshold: number): RgbImage {
  return mapAll(img, (x) => (x < threshold ? x : 255 - x));
}

/** PIL's ITU-R 601-2 luma with its fixed-point rounding. */
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

function grayscaleRgb(img: RgbImage): RgbImage {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i += 3) {
    const l = luma(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!);
    out[i] = out[i + 1] = out[i + 2] = l;
  }
  return { data: out, width: img.width, height: img.height };
}

function meanGray(img: RgbImage): number {
  let sum = 0;
  for (let i = 0; i < img.data.length; i += 3) sum += luma(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!);
  return Math.trunc(sum / (img.data.length / 3) + 0.5);
}

function solid(img: RgbImage, value: number): RgbImage {
  return { data: new Uint8Array(img.data.length).fill(value), width: img.width, height: img.height };
}

/** PIL Image.blend(degenerate, img, factor) as ImageEnhance uses it: truncation, then clipping. */
function blend(degenerate: RgbImage, img: RgbImage, factor: number): RgbImage {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const a = degenerate.data[i]!;
    out[i] = clip8(Math.trunc(a + factor * (img.data[i]! - a)));
  }
  return { data: out, width: img.width, height: img.height };
}

/** PIL's SMOOTH filter (3x3, centre 5, others 1, /13); border pixels keep their values. */
function smooth(img: RgbImage): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 4 * data[(y * w + x) * 3 + c]!;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += data[((y + dy) * w + x + dx) * 3 + c]!;
        out[(y * w + x) * 3 + c] = clip8(Math.round(s / 13));
      }
    }
  }
  return { data: out, width: w, height: h };
}

/**
 * PIL Image.transform(AFFINE, (a, b, c, d, e, f)) with NEAREST: the output pixel centred at
 * (x + 0.5, y + 0.5) takes the input pixel containing (a x' + b y' + c, d x' + e y' + f);
 * outside the image it is black.
 */
function affine(img: RgbImage, m: readonly number[]): RgbImage {
  const { width: w, height: h, data } = img;
  const [a, b, c, d, e, f] = m as [number, number, number, number, number, number];
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    const yc = y + 0.5;
    for (let x = 0; x < w; x++) {
      const xc = x + 0.5;
      const xi = a * xc + b * yc + c;
      const yi = d * xc + e * yc + f;
      if (xi < 0 || yi < 0) continue;
      const sx = Math.trunc(xi);
      const sy = Math.trunc(yi);
      if (sx >= w || sy >= h) continue;
      const src = (sy * w + sx) * 3;
      const dst = (y * w + x) * 3;
      out[dst] = data[src]!;
      out[dst + 1] = data[src + 1]!;
      out[dst + 2] = data[src + 2]!;
    }
  }
  return { data: out, width: w, height: h };
}

/** PIL Image.rotate(degrees): counter-clockwise about the centre, same size, black corners. */
function rotate(img: RgbImage, degrees: number): RgbImage {
  const angle = (-(((degrees % 360) + 360) % 360) * Math.PI) / 180;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = img.width / 2;
  const cy = img.height / 2;
  const m = [cos, sin, 0, -sin, cos, 0];
  m[2] = cos * -cx + sin * -cy + cx;
  m[5] = -sin * -cx + cos * -cy + cy;
  return affine(img, m);
}
