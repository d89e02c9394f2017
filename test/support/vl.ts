/** Helpers of the ViLT and METER tests: random weights, image batches, the Python references. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Prng } from '../../lib/das/prng.js';
import type { HostTensor } from '../../lib/host-tensor.js';
import { padImages } from '../../lib/data/image-collate.js';
import { METER_CLIP16_ROBERTA, type MeterConfig } from '../../lib/models/meter-config.js';
import { Model, type Architecture, type ConfigByArchitecture } from '../../lib/models/model.js';
import { VILT_B32, type ViltConfig } from '../../lib/models/vilt-config.js';
import { repoRoot } from './repo.js';
import { randomFloat32, writeRawTensors } from './tensors.js';

export type Batch = Record<string, HostTensor>;

/** ViLT small enough for fast tests: 3 blocks of width 32, 8x8 patches, a 4x4 position grid. */
export const TINY_VILT: ViltConfig = {
  ...VILT_B32,
  vocabSize: 60,
  hidden: 32,
  layers: 3,
  heads: 4,
  mlp: 48,
  maxTextLen: 10,
  patchSize: 8,
  imageSize: 32,
  numAnswers: 7,
  adapterBottleneck: 4,
  skipBottleneck: 6,
};

const meter = METER_CLIP16_ROBERTA;
/** METER small enough for fast tests: 2 CLIP blocks, 3 RoBERTa layers, 2 + 2 fusion layers, width 32, 32x32 images. */
export const TINY_METER: MeterConfig = {
  ...meter,
  vision: { ...meter.vision, hidden: 32, layers: 2, heads: 4, mlp: 48, patchSize: 8, imageSize: 32 },
  text: { ...meter.text, vocabSize: 60, hidden: 32, layers: 3, heads: 4, intermediate: 48, maxPositions: 20, skipBottleneck: 6 },
  hidden: 32,
  fusionLayers: 2,
  heads: 4,
  intermediate: 48,
  numAnswers: 7,
  adapterBottleneck: 4,
  skipBottleneck: 6,
};

/** Fills every parameter (frozen or not) with seeded random values, so no part of a forward is trivial. */
export async function randomize<A extends Architecture>(model: Model<A>, seed: number): Promise<Record<string, HostTensor>> {
  const prng = new Prng(seed);
  const state: Record<string, HostTensor> = {};
  for (const p of model.parameters()) {
    const isNormWeight = /(LayerNorm|norm\d?|ln(_\w+)?|\.1)\.weight$/.test(p.name) && p.shape.length === 1;
    const t = randomFloat32(p.shape, prng, 0.5);
    if (isNormWeight) t.data.forEach((v, i) => (t.data[i] = 1 + v / 2));
    state[p.name] = t;
  }
  await model.loadState(state, { strict: true, expect: 'all' });
  return state;
}

export async function randomModel<A extends Architecture>(arch: A, config: ConfigByArchitecture[A], seed: number) {
  const model = await Model.create(arch, config, { seed });
  return { model, state: await randomize(model, seed) };
}

/** Token ids [rows, length] with `lengths[r]` real tokens (then pad id 0 / 1 and mask 0). */
export function textBatch(lengths: number[], length: number, prng: Prng, vocab: number, pad: number): Batch {
  const ids = new BigInt64Array(lengths.length * length).fill(BigInt(pad));
  const mask = new BigInt64Array(lengths.length * length);
  lengths.forEach((n, r) => {
    for (let t = 0; t < n; t++) {
      ids[r * length + t] = BigInt(t === 0 ? 0 : 2 + Math.floor(prng.nextDouble() * (vocab - 2)));
      mask[r * length + t] = 1n;
    }
  });
  return {
    input_ids: { dtype: 'int64', shape: [lengths.length, length], data: ids },
    attention_mask: { dtype: 'int64', shape: [lengths.length, length], data: mask },
  };
}

export interface TestImage {
  width: number;
  height: number;
  data: Float32Array;
}

export function randomImage(height: number, width: number, prng: Prng): TestImage {
  return { height, width, data: randomFloat32([3, height, width], prng, 1).data };
}

/** Images padded to one size with the data layer's own collate (pixel mask: 1 = real pixel). */
export function imageBatch(images: TestImage[], suffix = '', minSize?: { width: number; height: number }): Batch {
  const batch = padImages(images, minSize);
  return {
    [`pixel_values${suffix}`]: { dtype: 'float32', shape: [images.length, 3, batch.height, batch.width], data: batch.pixels },
    [`pixel_mask${suffix}`]: { dtype: 'uint8', shape: [images.length, batch.height, batch.width], data: batch.pixelMask },
  };
}

/** Rows `rows` of a [N, ...] float32 tensor, as a plain array. */
export function rowsOf(tensor: HostTensor, rows: number[]): number[] {
  const width = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
  return rows.flatMap((r) => Array.from(tensor.data.subarray(r * width, (r + 1) * width) as Float32Array));
}

/** Runs test/fixtures/<script> on the weights and inputs; returns its logits. */
export function pythonLogits(script: string, state: Record<string, HostTensor>, batch: Batch, extra: Record<string, unknown>): number[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'das-vl-ref-'));
  try {
    const inputs = Object.fromEntries(Object.entries(batch).map(([k, v]) => [`input.${k}`, v]));
    writeRawTensors(dir, { ...state, ...inputs }, extra);
    const child = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'test/fixtures', script), dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(child.status, 0, `python reference failed (python3-torch is installed by scripts/setup-debian.sh): ${child.stderr}`);
    return (JSON.parse(child.stdout) as { logits: number[] }).logits;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function sameBytes(a: HostTensor, b: HostTensor): boolean {
  return Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));
}
