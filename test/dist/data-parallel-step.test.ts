import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCheckpoint } from '../../lib/native/checkpoint.js';
import { HEAD_LR_MULTIPLIER, LR, SKIP, stepCase, type StepArchitecture } from '../support/dist-step-case.js';
import { runRanks } from '../support/dist-job.js';
import { repoRoot } from '../support/repo.js';

const worker = path.join(repoRoot, 'dist/test/support/dist-step-worker.js');

describe('data parallel: one optimizer step of 2 ranks equals one process on the concatenated batch (Gloo)', function () {
  this.timeout(600_000);
  let root: string;
  before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-dp-step-'))));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  for (const arch of ['roberta', 'vilt'] as StepArchitecture[]) {
    it(`${arch}, skipping ${SKIP.join(',')}: parameters within 1e-6, the same on both ranks`, async () => {
      const out = fs.mkdtempSync(path.join(root, `${arch}-`));
      const ranks = await runRanks([worker, arch, out], { worldSize: 2 });
      for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stderr}`);

      const { model, full } = await stepCase(arch);
      const before = await model.state('trainable');
      await model.configureOptimizer({ weightDecay: 0.01, headLrMultiplier: HEAD_LR_MULTIPLIER });
      await model.trainStep(full, { skip: SKIP });
      await model.optimizerStep(LR);
      const expected = await model.state('trainable');
      await model.dispose();

      const [rank0, rank1] = await Promise.all([0, 1].map(async (r) => (await readCheckpoint(path.join(out, `rank${r}.safetensors`))).tensors));
      assert.deepEqual(Object.keys(rank0!).sort(), Object.keys(expected).sort());
      let worst = 0;
      for (const [name, tensor] of Object.entries(expected)) {
        const got = rank0![name]!.data as Float32Array;
        assert.deepEqual(Array.from(rank1![name]!.data as Float32Array), Array.from(got), `${name}: the ranks disagree`);
        (tensor.data as Float32Array).forEach((v, i) => (worst = Math.max(worst, Math.abs(v - got[i]!))));
      }
      console.log(`      largest difference from the one-process step: ${worst.toExponential(2)}`);
      assert.ok(worst <= 1e-6, `largest difference from the one-process step: ${worst}`);
      // the step was not trivial: the skipped layer's skip adapter learned, a running layer's did not
      const changed = (name: string) => (before[name]!.data as Float32Array).some((v, i) => v !== (expected[name]!.data as Float32Array)[i]);
      const skipAdapter = (layer: number) => Object.keys(expected).find((n) => n.includes(`${layer}.skip_adapter.`) && n.endsWith('weight'))!;
      assert.ok(changed(skipAdapter(1)), `${skipAdapter(1)} trains`);
      assert.ok(!changed(skipAdapter(0)), `${skipAdapter(0)} has no gradient on any rank and stays`);
    });
  }
});
