import assert from 'node:assert/strict';
import { learningRate } from '../../lib/train/lr-schedule.js';

describe('learning-rate schedule (warm-up 10%, then linear decay to 0)', () => {
  it('rises linearly over the warm-up steps, peaks, then decays to zero', () => {
    // 100 steps, peak 1: warm-up over steps 0..9 reaching 1 at step 9, then (100 - step) / 90
    assert.equal(learningRate(0, 100, 1), 0.1);
    assert.equal(learningRate(4, 100, 1), 0.5);
    assert.equal(learningRate(9, 100, 1), 1);
    assert.equal(learningRate(10, 100, 1), 1);
    assert.equal(learningRate(55, 100, 1), 0.5);
    assert.equal(learningRate(99, 100, 1), 1 / 90);
    assert.equal(learningRate(100, 100, 1), 0);
  });

  it('scales with the peak and handles runs shorter than the warm-up', () => {
    assert.equal(learningRate(10, 100, 5e-4), 5e-4);
    assert.equal(learningRate(0, 5, 2), 2); // floor(0.5) = 0 warm-up steps: straight to decay
    assert.equal(learningRate(4, 5, 2), 0.4);
  });
});
