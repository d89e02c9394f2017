/** The DAS policy and search controller: pure TypeScript, no addon. */
export { Prng, validatePrngState } from './prng.js';
export type { PrngState } from './prng.js';
export { sigmoid, gateProbabilities, initialLogits, updateGates, topKIndices } from './gates.js';
export type { GateUpdate } from './gates.js';
export { rewardFromLoss, rewardsFromLosses, meanBaseline } from './rewards.js';
export {
  sampleWithoutReplacement,
  sampleDistinctSubsets,
  sampleUniform,
  countSubsets,
  reachableSubsetCount,
  DEFAULT_MAX_ATTEMPTS,
} from './sampling.js';
export type { DistinctSubsets, DistinctSubsetsOptions } from './sampling.js';
export { validateCandidates, resolveSkipSet, skipSetNames } from './skip-set.js';
export { randomSkipSet } from './random-baseline.js';
export { resolveSearchPolicyConfig, SEARCH_POLICY_DEFAULTS } from './search-config.js';
export type { SearchPolicyConfig, ResolvedSearchPolicyConfig } from './search-config.js';
export { SearchPolicy } from './search-policy.js';
export type { EvaluateSubnetwork, EvaluationInfo } from './search-policy.js';
export type { StepPlan, GateUpdateRecord, EpochChoice, SearchResult, SearchPolicyState } from './search-records.js';
