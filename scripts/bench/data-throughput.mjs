#!/usr/bin/env node
/**
 * Data-pipeline throughput: images per second through read + decode + preprocess + collate (the
 * full VQA batch: tokenised questions, padded pixels, masks, soft targets) for the ViLT and METER
 * transforms, prepared inline and on worker threads, measured side by side in one run.
 *
 *   node scripts/bench/data-throughput.mjs [--images 96] [--batch 32] [--batches 6] [--threads 2]
 *
 * Input: COCO-sized (640x480) textured JPEGs inside a ViLT-format vqav2 Arrow file, read through
 * the same lazy Arrow reader and TaskLoader training uses. Needs `npm run build:ts` first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import {
  TaskLoader, TextTokenizer, createImagePreparer, createRng, openVqaArrow, tinyWordPieceTokenizer, writeArrowFile, VQA_COLUMNS,
} from '../../dist/lib/data/index.js';
import { Model, VILT_B32, meterConfigFor } from '../../dist/lib/index.js';

// libvips' operation cache would serve repeated images from memory; real datasets do not repeat
sharp.cache(false);

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '96' },
    batch: { type: 'string', default: '32' },
    batches: { type: 'string', default: '6' },
    threads: { type: 'string', default: String(Math.max(1, availableParallelism())) },
  },
});
const numImages = Number(values.images);
const batchSize = Number(values.batch);
const batches = Number(values.batches);
const threads = Number(values.threads);

/** A textured 640x480 JPEG (noise over gradients) so decode cost and file size resemble COCO's. */
async function cocoLikeJpeg(seed) {
  const rng = createRng(seed);
  const w = 640;
  const h = 480;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0, p = 0; i < w * h; i++, p += 3) {
    const x = i % w;
    const y = (i / w) | 0;
    raw[p] = (x / 3 + rng.int(64)) & 255;
    raw[p + 1] = (y / 2 + rng.int(64)) & 255;
    raw[p + 2] = ((x + y) / 5 + rng.int(64)) & 255;
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

async function makeDataset(dir) {
  const rows = [];
  for (let i = 0; i < numImages; i++) {
    rows.push({
      image: await cocoLikeJpeg(i + 1), questions: ['what color is the car ?'], answers: [['red']], answerLabels: [[3]],
      answerScores: [[1]], imageId: i, questionIds: [i], split: 'val',
    });
  }
  await writeArrowFile(join(dir, 'vqav2_val.arrow'), VQA_COLUMNS, rows, { rowsPerBatch: 1 << 30 });
  return openVqaArrow(dir, 'val', 'meter');
}

async function measure(ds, transform, workerThreads) {
  const preparer = createImagePreparer({ threads: workerThreads });
  const tokenizer = TextTokenizer.fromJson(tinyWordPieceTokenizer(), { maxLength: transform.kind === 'vilt' ? 40 : 50 });
  try {
    const loader = new TaskLoader(ds, { batchSize, seed: 1, tokenizer, preparer, transform, prefetch: 2 });
    await loader.next(); // warm-up: worker start-up, sharp initialisation
    const start = process.hrtime.bigint();
    let images = 0;
    for (let i = 0; i < batches; i++) images += (await loader.next()).indices.length;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return images / seconds;
  } finally {
    await preparer.close();
  }
}

/**
 * Images per second the model consumes in an adapter training step (forward, backward, AdamW) at
 * real size with random weights, at the same image size, next to the data rate. Measured at a batch
 * of at most 8 (the model's rate per image hardly depends on the batch on CPU).
 */
const modelRates = new Map();
async function modelConsumptionRate(model, batchSize, transform) {
  const key = `${model}:${transform.size}`;
  if (modelRates.has(key)) return modelRates.get(key);
  const batch = Math.min(8, batchSize);
  const [height, width] = model === 'vilt' ? [transform.size, Math.floor((transform.size * 4) / 3 / 32) * 32] : [transform.size, transform.size];
  const net = model === 'vilt' ? await Model.create('vilt', { ...VILT_B32 }) : await Model.create('meter', meterConfigFor(transform.size === 288 ? 'nlvr2' : 'vqa'));
  await net.configureOptimizer();
  const tokens = 40;
  const inputs = {
    input_ids: { dtype: 'int32', shape: [batch, tokens], data: new Int32Array(batch * tokens).fill(5) },
    attention_mask: { dtype: 'uint8', shape: [batch, tokens], data: new Uint8Array(batch * tokens).fill(1) },
    pixel_values: { dtype: 'float32', shape: [batch, 3, height, width], data: new Float32Array(batch * 3 * height * width).fill(0.1) },
    pixel_mask: { dtype: 'uint8', shape: [batch, height, width], data: new Uint8Array(batch * height * width).fill(1) },
    ...(model === 'meter' && transform.size === 288
      ? {
          pixel_values_1: { dtype: 'float32', shape: [batch, 3, height, width], data: new Float32Array(batch * 3 * height * width).fill(0.1) },
          pixel_mask_1: { dtype: 'uint8', shape: [batch, height, width], data: new Uint8Array(batch * height * width).fill(1) },
          labels: { dtype: 'int32', shape: [batch], data: new Int32Array(batch) },
        }
      : { targets: { dtype: 'float32', shape: [batch, 3129], data: new Float32Array(batch * 3129) } }),
  };
  const times = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await net.trainStep(inputs);
    await net.optimizerStep(1e-4);
    if (i > 0) times.push((performance.now() - start) / 1000);
  }
  await net.dispose();
  // NLVR2 examples hold two images
  const perStep = model === 'meter' && transform.size === 288 ? 2 * batch : batch;
  const rate = perStep / Math.min(...times);
  modelRates.set(key, rate);
  return rate;
}

const dir = mkdtempSync(join(tmpdir(), 'das-bench-data-'));
try {
  const ds = await makeDataset(dir);
  console.log(`data throughput: ${numImages} COCO-sized JPEGs (640x480) in an Arrow file, batch ${batchSize}, ${batches} timed batches, ${availableParallelism()} cores, sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}`);
  console.log('transform                          inline img/s   workers(' + threads + ') img/s   ratio   model img/s');
  for (const [name, transform, model] of [
    ['ViLT pixelbert 384 (-> 384x512)', { kind: 'vilt', size: 384 }, 'vilt'],
    ['ViLT pixelbert 384 + RandAugment', { kind: 'vilt', size: 384, randAugment: true }, 'vilt'],
    ['METER CLIP 384 (-> 384x384)', { kind: 'clip', size: 384 }, 'meter'],
    ['METER CLIP 288 (NLVR2)', { kind: 'clip', size: 288 }, 'meter'],
  ]) {
    const inline = await measure(ds, transform, 0);
    const workers = await measure(ds, transform, threads);
    const modelRate = await modelConsumptionRate(model, batchSize, transform);
    console.log(`${name.padEnd(34)} ${inline.toFixed(1).padStart(12)}   ${workers.toFixed(1).padStart(16)}   ${(workers / inline).toFixed(2).padStart(5)}   ${modelRate.toFixed(2)}  (data/model ${(Math.max(inline, workers) / modelRate).toFixed(0)}x)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
