/**
 * Gate logits and probabilities, the policy-gradient style gate update, and top-k selection.
 *
 * Everything here is a pure function over plain arrays indexed like the candidate list, so the
 * same code serves the search controller, tests and any tool that replays a `gates.jsonl`.
 */
import { invalidArgument } from '../errors.js';
import { meanBaseline } from './rewards.js';

/** The logistic function, written so that neither branch can overflow `exp`. */
export function sigmoid(g: number): number {
  if (g >= 0) return 1 / (1 + Math.exp(-g));
  const e = Math.exp(g);
  return e / (1 + e);
}

/** p_i = sigmoid(g_i) for every candidate. */
export function gateProbabilities(logits: readonly number[]): number[] {
  return logits.map(sigmoid);
}

/** Initial gate logits: zero for every candidate (so p = 0.5 and sampling starts uniform). */
export function initialLogits(n: number): number[] {
  return new Array<number>(n).fill(0);
}

export interface GateUpdate {
  /** The logits after the update (a new array; the input is left as it was). */
  readonly logits: number[];
  /** b = mean(r): the baseline the rewards were compared with. */
  readonly baseline: number;
}

/**
 * One reward round's update: for each sample j and each candidate i in it,
 * `g_i += eta * (r_j - b) * p_i * (1 - p_i)`, with b = mean(r) and p = sigmoid(g) taken once,
 * before any of the round's changes (so the order of the samples does not matter).
 * `p_i (1 - p_i)` is dsigmoid/dg: a candidate whose gate is already saturated moves slowly.
 */
export function updateGates(
  logits: readonly number[],
  subsets: readonly (readonly number[])[],
  rewards: readonly number[],
  eta: number,
): GateUpdate {
  if (!Number.isFinite(eta)) throw invalidArgument('the gate learning rate', 'a finite number', eta);
  if (subsets.length === 0) throw invalidArgument('the sampled subsets', 'at least one subset', subsets);
  if (rewards.length !== subsets.length) {
    throw invalidArgument('the rewards', `one reward per subset (${subsets.length})`, rewards);
  }
  for (const [j, r] of rewards.entries()) {
    if (!Number.isFinite(r)) throw invalidArgument(`reward ${j}`, 'a finite number', r);
  }
  const p = gateProbabilities(logits);
  const baseline = meanBaseline(rewards);
  const next = logits.slice();
  for (const [j, subset] of subsets.entries()) {
    const advantage = rewards[j]! - baseline;
    for (const i of subset) {
      if (!Number.isInteger(i) || i < 0 || i >= logits.length) {
        throw invalidArgument(`candidate index in subset ${j}`, `an integer in 0..${logits.length - 1}`, i);
      }
      next[i]! += eta * advantage * p[i]! * (1 - p[i]!);
    }
  }
  return { logits: next, baseline };
}

/**
 * The indices of the k largest values, largest first; equal values rank by the lower index, so
 * the choice is deterministic (with all logits at 0 it is simply the first k candidates).
 */
export function topKIndices(values: readonly number[], k: number): number[] {
  if (!Number.isInteger(k) || k < 0 || k > values.length) {
    throw invalidArgument('k of the top-k selection', `an integer in 0..${values.length}`, k);
  }
  for (const [i, v] of values.entries()) {
    if (Number.isNaN(v)) throw invalidArgument(`value ${i} of the top-k selection`, 'a number (not NaN)', v);
  }
  const order = values.map((_, i) => i);
  order.sort((a, b) => values[b]! - values[a]! || a - b);
  return order.slice(0, k);
}
