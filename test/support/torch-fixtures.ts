/** Checkpoint fixtures made by the real torch.save (test/fixtures/torch_checkpoints.py), once per test process. */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostTensor } from '../../lib/index.js';
import { repoRoot } from './repo.js';

export const python = process.env.DAS_PYTHON || '/usr/bin/python3';
const script = path.join(repoRoot, 'test/fixtures/torch_checkpoints.py');

let made: { folder: string; marker: string } | undefined;

/** Runs the fixture script with Python's torch; throws with its stderr (e.g. python3-torch missing). */
export function runFixtureScript(args: string[], cwd?: string): string {
  const result = spawnSync(python, [script, ...args], { encoding: 'utf8', timeout: 120_000, cwd });
  if (result.status !== 0) {
    throw new Error(`${python} ${path.basename(script)} ${args[0]} failed (is python3-torch installed?):\n${result.stderr}`);
  }
  return result.stdout.trim();
}

export function torchFixtures(): { folder: string; marker: string } {
  if (!made) {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'das-ckpt-'));
    made = JSON.parse(runFixtureScript(['make', folder]).split('\n').pop()!) as { folder: string; marker: string };
  }
  return made;
}

export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  bytes: Buffer;
}

/** What Python saw: tensor names in order, and each tensor's contiguous bytes. */
export function readExpected(file: string): { names: string[]; tensors: Map<string, ExpectedTensor> } {
  const manifest = JSON.parse(fs.readFileSync(`${file}.expected.json`, 'utf8')) as {
    names: string[];
    tensors: Record<string, { dtype: string; shape: number[]; offset: number; nbytes: number }>;
  };
  const blob = fs.readFileSync(`${file}.expected.bin`);
  const tensors = new Map<string, ExpectedTensor>();
  for (const name of manifest.names) {
    const { dtype, shape, offset, nbytes } = manifest.tensors[name]!;
    tensors.set(name, { dtype, shape, bytes: blob.subarray(offset, offset + nbytes) });
  }
  return { names: manifest.names, tensors };
}

export function hostBytes(tensor: HostTensor): Buffer {
  return Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
}

/** A Python one-liner's stdout (for proving what Python itself does with a fixture). */
export function pythonEval(code: string, cwd: string): string {
  return execFileSync(python, ['-c', code], { encoding: 'utf8', cwd, timeout: 120_000 });
}
