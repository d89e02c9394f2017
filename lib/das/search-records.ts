/**
 * What the search controller hands to the loop and keeps for the run directory: the plan of a
 * training step, one record per gate update (a line of `gates.jsonl`), the choice at each epoch
 * end, the final result, and the saved state. All plain JSON; arrays of numbers are indexed like
 * `candidates`, skip sets are lists of names in candidate order.
 */
import type { PrngState } from './prng.js';
import type { ResolvedSearchPolicyConfig } from './search-config.js';

/** The subnetwork to train at one step. */
export interface StepPlan {
  /** 0-based index of this step over the whole search (epochs do not reset it). */
  readonly step: number;
  /** 0-based epoch of this step. */
  readonly epoch: number;
  /** 0-based index of this step within its epoch. */
  readonly stepInEpoch: number;
  /** The layers to skip at this step (names, in candidate order). */
  readonly skip: readonly string[];
  /** The same set as candidate indices, ascending. */
  readonly skipIndices: readonly number[];
  /** Whether a reward round will be due once this step ends (lets the loop fetch a validation batch early). */
  readonly rewardRoundAfter: boolean;
}

/** One gate update: a line of `gates.jsonl`. */
export interface GateUpdateRecord {
  /** 0-based index of the reward round. */
  readonly round: number;
  /** Training steps completed over the whole search when the round ran (the round follows step `step - 1`). */
  readonly step: number;
  /** 0-based epoch in which the round ran. */
  readonly epoch: number;
  /** Training steps completed in that epoch when the round ran. */
  readonly stepInEpoch: number;
  /** The m distinct subnetworks evaluated, in evaluation order (names, each in candidate order). */
  readonly subsets: readonly (readonly string[])[];
  /** Summed task loss of each subnetwork on the round's validation batch. */
  readonly losses: readonly number[];
  /** r_j = exp(-loss_j). */
  readonly rewards: readonly number[];
  /** b = mean(r). */
  readonly baseline: number;
  /** Gate logits after the update. */
  readonly logits: readonly number[];
  /** sigmoid(logits) after the update. */
  readonly probs: readonly number[];
  /** Subsets drawn by the uniform fallback of `sampleDistinctSubsets` (normally 0). */
  readonly fallbacks: number;
}

/** The current choice recorded at an epoch end: the top-k candidates by gate logit. */
export interface EpochChoice {
  /** 0-based epoch that ended. */
  readonly epoch: number;
  /** Training steps completed over the whole search at that point. */
  readonly step: number;
  /** The k layers with the largest logits (ties: lower index), in candidate order. */
  readonly skipped: readonly string[];
  readonly logits: readonly number[];
  readonly probs: readonly number[];
}

/** The outcome in the shape of the `das search --json` line, plus the per-epoch choices. */
export interface SearchResult {
  readonly skipped: string[];
  readonly gates: Record<string, number>;
  readonly probs: Record<string, number>;
  readonly rewardUpdates: number;
  readonly choices: readonly EpochChoice[];
}

/**
 * Everything a resumed search needs, always as of a step boundary. `version` changes when the
 * layout does, so an old checkpoint fails with a clear message instead of resuming wrongly.
 */
export interface SearchPolicyState {
  readonly version: 1;
  readonly config: ResolvedSearchPolicyConfig;
  readonly prng: PrngState;
  readonly logits: readonly number[];
  /** 0-based current epoch; equals `config.epochs` once the search is done. */
  readonly epoch: number;
  /** Training steps completed over the whole search. */
  readonly step: number;
  /** Training steps completed in the current epoch. */
  readonly stepInEpoch: number;
  /** Training steps completed in epochs at or after `warmupEpochs`; reward rounds follow its multiples of `turn`. */
  readonly stepsSinceWarmup: number;
  /** A step ended that calls for a reward round, and the round has not run yet. */
  readonly rewardRoundPending: boolean;
  /**
   * Every gate update so far. It travels with the state (about 1 KB per round) so that the loop can
   * rewrite `gates.jsonl` from any checkpoint and never keeps lines from rounds a resume redoes.
   */
  readonly trajectory: readonly GateUpdateRecord[];
  readonly choices: readonly EpochChoice[];
}
