/** Tensor helpers for the tests: seeded random host tensors and raw files for Python references. */
import fs from 'node:fs';
import path from 'node:path';
import { Prng } from '../../lib/das/prng.js';
import type { HostTensor } from '../../lib/host-tensor.js';

/** Uniform values in [-scale, scale) from a seeded generator. */
export function randomFloat32(shape: number[], prng: Prng, scale = 0.5): HostTensor<'float32'> {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (prng.nextDouble() * 2 - 1) * scale;
  return { dtype: 'float32', shape, data };
}

/** Soft scores in [0, 1) (VQA targets), one draw per element like randomFloat32. */
export function randomScores(shape: number[], prng: Prng): HostTensor<'float32'> {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = prng.nextDouble();
  return { dtype: 'float32', shape, data };
}

export function int64Tensor(shape: number[], values: number[]): HostTensor<'int64'> {
  return { dtype: 'int64', shape, data: BigInt64Array.from(values.map(BigInt)) };
}

/** Writes tensors as raw little-endian files plus manifest.json, the format test/fixtures/*.py read. */
export function writeRawTensors(dir: string, tensors: Record<string, HostTensor>, extra: Record<string, unknown>): void {
  fs.mkdirSync(dir, { recursive: true });
  const entries: Record<string, { dtype: string; shape: number[]; file: string }> = {};
  Object.entries(tensors).forEach(([name, tensor], i) => {
    const file = `t${i}.bin`;
    fs.writeFileSync(path.join(dir, file), Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
    entries[name] = { dtype: tensor.dtype, shape: tensor.shape, file };
  });
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...extra, tensors: entries }));
}

export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxDiff / maxRef;
}
