/**
 * The random-sampling baseline of the paper: k candidates chosen uniformly at random, with the
 * same seedable generator as the search, so a baseline run is as reproducible as a DAS run.
 */
import { invalidArgument } from '../errors.js';
import { Prng } from './prng.js';
import { sampleUniform } from './sampling.js';
import { skipSetNames, validateCandidates } from './skip-set.js';

/** k candidate names chosen uniformly at random from `seed` (or from a caller's generator), in candidate order. */
export function randomSkipSet(candidates: readonly string[], k: number, seed: number | Prng): string[] {
  validateCandidates(candidates);
  if (!Number.isInteger(k) || k < 1 || k >= candidates.length) {
    throw invalidArgument('the number of layers to skip', `an integer in 1..${candidates.length - 1}`, k);
  }
  const rng = typeof seed === 'number' ? new Prng(seed) : seed;
  const indices = sampleUniform(
    candidates.map((_, i) => i),
    k,
    rng,
  );
  return skipSetNames(candidates, indices);
}
