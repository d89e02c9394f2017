import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomSkipSet } from '../../lib/das/index.js';
import { runRanks } from '../support/dist-job.js';
import { makePlantedRoberta, PLANTED } from '../support/planted-roberta.js';
import { repoRoot } from '../support/repo.js';
const SEEDS = [1, 2, 3, 4, 5];
const worker = path.join(repoRoot, 'dist/test/support/dist-search-worker.js');

describe('data parallel: a 2-rank DAS search still finds the planted redundancy of a pre-trained tiny RoBERTa', function () {
  this.timeout(900_000);
  let root: string;
  let checkpoint: string;
  let data: string;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-dp-planted-'));
    ({ checkpoint, data } = await makePlantedRoberta(root));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('picks exactly the planted layers for most seeds (8 per rank, the effective batch of 16 of the one-process test)', async () => {
    let dasHits = 0;
    let randomHits = 0;
    const exact = (skipped: readonly string[]) => [...skipped].sort().join(',') === PLANTED.join(',');
    for (const seed of SEEDS) {
      const out = path.join(root, `search-${seed}`);
      const options = { architecture: 'roberta', checkpoint, task: 'sst2', data, out, batchSize: 8, effectiveBatch: 16, lr: 1e-3, skipNum: 2, turn: 2, seed };
      const ranks = await runRanks([worker, JSON.stringify(options), out], { worldSize: 2 });
      for (const r of ranks) assert.equal(r.code, 0, `seed ${seed}, rank ${r.rank}: ${r.stderr}`);
      const [skipped0, skipped1] = [0, 1].map((r) => (JSON.parse(fs.readFileSync(`${out}.rank${r}.json`, 'utf8')) as { skipped: string[] }).skipped);
      assert.deepEqual(skipped1, skipped0, 'both ranks choose the same layers');
      if (exact(skipped0!)) dasHits++;
      if (exact(randomSkipSet(['En0', 'En1', 'En2', 'En3'], 2, seed))) randomHits++;
    }
    console.log(`      2 ranks, planted ${PLANTED.join('+')}: DAS exact ${dasHits}/${SEEDS.length} seeds, random sampling ${randomHits}/${SEEDS.length} (chance 1/6)`);
    assert.ok(dasHits >= 4, `DAS found the planted layers for ${dasHits} of ${SEEDS.length} seeds`);
    assert.ok(dasHits > randomHits);
  });
});
