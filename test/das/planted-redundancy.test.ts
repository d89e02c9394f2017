/**
 * Planted redundancy at the policy level: a synthetic "model" whose validation loss is low
 * exactly when every skipped layer lies in a planted set of redundant layers. Skipping any other
 * layer costs that layer's damage (drawn per seed in [0.1, 0.5]), and every evaluation carries
 * seeded Gaussian noise (sd 0.05), as a validation batch would. DAS must find a skip set inside
 * the planted set for most seeds; the random-sampling baseline, over the same seeds, mostly does
 * not. (The same check on a tiny RoBERTa with no-op layers comes with the native model.)
 */
import assert from 'node:assert/strict';
import { Prng, SearchPolicy, randomSkipSet, sampleUniform } from '../../lib/das/index.js';

const EN = Array.from({ length: 12 }, (_, i) => `En${i}`);
const SEEDS = 50;
const STEPS_PER_EPOCH = 300; // 3 epochs, 1 of warm-up, turn 10: 60 reward rounds

function gaussian(rng: Prng): number {
  const u = 1 - rng.nextDouble();
  const v = rng.nextDouble();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

interface Outcome {
  readonly das: boolean;
  readonly random: boolean;
}

async function plantedRun(seed: number, skipNum: number, plantedSize: number): Promise<Outcome> {
  const world = new Prng(1_000_003 + seed);
  const planted = new Set(sampleUniform(EN, plantedSize, world));
  const damage = new Map(EN.map((name) => [name, planted.has(name) ? 0 : 0.1 + 0.4 * world.nextDouble()]));
  const noise = new Prng(2_000_003 + seed);
  const evaluate = (skip: readonly string[]) => 0.5 + skip.reduce((sum, name) => sum + damage.get(name)!, 0) + 0.05 * gaussian(noise);

  const policy = new SearchPolicy({ candidates: EN, skipNum, seed });
  while (!policy.done) {
    for (let i = 0; i < STEPS_PER_EPOCH; i++) {
      policy.beginStep();
      if (policy.endStep()) await policy.rewardRound(evaluate);
    }
    policy.endEpoch();
  }
  const inPlanted = (set: readonly string[]) => set.length === skipNum && set.every((name) => planted.has(name));
  return { das: inPlanted(policy.result().skipped), random: inPlanted(randomSkipSet(EN, skipNum, seed)) };
}

describe('das/planted redundancy (synthetic, policy level)', () => {
  const cases: [skipNum: number, plantedSize: number][] = [
    [1, 1],
    [2, 2],
    [3, 3],
    [2, 4],
  ];
  for (const [skipNum, plantedSize] of cases) {
    it(`finds ${skipNum} of ${plantedSize} planted redundant layers among 12 far more often than random sampling`, async () => {
      let das = 0;
      let random = 0;
      for (let seed = 0; seed < SEEDS; seed++) {
        const outcome = await plantedRun(seed, skipNum, plantedSize);
        das += Number(outcome.das);
        random += Number(outcome.random);
      }
      console.log(`      k=${skipNum}, planted ${plantedSize}: DAS ${das}/${SEEDS}, random ${random}/${SEEDS}`);
      assert.ok(das >= 0.8 * SEEDS, `DAS found the planted layers for only ${das} of ${SEEDS} seeds`);
      assert.ok(das - random >= 0.6 * SEEDS, `DAS ${das} vs random ${random} of ${SEEDS} seeds`);
    });
  }
});
