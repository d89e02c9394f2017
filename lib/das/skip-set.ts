/**
 * Candidate lists and skip sets by name. The candidate names come from the model (`En0..En11`,
 * `FL0..FV5..LEn11`, ...); nothing here knows any model, it only checks the lists it is given.
 * A skip set is always reported in candidate order, so equal sets print and compare equal.
 */
import { invalidArgument } from '../errors.js';

/** Checks a candidate list: at least two distinct, non-empty names (one name leaves no choice). */
export function validateCandidates(candidates: unknown, what = 'candidates'): asserts candidates is readonly string[] {
  if (!Array.isArray(candidates) || candidates.length < 2) {
    throw invalidArgument(what, 'an array of at least 2 layer names', candidates);
  }
  const seen = new Set<string>();
  for (const [i, name] of candidates.entries()) {
    if (typeof name !== 'string' || name.length === 0) {
      throw invalidArgument(`${what}[${i}]`, 'a non-empty layer name', name);
    }
    if (seen.has(name)) throw invalidArgument(`${what}[${i}]`, 'a name not listed before', name);
    seen.add(name);
  }
}

/**
 * The candidate indices of a skip set given by name, in candidate order. Unknown and repeated
 * names are errors that list the valid names, since a typo in `--skip` must not train the wrong
 * model for hours.
 */
export function resolveSkipSet(candidates: readonly string[], names: readonly string[], what = 'the skip set'): number[] {
  if (!Array.isArray(names)) throw invalidArgument(what, 'an array of layer names', names);
  const index = new Map(candidates.map((name, i) => [name, i] as const));
  const indices: number[] = [];
  for (const name of names) {
    const i = index.get(name);
    if (i === undefined) {
      throw invalidArgument(`layer ${JSON.stringify(String(name))} in ${what}`, `one of ${candidates.join(', ')}`, name);
    }
    if (indices.includes(i)) throw invalidArgument(what, 'each layer at most once', `${name} twice`);
    indices.push(i);
  }
  return indices.sort((a, b) => a - b);
}

/** Names of a set of candidate indices, in candidate order. */
export function skipSetNames(candidates: readonly string[], indices: readonly number[]): string[] {
  return [...indices].sort((a, b) => a - b).map((i) => candidates[i]!);
}
