/** Linear warm-up over the first `warmupFraction` of the steps, then linear decay to 0. */
export function learningRate(step: number, totalSteps: number, peak: number, warmupFraction = 0.1): number {
  const warmup = Math.floor(totalSteps * warmupFraction);
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const remaining = totalSteps - warmup;
  return remaining <= 0 ? 0 : Math.max(0, (peak * (totalSteps - step)) / remaining);
}
