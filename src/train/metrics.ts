// What a training step reports, and the small statistics the steps share.

export interface StepMetrics {
  /** Steps completed, this one included (1-based). */
  step: number;
  /** Mean and (population) standard deviation of the rollouts' rewards; null for SFT. */
  rewardMean: number | null;
  rewardStd: number | null;
  /** Mean per-token k3 KL to the reference policy (GRPO), or mean log(p_old / p_ref) (PPO); 0 for SFT. */
  kl: number;
  loss: number;
  /** Fraction of tokens whose ratio was clipped (last optimisation pass). */
  clipFraction: number;
  /** Global LoRA gradient norm before clipping (last pass). */
  gradNorm: number;
  /** Optimiser updates skipped so far for NaN / Inf gradients. */
  skippedSteps: number;
  lr: number;
  /** Training tokens (forward + backward over whole sequences) of this step, and per second of the step. */
  tokens: number;
  tokensPerSecond: number;
  seconds: number;
  /** Rollouts cut by the completion cap this step (their JSON closed by force, or their text cut short). */
  truncated: number;
  /** Groups dropped by dynamic sampling this step (all G rewards equal: zero advantage). */
  groupsDropped: number;
  /** Held-out score of this step's policy when validation ran after it. */
  validation?: number;
  /** Seconds left to `totalSteps` (or run's `steps`) at the mean step time of this run so far. */
  etaSeconds: number;
  /** Algorithm-specific extras (value_loss, ratio_mean, perplexity, ...). */
  extra: Record<string, number>;
}

/** What an algorithm's step reports; Trainer.step() adds the counters and timings. */
export type PartialMetrics = Omit<StepMetrics, 'step' | 'skippedSteps' | 'tokensPerSecond' | 'seconds' | 'etaSeconds' | 'validation'>;

export const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Population standard deviation. */
export const std = (xs: readonly number[]): number => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};
