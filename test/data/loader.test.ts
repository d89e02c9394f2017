import assert from 'node:assert/strict';
import { join } from 'node:path';
import { collateGlue, collateRetrievalTrain, retrievalEvalChunks } from '../../lib/data/collate.js';
import type { GlueDataset, RetrievalDataset, VqaDataset } from '../../lib/data/dataset-types.js';
import { createImagePreparer, type ImagePreparer } from '../../lib/data/image-workers.js';
import { TaskLoader } from '../../lib/data/loader.js';
import { openTaskDataset } from '../../lib/data/open-dataset.js';
import { EpochSampler } from '../../lib/data/sampler.js';
import { generateSyntheticDataset } from '../../lib/data/synthetic/generate-dataset.js';
import { tinyByteLevelBpeTokenizer, tinyWordPieceTokenizer } from '../../lib/data/synthetic/tiny-tokenizers.js';
import { TextTokenizer } from '../../lib/data/tokenizer.js';
import { tempDir } from './helpers.js';

describe('data/sampler', () => {
  it('visits every example once per epoch, reshuffles per epoch, and is seed-reproducible', () => {
    const s = new EpochSampler(10, 4, { seed: 3 });
    const epoch0 = [s.next(), s.next(), s.next()];
    assert.deepEqual(epoch0.map((b) => b.indices.length), [4, 4, 2]);
    assert.deepEqual(epoch0.flatMap((b) => b.indices).sort((a, b) => a - b), [...Array(10).keys()]);
    const first1 = s.next();
    assert.equal(first1.epoch, 1);
    assert.notDeepEqual([...s.epochOrder(0)], [...s.epochOrder(1)]);
    assert.deepEqual([...new EpochSampler(10, 4, { seed: 3 }).epochOrder(1)], [...s.epochOrder(1)]);
    assert.notDeepEqual([...new EpochSampler(10, 4, { seed: 4 }).epochOrder(0)], [...s.epochOrder(0)]);
    assert.deepEqual([...new EpochSampler(5, 2, { shuffle: false }).epochOrder(0)], [0, 1, 2, 3, 4]);
  });

  it('resumes exactly from a saved state, and drops a short last batch when asked', () => {
    const a = new EpochSampler(9, 2, { seed: 1, dropLast: true });
    assert.equal(a.batchesPerEpoch, 4);
    for (let i = 0; i < 5; i++) a.next();
    const saved = a.state();
    const expected = [a.next(), a.next(), a.next(), a.next()];
    const b = new EpochSampler(9, 2, { seed: 1, dropLast: true });
    b.restore(saved);
    assert.deepEqual([b.next(), b.next(), b.next(), b.next()], expected);
    assert.ok(expected.every((x) => x.indices.length === 2));
    assert.throws(() => b.restore({ epoch: -1, position: 0 }), /sampler state/);
  });
});

describe('data/loader and collate', () => {
  let dir: string;
  let cleanup: () => void;
  let preparer: ImagePreparer;
  const wordpiece = TextTokenizer.fromJson(tinyWordPieceTokenizer(), { maxLength: 16 });
  before(async () => {
    ({ dir, cleanup } = tempDir('loader'));
    preparer = createImagePreparer({ threads: 0 });
    await generateSyntheticDataset({ task: 'vqa', format: 'arrow', dir: join(dir, 'vqa'), size: 5 });
    await generateSyntheticDataset({ task: 'nlvr2', format: 'official', dir: join(dir, 'nlvr2'), size: 3 });
    await generateSyntheticDataset({ task: 'irtr', format: 'arrow', dir: join(dir, 'f30k'), size: 3 });
    await generateSyntheticDataset({ task: 'mnli', dir: join(dir, 'glue'), size: 6 });
  });
  after(async () => {
    await preparer.close();
    cleanup();
  });

  it('builds VQA batches with soft targets, padded images and masks; resumes to identical batches', async () => {
    const ds = (await openTaskDataset({ task: 'vqa', data: join(dir, 'vqa'), split: 'val', numAnswers: 6 })) as VqaDataset;
    const config = { batchSize: 4, seed: 7, tokenizer: wordpiece, preparer, transform: { kind: 'vilt' as const, size: 64 }, prefetch: 2 };
    const loader = new TaskLoader(ds, config);
    const first = await loader.next();
    assert.equal(first.task, 'vqa');
    if (first.task !== 'vqa') return;
    assert.deepEqual([first.text.batchSize, first.text.length], [4, 16]);
    assert.equal(first.targets.length, 4 * 6);
    first.indices.forEach((idx, b) => {
      const e = ds.examples[idx]!;
      e.labels.forEach((l, k) => assert.equal(first.targets[b * 6 + l], Math.fround(e.scores[k]!)));
    });
    assert.equal(first.images.pixels.length, 4 * 3 * first.images.height * first.images.width);
    assert.ok(first.images.width % 32 === 0 && first.images.height === 64);
    const saved = loader.state();
    const next = [await loader.next(), await loader.next()];
    const resumed = new TaskLoader(ds, config);
    resumed.restore(saved);
    const again = [await resumed.next(), await resumed.next()];
    assert.deepEqual(again.map((b) => b.indices), next.map((b) => b.indices));
    assert.deepEqual(again.map((b) => b.epoch), next.map((b) => b.epoch));
    assert.deepEqual(again[1]!.text.inputIds, next[1]!.text.inputIds);
  });

  it('builds NLVR2 batches with two images padded to one shared size', async () => {
    const ds = await openTaskDataset({ task: 'nlvr2', data: join(dir, 'nlvr2'), split: 'val' });
    const loader = new TaskLoader(ds, { batchSize: 3, tokenizer: wordpiece, preparer, transform: { kind: 'clip', size: 32 } });
    const batch = await loader.next();
    assert.ok(batch.task === 'nlvr2');
    if (batch.task !== 'nlvr2') return;
    assert.deepEqual([batch.images[0].width, batch.images[1].height, batch.labels.length], [32, 32, 3]);
    assert.ok([...batch.labels].every((l) => l === 0 || l === 1));
  });

  it('groups one positive and 15 negative captions from other images for retrieval', async () => {
    const ds = (await openTaskDataset({ task: 'irtr', data: join(dir, 'f30k'), split: 'train' })) as RetrievalDataset;
    const ctx = { tokenizer: wordpiece, preparer, transform: { kind: 'vilt' as const, size: 32 }, seed: 1, epoch: 0 };
    const batch = await collateRetrievalTrain(ds, [0, 7], ctx);
    assert.deepEqual([batch.groupSize, batch.text.batchSize, batch.images.batchSize], [16, 32, 2]);
    assert.deepEqual([batch.textIndices[0], batch.textIndices[16]], [0, 7]);
    for (const g of [0, 1]) {
      const image = ds.texts[batch.textIndices[g * 16]!]!.imageIndex;
      assert.ok(batch.textIndices.slice(g * 16 + 1, g * 16 + 16).every((t) => ds.texts[t]!.imageIndex !== image));
    }
    const row = (r: number) => [...batch.text.inputIds.subarray(r * 16, r * 16 + 16)];
    assert.deepEqual(row(5), [...wordpiece.encodeBatch([ds.texts[batch.textIndices[5]!]!.text]).inputIds]);
    const chunks = [...retrievalEvalChunks(ds, 4, 10)];
    assert.equal(chunks.reduce((n, c) => n + c.imageIndices.length * c.textIndices.length, 0), ds.images.length * ds.texts.length);
  });

  it('builds GLUE sentence-pair batches with labels', async () => {
    const ds = (await openTaskDataset({ task: 'mnli', data: join(dir, 'glue'), split: 'val' })) as GlueDataset;
    const roberta = TextTokenizer.fromJson(tinyByteLevelBpeTokenizer(), { maxLength: 512, padding: 'longest', singleTokenType: true });
    const batch = collateGlue(ds, [0, 1, 2], roberta);
    assert.deepEqual([...batch.labels], ds.examples.slice(0, 3).map((e) => e.label));
    assert.ok(batch.text.length < 64);
    const loader = new TaskLoader(ds, { batchSize: 4, tokenizer: roberta, shuffle: false });
    assert.deepEqual((await loader.next()).indices, [0, 1, 2, 3]);
    const pairs = await openTaskDataset({ task: 'nlvr2', data: join(dir, 'nlvr2') });
    assert.throws(() => new TaskLoader(pairs, { batchSize: 2, tokenizer: roberta }), /image preparer/);
  });
});
