// One PPO step: the same rollouts as GRPO, values from the value head at sampling time, GAE on the
// per-token KL-penalised reward, whitened advantages, then numIterations passes of ppoObjective.
// The value loss's gradient also flows back through the hidden state into the LoRA.
import type { Rng } from '../model/rng';
import { loraParams, releaseLoraGrads, SequencePass, zeroLoraGrads } from './backprop';
import { mean, std, type PartialMetrics } from './metrics';
import { gae, ppoObjective } from './objectives';
import { passGroups } from './rollouts';
import type { StepContext } from './step-context';
import type { TaskExample } from './task';
import type { ValueHead } from './value-head';

export async function ppoStep<E extends TaskExample>(ctx: StepContext<E>, valueHead: ValueHead, rng: Rng): Promise<PartialMetrics> {
  const { config: cfg, engine, adapter } = ctx;
  const ppo = cfg.ppo;
  const examples = ctx.task.examples(rng, cfg.promptsPerStep);
  const rollouts = await ctx.sampler.rollouts(examples, rng, ppo.klCoefficient > 0);
  const rewards = rollouts.map((r) => r.reward);
  const groups = passGroups(rollouts);
  let tokens = 0;

  // Values at sampling time (one forward per shared prefix, no backward).
  const oldValues = new Array<Float64Array>(rollouts.length);
  for (const { seq, members } of groups) {
    const pass = await SequencePass.forward(engine, adapter, seq, { hidden: true });
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

  let last = { loss: 0, clipFraction: 0, gradNorm: 0, lr: 0, valueLoss: 0 };
  for (let iteration = 0; iteration < cfg.numIterations; iteration++) {
    const grads = zeroLoraGrads(engine.runtime, adapter);
    const valueGrad = valueHead.zeroGrad();
    let loss = 0;
    let valueLoss = 0;
    let clipped = 0;
    for (const { seq, members } of groups) {
      const pass = await SequencePass.forward(engine, adapter, seq, { hidden: true });
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
      const dHidden = valueHead.backward(dValue, hidden, n, valueGrad);
      pass.backward(dLogp, grads, dHidden);
    }
    const lr = ctx.learningRate();
    const opt = await ctx.optimizer.update(loraParams(grads), lr);
    releaseLoraGrads(engine.runtime, grads);
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
    extra: { value_loss: last.valueLoss },
  };
}
