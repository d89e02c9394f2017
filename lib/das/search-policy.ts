/**
 * The DAS search controller. It owns the gates, the generator and the schedule; the
 * training loop owns the model and the data and asks it, step by step, what to do:
 *
 *   const policy = new SearchPolicy({ candidates: model.layerNames, skipNum: 2, seed });
 *   while (!policy.done) {
 *     for (const batch of trainBatches(policy.epoch, policy.stepInEpoch)) {
 *       if (policy.rewardRoundPending) await policy.rewardRound(evaluateOn(nextValBatch()));
 *       const plan = policy.beginStep();
 *       await model.trainStep(batch, plan.skip);
 *       if (policy.endStep()) await policy.rewardRound(evaluateOn(nextValBatch()));
 *       checkpoint({ policy: policy.state(), ... });
 *     }
 *     policy.endEpoch();
 *   }
 *   const { skipped } = policy.result();
 *
 * Step counting: a step is one beginStep()/endStep() pair. `step` counts completed steps over the
 * whole search and `stepInEpoch` within the current epoch. Steps of the first `warmupEpochs`
 * epochs never trigger a reward round; every later step increments `stepsSinceWarmup`, which is
 * never reset at epoch ends, and a round is due after each step that makes it a multiple of
 * `turn`. With a 25-step warm-up epoch and turn 10 the rounds follow completed steps 35, 45, 55...,
 * whatever the later epochs' lengths; an epoch end neither adds nor drops a round. With gradient
 * accumulation the loop decides what a step is; the natural unit is one optimizer step whose
 * micro-batches share the step's subnetwork.
 *
 * `state()` always describes a step boundary: called during a step or a reward round it returns
 * the state from before that step or round (the generator included), so a resumed run redoes the
 * interrupted work with the same draws. A reward round that fails (the evaluate callback throws)
 * leaves the policy as it was before the round, still pending, and can be retried.
 */
import { DasError, invalidArgument } from '../errors.js';
import { gateProbabilities, initialLogits, topKIndices, updateGates } from './gates.js';
import { Prng, validatePrngState } from './prng.js';
import { rewardFromLoss } from './rewards.js';
import { sampleDistinctSubsets, sampleWithoutReplacement } from './sampling.js';
import { configDifference, resolveSearchPolicyConfig } from './search-config.js';
import type { ResolvedSearchPolicyConfig, SearchPolicyConfig } from './search-config.js';
import type { EpochChoice, GateUpdateRecord, SearchPolicyState, SearchResult, StepPlan } from './search-records.js';
import { skipSetNames } from './skip-set.js';

/** Details of one evaluation in a reward round, for logging by the loop. */
export interface EvaluationInfo {
  /** 0-based reward round. */
  readonly round: number;
  /** 0-based index of the sample within the round. */
  readonly sample: number;
  /** The skip set as candidate indices, ascending. */
  readonly skipIndices: readonly number[];
}

/**
 * Evaluates the model with `skip` skipped, without gradients, on the round's validation batch
 * (the same batch for every sample of a round), and returns the summed task loss.
 */
export type EvaluateSubnetwork = (skip: readonly string[], info: EvaluationInfo) => Promise<number> | number;

function misuse(message: string): DasError {
  return new DasError('DAS_INVALID_ARGUMENT', message);
}

export class SearchPolicy {
  readonly config: ResolvedSearchPolicyConfig;
  private rng: Prng;
  private gates: number[];
  private epochIndex = 0;
  private stepCount = 0;
  private epochSteps = 0;
  private warmSteps = 0;
  private pending = false;
  private records: GateUpdateRecord[] = [];
  private epochChoices: EpochChoice[] = [];
  /** Generator state at the start of the step or round in progress; null at a step boundary. */
  private boundaryRng: ReturnType<Prng['state']> | null = null;
  private inStep = false;
  private busy = false;

  constructor(config: SearchPolicyConfig) {
    this.config = deepFreeze(resolveSearchPolicyConfig(config));
    this.rng = new Prng(this.config.seed);
    this.gates = initialLogits(this.config.candidates.length);
  }

  /** A policy continuing from a saved state (its configuration is taken from the state). */
  static fromState(state: SearchPolicyState): SearchPolicy {
    const policy = new SearchPolicy(savedConfig(state));
    policy.restore(state);
    return policy;
  }

  get candidates(): readonly string[] {
    return this.config.candidates;
  }
  /** 0-based current epoch; equals `config.epochs` when the search is done. */
  get epoch(): number {
    return this.epochIndex;
  }
  /** Training steps completed over the whole search. */
  get step(): number {
    return this.stepCount;
  }
  /** Training steps completed in the current epoch. */
  get stepInEpoch(): number {
    return this.epochSteps;
  }
  get done(): boolean {
    return this.epochIndex >= this.config.epochs;
  }
  /** True between an endStep() that called for a reward round and that round. */
  get rewardRoundPending(): boolean {
    return this.pending;
  }
  get logits(): number[] {
    return this.gates.slice();
  }
  get probabilities(): number[] {
    return gateProbabilities(this.gates);
  }
  /** Every gate update so far, oldest first (the content of `gates.jsonl`). */
  get trajectory(): readonly GateUpdateRecord[] {
    return this.records;
  }
  get choices(): readonly EpochChoice[] {
    return this.epochChoices;
  }

  /** Samples the subnetwork to skip at the next training step (k candidates, proportional to p). */
  beginStep(): StepPlan {
    this.assertBoundary('beginStep()');
    if (this.done) throw misuse(`SearchPolicy.beginStep() called after the last of ${this.config.epochs} epochs ended`);
    if (this.pending) throw misuse('SearchPolicy.beginStep() called while a reward round is due; await rewardRound() first');
    this.boundaryRng = this.rng.state();
    const drawn = sampleWithoutReplacement(this.probabilities, this.config.skipNum, this.rng);
    const skipIndices = drawn.sort((a, b) => a - b);
    this.inStep = true;
    return {
      step: this.stepCount,
      epoch: this.epochIndex,
      stepInEpoch: this.epochSteps,
      skip: skipSetNames(this.candidates, skipIndices),
      skipIndices,
      rewardRoundAfter: this.roundDueAfter(this.warmSteps + 1),
    };
  }

  /** Marks the current step done; returns whether a reward round is now due. */
  endStep(): boolean {
    if (!this.inStep || this.busy) throw misuse('SearchPolicy.endStep() called without a step in progress');
    this.inStep = false;
    this.boundaryRng = null;
    this.stepCount++;
    this.epochSteps++;
    if (this.epochIndex >= this.config.warmupEpochs) {
      this.warmSteps++;
      this.pending = this.roundDueAfter(this.warmSteps);
    }
    return this.pending;
  }

  /**
   * The reward round that is due: samples m distinct subnetworks from the pre-round p, evaluates
   * them one at a time with `evaluate`, and updates the gates. Returns the round's record.
   */
  async rewardRound(evaluate: EvaluateSubnetwork): Promise<GateUpdateRecord> {
    this.assertBoundary('rewardRound()');
    if (!this.pending) throw misuse('SearchPolicy.rewardRound() called while no reward round is due');
    if (typeof evaluate !== 'function') throw invalidArgument('the evaluate callback', 'a function', evaluate);
    const before = this.rng.state();
    this.boundaryRng = before;
    this.busy = true;
    try {
      const { skipNum, samples, gateLr } = this.config;
      const round = this.records.length;
      const drawn = sampleDistinctSubsets(this.probabilities, skipNum, samples, this.rng);
      const subsets = drawn.subsets.map((indices) => skipSetNames(this.candidates, indices));
      const losses: number[] = [];
      const rewards: number[] = [];
      for (const [j, indices] of drawn.subsets.entries()) {
        const loss = await evaluate(subsets[j]!, { round, sample: j, skipIndices: indices.slice() });
        rewards.push(rewardFromLoss(loss, `the loss returned by evaluate for skip set [${subsets[j]!.join(', ')}]`));
        losses.push(loss);
      }
      const { logits, baseline } = updateGates(this.gates, drawn.subsets, rewards, gateLr);
      const record: GateUpdateRecord = deepFreeze({
        round,
        step: this.stepCount,
        epoch: this.epochIndex,
        stepInEpoch: this.epochSteps,
        subsets,
        losses,
        rewards,
        baseline,
        logits,
        probs: gateProbabilities(logits),
        fallbacks: drawn.fallbacks,
      });
      this.gates = logits.slice();
      this.records.push(record);
      this.pending = false;
      return record;
    } catch (error) {
      this.rng.restore(before);
      throw error;
    } finally {
      this.busy = false;
      this.boundaryRng = null;
    }
  }

  /** Ends the current epoch and records the current choice: the top-k candidates by logit. */
  endEpoch(): EpochChoice {
    this.assertBoundary('endEpoch()');
    if (this.done) throw misuse(`SearchPolicy.endEpoch() called after the last of ${this.config.epochs} epochs ended`);
    if (this.pending) throw misuse('SearchPolicy.endEpoch() called while a reward round is due; await rewardRound() first');
    if (this.epochSteps === 0) throw misuse(`SearchPolicy.endEpoch() called before any step of epoch ${this.epochIndex}`);
    const choice: EpochChoice = deepFreeze({
      epoch: this.epochIndex,
      step: this.stepCount,
      skipped: this.choice(),
      logits: this.logits,
      probs: this.probabilities,
    });
    this.epochChoices.push(choice);
    this.epochIndex++;
    this.epochSteps = 0;
    return choice;
  }

  /** The current choice: the k candidates with the largest logits (ties: lower index), in candidate order. */
  choice(): string[] {
    return skipSetNames(this.candidates, topKIndices(this.gates, this.config.skipNum));
  }

  /** The outcome as the `das search --json` line reports it. */
  result(): SearchResult {
    const probs = this.probabilities;
    return {
      skipped: this.choice(),
      gates: Object.fromEntries(this.candidates.map((name, i) => [name, this.gates[i]!])),
      probs: Object.fromEntries(this.candidates.map((name, i) => [name, probs[i]!])),
      rewardUpdates: this.records.length,
      choices: this.epochChoices,
    };
  }

  /** The full state as plain JSON, as of the last step boundary (see the file comment). */
  state(): SearchPolicyState {
    return structuredClone({
      version: 1 as const,
      config: this.config,
      prng: this.boundaryRng ?? this.rng.state(),
      logits: this.gates,
      epoch: this.epochIndex,
      step: this.stepCount,
      stepInEpoch: this.epochSteps,
      stepsSinceWarmup: this.warmSteps,
      rewardRoundPending: this.pending,
      trajectory: this.records,
      choices: this.epochChoices,
    });
  }

  /** Continues from a saved state; its configuration must equal this policy's. Drops a step in progress. */
  restore(state: SearchPolicyState): void {
    if (this.busy) throw misuse('SearchPolicy.restore() called while a reward round is running');
    validateState(state, this.config);
    const copy = structuredClone(state);
    this.rng.restore(copy.prng);
    this.gates = copy.logits.slice();
    this.epochIndex = copy.epoch;
    this.stepCount = copy.step;
    this.epochSteps = copy.stepInEpoch;
    this.warmSteps = copy.stepsSinceWarmup;
    this.pending = copy.rewardRoundPending;
    this.records = copy.trajectory.map(deepFreeze);
    this.epochChoices = copy.choices.map(deepFreeze);
    this.inStep = false;
    this.boundaryRng = null;
  }

  private roundDueAfter(stepsSinceWarmup: number): boolean {
    return this.epochIndex >= this.config.warmupEpochs && stepsSinceWarmup % this.config.turn === 0;
  }

  private assertBoundary(call: string): void {
    if (this.busy) throw misuse(`SearchPolicy.${call} called while a reward round is running`);
    if (this.inStep) throw misuse(`SearchPolicy.${call} called during a step; call endStep() first`);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The configuration inside a saved state, validated like a fresh one. */
function savedConfig(state: unknown): ResolvedSearchPolicyConfig {
  if (typeof state !== 'object' || state === null) throw invalidArgument('the search state', 'an object', state);
  const { version, config } = state as { version?: unknown; config?: unknown };
  if (version !== 1) throw invalidArgument('the search state version', '1', version);
  try {
    return resolveSearchPolicyConfig(config as SearchPolicyConfig);
  } catch (error) {
    const reason = (error as Error).message;
    throw new DasError('DAS_INVALID_ARGUMENT', `The search state holds an invalid configuration: ${reason}`);
  }
}

/** Checks a saved state against the configuration of the policy that is to continue it. */
function validateState(state: unknown, config: ResolvedSearchPolicyConfig): asserts state is SearchPolicyState {
  const saved = savedConfig(state);
  const s = state as Partial<Record<keyof SearchPolicyState, unknown>>;
  const differs = configDifference(saved, config);
  if (differs !== undefined) {
    // Candidate lists print as their names; describe() would only give an array's length.
    const value = (c: ResolvedSearchPolicyConfig) =>
      differs === 'candidates' ? c.candidates.join(',') : c[differs as keyof ResolvedSearchPolicyConfig];
    throw invalidArgument(
      `the search option ${differs} of the saved state`,
      `the running search's value ${String(value(config))}`,
      value(saved),
    );
  }
  validatePrngState(s.prng, 'the search state prng');
  const n = config.candidates.length;
  const finite = (g: unknown) => typeof g === 'number' && Number.isFinite(g);
  if (!Array.isArray(s.logits) || s.logits.length !== n || !s.logits.every(finite)) {
    throw invalidArgument('the search state logits', `an array of ${n} finite numbers`, s.logits);
  }
  const counter = (key: 'epoch' | 'step' | 'stepInEpoch' | 'stepsSinceWarmup', max: number) => {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
      throw invalidArgument(`the search state ${key}`, `an integer in 0..${max}`, v);
    }
    return v;
  };
  const epoch = counter('epoch', config.epochs);
  const step = counter('step', Number.MAX_SAFE_INTEGER);
  counter('stepInEpoch', step);
  counter('stepsSinceWarmup', step);
  if (typeof s.rewardRoundPending !== 'boolean') {
    throw invalidArgument('the search state rewardRoundPending', 'a boolean', s.rewardRoundPending);
  }
  if (!Array.isArray(s.trajectory)) throw invalidArgument('the search state trajectory', 'an array', s.trajectory);
  if (!Array.isArray(s.choices) || s.choices.length !== epoch) {
    throw invalidArgument('the search state choices', `an array of ${epoch} epoch choices`, s.choices);
  }
}
