import assert from 'node:assert/strict';
import { DasError } from '../../lib/errors.js';
import { SearchPolicy } from '../../lib/das/index.js';
import type { EvaluateSubnetwork, SearchPolicyState } from '../../lib/das/index.js';
import { drive, syntheticLoss } from './search-driver.js';

const EN = Array.from({ length: 12 }, (_, i) => `En${i}`);
const evaluate: EvaluateSubnetwork = (skip, info) => syntheticLoss(skip, info.round);
const viaJson = (state: SearchPolicyState) => JSON.parse(JSON.stringify(state)) as SearchPolicyState;

describe('das/search-policy: schedule', () => {
  it('skips k sampled candidates every step and runs no reward round during the warm-up epoch', async () => {
    const policy = new SearchPolicy({ candidates: EN, skipNum: 2, seed: 1 });
    const dueAfter: number[] = [];
    const announced: number[] = [];
    let evaluations = 0;
    const counting: EvaluateSubnetwork = (skip, info) => {
      evaluations++;
      return evaluate(skip, info);
    };
    await drive(policy, {
      stepsPerEpoch: [25],
      evaluate: counting,
      onStep: (plan) => {
        assert.equal(plan.skip.length, 2);
        assert.equal(new Set(plan.skip).size, 2);
        assert.deepEqual(plan.skip, plan.skipIndices.map((i) => EN[i]));
        if (plan.rewardRoundAfter) announced.push(plan.step + 1);
      },
    });
    for (const record of policy.trajectory) dueAfter.push(record.step);
    // Warm-up: steps 1..25. Then a round after every 10th post-warm-up step, counted across epochs.
    assert.deepEqual(dueAfter, [35, 45, 55, 65, 75]);
    assert.deepEqual(announced, dueAfter);
    assert.deepEqual(
      policy.trajectory.map((r) => [r.epoch, r.stepInEpoch]),
      [[1, 10], [1, 20], [2, 5], [2, 15], [2, 25]],
    );
    assert.equal(evaluations, 5 * 3);
    assert.equal(policy.step, 75);
    assert.equal(policy.epoch, 3);
    assert.ok(policy.done);
  });

  it('counts post-warm-up steps across uneven epochs and honours warmupEpochs = 0 and turn', async () => {
    const policy = new SearchPolicy({ candidates: EN, skipNum: 1, warmupEpochs: 0, epochs: 2, turn: 4 });
    await drive(policy, { stepsPerEpoch: [6, 7], evaluate });
    assert.deepEqual(policy.trajectory.map((r) => r.step), [4, 8, 12]);
  });

  it('records the choice at each epoch end: top-k by logit, first candidates while all logits are 0', async () => {
    const policy = new SearchPolicy({ candidates: EN, skipNum: 3, seed: 5 });
    await drive(policy, { stepsPerEpoch: [40], evaluate });
    const choices = policy.choices;
    assert.deepEqual(choices.map((c) => c.epoch), [0, 1, 2]);
    assert.deepEqual(choices.map((c) => c.step), [40, 80, 120]);
    assert.deepEqual(choices[0]!.skipped, ['En0', 'En1', 'En2']);
    assert.deepEqual(choices[0]!.logits, new Array(12).fill(0));
    const last = policy.trajectory.at(-1)!;
    assert.deepEqual(choices[2]!.logits, last.logits);
    const ranked = [...last.logits.keys()].sort((a, b) => last.logits[b]! - last.logits[a]! || a - b);
    assert.deepEqual(choices[2]!.skipped, ranked.slice(0, 3).sort((a, b) => a - b).map((i) => EN[i]));
    assert.deepEqual(policy.result().skipped, choices[2]!.skipped);
    // The synthetic loss favours skipping low-index layers.
    assert.ok(policy.result().gates['En0']! > policy.result().gates['En11']!);
  });

  it('evaluates m distinct subsets per round with the pre-round p, and records the update', async () => {
    const policy = new SearchPolicy({ candidates: ['a', 'b', 'c'], skipNum: 2, samples: 5, warmupEpochs: 0, turn: 1, epochs: 1 });
    const seen: string[][] = [];
    await drive(policy, {
      stepsPerEpoch: [3],
      evaluate: (skip) => {
        seen.push([...skip]);
        return skip.includes('a') ? 0.1 : 1;
      },
    });
    assert.equal(policy.trajectory.length, 3);
    for (const record of policy.trajectory) {
      // m = 5 is capped at C(3, 2) = 3.
      assert.equal(record.subsets.length, 3);
      assert.equal(new Set(record.subsets.map((s) => s.join())).size, 3);
      assert.deepEqual(record.rewards, record.losses.map((l) => Math.exp(-l)));
      assert.equal(record.baseline, record.rewards.reduce((a, b) => a + b) / 3);
      assert.equal(record.fallbacks, 0);
    }
    assert.equal(seen.length, 9);
    const g = policy.logits;
    assert.ok(g[0]! > 0 && g[1]! < g[0]! && g[2]! < g[0]!);
  });
});

describe('das/search-policy: call order and failures', () => {
  it('refuses steps while a reward round is due and rounds that are not due', async () => {
    const policy = new SearchPolicy({ candidates: EN, skipNum: 2, warmupEpochs: 0, turn: 1 });
    await assert.rejects(policy.rewardRound(evaluate), /no reward round is due/);
    policy.beginStep();
    assert.throws(() => policy.beginStep(), /during a step/);
    assert.throws(() => policy.endEpoch(), /during a step/);
    assert.equal(policy.endStep(), true);
    assert.throws(() => policy.beginStep(), /reward round is due/);
    assert.throws(() => policy.endEpoch(), /reward round is due/);
    await policy.rewardRound(evaluate);
    assert.throws(() => policy.endStep(), /without a step in progress/);
    policy.endEpoch();
    assert.throws(() => policy.endEpoch(), /before any step of epoch 1/);
  });

  it('leaves a failed round pending and retries it with the same subsets', async () => {
    const policy = new SearchPolicy({ candidates: EN, skipNum: 2, warmupEpochs: 0, turn: 1, seed: 3 });
    policy.beginStep();
    policy.endStep();
    const first: string[][] = [];
    await assert.rejects(
      policy.rewardRound((skip) => {
        first.push([...skip]);
        return first.length === 2 ? Number.NaN : 0.5;
      }),
      (e: unknown) => e instanceof DasError && /loss returned by evaluate for skip set \[En\d+, En\d+\]/.test(e.message),
    );
    assert.ok(policy.rewardRoundPending);
    assert.deepEqual(policy.logits, new Array(12).fill(0));
    const retry: string[][] = [];
    await policy.rewardRound((skip) => {
      retry.push([...skip]);
      return 0.5;
    });
    assert.deepEqual(retry.slice(0, 2), first);
    assert.ok(!policy.rewardRoundPending);
  });

  it('stops after the last epoch', async () => {
    const policy = new SearchPolicy({ candidates: EN, skipNum: 2, epochs: 1, warmupEpochs: 0, turn: 100 });
    await drive(policy, { stepsPerEpoch: [2], evaluate });
    assert.throws(() => policy.beginStep(), /after the last of 1 epochs/);
  });
});

describe('das/search-policy: state() and restore()', () => {
  const config = { candidates: EN, skipNum: 2, seed: 77, turn: 3 } as const;
  const stepsPerEpoch = [20, 17, 23];

  async function uninterrupted(): Promise<SearchPolicyState> {
    const policy = new SearchPolicy(config);
    await drive(policy, { stepsPerEpoch, evaluate });
    return policy.state();
  }

  it('is deterministic for a seed', async () => {
    assert.deepEqual(await uninterrupted(), await uninterrupted());
    const other = new SearchPolicy({ ...config, seed: 78 });
    await drive(other, { stepsPerEpoch, evaluate });
    assert.notDeepEqual(other.state().trajectory, (await uninterrupted()).trajectory);
  });

  for (const stopAt of [0, 7, 20, 26, 29, 45, 59, 60]) {
    it(`resumes after ${stopAt} steps and ends exactly like an uninterrupted run`, async () => {
      const expected = await uninterrupted();
      const first = new SearchPolicy(config);
      await drive(first, { stepsPerEpoch, evaluate, stopWhen: (p) => p.step === stopAt });
      const saved = viaJson(first.state());
      const resumed = SearchPolicy.fromState(saved);
      await drive(resumed, { stepsPerEpoch, evaluate });
      assert.deepEqual(resumed.state(), expected);
      assert.deepEqual(resumed.result().skipped, expected.choices.at(-1)!.skipped);
    });
  }

  it('snapshots the step boundary when saved during a step or during a reward round', async () => {
    const expected = await uninterrupted();
    let midStep: SearchPolicyState | undefined;
    let midRound: SearchPolicyState | undefined;
    const first = new SearchPolicy(config);
    await drive(first, {
      stepsPerEpoch,
      onStep: (plan) => {
        if (plan.step === 33) midStep = viaJson(first.state());
      },
      evaluate: (skip, info) => {
        if (info.round === 4 && info.sample === 1) midRound = viaJson(first.state());
        return evaluate(skip, info);
      },
    });
    assert.equal(midStep!.step, 33);
    assert.ok(midRound!.rewardRoundPending);
    assert.equal(midRound!.trajectory.length, 4);
    for (const saved of [midStep!, midRound!]) {
      const resumed = SearchPolicy.fromState(saved);
      await drive(resumed, { stepsPerEpoch, evaluate });
      assert.deepEqual(resumed.state(), expected);
    }
  });

  it('refuses a state from a different configuration or a corrupt one', async () => {
    const policy = new SearchPolicy(config);
    await drive(policy, { stepsPerEpoch, evaluate, stopWhen: (p) => p.step === 30 });
    const saved = viaJson(policy.state());
    const other = new SearchPolicy({ ...config, turn: 4 });
    assert.throws(() => other.restore(saved), /search option turn of the saved state.*received 3/);
    const renamed = new SearchPolicy({ ...config, candidates: [...EN.slice(0, 11), 'En99'] });
    assert.throws(() => renamed.restore(saved), /candidates/);
    assert.throws(() => policy.restore({ ...saved, logits: saved.logits.slice(1) }), /logits/);
    assert.throws(() => policy.restore({ ...saved, version: 2 } as unknown as SearchPolicyState), /version/);
    assert.throws(() => policy.restore({ ...saved, choices: [] }), /choices/);
    assert.throws(() => SearchPolicy.fromState({ ...saved, config: { ...saved.config, skipNum: 12 } }), /invalid configuration.*skipNum/);
  });

  it('hands out copies: mutating a state or a record does not change the policy', async () => {
    const policy = new SearchPolicy(config);
    await drive(policy, { stepsPerEpoch, evaluate, stopWhen: (p) => p.step === 40 });
    const state = policy.state();
    (state.logits as number[])[0] = 123;
    assert.notEqual(policy.logits[0], 123);
    assert.throws(() => {
      (policy.trajectory[0]!.logits as number[])[0] = 5;
    }, TypeError);
  });
});
