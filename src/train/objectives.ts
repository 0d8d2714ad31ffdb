// The training objectives as plain functions of per-token log-probabilities. Each returns the loss AND its
// gradient with respect to the policy's per-token log-probabilities: the GPU backward pass starts from
// those numbers (d loss / d logp(token) → d logits → ... → LoRA), so the objective itself never needs
// to run on the GPU. train/ knows nothing of memories: rewards arrive as numbers.

/** Per-token values: Float32Array from the GPU, Float64Array in gradient checks. */
export type TokenValues = ArrayLike<number>;

/** One sampled completion: per-token log-probabilities under the current, old (sampling) and reference policies. */
export interface Completion {
  /** log p_θ(token) under the policy being optimised (LoRA on). */
  logp: TokenValues;
  /** log p(token) under the policy that sampled it (kept fixed across optimisation passes of one batch). */
  oldLogp: TokenValues;
  /** log p(token) under the reference policy (the same weights with the LoRA switched off). */
  refLogp: TokenValues;
  advantage: number;
}

export interface ObjectiveResult {
  loss: number;
  /** d loss / d logp, one array per completion, same length as its logp. */
  gradients: Float32Array[];
  metrics: Record<string, number>;
}

// ---- advantages ------------------------------------------------------------------------------------

export type AdvantageScaling = 'group' | 'batch' | 'none';

/**
 * GRPO advantages: each reward minus its group's mean, divided by the group's standard deviation
 * (`group`), the whole batch's (`batch`), or not at all (`none`, as Dr. GRPO recommends). Groups are
 * consecutive runs of `groupSize` rewards (the G completions of one prompt).
 */
export function groupAdvantages(rewards: readonly number[], groupSize: number, scaling: AdvantageScaling, eps = 1e-4): number[] {
  if (groupSize < 1 || rewards.length % groupSize !== 0) throw new Error(`groupAdvantages: ${rewards.length} rewards do not split into groups of ${groupSize}`);
  const std = (values: readonly number[]) => {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    // Unbiased, as torch.std: a group of identical rewards gets advantage 0 whatever the scaling.
    const variance = values.length > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1) : 0;
    return Math.sqrt(variance);
  };
  const batchStd = std(rewards);
  return rewards.map((reward, i) => {
    const start = i - (i % groupSize);
    const group = rewards.slice(start, start + groupSize);
    const centred = reward - group.reduce((a, b) => a + b, 0) / groupSize;
    if (scaling === 'none' || centred === 0) return centred;
    return centred / ((scaling === 'group' ? std(group) : batchStd) + eps);
  });
}

// ---- GRPO --------------------------------------------------------------------------------------------

export interface GrpoConfig {
  /** Clip range of the probability ratio: [1 − epsilonLow, 1 + epsilonHigh] (0.2 / 0.2; DAPO uses 0.2 / 0.28). */
  epsilonLow: number;
  epsilonHigh: number;
  /** Weight of the k3 KL estimate to the reference policy (0.04 in the GRPO paper; 0 drops the reference pass). */
  beta: number;
  /**
   * How token losses become one number: `grpo` averages each completion over its tokens, then over
   * completions; `dapo` averages over all tokens of the batch; `dr_grpo` sums and divides by
   * completions × maxCompletionLength (no length bias).
   */
  lossType: 'grpo' | 'dapo' | 'dr_grpo';
  maxCompletionLength: number;
}

export const DEFAULT_GRPO: GrpoConfig = { epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0.04, lossType: 'grpo', maxCompletionLength: 256 };

/** Per-token weight of each token's loss in the batch loss, by aggregation type (the trainer uses it to
 * evaluate the objective one sequence at a time with the batch's weights). */
export function tokenWeights(completions: readonly { logp: TokenValues }[], config: Pick<GrpoConfig, 'lossType' | 'maxCompletionLength'>): number[] {
  const totalTokens = completions.reduce((n, c) => n + c.logp.length, 0);
  return completions.map((c) => {
    if (c.logp.length === 0) return 0;
    if (config.lossType === 'grpo') return 1 / (c.logp.length * completions.length);
    if (config.lossType === 'dapo') return 1 / totalTokens;
    return 1 / (completions.length * config.maxCompletionLength);
  });
}

/**
 * The clipped GRPO objective with a k3 KL penalty, per token t of completion i:
 *   ratio = exp(logp − oldLogp)
 *   loss_t = −min(ratio·A, clip(ratio, 1 − εlow, 1 + εhigh)·A) + β·(exp(ref − logp) − (ref − logp) − 1)
 * aggregated by `lossType`.
 */
export function grpoObjective(completions: readonly Completion[], config: GrpoConfig): ObjectiveResult {
  const weights = tokenWeights(completions, config);
  let loss = 0;
  let kl = 0;
  let clipped = 0;
  let tokens = 0;
  let ratioSum = 0;
  const gradients = completions.map((c, i) => {
    const w = weights[i]!;
    const grad = new Float32Array(c.logp.length);
    for (let t = 0; t < c.logp.length; t++) {
      const ratio = Math.exp(c.logp[t]! - c.oldLogp[t]!);
      const clippedRatio = Math.min(Math.max(ratio, 1 - config.epsilonLow), 1 + config.epsilonHigh);
      const unclippedTerm = ratio * c.advantage;
      const clippedTerm = clippedRatio * c.advantage;
      // −min(a, b): the gradient flows through the ratio only where the unclipped term is the minimum
      // (or the clip is inactive, when both are equal).
      const useClipped = clippedTerm < unclippedTerm;
      const policyLoss = -(useClipped ? clippedTerm : unclippedTerm);
      const dPolicy = useClipped ? 0 : -unclippedTerm;
      const delta = c.refLogp[t]! - c.logp[t]!;
      const k3 = Math.exp(delta) - delta - 1;
      const dKl = 1 - Math.exp(delta);
      loss += w * (policyLoss + config.beta * k3);
      grad[t] = w * (dPolicy + config.beta * dKl);
      kl += k3;
      if (useClipped) clipped++;
      ratioSum += ratio;
      tokens++;
    }
    return grad;
  });
  return { loss, gradients, metrics: { kl: tokens ? kl / tokens : 0, clip_fraction: tokens ? clipped / tokens : 0, ratio_mean: tokens ? ratioSum / tokens : 1, tokens } };
}

// ---- SFT ---------------------------------------------------------------------------------------------

/** Token cross-entropy on the completion tokens, averaged over all of them (the Memory-SFT baseline). */
export function sftObjective(completions: readonly { logp: TokenValues }[]): ObjectiveResult {
  const tokens = completions.reduce((n, c) => n + c.logp.length, 0);
  const w = tokens ? 1 / tokens : 0;
  let loss = 0;
  const gradients = completions.map((c) => {
    for (let t = 0; t < c.logp.length; t++) loss -= w * c.logp[t]!;
    return new Float32Array(c.logp.length).fill(-w);
  });
  return { loss, gradients, metrics: { tokens, perplexity: Math.exp(loss) } };
}

// ---- PPO ---------------------------------------------------------------------------------------------

export interface PpoConfig {
  epsilon: number;
  /** Clip range of the value prediction around the old one. */
  valueEpsilon: number;
  valueCoefficient: number;
  gamma: number;
  lambda: number;
  /** Per-token KL penalty to the reference policy, folded into the rewards (as in RLHF PPO). */
  klCoefficient: number;
}

export const DEFAULT_PPO: PpoConfig = { epsilon: 0.2, valueEpsilon: 0.2, valueCoefficient: 0.1, gamma: 1, lambda: 0.95, klCoefficient: 0.04 };

/**
 * Generalised advantage estimation for one completion whose outcome reward arrives at its last token,
 * with a per-token KL penalty −c·(logp_old − logp_ref). Returns per-token advantages and returns.
 */
export function gae(reward: number, values: TokenValues, oldLogp: TokenValues, refLogp: TokenValues, config: PpoConfig): { advantages: Float32Array; returns: Float32Array } {
  const n = values.length;
  const advantages = new Float32Array(n);
  const returns = new Float32Array(n);
  let next = 0;
  for (let t = n - 1; t >= 0; t--) {
    const tokenReward = (t === n - 1 ? reward : 0) - config.klCoefficient * (oldLogp[t]! - refLogp[t]!);
    const nextValue = t === n - 1 ? 0 : values[t + 1]!;
    const delta = tokenReward + config.gamma * nextValue - values[t]!;
    next = delta + config.gamma * config.lambda * next;
    advantages[t] = next;
    returns[t] = next + values[t]!;
  }
  return { advantages, returns };
}

export interface PpoCompletion {
  logp: TokenValues;
  oldLogp: TokenValues;
  /** Current value predictions per token, and those at sampling time. */
  values: TokenValues;
  oldValues: TokenValues;
  advantages: TokenValues;
  returns: TokenValues;
}

/**
 * PPO's clipped policy loss plus the clipped value loss, averaged over all tokens. Returns gradients for
 * the log-probabilities and, separately, for the value predictions (they flow into the value head).
 */
export function ppoObjective(completions: readonly PpoCompletion[], config: PpoConfig): ObjectiveResult & { valueGradients: Float32Array[] } {
  const tokens = completions.reduce((n, c) => n + c.logp.length, 0);
  const w = tokens ? 1 / tokens : 0;
  let policyLoss = 0;
  let valueLoss = 0;
  let clipped = 0;
  const valueGradients: Float32Array[] = [];
  const gradients = completions.map((c) => {
    const grad = new Float32Array(c.logp.length);
    const vGrad = new Float32Array(c.logp.length);
    for (let t = 0; t < c.logp.length; t++) {
      const a = c.advantages[t]!;
      const ratio = Math.exp(c.logp[t]! - c.oldLogp[t]!);
      const clippedRatio = Math.min(Math.max(ratio, 1 - config.epsilon), 1 + config.epsilon);
      const useClipped = clippedRatio * a < ratio * a;
      policyLoss += w * -(useClipped ? clippedRatio * a : ratio * a);
      grad[t] = useClipped ? 0 : -w * ratio * a;
      if (useClipped) clipped++;
      // Value: 0.5·max((v − R)², (clip(v, v_old ± ε) − R)²).
      const v = c.values[t]!;
      const vClipped = Math.min(Math.max(v, c.oldValues[t]! - config.valueEpsilon), c.oldValues[t]! + config.valueEpsilon);
      const plain = (v - c.returns[t]!) ** 2;
      const clippedError = (vClipped - c.returns[t]!) ** 2;
      const useClippedValue = clippedError > plain;
      valueLoss += w * 0.5 * Math.max(plain, clippedError);
      // Through the clipped branch the gradient reaches v only while the clip is inactive.
      const vActive = !useClippedValue || vClipped === v;
      vGrad[t] = vActive ? config.valueCoefficient * w * ((useClippedValue ? vClipped : v) - c.returns[t]!) : 0;
    }
    valueGradients.push(vGrad);
    return grad;
  });
  return {
    loss: policyLoss + config.valueCoefficient * valueLoss,
    gradients,
    valueGradients,
    metrics: { policy_loss: policyLoss, value_loss: valueLoss, clip_fraction: tokens ? clipped / tokens : 0, tokens },
  };
}
