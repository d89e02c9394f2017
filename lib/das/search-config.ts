/**
 * Configuration of the DAS search controller, with its defaults and its one validation
 * function. Everything is checked here, before any work starts, so a wrong option fails in
 * milliseconds instead of after the first training epoch.
 */
import { invalidArgument } from '../errors.js';
import { validateCandidates } from './skip-set.js';

export interface SearchPolicyConfig {
  /** Candidate layer names from the model and scope, e.g. `En0..En11`. Required; at least 2. */
  readonly candidates: readonly string[];
  /**
   * k, the number of layers to skip. Required; an integer in 1..candidates.length - 1. Skipping
   * every candidate is rejected: it leaves a single possible subset, so there is nothing to search.
   */
  readonly skipNum: number;
  /** Search epochs. Default 3. */
  readonly epochs?: number;
  /** Leading epochs without reward rounds (the subnetworks still train). Default 1; less than `epochs`. */
  readonly warmupEpochs?: number;
  /** A reward round after every `turn` post-warm-up training steps. Default 10. */
  readonly turn?: number;
  /**
   * m, the distinct subnetworks evaluated per reward round. Default 3. Capped per round at the
   * number of distinct k-subsets. With m = 1 every advantage r - b is 0 and the gates never move.
   */
  readonly samples?: number;
  /** eta, the gate learning rate. Default 1.0; finite and > 0. */
  readonly gateLr?: number;
  /** Seed of the policy's generator; a non-negative safe integer. Default 0. */
  readonly seed?: number;
}

/** A validated configuration with every default filled in. */
export interface ResolvedSearchPolicyConfig {
  readonly candidates: readonly string[];
  readonly skipNum: number;
  readonly epochs: number;
  readonly warmupEpochs: number;
  readonly turn: number;
  readonly samples: number;
  readonly gateLr: number;
  readonly seed: number;
}

export const SEARCH_POLICY_DEFAULTS = {
  epochs: 3,
  warmupEpochs: 1,
  turn: 10,
  samples: 3,
  gateLr: 1.0,
  seed: 0,
} as const;

const KEYS = ['candidates', 'skipNum', 'epochs', 'warmupEpochs', 'turn', 'samples', 'gateLr', 'seed'] as const;

function integerOption(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
    throw invalidArgument(`the search option ${name}`, range, value);
  }
  return value;
}

/** Validates a search configuration and fills in the defaults; throws a DasError naming the first bad option. */
export function resolveSearchPolicyConfig(config: SearchPolicyConfig): ResolvedSearchPolicyConfig {
  if (typeof config !== 'object' || config === null) {
    throw invalidArgument('the search configuration', 'an object', config);
  }
  for (const key of Object.keys(config)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw invalidArgument('a search option name', `one of ${KEYS.join(', ')}`, key);
    }
  }
  const candidates = config.candidates;
  validateCandidates(candidates, 'the search option candidates');
  const n = candidates.length;
  const skipNum = integerOption(config.skipNum, 'skipNum', 1, n - 1);
  const epochs = integerOption(config.epochs ?? SEARCH_POLICY_DEFAULTS.epochs, 'epochs', 1);
  const warmup = config.warmupEpochs ?? SEARCH_POLICY_DEFAULTS.warmupEpochs;
  const warmupEpochs = integerOption(warmup, 'warmupEpochs', 0, epochs - 1);
  const turn = integerOption(config.turn ?? SEARCH_POLICY_DEFAULTS.turn, 'turn', 1);
  const samples = integerOption(config.samples ?? SEARCH_POLICY_DEFAULTS.samples, 'samples', 1);
  const gateLr = config.gateLr ?? SEARCH_POLICY_DEFAULTS.gateLr;
  if (typeof gateLr !== 'number' || !Number.isFinite(gateLr) || gateLr <= 0) {
    throw invalidArgument('the search option gateLr', 'a finite number > 0', gateLr);
  }
  const seed = integerOption(config.seed ?? SEARCH_POLICY_DEFAULTS.seed, 'seed', 0);
  return { candidates: [...candidates], skipNum, epochs, warmupEpochs, turn, samples, gateLr, seed };
}

/** The first option in which two resolved configurations differ, or undefined when they agree. */
export function configDifference(a: ResolvedSearchPolicyConfig, b: ResolvedSearchPolicyConfig): string | undefined {
  for (const key of KEYS) {
    const same =
      key === 'candidates'
        ? a.candidates.length === b.candidates.length && a.candidates.every((name, i) => name === b.candidates[i])
        : a[key] === b[key];
    if (!same) return key;
  }
  return undefined;
}
