/**
 * Sampling subnetworks (sets of k candidates to skip) from the gate probabilities.
 *
 * `sampleWithoutReplacement` has the semantics of `torch.multinomial(p, k, replacement=False)`:
 * k draws, each proportional to the weights of the candidates not drawn yet. One difference, so
 * that a search can never stop on it: where torch raises because fewer than k weights are
 * positive, we draw the remaining picks uniformly among the zero-weight candidates (the limit of
 * equal vanishing weights). Gate probabilities are sigmoids, so a weight is exactly 0 only once a
 * logit is below about -745.
 *
 * `sampleDistinctSubsets` draws m such sets as sorted index lists and redraws duplicates, which is
 * the same as sampling from the distribution conditioned on "not seen yet". Termination is
 * guaranteed: m is capped at the number of subsets the weights can produce at all, and after
 * `maxAttempts` consecutive duplicates (only possible when one subset holds almost all the mass)
 * the missing subset is drawn uniformly among the reachable ones not seen yet.
 */
import { invalidArgument } from '../errors.js';
import type { Prng } from './prng.js';

/** Default number of consecutive duplicate draws before the uniform fallback. */
export const DEFAULT_MAX_ATTEMPTS = 10_000;

function checkWeights(weights: readonly number[]): void {
  if (weights.length === 0) throw invalidArgument('the sampling weights', 'at least one weight', weights);
  for (const [i, w] of weights.entries()) {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw invalidArgument(`sampling weight ${i}`, 'a finite number >= 0', w);
    }
  }
}

function checkK(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 1 || k > n) throw invalidArgument('the subset size k', `an integer in 1..${n}`, k);
}

/**
 * k distinct indices drawn one after another, each with probability proportional to its weight
 * among those not yet drawn. Returned in draw order.
 */
export function sampleWithoutReplacement(weights: readonly number[], k: number, rng: Prng): number[] {
  checkWeights(weights);
  checkK(k, weights.length);
  const n = weights.length;
  const taken = new Uint8Array(n);
  const drawn: number[] = [];
  for (let t = 0; t < k; t++) {
    // Summed afresh each draw rather than decremented, so rounding cannot accumulate.
    let total = 0;
    for (let i = 0; i < n; i++) if (!taken[i]) total += weights[i]!;
    let pick = -1;
    if (total > 0) {
      const u = rng.nextDouble() * total;
      let acc = 0;
      let lastPositive = -1;
      for (let i = 0; i < n; i++) {
        if (taken[i] || weights[i]! === 0) continue;
        acc += weights[i]!;
        lastPositive = i;
        if (u < acc) {
          pick = i;
          break;
        }
      }
      // u < total always holds, but the running sum may round just below it.
      if (pick < 0) pick = lastPositive;
    } else {
      let r = rng.nextInt(n - t);
      for (let i = 0; i < n; i++) {
        if (taken[i]) continue;
        if (r === 0) {
          pick = i;
          break;
        }
        r--;
      }
    }
    taken[pick] = 1;
    drawn.push(pick);
  }
  return drawn;
}

/** C(n, k), exact while it stays below 2^53 (far beyond 24 candidates). */
export function countSubsets(n: number, k: number): number {
  if (!Number.isInteger(n) || n < 0) throw invalidArgument('n of C(n, k)', 'a non-negative integer', n);
  if (!Number.isInteger(k) || k < 0 || k > n) return 0;
  const kk = Math.min(k, n - k);
  let c = 1;
  // Each partial product is C(n, i + 1), an integer, so the division is exact.
  for (let i = 0; i < kk; i++) c = (c * (n - i)) / (i + 1);
  return c;
}

/**
 * How many distinct k-subsets sampling from these weights can produce: C(#positive, k) when at
 * least k weights are positive (zero weights are then never drawn), otherwise every positive one
 * is always drawn and the rest come from the zeros: C(#zero, k - #positive).
 */
export function reachableSubsetCount(weights: readonly number[], k: number): number {
  checkWeights(weights);
  checkK(k, weights.length);
  const positive = weights.filter((w) => w > 0).length;
  return positive >= k ? countSubsets(positive, k) : countSubsets(weights.length - positive, k - positive);
}

/** k distinct items of `pool` chosen uniformly (a partial Fisher-Yates shuffle), in draw order. */
export function sampleUniform<T>(pool: readonly T[], k: number, rng: Prng): T[] {
  if (!Number.isInteger(k) || k < 0 || k > pool.length) {
    throw invalidArgument('the number of items to draw', `an integer in 0..${pool.length}`, k);
  }
  const items = pool.slice();
  for (let t = 0; t < k; t++) {
    const j = t + rng.nextInt(items.length - t);
    [items[t], items[j]] = [items[j]!, items[t]!];
  }
  return items.slice(0, k);
}

export interface DistinctSubsetsOptions {
  /** Consecutive duplicate draws tolerated before the uniform fallback; default 10,000. */
  readonly maxAttempts?: number;
}

export interface DistinctSubsets {
  /** Distinct subsets, each a sorted list of k indices, in the order they were drawn. */
  readonly subsets: number[][];
  /** How many were asked for; `subsets.length` is smaller only when fewer distinct ones exist. */
  readonly requested: number;
  /** How many subsets came from the uniform fallback instead of the weighted draw (normally 0). */
  readonly fallbacks: number;
}

/** m distinct k-subsets drawn by weight (see the file comment for the cap and the fallback). */
export function sampleDistinctSubsets(
  weights: readonly number[],
  k: number,
  m: number,
  rng: Prng,
  options: DistinctSubsetsOptions = {},
): DistinctSubsets {
  checkWeights(weights);
  checkK(k, weights.length);
  if (!Number.isInteger(m) || m < 1) throw invalidArgument('the number of samples m', 'an integer >= 1', m);
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw invalidArgument('maxAttempts', 'an integer >= 1', maxAttempts);
  }
  const target = Math.min(m, reachableSubsetCount(weights, k));
  const seen = new Set<string>();
  const subsets: number[][] = [];
  let fallbacks = 0;
  const accept = (subset: number[]): boolean => {
    const key = subset.join(',');
    if (seen.has(key)) return false;
    seen.add(key);
    subsets.push(subset);
    return true;
  };
  while (subsets.length < target) {
    let found = false;
    for (let attempt = 0; attempt < maxAttempts && !found; attempt++) {
      found = accept(sortAscending(sampleWithoutReplacement(weights, k, rng)));
    }
    if (!found) {
      fallbacks++;
      drawUnseenUniformly(weights, k, rng, accept);
    }
  }
  return { subsets, requested: m, fallbacks };
}

/**
 * Uniform over the reachable subsets, redrawn until `accept` takes one. It terminates because the
 * caller only asks while an unseen reachable subset exists, and each draw finds one with
 * probability at least 1 / (number of reachable subsets).
 */
function drawUnseenUniformly(
  weights: readonly number[],
  k: number,
  rng: Prng,
  accept: (subset: number[]) => boolean,
): void {
  const positive: number[] = [];
  const zero: number[] = [];
  weights.forEach((w, i) => (w > 0 ? positive : zero).push(i));
  for (;;) {
    const subset =
      positive.length >= k
        ? sampleUniform(positive, k, rng)
        : [...positive, ...sampleUniform(zero, k - positive.length, rng)];
    if (accept(sortAscending(subset))) return;
  }
}

function sortAscending(indices: number[]): number[] {
  return indices.sort((a, b) => a - b);
}
