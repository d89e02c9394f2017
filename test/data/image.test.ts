import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { centerCropOffset, clipResizeSize, pythonRound, viltLongerSide, viltResizeSize } from '../../lib/data/image-geometry.js';
import { padImages } from '../../lib/data/image-collate.js';
import { CLIP_MEAN, CLIP_STD, prepareImage } from '../../lib/data/image-transform.js';
import { createImagePreparer } from '../../lib/data/image-workers.js';
import { applyAugmentOp, randAugment, type RgbImage } from '../../lib/data/rand-augment.js';
import { createRng } from '../../lib/data/random.js';
import { encodeTinyImage } from '../../lib/data/synthetic/tiny-images.js';
import { rejectsDas, tempDir } from './helpers.js';

const solidPng = (width: number, height: number, rgb: [number, number, number], channels: 1 | 3 | 4 = 3) => {
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    if (channels === 1) data[i] = rgb[0];
    else for (let c = 0; c < channels; c++) data[i * channels + c] = c < 3 ? rgb[c]! : 7;
  }
  return sharp(data, { raw: { width, height, channels } }).png().toBuffer();
};

describe('data/image geometry', () => {
  it('follows ViLT MinMaxResize: shorter side 384, longer at most 639, multiples of 32', () => {
    assert.equal(viltLongerSide(384), 639);
    assert.deepEqual(viltResizeSize(640, 480), { width: 512, height: 384 });
    assert.deepEqual(viltResizeSize(480, 640), { width: 384, height: 512 });
    // 1000x200: height 384 would make width 1920 > 639, so scale to 639 x 127.8 -> 608 x 128
    assert.deepEqual(viltResizeSize(1000, 200), { width: 608, height: 128 });
    assert.deepEqual(viltResizeSize(500, 500), { width: 384, height: 384 });
  });

  it('follows torchvision Resize(int) + CenterCrop for CLIP', () => {
    assert.deepEqual(clipResizeSize(640, 480, 384), { width: 512, height: 384 });
    assert.deepEqual(clipResizeSize(333, 500, 384), { width: 384, height: 576 }); // int(384*500/333) = 576
    assert.deepEqual(centerCropOffset({ width: 512, height: 384 }, 384), { left: 64, top: 0 });
    assert.deepEqual(centerCropOffset({ width: 385, height: 387 }, 384), { left: 0, top: 2 }); // round(0.5)=0, round(1.5)=2
    assert.deepEqual([pythonRound(0.5), pythonRound(1.5), pythonRound(2.5), pythonRound(2.6)], [0, 2, 2, 3]);
  });
});

describe('data/image transforms', () => {
  it('ViLT: resizes a 64x48 image to 384 x 512 / 32-multiples and normalises with mean = std = 0.5', async () => {
    const img = await prepareImage(await solidPng(64, 48, [255, 0, 51]), { kind: 'vilt' });
    assert.equal(img.width, 512);
    assert.equal(img.height, 384);
    assert.equal(img.data.length, 3 * 512 * 384);
    const plane = 512 * 384;
    for (const p of [0, 1000, plane - 1]) {
      assert.ok(Math.abs(img.data[p]! - 1) < 1e-6);
      assert.ok(Math.abs(img.data[plane + p]! + 1) < 1e-6);
      assert.ok(Math.abs(img.data[2 * plane + p]! - (51 / 255 - 0.5) / 0.5) < 1e-6);
    }
  });

  it('CLIP: square centre crop with CLIP mean/std', async () => {
    const img = await prepareImage(await solidPng(40, 30, [128, 128, 128]), { kind: 'clip', size: 64 });
    assert.deepEqual([img.width, img.height, img.data.length], [64, 64, 3 * 64 * 64]);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(img.data[c * 4096 + 77]! - (128 / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!) < 1e-5);
  });

  it('crops the centre: a left/right split image keeps its centre columns', async () => {
    // 96x32, left half black, right half white: CLIP size 32 resizes to 96x32, crops columns 32..63
    const raw = Buffer.alloc(96 * 32 * 3);
    for (let y = 0; y < 32; y++) for (let x = 48; x < 96; x++) raw.fill(255, (y * 96 + x) * 3, (y * 96 + x) * 3 + 3);
    const png = await sharp(raw, { raw: { width: 96, height: 32, channels: 3 } }).png().toBuffer();
    const img = await prepareImage(png, { kind: 'clip', size: 32 });
    const black = (0 - CLIP_MEAN[0]) / CLIP_STD[0];
    const white = (1 - CLIP_MEAN[0]) / CLIP_STD[0];
    assert.ok(Math.abs(img.data[5 * 32 + 2]! - black) < 1e-5);
    assert.ok(Math.abs(img.data[5 * 32 + 29]! - white) < 1e-5);
  });

  it('turns grey and RGBA images into 3 channels (alpha dropped, as PIL convert("RGB"))', async () => {
    const grey = await prepareImage(await solidPng(32, 32, [200, 0, 0], 1), { kind: 'vilt', size: 32 });
    const rgba = await prepareImage(await solidPng(32, 32, [10, 20, 30], 4), { kind: 'vilt', size: 32 });
    assert.equal(grey.data.length, 3 * 32 * 32);
    assert.ok(Math.abs(grey.data[2 * 1024 + 5]! - (200 / 255 - 0.5) / 0.5) < 1e-6);
    assert.ok(Math.abs(rgba.data[2 * 1024 + 5]! - (30 / 255 - 0.5) / 0.5) < 1e-6);
  });

  it('names an undecodable or truncated image', async () => {
    await rejectsDas(() => prepareImage(Buffer.from('not an image'), { kind: 'vilt' }, { label: 'row 7 column image' }), 'DAS_DATA', 'row 7 column image');
    const jpeg = await encodeTinyImage({ width: 64, height: 64, seed: 3 });
    await rejectsDas(() => prepareImage(jpeg.subarray(0, jpeg.length >> 1), { kind: 'vilt' }, { label: 'cut.jpg' }), 'DAS_DATA', 'cut.jpg');
  });

  it('rejects a bad transform config', async () => {
    await rejectsDas(() => prepareImage(Buffer.alloc(1), { kind: 'vit' as never }), 'DAS_INVALID_ARGUMENT', 'kind');
    await rejectsDas(() => prepareImage(Buffer.alloc(1), { kind: 'clip', size: 7 }), 'DAS_INVALID_ARGUMENT', 'size');
  });
});

describe('data/image collate', () => {
  it('pads to the largest image with zeros and a pixel mask', () => {
    const a = { width: 2, height: 1, data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    const b = { width: 1, height: 2, data: Float32Array.from([7, 8, 9, 10, 11, 12]) };
    const batch = padImages([a, b]);
    assert.deepEqual([batch.batchSize, batch.height, batch.width], [2, 2, 2]);
    assert.deepEqual([...batch.pixels.subarray(0, 12)], [1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0, 0]);
    assert.deepEqual([...batch.pixels.subarray(12, 24)], [7, 0, 8, 0, 9, 0, 10, 0, 11, 0, 12, 0]);
    assert.deepEqual([...batch.pixelMask], [1, 1, 0, 0, 1, 0, 1, 0]);
  });
});

describe('data/RandAugment', () => {
  const img: RgbImage = { width: 4, height: 2, data: Uint8Array.from({ length: 24 }, (_, i) => 60 + i * 5) };
  const rng = createRng(1);

  it('posterizes to 1 bit and solarizes above the threshold (m = 9 magnitudes)', () => {
    const post = applyAugmentOp('Posterize', img, 1.2, rng);
    assert.ok([...post.data].every((v, i) => v === (img.data[i]! >= 128 ? 128 : 0)));
    const sol = applyAugmentOp('Solarize', img, 76.8, rng);
    assert.ok([...sol.data].every((v, i) => v === (img.data[i]! < 76.8 ? img.data[i] : 255 - img.data[i]!)));
  });

  it('auto-contrasts each channel to the full range', () => {
    // values 10..61: scale 255 / 51 = 5 exactly, so 10 -> 0, 20 -> 50, 61 -> 255
    const two: RgbImage = { width: 3, height: 1, data: Uint8Array.from([10, 10, 10, 20, 20, 20, 61, 61, 61]) };
    assert.deepEqual([...applyAugmentOp('AutoContrast', two, 0, rng).data], [0, 0, 0, 50, 50, 50, 255, 255, 255]);
  });

  it('translates by whole pixels with black fill', () => {
    const wide: RgbImage = { width: 40, height: 1, data: Uint8Array.from({ length: 120 }, (_, i) => Math.floor(i / 3) + 1) };
    const out = applyAugmentOp('TranslateXabs', wide, 30, { next: () => 0, int: () => 0 }); // next() <= 0.5 keeps +30
    assert.equal(out.data[0], 31); // output x=0 takes input x=30
    assert.equal(out.data[9 * 3], 40);
    assert.equal(out.data[10 * 3], 0);
  });

  it('is reproducible from the seed and changes the image', () => {
    const big: RgbImage = { width: 16, height: 16, data: Uint8Array.from({ length: 768 }, (_, i) => (i * 37) % 256) };
    const a = randAugment(big, createRng(42));
    const b = randAugment(big, createRng(42));
    assert.deepEqual(a.data, b.data);
    const changed = [1, 2, 3, 4, 5].some((s) => !Buffer.from(randAugment(big, createRng(s)).data).equals(Buffer.from(big.data)));
    assert.ok(changed);
  });

  it('runs inside prepareImage before the resize', async () => {
    const png = await encodeTinyImage({ width: 64, height: 64, seed: 9, format: 'png' });
    const plain = await prepareImage(png, { kind: 'vilt', size: 64 });
    const aug = await prepareImage(png, { kind: 'vilt', size: 64, randAugment: true }, { seed: 5 });
    const again = await prepareImage(png, { kind: 'vilt', size: 64, randAugment: true }, { seed: 5 });
    assert.deepEqual([aug.width, aug.height], [plain.width, plain.height]);
    assert.deepEqual(aug.data, again.data);
  });
});

describe('data/image worker threads', () => {
  it('give the same pixels as inline preparation and name failing images', async () => {
    const { dir, cleanup } = tempDir('workers');
    const pool = createImagePreparer({ threads: 2 });
    const inline = createImagePreparer({ threads: 0 });
    try {
      const file = join(dir, 'a.jpg');
      writeFileSync(file, await encodeTinyImage({ width: 50, height: 40, seed: 4 }));
      const ref = { file, label: 'a.jpg' };
      for (const cfg of [{ kind: 'vilt' as const, size: 64 }, { kind: 'clip' as const, size: 48, randAugment: true }]) {
        const [x, y] = await Promise.all([pool.prepare(ref, cfg, 11), inline.prepare(ref, cfg, 11)]);
        assert.deepEqual([x.width, x.height], [y.width, y.height]);
        assert.deepEqual(x.data, y.data);
      }
      await rejectsDas(() => pool.prepare({ file: join(dir, 'missing.jpg'), label: 'missing.jpg' }, { kind: 'vilt' }, 0), 'DAS_FILE', 'missing.jpg');
      writeFileSync(join(dir, 'bad.jpg'), 'garbage');
      await rejectsDas(() => pool.prepare({ file: join(dir, 'bad.jpg'), label: 'bad.jpg' }, { kind: 'vilt' }, 0), 'DAS_DATA', 'bad.jpg');
    } finally {
      await pool.close();
      await inline.close();
      cleanup();
    }
  });
});
