/**
 * Small deterministic test images encoded by sharp (real JPEG/PNG files, not raw arrays): a
 * colour gradient whose hue depends on the seed, so different images really differ.
 */
import sharp from 'sharp';
import { createRng } from '../random.js';

export interface TinyImageOptions {
  width?: number;
  height?: number;
  format?: 'jpeg' | 'png';
  seed?: number;
}

/** Raw RGB pixels of the pattern (used by tests to predict decoded values). */
export function tinyImagePixels(width: number, height: number, seed: number): Uint8Array {
  const rng = createRng(seed);
  const base = [rng.int(256), rng.int(256), rng.int(256)];
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      out[p] = (base[0]! + Math.floor((x * 255) / Math.max(1, width - 1))) % 256;
      out[p + 1] = (base[1]! + Math.floor((y * 255) / Math.max(1, height - 1))) % 256;
      out[p + 2] = base[2]!;
    }
  }
  return out;
}

export async function encodeTinyImage(options: TinyImageOptions = {}): Promise<Buffer> {
  const width = options.width ?? 48;
  const height = options.height ?? 40;
  const img = sharp(tinyImagePixels(width, height, options.seed ?? 0), { raw: { width, height, channels: 3 } });
  return options.format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}
