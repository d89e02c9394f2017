import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDataset, formatDatasetReport } from '../../lib/data/check-dataset.js';
import { encodeArrowFile, VQA_COLUMNS, type VqaArrowRow } from '../../lib/data/synthetic/arrow-writers.js';
import { generateSyntheticDataset } from '../../lib/data/synthetic/generate-dataset.js';
import { tempDir } from './helpers.js';

describe('data/checkDataset', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir('check')));
  after(() => cleanup());

  it('reports counts and the label vocabulary of a good dataset', async () => {
    await generateSyntheticDataset({ task: 'nlvr2', format: 'arrow', dir: join(dir, 'good'), size: 4 });
    const report = await checkDataset({ task: 'nlvr2', data: join(dir, 'good') });
    assert.equal(report.ok, true);
    assert.equal(report.format, 'arrow');
    assert.deepEqual(report.splits.map((s) => [s.split, s.examples, s.images]), [['train', 8, 8], ['val', 8, 8]]);
    assert.equal(report.labelVocabularySize, 2);
    assert.match(formatDatasetReport(report), /train: 8 examples, 8 images from 1 file\(s\)[\s\S]*OK: no problems found/);
  });

  it('names a missing file and a missing Arrow column', async () => {
    const d = join(dir, 'vqa');
    await generateSyntheticDataset({ task: 'vqa', format: 'arrow', dir: d, size: 3 });
    rmSync(join(d, 'vqav2_rest_val.arrow'));
    const rows: VqaArrowRow[] = [];
    const noScores = VQA_COLUMNS.filter(([name]) => name !== 'answer_scores');
    writeFileSync(join(d, 'vqav2_trainable_val.arrow'), encodeArrowFile(noScores, rows));
    const report = await checkDataset({ task: 'vqa', data: d });
    assert.equal(report.ok, false);
    const text = formatDatasetReport(report);
    assert.match(text, /vqav2_trainable_val\.arrow has no column "answer_scores"/);
    assert.match(text, /vqav2_rest_val\.arrow does not exist/);
    assert.deepEqual(report.splits.map((s) => s.error !== undefined), [true, true]);
  });

  it('names an unreadable image and a label outside the vocabulary', async () => {
    const d = join(dir, 'bad');
    await generateSyntheticDataset({ task: 'vqa', format: 'arrow', dir: d, size: 3, rowsPerBatch: 8 });
    // Corrupt row 1's JPEG in place: the bytes stay where the offsets say, but are no longer an image.
    const file = join(d, 'vqav2_rest_val.arrow');
    const bytes = readFileSync(file);
    const second = bytes.indexOf(Buffer.from([0xff, 0xd8, 0xff]), bytes.indexOf(Buffer.from([0xff, 0xd8, 0xff])) + 3);
    bytes.fill(0x41, second, second + 200);
    writeFileSync(file, bytes);
    const report = await checkDataset({ task: 'vqa', data: d, numAnswers: 4 });
    const text = formatDatasetReport(report);
    assert.match(text, /unreadable image vqav2_rest_val\.arrow record batch 0 row 1 column image/);
    assert.match(text, /answer label \d is outside the answer vocabulary of 4/);
    assert.ok(report.problemCount >= 2);
  });

  it('names missing image files of the official layouts', async () => {
    const d = join(dir, 'f30k');
    await generateSyntheticDataset({ task: 'irtr', format: 'official', dir: d, size: 3 });
    rmSync(join(d, 'flickr30k-images', 'test1001.jpg'));
    const report = await checkDataset({ task: 'irtr', data: d, splits: ['val'] });
    assert.equal(report.problemCount, 1);
    assert.match(report.problems[0]!.file, /test1001\.jpg$/);
    assert.match(report.problems[0]!.message, /missing/);
    const none = await checkDataset({ task: 'mnli', data: join(dir, 'absent') });
    assert.equal(none.ok, false);
    assert.match(formatDatasetReport(none), /absent/);
  });
});
