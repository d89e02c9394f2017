import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSyntheticDataset } from '../../lib/data/index.js';
import { lastJsonLine, runCli } from '../support/repo.js';

describe('das data check', () => {
  let dir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'das-data-check-'));
    await generateSyntheticDataset({ task: 'nlvr2', dir, size: 6, seed: 2 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reports counts for a good dataset and exits 0', () => {
    const result = runCli(['data', 'check', '--task', 'nlvr2', '--data', dir, '--json']);
    assert.equal(result.status, 0, result.stderr);
    const report = lastJsonLine(result.stdout) as any;
    assert.equal(report.ok, true);
    assert.equal(report.format, 'arrow');
    assert.deepEqual(report.splits.map((s: any) => s.split), ['train', 'val']);
    assert.ok(report.splits.every((s: any) => s.examples > 0));
  });

  it('names the missing file and exits 1', () => {
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'das-data-broken-'));
    try {
      fs.cpSync(dir, broken, { recursive: true });
      fs.rmSync(path.join(broken, 'nlvr2_dev.arrow'));
      const result = runCli(['data', 'check', '--task', 'nlvr2', '--data', broken]);
      assert.equal(result.status, 1);
      assert.match(result.stdout, /val: unreadable/);
      assert.match(result.stdout, /nlvr2_dev\.arrow/);
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });

  it('refuses an unknown task with exit code 2', () => {
    const result = runCli(['data', 'check', '--task', 'squad', '--data', dir]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /Allowed choices are vqa, nlvr2, irtr, mnli, sst2/);
  });
});
