import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomSkipSet } from '../../lib/das/index.js';
import { search } from '../../lib/train/runs.js';
import { makePlantedRoberta, PLANTED } from '../support/planted-roberta.js';
const SEEDS = [1, 2, 3, 4, 5];

describe('DAS finds planted redundancy in a pre-trained tiny RoBERTa', function () {
  this.timeout(600_000);
  let root: string;
  let checkpoint: string;
  let data: string;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-planted-'));
    // 4 layers pre-trained on a counting task in PyTorch, En1 and En3 held as exact no-ops
    let fixture: { accuracy: number; skipLosses: number[] };
    ({ checkpoint, data, fixture } = await makePlantedRoberta(root));
    assert.ok(fixture.accuracy > 0.95, `the pre-trained model learned the task (accuracy ${fixture.accuracy})`);
    const [l0, l1, l2, l3] = fixture.skipLosses;
    assert.ok(l1! < 1e-3 && l3! < 1e-3 && l0! > 0.05 && l2! > 0.05, `only the planted layers are free to remove: ${fixture.skipLosses}`);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  for (const precision of ['fp32', 'bf16'] as const) {
    it(`${precision}: picks exactly the planted layers for most seeds, far more often than random sampling`, async () => {
      let dasHits = 0;
      let randomHits = 0;
      const exact = (skipped: readonly string[]) => [...skipped].sort().join(',') === PLANTED.join(',');
      for (const seed of SEEDS) {
        const result = await search({
          architecture: 'roberta', checkpoint, task: 'sst2', data, out: path.join(root, `search-${precision}-${seed}`),
          batchSize: 16, effectiveBatch: 16, lr: 1e-3, skipNum: 2, turn: 2, seed, precision,
        });
        if (exact(result.skipped)) dasHits++;
        if (exact(randomSkipSet(['En0', 'En1', 'En2', 'En3'], 2, seed))) randomHits++;
      }
      console.log(`      ${precision}, planted ${PLANTED.join('+')}: DAS exact ${dasHits}/${SEEDS.length} seeds, random sampling ${randomHits}/${SEEDS.length} (chance 1/6)`);
      assert.ok(dasHits >= 4, `DAS found the planted layers for ${dasHits} of ${SEEDS.length} seeds`);
      assert.ok(dasHits > randomHits);
    });
  }
});
