// One PPO step: the same rollouts as GRPO (gradientAccumulation micro-batches), values from the critic
// at sampling time, GAE on the per-token reward penalised by β·(log p_old − log p_ref), whitened
// advantages, then numIterations passes of ppoObjective.
//
// The critic never moves the policy: it reads the final normed hidden state DETACHED (its value loss
// updates only the value head, with its own AdamW at the critic lr), so the policy's parameters see
// the policy loss alone — as with verl's separate critic model, which shares nothing with the actor.
import type { Rng } from '../model/rng';
import { SequencePass } from './backprop';
import { mean, std, type PartialMetrics } from './metrics';
import { gae, ppoObjective } from './objectives';
import { passGroups, type Rollout } from './rollouts';
import type { StepContext } from './step-context';
import type { TaskExample } from './task';
import type { ValueHead } from './value-head';

export async function ppoStep<E extends TaskExample>(ctx: StepContext<E>, valueHead: ValueHead, rng: Rng): Promise<PartialMetrics> {
  const { config: cfg, params } = ctx;
  const ppo = cfg.ppo;
  const rollouts: Rollout[] = [];
  let truncated = 0;
  for (let micro = 0; micro < cfg.gradientAccumulation; micro++) {
    const drawn = await ctx.sampler.rollouts(ctx.task.examples(rng, cfg.promptsPerStep), rng, ppo.klCoefficient > 0, micro * cfg.promptsPerStep);
    rollouts.push(...drawn.rollouts);
    truncated += drawn.truncated;
  }
  if (rollouts.length === 0) {
    // Every completion was cut before its first token (the cap cannot hold the schema's shortest reply): no update.
    return { rewardMean: null, rewardStd: null, kl: 0, loss: 0, clipFraction: 0, gradNorm: 0, lr: ctx.learningRate(), tokens: 0, truncated, groupsDropped: 0, extra: {} };
  }
  const rewards = rollouts.map((r) => r.reward);
  const groups = passGroups(rollouts);
  const forward = (seq: (typeof groups)[number]['seq']) => SequencePass.forward(params.policy, params.adapter, seq, { hidden: true, temperature: cfg.temperature });
  let tokens = 0;

  // Values at sampling time (one forward per shared prefix, no backward).
  const oldValues = new Array<Float64Array>(rollouts.length);
  for (const { seq, members } of groups) {
    const pass = await forward(seq);
    tokens += pass.tokens;
    const v = valueHead.values(pass.hidden!, pass.count);
    pass.release();
    for (const { rollout } of members) oldValues[rollout] = v;
  }
  const estimates = rollouts.map((r, i) => gae(r.reward, oldValues[i]!, r.oldLogp, r.refLogp ?? r.oldLogp, ppo));
  // Whitened advantages over all tokens of the batch (as TRL's PPO does).
  const all = estimates.flatMap((e) => [...e.advantages]);
  const [am, as] = [mean(all), std(all)];
  const advantages = estimates.map((e) => e.advantages.map((a) => (a - am) / (as + 1e-8)));
  const totalTokens = rollouts.reduce((n, r) => n + r.completionIds.length, 0);
  const klMean = mean(rollouts.flatMap((r) => (r.refLogp ? [...r.oldLogp].map((l, t) => l - r.refLogp![t]!) : [0])));

  const criticOnly = ctx.stepsDone() < cfg.criticWarmupSteps;
  let last = { loss: 0, clipFraction: 0, gradNorm: 0, lr: 0, valueLoss: 0 };
  for (let iteration = 0; iteration < cfg.numIterations; iteration++) {
    const grads = params.zeroGrads();
    const valueGrad = valueHead.zeroGrad();
    let loss = 0;
    let valueLoss = 0;
    let clipped = 0;
    for (const { seq, members } of groups) {
      const pass = await forward(seq);
      tokens += pass.tokens;
      const n = pass.count;
      const hidden = pass.hidden!;
      const values = valueHead.values(hidden, n);
      const dLogp = seq.lastTokens.map(() => new Float64Array(n));
      const dValue = new Float64Array(n);
      for (const { rollout: i, branch } of members) {
        const r = rollouts[i]!;
        const single = ppoObjective([{ logp: pass.logps[branch]!, oldLogp: r.oldLogp, values, oldValues: oldValues[i]!, advantages: advantages[i]!, returns: estimates[i]!.returns }], ppo);
        const scale = n / totalTokens; // batch weight 1/total vs the single sequence's 1/n
        single.gradients[0]!.forEach((g, t) => (dLogp[branch]![t]! += scale * g));
        single.valueGradients[0]!.forEach((g, t) => (dValue[t]! += scale * g));
        loss += scale * single.loss;
        valueLoss += scale * single.metrics.value_loss!;
        clipped += single.metrics.clip_fraction! * n;
      }
      valueHead.backward(dValue, hidden, n, valueGrad); // dL/dhidden is dropped: the hidden state is detached
      if (!criticOnly && dLogp.some((d) => d.some((g) => g !== 0))) params.backward(pass, dLogp, grads);
      else pass.release();
    }
    const lr = ctx.learningRate();
    const opt = criticOnly ? await params.discard(grads, lr) : await params.update(grads, lr);
    // The critic follows the actor's schedule shape at its own peak lr.
    if (!opt.skipped) valueHead.update(valueGrad, cfg.valueLr * (lr / cfg.optimizer.lr));
    last = { loss, clipFraction: totalTokens ? clipped / totalTokens : 0, gradNorm: opt.gradNorm, lr, valueLoss };
  }
  return {
    rewardMean: mean(rewards),
    rewardStd: std(rewards),
    kl: klMean,
    loss: last.loss,
    clipFraction: last.clipFraction,
    gradNorm: last.gradNorm,
    lr: last.lr,
    tokens,
    truncated,
    groupsDropped: 0,
    extra: { value_loss: last.valueLoss },
  };
}
