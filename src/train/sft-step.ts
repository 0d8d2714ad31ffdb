// One SFT step: token cross-entropy on the task's target completions (the Memory-SFT baseline), over
// gradientAccumulation micro-batches of promptsPerStep examples per optimiser update.
import type { Rng } from '../model/rng';
import { SequencePass } from './backprop';
import type { PartialMetrics } from './metrics';
import { sftObjective } from './objectives';
import type { StepContext } from './step-context';
import type { TaskExample } from './task';

export async function sftStep<E extends TaskExample>(ctx: StepContext<E>, rng: Rng): Promise<PartialMetrics> {
  const { config: cfg, engine, params } = ctx;
  const examples = Array.from({ length: cfg.gradientAccumulation }, () => ctx.task.examples(rng, cfg.promptsPerStep)).flat();
  const tok = engine.tokenizer;
  const sequences = examples.map((e) => {
    if (e.target === undefined) throw new Error(`trainer: SFT needs a target completion for every example of task "${ctx.task.name}"`);
    const promptIds = ctx.sampler.promptIds(e);
    const target = tok.encode(e.target);
    if (target.length === 0) throw new Error('trainer: an SFT target gives no tokens');
    return { ids: [...promptIds, ...target], promptLength: promptIds.length };
  });
  const totalTokens = sequences.reduce((n, s) => n + s.ids.length - s.promptLength, 0);
  let tokens = 0;
  let loss = 0;
  let gradNorm = 0;
  let lr = 0;
  for (let iteration = 0; iteration < cfg.numIterations; iteration++) {
    const grads = params.zeroGrads();
    loss = 0;
    for (const seq of sequences) {
      // Cross-entropy of the model's own distribution (T = 1): SFT imitates, it does not sample.
      const pass = await SequencePass.forward(params.policy, params.adapter, seq);
      tokens += pass.tokens;
      const single = sftObjective([{ logp: pass.logp }]);
      const scale = pass.count / totalTokens; // batch weight 1/total vs the single sequence's 1/count
      loss += scale * single.loss;
      params.backward(pass, [single.gradients[0]!.map((g) => scale * g)], grads);
    }
    lr = ctx.learningRate();
    const opt = await params.update(grads, lr);
    gradNorm = opt.gradNorm;
  }
  return { rewardMean: null, rewardStd: null, kl: 0, loss, clipFraction: 0, gradNorm, lr, tokens, truncated: 0, groupsDropped: 0, extra: { perplexity: Math.exp(loss) } };
}
