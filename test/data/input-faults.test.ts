import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bool, Field, Float64, Int64, List, Utf8, type DataType } from 'apache-arrow';
import { openF30kArrow, openNlvr2Arrow, openVqaArrow } from '../../lib/data/arrow-datasets.js';
import { checkDataset } from '../../lib/data/check-dataset.js';
import type { DataProblem } from '../../lib/data/dataset-types.js';
import { openGlue } from '../../lib/data/glue-tsv.js';
import { openNlvr2Official } from '../../lib/data/nlvr2-official.js';
import { openTaskDataset } from '../../lib/data/open-dataset.js';
import { encodeArrowFile, F30K_COLUMNS, NLVR2_COLUMNS, VQA_COLUMNS, type F30kArrowRow, type Nlvr2ArrowRow, type VqaArrowRow } from '../../lib/data/synthetic/arrow-writers.js';
import { generateSyntheticDataset } from '../../lib/data/synthetic/generate-dataset.js';
import { readJsonFile } from '../../lib/data/vqa-official.js';
import { DasError } from '../../lib/errors.js';
import { readPredictInputs } from '../../lib/serve/predict-input.js';
import { rejectsDas, tempDir, vqaArrowRow } from './helpers.js';

const list = (t: DataType) => new List(new Field('item', t, true));

const vqaRow = (i: number, change: Partial<VqaArrowRow> = {}): VqaArrowRow => vqaArrowRow(i, change);

/** The VQA columns with one column's type replaced (and its values converted to fit). */
function vqaWithType(column: string, type: DataType, convert: (row: VqaArrowRow) => unknown) {
  return VQA_COLUMNS.map(([name, t, get]) => (name === column ? ([name, type, convert] as const) : ([name, t, get] as const))) as typeof VQA_COLUMNS;
}

describe('data input faults: every mistake named, nothing dropped silently', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir('faults')));
  after(() => cleanup());

  /** A ViLT VQA dataset folder whose val split (rest_val) is `file`. */
  const vqaFolder = (name: string, bytes: Uint8Array): string => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const good = encodeArrowFile(VQA_COLUMNS, [vqaRow(0), vqaRow(1)]);
    writeFileSync(join(d, 'vqav2_train.arrow'), good);
    writeFileSync(join(d, 'vqav2_trainable_val.arrow'), good);
    writeFileSync(join(d, 'vqav2_rest_val.arrow'), bytes);
    return d;
  };

  describe('Arrow columns of the wrong type are refused by name (not read as empty)', () => {
    const rows = [vqaRow(0), vqaRow(1)];
    const cases: [string, typeof VQA_COLUMNS, string][] = [
      ['questions as one string', vqaWithType('questions', new Utf8(), (r) => r.questions.join('?')), 'column "questions" holds string where list<string> was expected'],
      ['questions as integers', vqaWithType('questions', list(new Int64()), (r) => r.questions.map(() => 1n)), 'column "questions" holds list<int64> where list<string> was expected'],
      ['answer labels as strings', vqaWithType('answer_labels', list(list(new Utf8())), (r) => r.answerLabels.map((l) => l.map(String))), 'column "answer_labels" holds list<list<string>> where list<list<int>> was expected'],
      ['answer scores flat', vqaWithType('answer_scores', list(new Float64()), (r) => r.answerScores.flat()), 'column "answer_scores" holds list<float64> where list<list<number>> was expected'],
      ['the image as text', vqaWithType('image', new Utf8(), () => 'data:image/png'), 'column "image" holds string where binary was expected'],
      ['image ids as strings', vqaWithType('image_id', new Utf8(), (r) => String(r.imageId)), 'column "image_id" holds string where int was expected'],
      ['question ids as one number', vqaWithType('question_id', new Int64(), (r) => BigInt(r.questionIds[0]!)), 'column "question_id" holds int64 where list<int> was expected'],
    ];
    for (const [what, columns, message] of cases) {
      it(`VQA: ${what}`, async () => {
        const d = vqaFolder(`type-${what.replace(/\W+/g, '-')}`, encodeArrowFile(columns, rows));
        await rejectsDas(() => openVqaArrow(d, 'val', 'vilt'), 'DAS_DATA', join(d, 'vqav2_rest_val.arrow'), message);
        const report = await checkDataset({ task: 'vqa', data: d, imageSample: 0 });
        assert.equal(report.ok, false, 'data check does not say ok');
        assert.ok(report.problems.some((p) => p.file === join(d, 'vqav2_rest_val.arrow') && p.message.includes(message)), JSON.stringify(report.problems));
      });
    }

    it('NLVR2: answers as booleans, and F30K: one caption string per image', async () => {
      const nlvr = NLVR2_COLUMNS.map(([name, t, get]) => (name === 'answers' ? ['answers', list(new Bool()), (r: Nlvr2ArrowRow) => r.answers.map((a) => a === 'True')] : [name, t, get])) as typeof NLVR2_COLUMNS;
      const d1 = join(dir, 'nlvr-types');
      mkdirSync(d1);
      writeFileSync(join(d1, 'nlvr2_dev.arrow'), encodeArrowFile(nlvr, [{ image0: new Uint8Array(3), image1: new Uint8Array(3), questions: ['a'], answers: ['True'], identifier: 'dev-1-0' }]));
      await rejectsDas(() => openNlvr2Arrow(d1, 'val'), 'DAS_DATA', 'nlvr2_dev.arrow', 'column "answers" holds list<bool> where list<string> was expected');
      const f30k = F30K_COLUMNS.map(([name, t, get]) => (name === 'caption' ? ['caption', new Utf8(), (r: F30kArrowRow) => r.caption[0]] : [name, t, get])) as typeof F30K_COLUMNS;
      const d2 = join(dir, 'f30k-types');
      mkdirSync(d2);
      writeFileSync(join(d2, 'f30k_caption_karpathy_test.arrow'), encodeArrowFile(f30k, [{ image: new Uint8Array(3), caption: ['a dog'], imageId: '1.jpg', split: 'test' }]));
      await rejectsDas(() => openF30kArrow(d2, 'val'), 'DAS_DATA', 'f30k_caption_karpathy_test.arrow', 'column "caption" holds string where list<string> was expected');
    });
  });

  describe('rows whose parts disagree are problems with their place, never silently shortened', () => {
    const cases: [string, VqaArrowRow, RegExp][] = [
      ['fewer question ids than questions', vqaRow(0, { questionIds: [1] }), /row 0\): 2 questions but 1 entries in question_id/],
      ['fewer answer rows than questions', vqaRow(0, { answers: [['yes']] }), /row 0\): 2 questions but 1 entries in answers/],
      ['more label rows than questions', vqaRow(0, { answerLabels: [[0], [2, 3], [1]] }), /row 0\): 2 questions but 3 entries in answer_labels/],
      ['labels and scores of different lengths', vqaRow(0, { answerScores: [[1], [0.3]] }), /row 0 question 1\): 2 answer labels but 1 scores/],
      ['labels and answer names of different lengths', vqaRow(0, { answers: [['yes'], ['2']] }), /row 0 question 1\): 2 answer labels but 1 answers/],
      ['a NaN score', vqaRow(0, { answerScores: [[Number.NaN], [0.3, 0.6]] }), /row 0 question 0\): answer score NaN is not a number in \[0, 1\]/],
      ['an infinite score', vqaRow(0, { answerScores: [[1], [Number.POSITIVE_INFINITY, 0.6]] }), /question 1\): answer score Infinity is not/],
      ['a negative score', vqaRow(0, { answerScores: [[-0.3], [0.3, 0.6]] }), /answer score -0\.3 is not/],
      ['a score above 1', vqaRow(0, { answerScores: [[1.5], [0.3, 0.6]] }), /answer score 1\.5 is not/],
    ];
    for (const [what, row, message] of cases) {
      it(`VQA: ${what}`, async () => {
        const d = vqaFolder(`rows-${what.replace(/\W+/g, '-')}`, encodeArrowFile(VQA_COLUMNS, [row, vqaRow(1)]));
        await assert.rejects(openVqaArrow(d, 'val', 'vilt'), (err: unknown) => err instanceof DasError && err.code === 'DAS_DATA' && message.test(err.message) && err.message.includes('vqav2_rest_val.arrow'));
        const problems: DataProblem[] = [];
        const ds = await openVqaArrow(d, 'val', 'vilt', { onProblem: (p) => problems.push(p) });
        assert.equal(problems.length, 1);
        assert.ok(ds.examples.length >= 2, 'the other rows are still read');
      });
    }

    it('NLVR2: sentences and answers of different lengths', async () => {
      const d = join(dir, 'nlvr-rows');
      mkdirSync(d);
      const pair = { image0: new Uint8Array(3), image1: new Uint8Array(3), identifier: 'dev-1-0' };
      writeFileSync(join(d, 'nlvr2_dev.arrow'), encodeArrowFile(NLVR2_COLUMNS, [{ ...pair, questions: ['a', 'b'], answers: ['True'] }]));
      await rejectsDas(() => openNlvr2Arrow(d, 'val'), 'DAS_DATA', 'nlvr2_dev.arrow (record batch 0 row 0): 2 sentences but 1 entries in answers');
    });
  });

  describe('a byte-order mark is removed, UTF-16 is named', () => {
    const BOM = '\ufeff';
    it('SST-2 and MNLI TSV with a BOM read like without one', async () => {
      for (const [task, folder, header, line] of [['sst2', 'SST-2', 'sentence\tlabel', 'a fine film\t1'], ['mnli', 'MNLI', 'sentence1\tsentence2\tgold_label', 'a\tb\tneutral']] as const) {
        const d = join(dir, `bom-${task}`);
        mkdirSync(join(d, folder), { recursive: true });
        writeFileSync(join(d, folder, 'train.tsv'), `${BOM}${header}\r\n${line}\r\n`);
        const ds = await openGlue(d, task, 'train');
        assert.equal(ds.examples.length, 1, task);
      }
    });

    it('NLVR2 JSONL, VQA JSON and predict JSONL with a BOM', async () => {
      const d = join(dir, 'bom-json');
      mkdirSync(join(d, 'nlvr2', 'data'), { recursive: true });
      writeFileSync(join(d, 'nlvr2', 'data', 'dev.json'), `${BOM}${JSON.stringify({ identifier: 'dev-1-0-0', sentence: 'two dogs', label: 'True' })}\n`);
      assert.equal((await openNlvr2Official(d, 'val')).examples.length, 1);
      writeFileSync(join(d, 'q.json'), `${BOM}{"questions": [1, 2]}`);
      assert.deepEqual(await readJsonFile(join(d, 'q.json'), 'questions'), [1, 2]);
      writeFileSync(join(d, 'in.jsonl'), `${BOM}{"text": "hello"}\n`);
      assert.equal(readPredictInputs(join(d, 'in.jsonl'), { required: ['text'], optional: [], model: 'RoBERTa' }).length, 1);
    });

    it('a UTF-16 file is refused by name', async () => {
      const d = join(dir, 'utf16');
      mkdirSync(join(d, 'SST-2'), { recursive: true });
      writeFileSync(join(d, 'SST-2', 'train.tsv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('sentence\tlabel\n', 'utf16le')]));
      await rejectsDas(() => openGlue(d, 'sst2', 'train'), 'DAS_DATA', join(d, 'SST-2', 'train.tsv'), 'is UTF-16 encoded');
    });
  });

  describe('an empty split names its files', () => {
    it('a GLUE TSV with only its header', async () => {
      const d = join(dir, 'empty-glue');
      mkdirSync(join(d, 'SST-2'), { recursive: true });
      writeFileSync(join(d, 'SST-2', 'dev.tsv'), 'sentence\tlabel\n');
      await rejectsDas(() => openTaskDataset({ task: 'sst2', data: d, split: 'val' }), 'DAS_DATA', 'the val split of sst2 holds no examples', join(d, 'SST-2', 'dev.tsv'));
    });

    it('an Arrow file without rows, and one whose every row is a problem (data check names the file)', async () => {
      const d = vqaFolder('empty-arrow', encodeArrowFile(VQA_COLUMNS, []));
      await rejectsDas(() => openTaskDataset({ task: 'vqa', data: d, split: 'val' }), 'DAS_DATA', 'the val split of vqa holds no examples', 'vqav2_rest_val.arrow');
      const bad = vqaFolder('all-bad', encodeArrowFile(VQA_COLUMNS, [vqaRow(0, { questionIds: [] })]));
      const report = await checkDataset({ task: 'vqa', data: bad, imageSample: 0 });
      assert.equal(report.ok, false);
      assert.ok(report.problems.some((p) => /holds no examples/.test(p.message) && p.file.endsWith('vqav2_rest_val.arrow')), JSON.stringify(report.problems));
    });
  });

  describe('a damaged Arrow file always yields an error naming it', () => {
    it('bytes flipped or cut anywhere in the file', async function () {
      this.timeout(120_000);
      const good = encodeArrowFile(VQA_COLUMNS, [vqaRow(0), vqaRow(1), vqaRow(2)], { rowsPerBatch: 2 });
      const d = vqaFolder('damaged', good);
      const file = join(d, 'vqav2_rest_val.arrow');
      const outcomes = { ok: 0, named: 0 };
      const variants: Uint8Array[] = [];
      for (let at = 0; at < good.length; at += Math.max(1, Math.floor(good.length / 150))) {
        for (const value of [0x00, 0xff, 0x7f]) {
          const bytes = new Uint8Array(good);
          bytes[at] = value;
          variants.push(bytes);
        }
        variants.push(good.slice(0, at));
      }
      for (const bytes of variants) {
        writeFileSync(file, bytes);
        try {
          await openVqaArrow(d, 'val', 'vilt', { onProblem: () => {} });
          outcomes.ok++;
        } catch (err) {
          assert.ok(err instanceof DasError, `a raw ${(err as Error)?.constructor?.name}: ${(err as Error).message}`);
          assert.ok(err.message.includes(file), `the error names no file: ${err.message}`);
          outcomes.named++;
        }
      }
      assert.equal(outcomes.ok + outcomes.named, variants.length);
      assert.ok(outcomes.named > variants.length / 4, `most damage is detected (${JSON.stringify(outcomes)})`);
    });
  });

  it('the synthetic generator still writes datasets every reader accepts', async () => {
    for (const task of ['vqa', 'nlvr2', 'irtr'] as const) {
      const d = join(dir, `synthetic-${task}`);
      await generateSyntheticDataset({ task, format: 'arrow', dir: d, size: 3 });
      const report = await checkDataset({ task, data: d, imageSample: 2 });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
    }
  });
});
