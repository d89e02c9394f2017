import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PLANTED } from '../../lib/demo/demo.js';
import { lastJsonLine, runCli } from '../support/repo.js';

describe('das demo', function () {
  this.timeout(600_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'das-demo-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs the whole pipeline: DAS finds the planted blocks and beats random sampling, report written', () => {
    const result = runCli(['demo', '--out', dir, '--json'], {}, 600_000); // minutes of CPU: the test's own limit, not the default
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /1\/5 writing the shapes task/);
    assert.match(result.stderr, /5\/5 writing the report/);
    const demo = lastJsonLine(result.stdout) as any;
    assert.ok(demo.pretrainScore > 0.8, `the pre-trained model learned the task (${demo.pretrainScore})`);
    assert.deepEqual(demo.searched, PLANTED);
    const das = demo.rows.find((r: any) => r.method === 'DAS');
    const random = demo.rows.filter((r: any) => r.method === 'random sampling');
    assert.equal(random.length, 2);
    const randomMean = random.reduce((sum: number, r: any) => sum + r.vqaScore, 0) / random.length;
    assert.ok(das.vqaScore > randomMean, `DAS ${das.vqaScore} vs random sampling ${randomMean}`);
    assert.ok(das.flopsSaved > 0.15, 'skipping 2 of 6 blocks saves FLOPs');
    assert.ok(fs.existsSync(demo.report));
    const html = fs.readFileSync(demo.report, 'utf8');
    assert.match(html, /Gate probability of each candidate layer/);
    assert.match(html, /random sampling \(mean ± std\)/);
  });
});
