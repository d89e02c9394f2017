/**
 * Output sizes of the two image pipelines, as pure functions so they can be tested against the
 * originals' arithmetic (ViLT's MinMaxResize, torchvision's Resize + CenterCrop) without decoding.
 */

export interface Size {
  width: number;
  height: number;
}

/** The longer-side cap ViLT derives from the shorter side: int(1333 / 800 * shorter), 639 for 384. */
export function viltLongerSide(shorter: number): number {
  return Math.floor((1333 / 800) * shorter);
}

/**
 * ViLT's pixelbert resize: shorter side to `shorter`, longer side capped at `longer`, both rounded
 * to the nearest integer and then down to a multiple of 32 (the patch size), so every image is a
 * whole number of patches. A degenerate (extremely elongated) side is kept at one patch, where the
 * original would produce an empty image and crash.
 */
export function viltResizeSize(width: number, height: number, shorter = 384, longer = viltLongerSide(shorter)): Size {
  const scale = shorter / Math.min(width, height);
  let newH: number;
  let newW: number;
  if (height < width) {
    newH = shorter;
    newW = scale * width;
  } else {
    newH = scale * height;
    newW = shorter;
  }
  if (Math.max(newH, newW) > longer) {
    const s = longer / Math.max(newH, newW);
    newH *= s;
    newW *= s;
  }
  const h = Math.floor(Math.floor(newH + 0.5) / 32) * 32;
  const w = Math.floor(Math.floor(newW + 0.5) / 32) * 32;
  return { width: Math.max(32, w), height: Math.max(32, h) };
}

/** torchvision Resize(size) with an int: shorter side to `size`, longer side truncated, not rounded. */
export function clipResizeSize(width: number, height: number, size: number): Size {
  if (width <= height) return { width: size, height: Math.max(size, Math.floor((size * height) / width)) };
  return { width: Math.max(size, Math.floor((size * width) / height)), height: size };
}

/** torchvision CenterCrop offsets: Python's round (half to even) of the centred margin. */
export function centerCropOffset(resized: Size, size: number): { left: number; top: number } {
  return { left: pythonRound((resized.width - size) / 2), top: pythonRound((resized.height - size) / 2) };
}

/** Python 3 round(): halves go to the even neighbour (round(0.5) == 0, round(1.5) == 2). */
export function pythonRound(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
