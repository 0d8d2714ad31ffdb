// One GRPO step: P prompts × G completions, group-normalised advantages, the clipped objective with its
// KL term, backward into the LoRA, one AdamW update per optimisation pass.
//
// One optimisation pass runs each distinct (prompt, completion) sequence through one forward+backward
// (SequencePass): identical samples — common when G completions of a prompt pick from a few choices —
// share one pass and add their upstream gradients (the loss is linear in them). The objective is
// evaluated one sequence at a time with the batch's aggregation weights (objectives.tokenWeights), so
// its gradients equal those of the whole-batch objective and only one sequence's activations live at
// a time.

import type { Rng } from '../model/rng';
import { loraParams, releaseLoraGrads, SequencePass, zeroLoraGrads } from './backprop';
import { type Completion, grpoObjective, groupAdvantages, tokenWeights, type GrpoConfig } from './objectives';
import { mean, std, type PartialMetrics } from './metrics';
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

/** A GRPO step's metrics from its rewards and accumulated per-token sums (means over tokens). */
function grpoMetrics(rewards: readonly number[], acc: GrpoAccumulator, gradNorm: number, lr: number, tokens: number, extra: Record<string, number>): PartialMetrics {
  return {
    rewardMean: mean(rewards),
    rewardStd: std(rewards),
    kl: acc.tokens ? acc.kl / acc.tokens : 0,
    loss: acc.loss,
    clipFraction: acc.tokens ? acc.clipped / acc.tokens : 0,
    gradNorm,
    lr,
    tokens,
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

/** Whether the whole step can run as one pass per prompt: sampling, objective and backward share it. */
function fusedChoices<E extends TaskExample>(ctx: StepContext<E>, examples: readonly E[]): number[][] | null {
  const cfg = ctx.config;
  if (cfg.numIterations !== 1 || cfg.scaleRewards === 'batch') return null;
  const tok = ctx.engine.tokenizer;
  const ids: number[][] = [];
  for (const e of examples) {
    if (!e.choices || e.choices.length === 0) return null;
    const choiceIds = e.choices.map((s) => tok.encode(s));
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
  const { config: cfg, engine, adapter, sampler } = ctx;
  const G = cfg.groupSize;
  const beta = cfg.grpo.beta;
  const grads = zeroLoraGrads(engine.runtime, adapter);
  const acc = emptyAccumulator();
  const rewards: number[] = [];
  // Every completion is one token: the batch weights are those of P·G one-token completions.
  const batchWeight = tokenWeights(Array.from({ length: examples.length * G }, () => ({ logp: [0] })), cfg.grpo)[0]!;
  let tokens = 0;
  let distinct = 0;
  for (let i = 0; i < examples.length; i++) {
    const example = examples[i]!;
    const promptIds = sampler.promptIds(example);
    const choices = choiceIds[i]!;
    const pass = await SequencePass.forward(engine, adapter, { prefix: promptIds, promptLength: promptIds.length, lastTokens: choices });
    tokens += pass.tokens;
    const picks = sampler.drawChoices(pass.logps.map((l) => l[0]!), G, rng);
    const mine: number[] = [];
    for (const k of picks) mine.push(await ctx.task.reward(example, example.choices![k]!));
    rewards.push(...mine);
    const advantages = groupAdvantages(mine, G, cfg.scaleRewards === 'none' ? 'none' : 'group');
    const refs = beta > 0 ? await sampler.completionLogProbs(promptIds, choices.map((c) => [c]), undefined) : null;
    const dLogp = choices.map(() => new Float64Array(1));
    picks.forEach((k, g) => {
      const logp = pass.logps[k]!;
      grpoMember(cfg.grpo, { logp, oldLogp: logp, refLogp: refs ? refs[k]! : logp, advantage: advantages[g]! }, batchWeight, dLogp, k, acc);
    });
    distinct += new Set(picks).size;
    if (dLogp.some((d) => d[0] !== 0)) pass.backward(dLogp, grads);
    else pass.release();
  }
  const lr = ctx.learningRate();
  const opt = await ctx.optimizer.update(loraParams(grads), lr);
  releaseLoraGrads(engine.runtime, grads);
  return grpoMetrics(rewards, acc, opt.gradNorm, lr, tokens, { distinct_completions: distinct });
}

/** Sampling, reward, then numIterations passes over the batch (each distinct prefix one pass). */
async function grpoGenericStep<E extends TaskExample>(ctx: StepContext<E>, rng: Rng, examples: readonly E[]): Promise<PartialMetrics> {
  const { config: cfg, engine, adapter } = ctx;
  const rollouts = await ctx.sampler.rollouts(examples, rng, cfg.grpo.beta > 0);
  const rewards = rollouts.map((r) => r.reward);
  const advantages = advantagesByExample(rollouts, cfg.scaleRewards);
  const groups = passGroups(rollouts);
  const batchWeights = tokenWeights(
    rollouts.map((r) => ({ logp: r.oldLogp })),
    cfg.grpo,
  );
  let last = { acc: emptyAccumulator(), gradNorm: 0, lr: 0 };
  let tokens = 0;
  for (let iteration = 0; iteration < cfg.numIterations; iteration++) {
    const grads = zeroLoraGrads(engine.runtime, adapter);
    const acc = emptyAccumulator();
    for (const { seq, members } of groups) {
      const pass = await SequencePass.forward(engine, adapter, seq);
      tokens += pass.tokens;
      const dLogp = seq.lastTokens.map(() => new Float64Array(pass.count));
      for (const { rollout: i, branch } of members) {
        const r = rollouts[i]!;
        const logp = pass.logps[branch]!;
        grpoMember(cfg.grpo, { logp, oldLogp: r.oldLogp, refLogp: r.refLogp ?? logp, advantage: advantages[i]! }, batchWeights[i]!, dLogp, branch, acc);
      }
      if (dLogp.some((d) => d.some((g) => g !== 0))) pass.backward(dLogp, grads);
      else pass.release();
    }
    const lr = ctx.learningRate();
    const opt = await ctx.optimizer.update(loraParams(grads), lr);
    releaseLoraGrads(engine.runtime, grads);
    last = { acc, gradNorm: opt.gradNorm, lr };
  }
  return grpoMetrics(rewards, last.acc, last.gradNorm, last.lr, tokens, { distinct_prefixes: groups.length });
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
