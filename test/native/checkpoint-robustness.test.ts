import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../support/repo.js';
import { torchFixtures } from '../support/torch-fixtures.js';

/**
 * Truncated and corrupted checkpoints of every format, read in a child process so that a crash
 * (abort, segfault, out-of-bounds read caught by the allocator) shows as its exit status.
 */
const childScript = `
  import fs from 'node:fs';
  import path from 'node:path';
  const { readCheckpoint } = await import(${JSON.stringify(path.join(repoRoot, 'dist/lib/index.js'))});
  const [folder, ...files] = process.argv.slice(1);
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const report = { truncated: 0, truncatedRejected: 0, corrupted: 0, corruptedRejected: 0, codes: {}, unexpected: [] };
  const scratch = path.join(folder, 'scratch.bin');
  async function attempt(bytes, kind, label) {
    fs.writeFileSync(scratch, bytes);
    report[kind]++;
    try {
      await readCheckpoint(scratch);
    } catch (err) {
      report[kind + 'Rejected']++;
      report.codes[err.code] = (report.codes[err.code] ?? 0) + 1;
      if (err.code !== 'DAS_CHECKPOINT' || !err.message.includes('scratch.bin')) report.unexpected.push(label + ': ' + err.code + ' ' + err.message);
    }
  }
  for (const name of files) {
    const whole = fs.readFileSync(path.join(folder, name));
    const step = Math.max(1, Math.floor(whole.length / 400));
    for (let cut = 0; cut < whole.length; cut += step) await attempt(whole.subarray(0, cut), 'truncated', name + ' cut at ' + cut);
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(whole);
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      await attempt(bytes, 'corrupted', name + ' corruption ' + i);
    }
  }
  console.log(JSON.stringify(report));
`;

describe('checkpoint robustness', function () {
  this.timeout(300_000);

  it('rejects every truncation of every format, survives corruption, and never crashes', () => {
    const { folder } = torchFixtures();
    const files = ['hf.bin', 'hf-protocol4.bin', 'hf-legacy.bin', 'lightning.ckpt', 'lightning-legacy.ckpt', 'zip64.bin', 'python.safetensors'];
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', childScript, folder, ...files], { encoding: 'utf8', timeout: 280_000 });
    assert.equal(child.signal, null, `the reader crashed: ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    const report = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
      truncated: number;
      truncatedRejected: number;
      corrupted: number;
      corruptedRejected: number;
      unexpected: string[];
    };
    assert.ok(report.truncated > 1000, `only ${report.truncated} truncations tried`);
    assert.equal(report.truncatedRejected, report.truncated, 'every truncated file is refused');
    assert.deepEqual(report.unexpected.slice(0, 5), [], 'failures are DAS_CHECKPOINT errors naming the file');
    assert.ok(report.corruptedRejected > report.corrupted / 10, 'most corruptions are noticed');
  });
});
