import assert from 'node:assert/strict';
import path from 'node:path';
import { runRanks, type RankExit } from '../support/dist-job.js';
import { lastJsonLine, repoRoot } from '../support/repo.js';

const worker = path.join(repoRoot, 'dist/test/support/dist-world-worker.js');
const outcome = (r: RankExit) => lastJsonLine(r.stdout) as { code?: string; message?: string } & Record<string, unknown>;

describe('data parallel: the World of a job (3 ranks, Gloo on localhost)', function () {
  this.timeout(300_000);

  it('sums come out bit-identical on every rank; gather, rank 0 values, large sums and agreement', async () => {
    const ranks = await runRanks([worker, 'collectives'], { worldSize: 3 });
    for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stderr}`);
    const seen = ranks.map(outcome);
    // summed in rank order from 0 on every rank (0.1 * 3 is 0.30000000000000004; 1e16 swallows 0.1)
    const expected = [0 + 0.1 + 0.2 + 0.1 * 3, 0 + 1e16 - 1e16 - 1e16, 1];
    for (const s of seen) {
      assert.deepEqual(s.sums, expected);
      assert.deepEqual(s.bytes, [[0, 7, 0], [1, 7, 2], [2, 7, 4]]);
      assert.deepEqual(s.shared, { from: 0 });
      assert.deepEqual(s.big, [0.5, 1.5, 2.5, 3.5, 4.5]);
      assert.ok((s.stats as { calls: number }).calls >= 3, 'collectives are counted');
    }
    assert.deepEqual(seen.map((s) => s.agreed), [0, 10, 20]);
  });

  it('a rank that fails stops the others at their next collective, which name it and give its reason', async () => {
    const ranks = await runRanks([worker, 'fail-in-run'], { worldSize: 3 });
    for (const r of ranks) assert.equal(r.code, 1, `rank ${r.rank} exits non-zero: ${r.stdout} ${r.stderr}`);
    assert.equal(outcome(ranks[1]!).code, 'DAS_DATA');
    for (const r of [ranks[0]!, ranks[2]!]) {
      const { code, message } = outcome(r);
      assert.equal(code, 'DAS_DISTRIBUTED');
      assert.match(message!, /rank 1 stopped: the training loss is NaN at step 5 \(a test\)/);
    }
  });

  it('a failure while setting up (agree) fails every rank with that rank\'s error, before any collective', async () => {
    const ranks = await runRanks([worker, 'fail-in-agree'], { worldSize: 3 });
    for (const r of ranks) {
      const { code, message } = outcome(r);
      assert.equal(r.code, 1);
      assert.equal(code, 'DAS_FILE', `rank ${r.rank}`);
      assert.match(message!, r.rank === 1 ? /^\/data\/on\/rank1 does not exist$/ : /^rank 1 failed to open the data: \/data\/on\/rank1 does not exist$/);
    }
  });
});
