import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openGlue } from '../../lib/data/glue-tsv.js';
import { openFlickr30kKarpathy } from '../../lib/data/karpathy-f30k.js';
import { openNlvr2Official } from '../../lib/data/nlvr2-official.js';
import { openTaskDataset } from '../../lib/data/open-dataset.js';
import { generateSyntheticDataset } from '../../lib/data/synthetic/generate-dataset.js';
import { buildVqaAnswerVocabulary, openVqaOfficial, vqaSoftScore } from '../../lib/data/vqa-official.js';
import { rejectsDas, tempDir } from './helpers.js';

const q = (question_id: number, image_id: number) => ({ question_id, image_id, question: 'what color is the car ?' });
const ann = (question_id: number, image_id: number, mc: string, answers: string[]) => ({ question_id, image_id, multiple_choice_answer: mc, answers: answers.map((answer) => ({ answer })) });

describe('data/readers: official VQA v2 JSON', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => {
    ({ dir, cleanup } = tempDir('vqa-json'));
    // "Two" and "2" normalise to the same answer; "red" appears 3 times, "blue" once.
    const train = [ann(1, 10, 'Two', ['2', '2', 'two', 'two', 'red', 'red', 'red', 'blue', 'x', 'y']), ann(2, 10, 'red', new Array(10).fill('red'))];
    const val = [ann(3, 20, '2', new Array(10).fill('2')), ann(4, 21, 'red', new Array(10).fill('blue')), ann(5, 22, 'blue', ['blue', ...new Array(9).fill('zzz')])];
    writeFileSync(join(dir, 'v2_mscoco_train2014_annotations.json'), JSON.stringify({ annotations: train }));
    writeFileSync(join(dir, 'v2_mscoco_val2014_annotations.json'), JSON.stringify({ annotations: val }));
    writeFileSync(join(dir, 'v2_OpenEnded_mscoco_train2014_questions.json'), JSON.stringify({ questions: [q(1, 10), q(2, 10)] }));
    writeFileSync(join(dir, 'v2_OpenEnded_mscoco_val2014_questions.json'), JSON.stringify({ questions: [q(3, 20), q(4, 21), q(5, 22)] }));
  });
  after(() => cleanup());

  it('builds the vocabulary from normalised multiple-choice answers seen at least minCount times', async () => {
    assert.deepEqual(await buildVqaAnswerVocabulary(dir, 2), ['2', 'red']);
    assert.deepEqual(await buildVqaAnswerVocabulary(dir, 1), ['2', 'red', 'blue']);
  });

  it('scores 0.3 / 0.6 / 0.9 / 1 by annotator count and drops questions with no answer in the vocabulary', async () => {
    assert.deepEqual([0, 1, 2, 3, 4, 10].map(vqaSoftScore), [0, 0.3, 0.6, 0.9, 1, 1]);
    const ds = await openVqaOfficial(dir, 'train', 'meter', { minAnswerCount: 2 });
    assert.deepEqual(ds.answers, ['2', 'red']);
    const byQ = new Map(ds.examples.map((e) => [e.questionId, e]));
    assert.deepEqual([byQ.get(1)!.labels, byQ.get(1)!.scores], [[0, 1], [1, 0.9]]); // 4 x "2"/"two", 3 x red
    assert.ok(!byQ.has(4) && !byQ.has(5)); // only "blue" / "zzz": dropped as in the original
    assert.equal(byQ.get(1)!.annotatorAnswers!.length, 10);
    assert.match(byQ.get(1)!.image.file, /train2014\/COCO_train2014_000000000010\.jpg$/);
  });

  it('holds out the last val images as ViLT rest_val', async () => {
    const train = await openVqaOfficial(dir, 'train', 'vilt', { minAnswerCount: 2, restValImages: 1 });
    const val = await openVqaOfficial(dir, 'val', 'vilt', { minAnswerCount: 2, restValImages: 1 });
    // after dropping unanswerable questions only image 20 remains in val: it becomes rest_val
    assert.deepEqual(train.examples.map((e) => e.questionId).sort(), [1, 2]);
    assert.deepEqual(val.examples.map((e) => e.questionId), [3]);
    const meterTrain = await openVqaOfficial(dir, 'train', 'meter', { minAnswerCount: 2 });
    assert.deepEqual(meterTrain.examples.map((e) => e.questionId).sort(), [1, 2, 3]);
  });

  it('names a missing or truncated JSON file', async () => {
    await rejectsDas(() => openVqaOfficial(dir, 'test', 'vilt'), 'DAS_FILE', 'v2_OpenEnded_mscoco_test2015_questions.json');
    const file = join(dir, 'v2_OpenEnded_mscoco_test2015_questions.json');
    writeFileSync(file, '{"questions": [{"question_id": 1');
    await rejectsDas(() => openVqaOfficial(dir, 'test', 'vilt'), 'DAS_FILE', file, 'not valid JSON');
    rmSync(file);
  });
});

describe('data/readers: NLVR2, Flickr30k, GLUE', () => {
  let dir: string;
  let cleanup: () => void;
  before(async () => {
    ({ dir, cleanup } = tempDir('readers'));
    await generateSyntheticDataset({ task: 'nlvr2', format: 'official', dir: join(dir, 'nlvr2'), size: 3 });
    await generateSyntheticDataset({ task: 'irtr', format: 'official', dir: join(dir, 'f30k'), size: 3 });
    await generateSyntheticDataset({ task: 'mnli', dir: join(dir, 'glue'), size: 5 });
    await generateSyntheticDataset({ task: 'sst2', dir: join(dir, 'glue'), size: 5 });
  });
  after(() => cleanup());

  it('reads NLVR2 jsonl and finds both images of each pair', async () => {
    const train = await openNlvr2Official(join(dir, 'nlvr2'), 'train');
    assert.equal(train.examples.length, 6);
    const e = train.examples[0]!;
    assert.match(e.images[0].file, /images\/train\/0\/train-0-0-img0\.png$/);
    assert.match(e.images[1].file, /train-0-0-img1\.png$/);
    const dev = join(dir, 'nlvr2', 'nlvr2', 'data', 'dev.json');
    appendFileSync(dev, '{"identifier": "dev-9-0-0", "sentence": "x", "label": "maybe"}\n');
    await rejectsDas(() => openNlvr2Official(join(dir, 'nlvr2'), 'val'), 'DAS_DATA', 'dev.json', 'line 7', '"maybe"');
  });

  it('names NLVR2 jsonl lines that are valid JSON but no object (found by fuzzing: "null" threw a TypeError)', async () => {
    const dev = join(dir, 'nlvr2', 'nlvr2', 'data', 'dev.json');
    const kept = readFileSync(dev, 'utf8');
    try {
      for (const line of ['null', '42', '"text"', '[1, 2]']) {
        writeFileSync(dev, `${line}\n${kept}`);
        await rejectsDas(() => openNlvr2Official(join(dir, 'nlvr2'), 'val'), 'DAS_DATA', 'dev.json', 'line 1', 'not a JSON object');
      }
    } finally {
      writeFileSync(dev, kept);
    }
  });

  it('reads Karpathy Flickr30k: train = train + val images, val = test, five captions each', async () => {
    const train = await openFlickr30kKarpathy(join(dir, 'f30k'), 'train');
    const test = await openFlickr30kKarpathy(join(dir, 'f30k'), 'val');
    assert.deepEqual([train.images.length, test.images.length], [6, 3]);
    assert.ok(test.images.every((img) => img.captions.length >= 1 && img.captions.length <= 5));
    assert.match(test.images[0]!.image.file, /flickr30k-images\/test1000\.jpg$/);
  });

  it('reads MNLI matched/mismatched and SST-2 TSV by header, with quotes kept as text', async () => {
    const mnli = await openGlue(join(dir, 'glue'), 'mnli', 'val-mismatched');
    assert.equal(mnli.examples.length, 5);
    assert.ok(mnli.files[0]!.endsWith('MNLI/dev_mismatched.tsv'));
    assert.ok(mnli.examples[0]!.pair!.startsWith('"'));
    assert.deepEqual(mnli.labels, ['entailment', 'neutral', 'contradiction']);
    const sst = await openTaskDataset({ task: 'sst2', data: join(dir, 'glue'), split: 'val' });
    assert.equal(sst.task, 'sst2');
    assert.ok(sst.task === 'sst2' && sst.examples.every((e) => e.label === 0 || e.label === 1));
  });

  it('names the line of a bad GLUE label and a missing header column', async () => {
    const file = join(dir, 'glue', 'SST-2', 'train.tsv');
    appendFileSync(file, 'a good film\tpositive\n');
    await rejectsDas(() => openGlue(join(dir, 'glue'), 'sst2', 'train'), 'DAS_DATA', file, 'line 7', '"positive"');
    writeFileSync(file, readFileSync(file, 'utf8').replace('sentence\tlabel', 'text\tlabel'));
    await rejectsDas(() => openGlue(join(dir, 'glue'), 'sst2', 'train'), 'DAS_DATA', 'no column sentence');
  });

  it('rejects unknown tasks and splits', async () => {
    await rejectsDas(() => openTaskDataset({ task: 'coco' as never, data: dir }), 'DAS_INVALID_ARGUMENT', 'task');
    await rejectsDas(() => openTaskDataset({ task: 'sst2', data: join(dir, 'glue'), split: 'test' }), 'DAS_INVALID_ARGUMENT', 'split');
    await rejectsDas(() => openTaskDataset({ task: 'nlvr2', data: join(dir, 'nowhere') }), 'DAS_FILE', 'nowhere');
  });
});
