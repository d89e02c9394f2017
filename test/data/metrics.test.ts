import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accuracy, argmaxRows, retrievalRecall, vqaArgmaxScores, vqaOfficialAccuracy } from '../../lib/data/metrics.js';
import { normalizeVqaAnswer, processPunctuation } from '../../lib/data/vqa-normalize.js';
import { vqaPredictions, writeVqaResultFile } from '../../lib/data/vqa-results.js';
import { rejectsDas, tempDir } from './helpers.js';

describe('data/metrics', () => {
  it('VQA training score is the soft target of the arg-max answer', () => {
    const logits = [0.1, 2, -1, /* row 2 */ 5, 0, 0];
    const targets = [0, 0.6, 1, /* row 2 */ 0.3, 1, 0];
    assert.deepEqual([...vqaArgmaxScores(logits, targets, 3)], [0.6, 0.3]);
    assert.deepEqual([...argmaxRows([1, 1, 0], 3)], [0]); // first maximum on ties
  });

  it('official VQA accuracy averages min(1, matches/3) over leave-one-out annotator sets', () => {
    const ten = (xs: Array<[string, number]>) => xs.flatMap(([a, n]) => new Array<string>(n).fill(a));
    assert.equal(vqaOfficialAccuracy('red', ten([['red', 10]])), 1);
    // 2 of 10 say "red": leaving out a "red" annotator leaves 1 match (1/3), others leave 2 (2/3)
    assert.ok(Math.abs(vqaOfficialAccuracy('red', ten([['red', 2], ['blue', 8]])) - (2 * (1 / 3) + 8 * (2 / 3)) / 10) < 1e-12);
    // 3 of 10: 3 x (2/3) + 7 x 1 over 10
    assert.ok(Math.abs(vqaOfficialAccuracy('red', ten([['red', 3], ['blue', 7]])) - (3 * (2 / 3) + 7) / 10) < 1e-12);
    assert.equal(vqaOfficialAccuracy('green', ten([['red', 10]])), 0);
    // the prediction is normalised: article dropped, number word to digit, punctuation stripped
    assert.equal(vqaOfficialAccuracy('Two!', ten([['2', 10]])), 1);
    assert.equal(vqaOfficialAccuracy('the dog', ten([['dog', 5], ['cat', 5]])), 1);
  });

  it('normalises answers like the VQA toolkit', () => {
    assert.equal(normalizeVqaAnswer('The Two dogs.'), '2 dogs');
    assert.equal(normalizeVqaAnswer('dont know'), "don't know");
    assert.equal(normalizeVqaAnswer('1,000'), '1000');
    assert.equal(processPunctuation('3.5 m.'), '3.5 m');
    assert.equal(processPunctuation('yes/no'), 'yes no');
    assert.equal(processPunctuation('yes / no'), 'yes  no');
  });

  it('accuracy and Recall@K for image and text retrieval on a hand-computed matrix', () => {
    assert.equal(accuracy([1, 0, 2, 2], [1, 1, 2, 0]), 0.5);
    // 2 images x 3 texts; texts 0,1 belong to image 0, text 2 to image 1
    const scores = [
      0.9, 0.1, 0.8, // image 0: ranks texts 0, 2, 1
      0.2, 0.5, 0.3, // image 1: ranks texts 1, 2, 0
    ];
    const r = retrievalRecall(scores, 2, [0, 0, 1]);
    // IR: text0 -> image0 rank 0; text1 -> image1 (0.5) above image0 (0.1): rank 1; text2 -> image0 above image1: rank 1
    assert.deepEqual(r.ir, { r1: 1 / 3, r5: 1, r10: 1 });
    // TR: image0's best caption (text0) rank 0; image1's caption text2 rank 1
    assert.deepEqual(r.tr, { r1: 0.5, r5: 1, r10: 1 });
    assert.throws(() => retrievalRecall(scores, 3, [0, 0, 1]), /retrieval scores/);
  });

  it('writes VQA results in the official submission format, atomically', async () => {
    const { dir, cleanup } = tempDir('results');
    try {
      const results = vqaPredictions([0, 3, 1, /* */ 2, 0, 0], [458752000, 458752001], ['yes', 'no', '2']);
      assert.deepEqual(results, [{ question_id: 458752000, answer: 'no' }, { question_id: 458752001, answer: 'yes' }]);
      const file = join(dir, 'vqa_submit.json');
      await writeVqaResultFile(file, results);
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), results);
      await rejectsDas(() => writeVqaResultFile(file, [results[0]!, results[0]!]), 'DAS_DATA', 'question 458752000 twice');
    } finally {
      cleanup();
    }
  });
});
