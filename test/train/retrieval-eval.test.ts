import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSyntheticDataset } from '../../lib/data/index.js';
import type { RetrievalDataset } from '../../lib/data/dataset-types.js';
import { retrievalRecall } from '../../lib/data/metrics.js';
import { openTaskDataset } from '../../lib/data/open-dataset.js';
import { writeRandomVlCheckpoint } from '../../lib/models/random-checkpoint.js';
import { predict } from '../../lib/serve/predict.js';
import { evaluate, train } from '../../lib/train/runs.js';
import { lastJsonLine, runCli } from '../support/repo.js';
import { TINY_VILT } from '../support/vl.js';

describe('das eval on retrieval: Recall@1/5/10 over every image-caption pair', function () {
  this.timeout(300_000);
  let root: string;

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-recall-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('ranks the whole split with the rank head: the same scores as predict on each pair, and their recall', async () => {
    const checkpoint = await writeRandomVlCheckpoint(path.join(root, 'vilt'), 'vilt', { ...TINY_VILT, task: 'irtr' }, 3);
    const data = path.join(root, 'f30k');
    await generateSyntheticDataset({ task: 'irtr', format: 'official', dir: data, size: 6, seed: 2 });
    const run = path.join(root, 'run');
    await train({ architecture: 'vilt', checkpoint, task: 'irtr', data, out: run, skip: ['En1'], batchSize: 2, effectiveBatch: 2, epochs: 1, lr: 1e-3 });

    const progress: number[] = [];
    const result = await evaluate({ run, split: 'test', batchSize: 4, onProgress: (done) => progress.push(done) });
    const ds = (await openTaskDataset({ task: 'irtr', data, split: 'test', model: 'vilt' })) as RetrievalDataset;
    assert.equal(progress.at(-1), ds.images.length * ds.texts.length);

    // every caption of the split against each image, through predict (one image repeated per batch)
    const scores: number[] = [];
    for (const image of ds.images) {
      const pairs = ds.texts.map((t) => ({ text: t.text, image: image.image.file }));
      const scored = await predict({ architecture: 'vilt', checkpoint, run, input: pairs, batchSize: ds.texts.length });
      scores.push(...scored.predictions.map((p) => p.label as number));
    }
    const recall = retrievalRecall(scores, ds.images.length, ds.texts.map((t) => t.imageIndex));
    const { metrics } = result;
    assert.deepEqual(
      [metrics.irR1, metrics.irR5, metrics.irR10, metrics.trR1, metrics.trR5, metrics.trR10],
      [recall.ir.r1, recall.ir.r5, recall.ir.r10, recall.tr.r1, recall.tr.r5, recall.tr.r10],
    );
    assert.ok(metrics.irR1! <= metrics.irR5! && metrics.irR5! <= metrics.irR10!);
    assert.ok(metrics.trR1! <= metrics.trR5! && metrics.trR5! <= metrics.trR10!);
    assert.ok(metrics.groupAccuracy !== undefined && metrics.loss! > 0);

    const cli = runCli(['eval', '--run', run, '--split', 'test', '--batch-size', '4', '--json']);
    assert.equal(cli.status, 0, cli.stderr);
    const pairs = ds.images.length * ds.texts.length;
    assert.ok(cli.stderr.includes(`eval: ranked ${pairs}/${pairs} image-caption pairs`), cli.stderr);
    assert.deepEqual((lastJsonLine(cli.stdout) as { metrics: Record<string, number> }).metrics, metrics);
  });
});
