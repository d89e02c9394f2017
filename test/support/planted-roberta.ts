/** A tiny RoBERTa pre-trained in PyTorch on a counting task with En1 and En3 held as exact no-ops, and its SST-2 data. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { writeTinyTokenizer } from '../../lib/data/index.js';
import { repoRoot } from './repo.js';

export const PLANTED = ['En1', 'En3'];

export async function makePlantedRoberta(root: string): Promise<{ checkpoint: string; data: string; fixture: { accuracy: number; skipLosses: number[] } }> {
  const checkpoint = path.join(root, 'checkpoint');
  const data = path.join(root, 'data');
  const tokenizer = await writeTinyTokenizer(checkpoint, 'bpe');
  const child = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'test/fixtures/planted_roberta.py'), tokenizer, checkpoint, data, '1,3'], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return { checkpoint, data, fixture: JSON.parse(child.stdout) as { accuracy: number; skipLosses: number[] } };
}
