// One GRPO step: P prompts × G completions (× gradientAccumulation micro-batches, refilled by dynamic
// sampling when it drops groups), group-normalised advantages, the clipped objective with its KL term,
// backward into the trained parameters, one AdamW update per optimisation pass.
//
// One optimisation pass runs each distinct (prompt, completion) sequence through one forward+backward
// (SequencePass): identical samples — common when G completions of a prompt pick from a few choices —
// share one pass and add their upstream gradients (the loss is linear in them). The objective is
// evaluated one sequence at a time with the WHOLE batch's aggregation weights (objectives.tokenWeights),
// so its gradients equal those of the whole-batch objective and only one sequence's activations live
// at a time: micro-batches accumulate into one gradient exactly, however large the batch.

import type { Rng } from '../model/rng';
import { SequencePass } from './backprop';
import { mean, std, type PartialMetrics } from './metrics';
import { type Completion, grpoObjective, groupAdvantages, tokenWeights, type GrpoConfig } from './objectives';
import { passGroups, type Rollout } from './rollouts';
import type { StepContext } from './step-context';
import type { TaskExample } from './task';

/** Per-token sums over a pass, for the step's metrics. */
interface GrpoAccumulator {
  loss: number;
  kl: number;
  clipped: number;
  ratio: number;
  tokens: number;
}

const emptyAccumulator = (): GrpoAccumulator => ({ loss: 0, kl: 0, clipped: 0, ratio: 0, tokens: 0 });

interface BatchCounts {
  truncated: number;
  groupsDropped: number;
}

/** A GRPO step's metrics from its rewards and accumulated per-token sums (means over tokens). */
function grpoMetrics(rewards: readonly number[], acc: GrpoAccumulator, gradNorm: number, lr: number, tokens: number, counts: BatchCounts, extra: Record<string, number>): PartialMetrics {
  return {
    rewardMean: mean(rewards),
    rewardStd: std(rewards),
    kl: acc.tokens ? acc.kl / acc.tokens : 0,
    loss: acc.loss,
    clipFraction: acc.tokens ? acc.clipped / acc.tokens : 0,
    gradNorm,
    lr,
    tokens,
    ...counts,
    extra: { ratio_mean: acc.tokens ? acc.ratio / acc.tokens : 1, ...extra },
  };
}

/**
 * GRPO's per-sequence objective with the batch's aggregation weights, accumulated into a group's
 * branch gradients; adds the loss and token statistics to `acc`.
 */
function grpoMember(cfg: GrpoConfig, c: Completion, batchWeight: number, into: Float64Array[], branch: number, acc: GrpoAccumulator): void {
  const single = grpoObjective([c], cfg);
  const scale = batchWeight / tokenWeights([c], cfg)[0]!;
  single.gradients[0]!.forEach((g, t) => (into[branch]![t]! += scale * g));
  const n = c.logp.length;
  acc.loss += scale * single.loss;
  acc.kl += single.metrics.kl! * n;
  acc.clipped += single.metrics.clip_fraction! * n;
  acc.ratio += single.metrics.ratio_mean! * n;
  acc.tokens += n;
}

/** The GRPO settings of a batch: Dr. GRPO's constant is the longest completion the rollouts could have had. */
function grpoConfigFor<E extends TaskExample>(ctx: StepContext<E>, examples: readonly E[]): GrpoConfig {
  const longest = Math.max(...examples.map((e) => (e.choices && e.choices.length > 0 ? Math.max(...ctx.sampler.choiceIds(e).map((c) => c.length)) : ctx.sampler.cap)));
  return { ...ctx.config.grpo, maxCompletionLength: longest };
}

/** Whether the whole step can run as one pass per prompt: sampling, objective and backward share it. */
function fusedChoices<E extends TaskExample>(ctx: StepContext<E>, examples: readonly E[]): number[][] | null {
  const cfg = ctx.config;
  if (cfg.numIterations !== 1 || cfg.scaleRewards === 'batch' || cfg.gradientAccumulation !== 1 || cfg.dynamicSampling) return null;
  const ids: number[][] = [];
  for (const e of examples) {
    if (!e.choices || e.choices.length === 0) return null;
    const choiceIds = ctx.sampler.choiceIds(e);
    if (choiceIds.some((c) => c.length !== 1)) return null;
    ids.push(choiceIds.map((c) => c[0]!));
  }
  return ids;
}

export async function grpoStep<E extends TaskExample>(ctx: StepContext<E>, rng: Rng): Promise<PartialMetrics> {
  const examples = ctx.task.examples(rng, ctx.config.promptsPerStep);
  const fused = fusedChoices(ctx, examples);
  return fused ? grpoFusedStep(ctx, rng, examples, fused) : grpoGenericStep(ctx, rng, examples);
}

/**
 * On-policy GRPO (numIterations 1) over single-token choices: per prompt ONE forward with a branch
 * per choice gives the policy's log-probs of every choice, the G samples are drawn from them, and the
 * same pass takes the backward. The old log-probs are the pass's own (ratio 1, as TRL does with
 * num_iterations = 1), so nothing is computed twice.
 */
async function grpoFusedStep<E extends TaskExample>(ctx: StepContext<E>, rng: Rng, examples: readonly E[], choiceIds: number[][]): Promise<PartialMetrics> {
  const { config: cfg, sampler, params } = ctx;
  const G = cfg.groupSize;
  const grpo = grpoConfigFor(ctx, examples);
  const grads = params.zeroGrads();
  const acc = emptyAccumulator();
  const rewards: number[] = [];
  // Every completion is one token: the batch weights are those of P·G one-token completions.
  const batchWeight = tokenWeights(Array.from({ length: examples.length * G }, () => ({ logp: [0] })), grpo)[0]!;
  let tokens = 0;
  let distinct = 0;
  for (let i = 0; i < examples.length; i++) {
    const example = examples[i]!;
    const promptIds = sampler.promptIds(example);
    const choices = choiceIds[i]!;
    const pass = await SequencePass.forward(params.policy, params.adapter, { prefix: promptIds, promptLength: promptIds.length, lastTokens: choices }, { temperature: cfg.temperature });
    tokens += pass.tokens;
    const picks = sampler.drawChoices(pass.logps.map((l) => l[0]!), G, rng);
    const mine: number[] = [];
    for (const k of picks) mine.push(await ctx.task.reward(example, example.choices![k]!));
    rewards.push(...mine);
    const advantages = groupAdvantages(mine, G, cfg.scaleRewards === 'none' ? 'none' : 'group');
    const refs = grpo.beta > 0 ? await sampler.logProbs(choices.map((c) => ({ promptIds, completionIds: [c] })), 'reference') : null;
    const dLogp = choices.map(() => new Float64Array(1));
    picks.forEach((k, g) => {
      const logp = pass.logps[k]!;
      grpoMember(grpo, { logp, oldLogp: logp, refLogp: refs ? refs[k]! : logp, advantage: advantages[g]! }, batchWeight, dLogp, k, acc);
    });
    distinct += new Set(picks).size;
    if (dLogp.some((d) => d[0] !== 0)) params.backward(pass, dLogp, grads);
    else pass.release();
  }
  const lr = ctx.learningRate();
  const opt = await params.update(grads, lr);
  return grpoMetrics(rewards, acc, opt.gradNorm, lr, tokens, { truncated: 0, groupsDropped: 0 }, { distinct_completions: distinct });
}

/** Whether a group's rewards all agree (its advantages are all zero). */
const flat = (rewards: readonly number[]): boolean => rewards.every((r) => r === rewards[0]);

/**
 * The step's rollouts: gradientAccumulation micro-batches of promptsPerStep prompts; with dynamic
 * sampling, groups with equal rewards are dropped and further batches drawn (up to maxSamplingRounds
 * per micro-batch) until the step holds as many groups as it asked for (any surplus is cut).
 */
async function sampleBatch<E extends TaskExample>(ctx: StepContext<E>, rng: Rng, first: readonly E[], withRef: boolean): Promise<{ examples: E[]; rollouts: Rollout[]; truncated: number; groupsDropped: number; rounds: number }> {
  const cfg = ctx.config;
  const want = cfg.promptsPerStep * cfg.gradientAccumulation;
  const maxRounds = cfg.gradientAccumulation * (cfg.dynamicSampling ? cfg.maxSamplingRounds : 1);
  const examples: E[] = [];
  const rollouts: Rollout[] = [];
  let groupsDropped = 0;
  let truncated = 0;
  let rounds = 0;
  let batch: readonly E[] = first;
  while (examples.length < want && rounds < maxRounds) {
    if (rounds > 0) batch = ctx.task.examples(rng, cfg.promptsPerStep);
    rounds++;
    const { rollouts: drawn, truncated: cut } = await ctx.sampler.rollouts(batch, rng, false);
    truncated += cut;
    batch.forEach((example, i) => {
      const group = drawn.filter((r) => r.exampleIndex === i);
      if (group.length === 0) return;
      if (examples.length >= want) return;
      if (cfg.dynamicSampling && flat(group.map((r) => r.reward))) {
        groupsDropped++;
        return;
      }
      const index = examples.push(example) - 1;
      for (const r of group) rollouts.push({ ...r, exampleIndex: index });
    });
  }
  if (withRef && rollouts.length > 0) {
    const refs = await ctx.sampler.logProbs(rollouts, 'reference');
    rollouts.forEach((r, k) => (r.refLogp = refs[k]!));
  }
  return { examples, rollouts, truncated, groupsDropped, rounds };
}

/** Sampling, reward, then numIterations passes over the batch (each distinct prefix one pass). */
async function grpoGenericStep<E extends TaskExample>(ctx: StepContext<E>, rng: Rng, first: readonly E[]): Promise<PartialMetrics> {
  const { config: cfg, params } = ctx;
  const { examples, rollouts, truncated, groupsDropped, rounds } = await sampleBatch(ctx, rng, first, cfg.grpo.beta > 0);
  const counts = { truncated, groupsDropped };
  const extra = { micro_batches: rounds, groups: examples.length };
  if (rollouts.length === 0) {
    // Every group dropped: nothing to learn from this step (no update, the schedule still advances).
    return grpoMetrics([], emptyAccumulator(), 0, ctx.learningRate(), 0, counts, { ...extra, distinct_prefixes: 0 });
  }
  const grpo = grpoConfigFor(ctx, examples);
  const rewards = rollouts.map((r) => r.reward);
  const advantages = advantagesByExample(rollouts, cfg.scaleRewards);
  const groups = passGroups(rollouts);
  const batchWeights = tokenWeights(
    rollouts.map((r) => ({ logp: r.oldLogp })),
    grpo,
  );
  let last = { acc: emptyAccumulator(), gradNorm: 0, lr: 0 };
  let tokens = 0;
  for (let iteration = 0; iteration < cfg.numIterations; iteration++) {
    const grads = params.zeroGrads();
    const acc = emptyAccumulator();
    for (const { seq, members } of groups) {
      const pass = await SequencePass.forward(params.policy, params.adapter, seq, { temperature: cfg.temperature });
      tokens += pass.tokens;
      const dLogp = seq.lastTokens.map(() => new Float64Array(pass.count));
      for (const { rollout: i, branch } of members) {
        const r = rollouts[i]!;
        const logp = pass.logps[branch]!;
        grpoMember(grpo, { logp, oldLogp: r.oldLogp, refLogp: r.refLogp ?? logp, advantage: advantages[i]! }, batchWeights[i]!, dLogp, branch, acc);
      }
      if (dLogp.some((d) => d.some((g) => g !== 0))) params.backward(pass, dLogp, grads);
      else pass.release();
    }
    const lr = ctx.learningRate();
    const opt = await params.update(grads, lr);
    last = { acc, gradNorm: opt.gradNorm, lr };
  }
  return grpoMetrics(rewards, last.acc, last.gradNorm, last.lr, tokens, counts, { ...extra, distinct_prefixes: groups.length });
}

/** groupAdvantages over each example's rollouts (normally exactly G of them). */
export function advantagesByExample(rollouts: readonly Rollout[], scaling: 'group' | 'batch' | 'none'): number[] {
  const out = new Array<number>(rollouts.length).fill(0);
  if (scaling === 'batch') {
    // Batch scaling: centre per group, divide by the whole batch's std (as groupAdvantages does).
    const sizes = new Set(rollouts.map((r) => rollouts.filter((s) => s.exampleIndex === r.exampleIndex).length));
    if (sizes.size === 1) {
      const size = [...sizes][0]!;
      const sorted = [...rollouts.keys()].sort((a, b) => rollouts[a]!.exampleIndex - rollouts[b]!.exampleIndex);
      const adv = groupAdvantages(
        sorted.map((i) => rollouts[i]!.reward),
        size,
        'batch',
      );
      sorted.forEach((i, k) => (out[i] = adv[k]!));
      return out;
    }
  }
  const byExample = new Map<number, number[]>();
  rollouts.forEach((r, i) => byExample.set(r.exampleIndex, [...(byExample.get(r.exampleIndex) ?? []), i]));
  for (const members of byExample.values()) {
    const adv = groupAdvantages(
      members.map((i) => rollouts[i]!.reward),
      members.length,
      scaling === 'none' ? 'none' : 'group',
    );
    members.forEach((i, k) => (out[i] = adv[k]!));
  }
  return out;
}
