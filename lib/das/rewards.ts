/**
 * Rewards of a reward round: r_j = exp(-loss_j), and the baseline b = mean(r).
 *
 * JavaScript numbers are IEEE doubles, which is the precision the design asks for; losses that
 * come back from the addon as float32 are widened before `exp`, never the other way round.
 * A loss must be finite: a NaN loss means training diverged, and silently turning it into a
 * reward of NaN (or 0) would corrupt every gate it touches.
 */
import { invalidArgument } from '../errors.js';

/** r = exp(-loss) for one summed task loss. */
export function rewardFromLoss(loss: number, what = 'the loss'): number {
  if (typeof loss !== 'number' || !Number.isFinite(loss)) throw invalidArgument(what, 'a finite number', loss);
  const reward = Math.exp(-loss);
  // exp(-loss) overflows only for losses below about -709, which no task loss produces.
  if (!Number.isFinite(reward)) throw invalidArgument(what, 'a loss whose exp(-loss) is finite', loss);
  return reward;
}

/** r_j = exp(-loss_j) for every sample of a round. */
export function rewardsFromLosses(losses: readonly number[]): number[] {
  return losses.map((loss, j) => rewardFromLoss(loss, `the loss of sample ${j}`));
}

/** b = mean(r); the update pushes gates towards samples rewarded above it and away from the rest. */
export function meanBaseline(rewards: readonly number[]): number {
  if (rewards.length === 0) throw invalidArgument('the rewards', 'at least one reward', rewards);
  return rewards.reduce((sum, r) => sum + r, 0) / rewards.length;
}
