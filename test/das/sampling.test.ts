import assert from 'node:assert/strict';
import { DasError } from '../../lib/errors.js';
import {
  Prng,
  countSubsets,
  reachableSubsetCount,
  sampleDistinctSubsets,
  sampleWithoutReplacement,
} from '../../lib/das/index.js';

/**
 * Exact probability of each ordered draw sequence under sequential sampling without replacement,
 * by enumeration: P(i1, ..., ik) = prod_t w_it / (W - w_i1 - ... - w_i(t-1)).
 */
function exactSequences(weights: number[], k: number): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (prefix: number[], prob: number) => {
    if (prefix.length === k) {
      out.set(prefix.join(','), prob);
      return;
    }
    const left = weights.reduce((s, w, i) => (prefix.includes(i) ? s : s + w), 0);
    weights.forEach((w, i) => {
      if (!prefix.includes(i) && w > 0) walk([...prefix, i], (prob * w) / left);
    });
  };
  walk([], 1);
  return out;
}

/** Exact probability of each unordered subset (sorted key): the sum over its orderings. */
function exactSubsets(weights: number[], k: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [seq, p] of exactSequences(weights, k)) {
    const key = seq.split(',').map(Number).sort((a, b) => a - b).join(',');
    out.set(key, (out.get(key) ?? 0) + p);
  }
  return out;
}

function chiSquare(observed: Map<string, number>, expected: Map<string, number>, draws: number): number {
  for (const key of observed.keys()) assert.ok(expected.has(key), `drew ${key}, which has probability 0`);
  let chi2 = 0;
  for (const [key, p] of expected) chi2 += ((observed.get(key) ?? 0) - draws * p) ** 2 / (draws * p);
  return chi2;
}

function tally(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

// Upper 0.001 quantiles of chi-square; a correct sampler exceeds them once in a thousand seeds, and
// the seeds are fixed, so the tests are deterministic.
const CHI2_999 = { 5: 20.52, 59: 98.32 } as const;

describe('das/sampling: k candidates proportional to p, without replacement', () => {
  it('matches the exact subset probabilities for n = 4, k = 2 with unequal p', () => {
    const weights = [0.1, 0.2, 0.3, 0.4];
    const expected = exactSubsets(weights, 2);
    // Hand check of one cell: {0, 3} = 0.1 * 0.4 / 0.9 + 0.4 * 0.1 / 0.6.
    assert.ok(Math.abs(expected.get('0,3')! - (0.04 / 0.9 + 0.04 / 0.6)) < 1e-15);
    const rng = new Prng(11);
    const draws = 60_000;
    const keys = Array.from({ length: draws }, () =>
      sampleWithoutReplacement(weights, 2, rng)
        .sort((a, b) => a - b)
        .join(','),
    );
    const chi2 = chiSquare(tally(keys), expected, draws);
    assert.ok(chi2 < CHI2_999[5], `chi-square ${chi2.toFixed(2)} over 5 degrees of freedom`);

    // The same statistic has the power to reject a wrong sampler: uniform subsets fail it by far.
    const uniform = new Map([...expected.keys()].map((key) => [key, 1 / 6]));
    assert.ok(chiSquare(tally(keys), uniform, draws) > 10 * CHI2_999[5]);
  });

  it('matches the exact ordered-sequence probabilities for n = 5, k = 3 (draw order included)', () => {
    const weights = [0.9, 0.05, 0.5, 0.25, 0.7]; // sigmoid-like values, not summing to 1
    const expected = exactSequences(weights, 3);
    assert.equal(expected.size, 60);
    const rng = new Prng(5);
    const draws = 120_000;
    const keys = Array.from({ length: draws }, () => sampleWithoutReplacement(weights, 3, rng).join(','));
    const chi2 = chiSquare(tally(keys), expected, draws);
    assert.ok(chi2 < CHI2_999[59], `chi-square ${chi2.toFixed(2)} over 59 degrees of freedom`);
  });

  it('never draws a zero weight while enough positive ones remain, and draws the zeros uniformly after', () => {
    const rng = new Prng(3);
    for (let i = 0; i < 2000; i++) {
      const s = sampleWithoutReplacement([0, 1, 0, 2, 0.5], 2, rng);
      assert.ok(!s.includes(0) && !s.includes(2), `drew a zero weight: ${s}`);
    }
    const keys = Array.from({ length: 6000 }, () =>
      sampleWithoutReplacement([0, 1, 0, 2], 3, rng)
        .sort((a, b) => a - b)
        .join(','),
    );
    const counts = tally(keys);
    assert.deepEqual([...counts.keys()].sort(), ['0,1,3', '1,2,3']);
    assert.ok(Math.abs(counts.get('0,1,3')! - 3000) < 200);
  });

  it('counts subsets, and the subsets that given weights can reach', () => {
    assert.equal(countSubsets(12, 2), 66);
    assert.equal(countSubsets(24, 12), 2704156);
    assert.equal(countSubsets(4, 4), 1);
    assert.equal(countSubsets(4, 5), 0);
    assert.equal(reachableSubsetCount([0.5, 0.5, 0.5, 0.5], 2), 6);
    assert.equal(reachableSubsetCount([1, 1, 0, 0], 2), 1);
    assert.equal(reachableSubsetCount([1, 0, 0, 0], 2), 3);
  });

  it('rejects bad weights and sizes', () => {
    const rng = new Prng(0);
    assert.throws(() => sampleWithoutReplacement([0.5, -0.1], 1, rng), /sampling weight 1/);
    assert.throws(() => sampleWithoutReplacement([0.5, Number.NaN], 1, rng), DasError);
    assert.throws(() => sampleWithoutReplacement([0.5, 0.5], 3, rng), /subset size k/);
    assert.throws(() => sampleDistinctSubsets([0.5, 0.5], 1, 0, rng), /number of samples m/);
  });
});

describe('das/sampling: m distinct subsets', () => {
  it('never returns duplicates, each subset sorted and of size k', () => {
    const rng = new Prng(99);
    for (let round = 0; round < 500; round++) {
      const weights = Array.from({ length: 6 }, () => rng.nextDouble());
      const { subsets } = sampleDistinctSubsets(weights, 2, 5, rng);
      assert.equal(subsets.length, 5);
      const keys = subsets.map((s) => s.join(','));
      assert.equal(new Set(keys).size, keys.length, `duplicate among ${keys.join(' | ')}`);
      for (const s of subsets) {
        assert.equal(s.length, 2);
        assert.deepEqual(s, [...s].sort((a, b) => a - b));
      }
    }
  });

  it('resamples duplicates: the second subset follows p conditioned on differing from the first', () => {
    const weights = [0.1, 0.2, 0.3, 0.4];
    const single = exactSubsets(weights, 2);
    const expected = new Map<string, number>();
    for (const [a, pa] of single) {
      for (const [b, pb] of single) if (a !== b) expected.set(`${a}|${b}`, (pa * pb) / (1 - pa));
    }
    // Coarsened to the second subset alone (6 cells) so every cell is well filled.
    const second = new Map<string, number>();
    for (const [key, p] of expected) second.set(key.split('|')[1]!, (second.get(key.split('|')[1]!) ?? 0) + p);
    const rng = new Prng(21);
    const draws = 40_000;
    const keys: string[] = [];
    for (let i = 0; i < draws; i++) keys.push(sampleDistinctSubsets(weights, 2, 2, rng).subsets[1]!.join(','));
    const chi2 = chiSquare(tally(keys), second, draws);
    assert.ok(chi2 < CHI2_999[5], `chi-square ${chi2.toFixed(2)} over 5 degrees of freedom`);
  });

  it('caps m at the number of distinct k-subsets', () => {
    const rng = new Prng(4);
    const all = sampleDistinctSubsets([0.5, 0.5, 0.5], 2, 10, rng);
    assert.equal(all.requested, 10);
    assert.deepEqual(all.subsets.map((s) => s.join(',')).sort(), ['0,1', '0,2', '1,2']);
    assert.equal(sampleDistinctSubsets([0.3, 0.6], 2, 3, rng).subsets.length, 1);
    // Zero weights shrink what is reachable: only {0, 1} can ever be drawn here.
    assert.deepEqual(sampleDistinctSubsets([1, 1, 0, 0], 2, 3, rng).subsets, [[0, 1]]);
  });

  it('terminates when one subset holds almost all the mass (uniform fallback)', () => {
    const rng = new Prng(8);
    const weights = [1, 1e-300, 1e-300, 1e-300];
    const drawn = sampleDistinctSubsets(weights, 1, 3, rng, { maxAttempts: 100 });
    assert.equal(drawn.subsets.length, 3);
    assert.deepEqual(drawn.subsets[0], [0]);
    assert.equal(new Set(drawn.subsets.map((s) => s[0])).size, 3);
    assert.equal(drawn.fallbacks, 2);
  });
});
