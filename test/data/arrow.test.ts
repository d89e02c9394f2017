import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Table, tableToIPC, tableFromIPC } from 'apache-arrow';
import { ArrowIpcFile } from '../../lib/data/arrow-file.js';
import { openF30kArrow, openNlvr2Arrow, openVqaArrow } from '../../lib/data/arrow-datasets.js';
import type { DataProblem } from '../../lib/data/dataset-types.js';
import { readImageBytes } from '../../lib/data/image-source.js';
import { encodeArrowFile, VQA_COLUMNS, type VqaArrowRow } from '../../lib/data/synthetic/arrow-writers.js';
import { generateSyntheticDataset } from '../../lib/data/synthetic/generate-dataset.js';
import { rejectsDas, tempDir, vqaArrowRow } from './helpers.js';

const row = (i: number, imageBytes = 5 + i): VqaArrowRow => vqaArrowRow(i, {}, imageBytes);

describe('data/arrow IPC file reader', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir('arrow')));
  after(() => cleanup());

  it('reads the ViLT VQA columns batch by batch and each image as its own byte range', async () => {
    const path = join(dir, 'v.arrow');
    writeFileSync(path, encodeArrowFile(VQA_COLUMNS, Array.from({ length: 7 }, (_, i) => row(i)), { rowsPerBatch: 3 }));
    const file = await ArrowIpcFile.open(path);
    try {
      assert.deepEqual([file.numBatches, file.numRows], [3, 7]);
      assert.deepEqual(await file.readColumn(1, 'questions'), [['question 3', 'another 3'], ['question 4', 'another 4'], ['question 5', 'another 5']]);
      assert.deepEqual((await file.readColumn(2, 'answer_labels'))[0], [[0], [2, 3]]);
      assert.deepEqual((await file.readColumn(2, 'answer_scores'))[0], [[1], [0.3, 0.6]]);
      assert.deepEqual(await file.readColumn(0, 'image_id'), [100, 101, 102]);
      assert.deepEqual((await file.readColumn(0, 'question_id'))[2], [1004, 1005]);
      const refs = await file.binaryRefs(2, 'image');
      const bytes = await readImageBytes(refs[0]!);
      assert.deepEqual([...bytes], new Array(11).fill(6));
      assert.match(refs[0]!.label, /v\.arrow record batch 2 row 0 column image/);
      // apache-arrow's own reader agrees with ours
      const table = tableFromIPC(readFileSync(path));
      assert.deepEqual([...(table.getChild('image')!.get(6) as Uint8Array)], [...(await readImageBytes((await file.binaryRefs(2, 'image'))[0]!))]);
    } finally {
      await file.close();
    }
  });

  it('names a missing column', async () => {
    const path = join(dir, 'v.arrow');
    const file = await ArrowIpcFile.open(path);
    try {
      assert.throws(() => file.requireColumns(['image', 'answer_type']), (e: Error) => /no column "answer_type"/.test(e.message) && e.message.includes(path));
      await rejectsDas(() => file.binaryRefs(0, 'questions'), 'DAS_DATA', 'binary');
    } finally {
      await file.close();
    }
  });

  it('rejects truncated, stream-format and non-Arrow files by name', async () => {
    const good = readFileSync(join(dir, 'v.arrow'));
    const cut = join(dir, 'cut.arrow');
    writeFileSync(cut, good.subarray(0, good.length - 40));
    await rejectsDas(() => ArrowIpcFile.open(cut), 'DAS_FILE', cut, 'not a complete Arrow IPC file');
    const stream = join(dir, 'stream.arrow');
    writeFileSync(stream, tableToIPC(new Table(), 'stream'));
    await rejectsDas(() => ArrowIpcFile.open(stream), 'DAS_FILE', stream);
    // middle removed, footer intact: record batch blocks now point past the data
    const holed = join(dir, 'holed.arrow');
    writeFileSync(holed, Buffer.concat([good.subarray(0, 600), good.subarray(good.length - 700)]));
    await rejectsDas(() => ArrowIpcFile.open(holed), 'DAS_FILE', holed);
    await rejectsDas(() => ArrowIpcFile.open(join(dir, 'absent.arrow')), 'DAS_FILE', 'absent.arrow');
  });

  it('streams a file much larger than a batch with bounded memory (RSS growth measured)', function () {
    this.timeout(120000);
    // One 192 MiB record batch, as pyarrow writes real files: reading it whole would grow RSS by 192 MiB.
    const path = join(dir, 'big.arrow');
    writeFileSync(path, encodeArrowFile(VQA_COLUMNS, Array.from({ length: 96 }, (_, i) => row(i, 2 << 20))));
    const size = statSync(path).size;
    assert.ok(size > 190 * 2 ** 20);
    const child = fileURLToPath(new URL('./arrow-stream-child.js', import.meta.url));
    const result = JSON.parse(execFileSync(process.execPath, ['--expose-gc', child, path], { encoding: 'utf8' })) as { rows: number; mismatches: number; growth: number };
    assert.equal(result.rows, 96);
    assert.equal(result.mismatches, 0);
    assert.ok(result.growth < 48 * 2 ** 20, `RSS grew by ${(result.growth / 2 ** 20).toFixed(1)} MiB while streaming a ${(size / 2 ** 20).toFixed(0)} MiB file`);
  });
});

describe('data/arrow datasets', () => {
  let dir: string;
  let cleanup: () => void;
  before(async () => {
    ({ dir, cleanup } = tempDir('arrow-ds'));
    await generateSyntheticDataset({ task: 'vqa', format: 'arrow', dir: join(dir, 'vqa'), size: 6, rowsPerBatch: 4 });
    await generateSyntheticDataset({ task: 'nlvr2', format: 'arrow', dir: join(dir, 'nlvr2'), size: 5 });
    await generateSyntheticDataset({ task: 'irtr', format: 'arrow', dir: join(dir, 'f30k'), size: 4 });
  });
  after(() => cleanup());

  it('uses the original VQA splits: ViLT train = train + trainable_val, METER train = train + val', async () => {
    const vilt = await openVqaArrow(join(dir, 'vqa'), 'train', 'vilt');
    assert.deepEqual(vilt.files.map((f) => f.split('/').pop()), ['vqav2_train.arrow', 'vqav2_trainable_val.arrow']);
    assert.equal(vilt.examples.length, 2 * 6 * 2);
    const meter = await openVqaArrow(join(dir, 'vqa'), 'val', 'meter');
    assert.deepEqual(meter.files.map((f) => f.split('/').pop()), ['vqav2_val.arrow']);
    const ex = vilt.examples[0]!;
    assert.equal(ex.labels.length, ex.scores.length);
    assert.ok(ex.labels.every((l) => vilt.answers[l] !== ''));
    const test = await openVqaArrow(join(dir, 'vqa'), 'test', 'vilt');
    assert.ok(test.examples.length === 12 && test.examples.every((e) => e.labels.length === 0));
  });

  it('fails on a missing split file instead of skipping it', async () => {
    renameSync(join(dir, 'vqa', 'vqav2_trainable_val.arrow'), join(dir, 'vqa', 'moved.arrow'));
    try {
      await rejectsDas(() => openVqaArrow(join(dir, 'vqa'), 'train', 'vilt'), 'DAS_FILE', 'vqav2_trainable_val.arrow');
    } finally {
      renameSync(join(dir, 'vqa', 'moved.arrow'), join(dir, 'vqa', 'vqav2_trainable_val.arrow'));
    }
  });

  it('reports answer labels outside the vocabulary, or collects them', async () => {
    await rejectsDas(() => openVqaArrow(join(dir, 'vqa'), 'val', 'meter', { numAnswers: 2 }), 'DAS_DATA', 'outside the answer vocabulary of 2', 'vqav2_val.arrow');
    const problems: DataProblem[] = [];
    const ds = await openVqaArrow(join(dir, 'vqa'), 'val', 'meter', { numAnswers: 2, onProblem: (p) => problems.push(p) });
    assert.ok(problems.length > 0);
    assert.equal(ds.examples.length + problems.length, 12);
    assert.match(problems[0]!.where!, /record batch \d+ row \d+ question \d/);
  });

  it('reads NLVR2 pairs with True/False labels and Flickr30k captions per image', async () => {
    const nlvr2 = await openNlvr2Arrow(join(dir, 'nlvr2'), 'val');
    assert.equal(nlvr2.examples.length, 10);
    assert.ok(nlvr2.examples.every((e) => (e.label === 0 || e.label === 1) && e.images[0].offset !== e.images[1].offset));
    const f30k = await openF30kArrow(join(dir, 'f30k'), 'train');
    assert.equal(f30k.images.length, 8);
    assert.ok(f30k.texts.every((t) => f30k.images[t.imageIndex]!.captions.includes(f30k.texts.indexOf(t))));
  });
});
