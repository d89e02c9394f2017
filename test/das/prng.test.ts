import assert from 'node:assert/strict';
import { DasError } from '../../lib/errors.js';
import { Prng } from '../../lib/das/index.js';
import type { PrngState } from '../../lib/das/index.js';

describe('das/prng: xoshiro128** seeded by splitmix64', () => {
  it('matches the reference C implementation from a raw state', () => {
    // Outputs of the authors' reference xoshiro128starstar.c (compiled with gcc) from the state {1, 2, 3, 4}.
    const prng = Prng.fromState({ algorithm: 'xoshiro128**', words: [1, 2, 3, 4] });
    const outputs = Array.from({ length: 6 }, () => prng.nextUint32());
    assert.deepEqual(outputs, [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('seeds through splitmix64 like the reference (seed 42)', () => {
    const prng = new Prng(42);
    assert.deepEqual(prng.state().words, [803958421, 3184996902, 2993090819, 686809907]);
    const outputs = Array.from({ length: 6 }, () => prng.nextUint32());
    assert.deepEqual(outputs, [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222]);
  });

  it('gives the same stream for the same seed and a different one for another seed', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const draw = (p: Prng) => Array.from({ length: 20 }, () => p.nextDouble());
    const da = draw(a);
    assert.deepEqual(da, draw(b));
    assert.notDeepEqual(da, draw(c));
  });

  it('continues identically after a JSON save and restore mid-stream', () => {
    const original = new Prng(2024);
    for (let i = 0; i < 137; i++) original.nextDouble();
    const saved = JSON.parse(JSON.stringify(original.state())) as PrngState;
    const expected = [
      ...Array.from({ length: 50 }, () => original.nextDouble()),
      ...Array.from({ length: 50 }, () => original.nextInt(12)),
    ];
    const resumed = Prng.fromState(saved);
    const actual = [
      ...Array.from({ length: 50 }, () => resumed.nextDouble()),
      ...Array.from({ length: 50 }, () => resumed.nextInt(12)),
    ];
    assert.deepEqual(actual, expected);
    // restore() on an existing generator rewinds it too.
    original.restore(saved);
    assert.equal(original.nextDouble(), expected[0]);
  });

  it('draws doubles in [0, 1) and unbiased integers', () => {
    const prng = new Prng(1);
    const counts = new Array<number>(7).fill(0);
    const n = 70_000;
    for (let i = 0; i < n; i++) {
      const u = prng.nextDouble();
      assert.ok(u >= 0 && u < 1);
      counts[prng.nextInt(7)]!++;
    }
    const chi2 = counts.reduce((sum, c) => sum + (c - n / 7) ** 2 / (n / 7), 0);
    assert.ok(chi2 < 22.46, `chi-square ${chi2} over 6 degrees of freedom (p = 0.001 bound 22.46)`);
  });

  it('rejects bad seeds and bad saved states with DasErrors', () => {
    for (const seed of [-1, 1.5, Number.NaN, 2 ** 53]) {
      assert.throws(() => new Prng(seed), (e: unknown) => e instanceof DasError && /seed/.test(e.message));
    }
    const bad: unknown[] = [
      null,
      { algorithm: 'mt19937', words: [1, 2, 3, 4] },
      { algorithm: 'xoshiro128**', words: [1, 2, 3] },
      { algorithm: 'xoshiro128**', words: [1, 2, 3, 2 ** 32] },
      { algorithm: 'xoshiro128**', words: [0, 0, 0, 0] },
    ];
    for (const state of bad) {
      assert.throws(() => Prng.fromState(state as PrngState), DasError);
    }
    assert.throws(() => new Prng(1).nextInt(0), DasError);
  });
});
