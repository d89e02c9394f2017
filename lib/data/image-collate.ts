/**
 * Batching of preprocessed images. ViLT images differ in size, so a batch is zero-padded to its
 * largest height and width (bottom and right, as the original collate does) with a pixel mask
 * marking real pixels; METER images are all square and pad to themselves.
 */
import { invalidArgument } from '../errors.js';
import type { PreparedImage } from './image-transform.js';

/** float32 [batch, 3, height, width] pixels and uint8 [batch, height, width] mask (1 = real pixel). */
export interface ImageBatch {
  batchSize: number;
  height: number;
  width: number;
  pixels: Float32Array;
  pixelMask: Uint8Array;
  /** Each image's own size before padding. */
  sizes: Array<{ width: number; height: number }>;
}

/** Pads images to a common size; `minSize` lets two image slots (NLVR2) share one padded size. */
export function padImages(images: readonly PreparedImage[], minSize: { width: number; height: number } = { width: 0, height: 0 }): ImageBatch {
  if (images.length === 0) throw invalidArgument('images to collate', 'at least one image', images);
  const height = Math.max(minSize.height, ...images.map((i) => i.height));
  const width = Math.max(minSize.width, ...images.map((i) => i.width));
  const plane = height * width;
  const pixels = new Float32Array(images.length * 3 * plane);
  const pixelMask = new Uint8Array(images.length * plane);
  images.forEach((img, b) => {
    const srcPlane = img.width * img.height;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < img.height; y++) {
        const src = c * srcPlane + y * img.width;
        pixels.set(img.data.subarray(src, src + img.width), (b * 3 + c) * plane + y * width);
      }
    }
    for (let y = 0; y < img.height; y++) pixelMask.fill(1, b * plane + y * width, b * plane + y * width + img.width);
  });
  return { batchSize: images.length, height, width, pixels, pixelMask, sizes: images.map((i) => ({ width: i.width, height: i.height })) };
}
