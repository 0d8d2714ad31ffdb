// Rollouts: prompts tokenised, G completions sampled per prompt with the current policy (adapter on),
// their sampling-time ("old") log-probs, rewards from the task, and reference log-probs (adapter off).
//
// Sampling with `choices` (the synthetic task: one of four letters): the rollout draws among the
// choices ∝ p^(1/T) renormalised over them; the objective uses the model's unrestricted token log-probs
// (as TRL does with guided decoding). With group-centred advantages (Σ_g A_g = 0 in each group) the
// policy gradient Σ A_g ∇log p_g then equals the gradient of the restricted policy's log-probs
// exactly, since the two differ by a per-prompt constant; only the KL term sees the unrestricted model.

import type { Engine } from '../model/engine';
import { generate } from '../model/generate';
import type { Rng } from '../model/rng';
import type { BranchedSequence } from './backprop';
import type { TrainerConfig } from './config';
import type { TaskExample, TrainingTask } from './task';

export interface Rollout {
  exampleIndex: number;
  promptIds: number[];
  completionIds: number[];
  text: string;
  /** Sampling-time log-probs (the "old" policy), per completion token. */
  oldLogp: Float32Array;
  refLogp?: Float32Array;
  reward: number;
}

/** The batch's rollouts grouped into shared passes: same prompt and completion up to the last token. */
export interface PassGroup {
  seq: BranchedSequence;
  /** (rollout index, branch index) of every rollout in the group. */
  members: Array<{ rollout: number; branch: number }>;
}

export function passGroups(rollouts: readonly Rollout[]): PassGroup[] {
  const byKey = new Map<string, PassGroup>();
  rollouts.forEach((r, i) => {
    const prefix = [...r.promptIds, ...r.completionIds.slice(0, -1)];
    const last = r.completionIds[r.completionIds.length - 1]!;
    const key = `${r.promptIds.length}|${prefix.join(',')}`;
    let group = byKey.get(key);
    if (!group) byKey.set(key, (group = { seq: { prefix, promptLength: r.promptIds.length, lastTokens: [] }, members: [] }));
    const lastTokens = group.seq.lastTokens as number[];
    let branch = lastTokens.indexOf(last);
    if (branch < 0) branch = lastTokens.push(last) - 1;
    group.members.push({ rollout: i, branch });
  });
  return [...byKey.values()];
}

export class RolloutSampler<E extends TaskExample> {
  constructor(
    private readonly engine: Engine,
    private readonly config: TrainerConfig,
    private readonly task: TrainingTask<E>,
  ) {}

  promptIds(example: E): number[] {
    const ids = this.engine.tokenizer.encode(example.prompt, { addSpecialTokens: true });
    if (ids.length === 0) throw new Error('trainer: a prompt gives no tokens');
    return ids;
  }

  /**
   * Per-token log-probs of each completion after the prompt (adapter name, or undefined = reference).
   * Single-token completions share one prompt forward: the last position's full log-softmax.
   */
  async completionLogProbs(promptIds: number[], completions: number[][], adapter: string | undefined): Promise<Float32Array[]> {
    if (completions.every((c) => c.length === 1)) {
      const session = this.engine.session({ ...(adapter !== undefined ? { adapter } : {}), maxTokens: promptIds.length });
      try {
        await session.append(promptIds);
        const logits = await session.logits();
        let max = -Infinity;
        for (const v of logits) max = Math.max(max, v);
        let sum = 0;
        for (const v of logits) sum += Math.exp(v - max);
        const lse = max + Math.log(sum);
        return completions.map((c) => Float32Array.of(logits[c[0]!]! - lse));
      } finally {
        session.dispose();
      }
    }
    const out: Float32Array[] = [];
    for (const c of completions) out.push(c.length ? await this.engine.score(promptIds, c, adapter !== undefined ? { adapter } : {}) : new Float32Array(0));
    return out;
  }

  /** G completions of one prompt from the current policy, with their sampling-time log-probs. */
  async sample(example: E, exampleIndex: number, promptIds: number[], count: number, rng: Rng): Promise<Omit<Rollout, 'reward'>[]> {
    const tok = this.engine.tokenizer;
    const name = this.config.adapterName;
    if (example.choices && example.choices.length > 0) {
      const choiceIds = example.choices.map((s) => tok.encode(s));
      if (choiceIds.some((c) => c.length === 0)) throw new Error('trainer: a choice gives no tokens');
      const logps = await this.completionLogProbs(promptIds, choiceIds, name);
      const picks = this.drawChoices(
        logps.map((l) => l.reduce((a, b) => a + b, 0)),
        count,
        rng,
      );
      return picks.map((k) => ({ exampleIndex, promptIds, completionIds: choiceIds[k]!, text: example.choices![k]!, oldLogp: logps[k]! }));
    }
    const out: Omit<Rollout, 'reward'>[] = [];
    for (let g = 0; g < count; g++) {
      const session = this.engine.session({ adapter: name, maxTokens: Math.min(this.engine.maxTokens, promptIds.length + this.config.maxCompletionTokens) });
      try {
        const r = await generate(session, tok, { promptIds, maxTokens: this.config.maxCompletionTokens, temperature: this.config.temperature, seed: Math.floor(rng() * 2 ** 32) });
        // The end-of-sequence token is part of the completion (the policy learns when to stop); which of
        // several EOS ids was drawn is not reported, so the first is used.
        const ids = r.finishReason === 'eos' ? [...r.ids, tok.stopIds[0] ?? this.engine.config.eosTokenIds[0]!] : r.ids;
        if (ids.length === 0) continue;
        const [oldLogp] = await this.completionLogProbs(promptIds, [ids], name);
        out.push({ exampleIndex, promptIds, completionIds: ids, text: r.text, oldLogp: oldLogp! });
      } finally {
        session.dispose();
      }
    }
    return out;
  }

  /** `count` draws among choices with sequence log-probs `logps`: ∝ p^(1/T), renormalised over the choices. */
  drawChoices(logps: readonly number[], count: number, rng: Rng): number[] {
    const scores = logps.map((l) => l / this.config.temperature);
    const top = Math.max(...scores);
    const weights = scores.map((s) => Math.exp(s - top));
    const total = weights.reduce((a, b) => a + b, 0);
    return Array.from({ length: count }, () => {
      let u = rng() * total;
      let k = 0;
      while (k < weights.length - 1 && u >= weights[k]!) u -= weights[k++]!;
      return k;
    });
  }

  /** G rollouts per example with rewards (and reference log-probs when `withRef`). */
  async rollouts(examples: readonly E[], rng: Rng, withRef: boolean): Promise<Rollout[]> {
    const rollouts: Rollout[] = [];
    for (let i = 0; i < examples.length; i++) {
      const promptIds = this.promptIds(examples[i]!);
      for (const s of await this.sample(examples[i]!, i, promptIds, this.config.groupSize, rng)) {
        rollouts.push({ ...s, reward: await this.task.reward(examples[i]!, s.text) });
      }
    }
    if (withRef) {
      // Reference = the same weights with the adapter off; one call per prompt for its completions.
      for (let i = 0; i < examples.length; i++) {
        const mine = rollouts.filter((r) => r.exampleIndex === i);
        if (mine.length === 0) continue;
        const refs = await this.completionLogProbs(mine[0]!.promptIds, mine.map((r) => r.completionIds), undefined);
        mine.forEach((r, k) => (r.refLogp = refs[k]!));
      }
    }
    return rollouts;
  }
}
