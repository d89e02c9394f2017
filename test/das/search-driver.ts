/**
 * A minimal stand-in for the training loop, driving a SearchPolicy the way the real loop will:
 * fixed-length epochs, a train step per batch, a reward round when due, an epoch end per epoch.
 * It resumes from wherever the policy's state says the search stopped.
 */
import type { EvaluateSubnetwork, SearchPolicy, StepPlan } from '../../lib/das/index.js';

export interface DriveOptions {
  /** Steps per epoch, indexed by epoch (the last entry repeats). */
  readonly stepsPerEpoch: readonly number[];
  readonly evaluate: EvaluateSubnetwork;
  /** Called with every plan, after beginStep (a test can snapshot the policy there). */
  readonly onStep?: (plan: StepPlan) => void;
  /** Stop (return) when this returns true; checked at every step boundary, before the next step. */
  readonly stopWhen?: (policy: SearchPolicy) => boolean;
}

export async function drive(policy: SearchPolicy, options: DriveOptions): Promise<void> {
  const stepsIn = (epoch: number) => options.stepsPerEpoch[Math.min(epoch, options.stepsPerEpoch.length - 1)]!;
  while (!policy.done) {
    if (policy.rewardRoundPending) await policy.rewardRound(options.evaluate);
    while (policy.stepInEpoch < stepsIn(policy.epoch)) {
      if (options.stopWhen?.(policy)) return;
      const plan = policy.beginStep();
      options.onStep?.(plan);
      if (policy.endStep()) {
        if (options.stopWhen?.(policy)) return;
        await policy.rewardRound(options.evaluate);
      }
    }
    if (options.stopWhen?.(policy)) return;
    policy.endEpoch();
  }
}

/** A loss that depends only on the skip set and the round: reproducible across resumes. */
export function syntheticLoss(skip: readonly string[], round: number): number {
  let h = 2166136261;
  for (const ch of `${round}:${skip.join(',')}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return 0.2 + skip.reduce((sum, name) => sum + Number(name.slice(2)) / 10, 0) + (h / 2 ** 32) * 0.3;
}
