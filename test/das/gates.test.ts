import assert from 'node:assert/strict';
import { DasError } from '../../lib/errors.js';
import {
  gateProbabilities,
  meanBaseline,
  rewardFromLoss,
  rewardsFromLosses,
  sigmoid,
  topKIndices,
  updateGates,
} from '../../lib/das/index.js';

const close = (actual: number, expected: number, tol = 1e-15) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} is not within ${tol} of ${expected}`);

describe('das/gates: probabilities', () => {
  it('is the logistic function, stable at both ends', () => {
    assert.equal(sigmoid(0), 0.5);
    close(sigmoid(Math.log(3)), 0.75);
    close(sigmoid(-Math.log(3)), 0.25);
    assert.equal(sigmoid(1000), 1);
    assert.equal(sigmoid(-1000), 0);
    assert.ok(sigmoid(-700) > 0 && sigmoid(-700) < 1e-300);
    assert.deepEqual(gateProbabilities([0, 0]), [0.5, 0.5]);
  });
});

describe('das/rewards: r = exp(-loss), b = mean(r)', () => {
  it('computes rewards in double precision', () => {
    assert.equal(rewardFromLoss(0), 1);
    close(rewardFromLoss(Math.LN2), 0.5);
    // In float32, exp(-1e-10) rounds to exactly 1; in double it keeps the difference.
    const r = rewardFromLoss(1e-10);
    assert.equal(Math.fround(r), 1);
    close(1 - r, 1e-10, 1e-16);
    assert.deepEqual(rewardsFromLosses([0, 0]), [1, 1]);
    close(meanBaseline([0.5, 0.25, 0.75]), 0.5);
  });

  it('rejects NaN and infinite losses, naming the sample', () => {
    assert.throws(() => rewardsFromLosses([0.1, Number.NaN]), (e: unknown) => e instanceof DasError && /sample 1/.test(e.message));
    assert.throws(() => rewardFromLoss(Number.POSITIVE_INFINITY), DasError);
    assert.throws(() => rewardFromLoss(-800), /exp\(-loss\) is finite/);
    assert.throws(() => meanBaseline([]), DasError);
  });
});

describe('das/gates: g_i += eta (r_j - b) p_i (1 - p_i)', () => {
  it('matches a hand-computed round', () => {
    // g = [0, ln 3, -ln 3, 0]      -> p = [1/2, 3/4, 1/4, 1/2], p(1-p) = [1/4, 3/16, 3/16, 1/4]
    // subsets {0,1}, {1,2}, {0,3} with losses ln 2, ln 4, ln 4/3 -> r = [1/2, 1/4, 3/4], b = 1/2
    // advantages r - b = [0, -1/4, +1/4], eta = 2:
    //   g0 += 2 * 0 * 1/4 + 2 * 1/4 * 1/4          = +0.125
    //   g1 += 2 * 0 * 3/16 + 2 * (-1/4) * 3/16     = -0.09375
    //   g2 += 2 * (-1/4) * 3/16                    = -0.09375
    //   g3 += 2 * 1/4 * 1/4                        = +0.125
    const rewards = rewardsFromLosses([Math.LN2, Math.log(4), Math.log(4 / 3)]);
    const { logits, baseline } = updateGates([0, Math.log(3), -Math.log(3), 0], [[0, 1], [1, 2], [0, 3]], rewards, 2);
    close(baseline, 0.5);
    close(logits[0]!, 0.125);
    close(logits[1]!, Math.log(3) - 0.09375);
    close(logits[2]!, -Math.log(3) - 0.09375);
    close(logits[3]!, 0.125);
  });

  it('takes p before the round: opposite advantages on one candidate cancel exactly', () => {
    // g = 0, subsets {0,1} (r = 1) and {0,2} (r = 1/2): b = 3/4, advantages +1/4 and -1/4.
    // Candidate 0: 1/4 * 1/4 - 1/4 * 1/4 = 0 exactly. Had p moved after the first sample,
    // it would end at about +6.1e-5 instead.
    const { logits } = updateGates([0, 0, 0], [[0, 1], [0, 2]], [1, 0.5], 1);
    assert.equal(logits[0], 0);
    close(logits[1]!, 0.0625);
    close(logits[2]!, -0.0625);
  });

  it('leaves the input untouched, and moves nothing when all rewards are equal', () => {
    const before = [0.3, -0.2, 0.1];
    const { logits } = updateGates(before, [[0], [1]], [0.4, 0.4], 1);
    assert.deepEqual(before, [0.3, -0.2, 0.1]);
    assert.deepEqual(logits, before);
  });

  it('rejects mismatched rewards and bad indices', () => {
    assert.throws(() => updateGates([0, 0], [[0], [1]], [1], 1), /one reward per subset/);
    assert.throws(() => updateGates([0, 0], [[2]], [1], 1), /candidate index/);
    assert.throws(() => updateGates([0, 0], [[0]], [Number.NaN], 1), /reward 0/);
  });
});

describe('das/gates: top-k', () => {
  it('ranks by value and breaks ties by the lower index', () => {
    assert.deepEqual(topKIndices([0.5, 1, 1, 0.5, 2], 3), [4, 1, 2]);
    assert.deepEqual(topKIndices([0.5, 1, 1, 0.5, 2], 4), [4, 1, 2, 0]);
    assert.deepEqual(topKIndices([0, 0, 0, 0], 2), [0, 1]);
    assert.deepEqual(topKIndices([-0, 0, -1e-300], 1), [0]);
    assert.deepEqual(topKIndices([-1, 3, 3, 3], 2), [1, 2]);
  });

  it('rejects NaN values and bad k', () => {
    assert.throws(() => topKIndices([0, Number.NaN], 1), DasError);
    assert.throws(() => topKIndices([0, 1], 3), DasError);
  });
});
