import assert from 'node:assert/strict';
import { DasError } from '../../lib/errors.js';
import { SearchPolicy, resolveSearchPolicyConfig, resolveSkipSet, randomSkipSet, SEARCH_POLICY_DEFAULTS } from '../../lib/das/index.js';
import type { SearchPolicyConfig } from '../../lib/das/index.js';

const EN = Array.from({ length: 12 }, (_, i) => `En${i}`);
const METER_FUSION = [...Array.from({ length: 6 }, (_, i) => `FL${i}`), ...Array.from({ length: 6 }, (_, i) => `FV${i}`)];

describe('das/search-config: validation before any work', () => {
  it('fills in the defaults of the paper search', () => {
    const resolved = resolveSearchPolicyConfig({ candidates: EN, skipNum: 2 });
    assert.deepEqual(resolved, { candidates: EN, skipNum: 2, ...SEARCH_POLICY_DEFAULTS });
    assert.deepEqual(SEARCH_POLICY_DEFAULTS, { epochs: 3, warmupEpochs: 1, turn: 10, samples: 3, gateLr: 1, seed: 0 });
    // Any model's names work; nothing is hard-coded.
    assert.equal(new SearchPolicy({ candidates: METER_FUSION, skipNum: 11 }).candidates.length, 12);
  });

  const bad: [string, Partial<Record<keyof SearchPolicyConfig | 'turns', unknown>>, RegExp][] = [
    ['k = 0', { skipNum: 0 }, /skipNum but received 0/],
    ['k = number of candidates', { skipNum: 12 }, /integer in 1\.\.11 for the search option skipNum but received 12/],
    ['k larger than the candidates', { skipNum: 13 }, /skipNum/],
    ['fractional k', { skipNum: 1.5 }, /skipNum/],
    ['missing k', { skipNum: undefined }, /skipNum but received undefined/],
    ['one candidate', { candidates: ['En0'], skipNum: 1 }, /at least 2 layer names for the search option candidates/],
    ['repeated candidate', { candidates: ['En0', 'En1', 'En0'] }, /candidates\[2\]/],
    ['empty candidate name', { candidates: ['En0', ''] , skipNum: 1 }, /candidates\[1\]/],
    ['epochs 0', { epochs: 0 }, /epochs/],
    ['warm-up as long as the search', { warmupEpochs: 3 }, /integer in 0\.\.2 for the search option warmupEpochs/],
    ['turn 0', { turn: 0 }, /turn/],
    ['samples 0', { samples: 0 }, /integer >= 1 for the search option samples/],
    ['gate lr 0', { gateLr: 0 }, /gateLr/],
    ['gate lr NaN', { gateLr: Number.NaN }, /gateLr/],
    ['negative seed', { seed: -1 }, /seed/],
    ['misspelt option', { turns: 5 }, /one of candidates, skipNum.*for a search option name but received "turns"/],
  ];
  for (const [name, change, message] of bad) {
    it(`rejects ${name}`, () => {
      const config = { candidates: EN, skipNum: 2, ...change } as SearchPolicyConfig;
      assert.throws(
        () => new SearchPolicy(config),
        (e: unknown) => e instanceof DasError && e.code === 'DAS_INVALID_ARGUMENT' && message.test(e.message),
      );
    });
  }
});

describe('das/skip-set and the random baseline', () => {
  it('resolves skip sets by name and rejects unknown or repeated names', () => {
    assert.deepEqual(resolveSkipSet(EN, ['En10', 'En3']), [3, 10]);
    assert.throws(() => resolveSkipSet(EN, ['En12']), /one of En0, En1, .*En11 for layer "En12" in the skip set/);
    assert.throws(() => resolveSkipSet(EN, ['En1', 'En1']), /each layer at most once/);
  });

  it('draws k uniformly random candidates, reproducibly per seed', () => {
    assert.deepEqual(randomSkipSet(EN, 3, 9), randomSkipSet(EN, 3, 9));
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 6600; seed++) {
      const set = randomSkipSet(EN, 2, seed);
      assert.equal(set.length, 2);
      assert.ok(EN.indexOf(set[0]!) < EN.indexOf(set[1]!));
      counts.set(set.join(), (counts.get(set.join()) ?? 0) + 1);
    }
    // 66 pairs, 100 expected each: chi-square over 65 degrees of freedom, p = 0.001 bound 107.
    assert.equal(counts.size, 66);
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - 100) ** 2 / 100, 0);
    assert.ok(chi2 < 107, `chi-square ${chi2}`);
    assert.throws(() => randomSkipSet(EN, 12, 0), /number of layers to skip/);
  });
});
