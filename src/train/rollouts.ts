// Rollouts: prompts tokenised as inference does, G completions sampled per prompt with the current
// policy (adapter on) under the task's completion cap and JSON Schema, their sampling-time ("old")
// log-probs, rewards from the task, and reference log-probs (adapter off).
//
// Which distribution the log-probs describe. Rollouts are drawn from the policy's tempered
// distribution softmax(z/T) restricted to what the constraint allows (JSON-valid tokens among the
// top 64, renormalised; for `choices`, the listed completions, renormalised). Old, new and reference
// log-probs are all taken from the UNMASKED tempered distribution log softmax(z/T) — the same
// SequencePass computes them all, so with one optimisation pass the ratio is exactly 1 — and not from
// the masked renormalised one, because:
//   - the masked log-prob subtracts log Z_t = log Σ_{allowed} p(·/T) at every position, and knowing
//     the allowed set means a constraint check of every vocabulary entry at every token (150k × 1,024
//     for a manager reply) plus a [tokens × vocab] mask through the backward; the unmasked one is the
//     kernels' plain log-softmax;
//   - the two policy gradients differ by −A·∇log Z_t per token. For single-token choices Z is a
//     per-prompt constant and group-centred advantages (Σ_g A_g = 0) cancel it exactly; for JSON,
//     Z_t → 1 wherever the policy already writes valid JSON (what a model that follows the format
//     does), so the difference vanishes where it matters, and the KL term compares the same kind of
//     distribution on both sides. TRL with guided decoding makes the same choice.

import type { Engine } from '../model/engine';
import { generate } from '../model/generate';
import { JsonConstraint } from '../model/json-constraint';
import type { Rng } from '../model/rng';
import type { ModelTokenizer } from '../model/tokenizer';
import { SequencePass, type BranchedSequence } from './backprop';
import type { TrainerConfig } from './config';
import type { TrainedParams } from './params';
import type { TaskExample, TrainingTask } from './task';

export interface Rollout {
  exampleIndex: number;
  promptIds: number[];
  /** The tokens the policy chose (a JSON closure written by force at the cap is not among them). */
  completionIds: number[];
  text: string;
  /** Sampling-time log-probs (the "old" policy), per completion token. */
  oldLogp: Float32Array;
  refLogp?: Float32Array;
  reward: number;
  /** Generation hit the completion cap. */
  truncated: boolean;
}

/** A prompt and a completion to score. */
export interface ScoredSequence {
  promptIds: readonly number[];
  completionIds: readonly number[];
}

/** Sequences grouped into shared passes: same prompt and completion up to the last token. */
export interface PassGroup {
  seq: BranchedSequence;
  /** (sequence index, branch index) of every sequence in the group. */
  members: Array<{ rollout: number; branch: number }>;
}

export function passGroups(sequences: readonly ScoredSequence[]): PassGroup[] {
  const byKey = new Map<string, PassGroup>();
  sequences.forEach((r, i) => {
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

/**
 * A prompt's ids as inference has them: no special tokens added to text that already carries them
 * (a chat template writes Llama's <|begin_of_text|> itself), and the tokenizer's own leading tokens
 * added to text that does not (a raw prompt), so there is exactly one BOS where the model has one.
 */
export function promptTokens(tokenizer: ModelTokenizer, text: string): number[] {
  const plain = tokenizer.encode(text);
  const special = tokenizer.encode(text, { addSpecialTokens: true });
  const lead = special.slice(0, special.length - plain.length);
  const prefixOnly = lead.length > 0 && special.slice(lead.length).every((id, i) => id === plain[i]);
  const ids = prefixOnly && !lead.every((id, i) => plain[i] === id) ? [...lead, ...plain] : plain;
  if (ids.length === 0) throw new Error('trainer: a prompt gives no tokens');
  return ids;
}

/** Default cap for a task that declares none (the answer agent's budget). */
export const DEFAULT_COMPLETION_CAP = 256;

/** The free-form completion cap: the config's override, else the task's own (its agent's inference budget). */
export function completionCap(config: Pick<TrainerConfig, 'maxCompletionTokens'>, task: Pick<TrainingTask, 'maxCompletionTokens'>): number {
  return config.maxCompletionTokens ?? task.maxCompletionTokens ?? DEFAULT_COMPLETION_CAP;
}

export class RolloutSampler<E extends TaskExample> {
  private readonly constraint: JsonConstraint | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly params: TrainedParams,
    private readonly config: TrainerConfig,
    private readonly task: TrainingTask<E>,
    /** Longest free-form completion. */
    readonly cap: number,
  ) {
    this.constraint = task.jsonSchema ? new JsonConstraint(task.jsonSchema) : undefined;
  }

  promptIds(example: E): number[] {
    return promptTokens(this.engine.tokenizer, example.prompt);
  }

  /** Token ids of each choice of an example (refused when one gives none). */
  choiceIds(example: E): number[][] {
    const ids = example.choices!.map((s) => this.engine.tokenizer.encode(s));
    if (ids.some((c) => c.length === 0)) throw new Error('trainer: a choice gives no tokens');
    return ids;
  }

  /** Tempered per-token log-probs of each sequence under the policy (`policy`) or the reference (adapter off). */
  async logProbs(sequences: readonly ScoredSequence[], which: 'policy' | 'reference'): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(sequences.length);
    for (const { seq, members } of passGroups(sequences)) {
      const { model, adapter } = which === 'policy' ? { model: this.params.policy, adapter: this.params.adapter } : this.params.reference;
      const pass = await SequencePass.forward(model, adapter, seq, { temperature: this.config.temperature });
      for (const { rollout, branch } of members) out[rollout] = pass.logps[branch]!;
      pass.release();
    }
    return out;
  }

  /**
   * G completions of one prompt from the current policy, with their sampling-time log-probs, and how
   * many of the G hit the cap (one with no token of its own — the cap too small even to open the
   * value — is counted and left out).
   */
  async sample(example: E, exampleIndex: number, promptIds: number[], count: number, rng: Rng): Promise<{ drawn: Omit<Rollout, 'reward'>[]; truncated: number }> {
    if (example.choices && example.choices.length > 0) {
      const choiceIds = this.choiceIds(example);
      const logps = await this.logProbs(choiceIds.map((completionIds) => ({ promptIds, completionIds })), 'policy');
      const picks = this.drawChoices(
        logps.map((l) => l.reduce((a, b) => a + b, 0)),
        count,
        rng,
      );
      return { drawn: picks.map((k) => ({ exampleIndex, promptIds, completionIds: choiceIds[k]!, text: example.choices![k]!, oldLogp: logps[k]!, truncated: false })), truncated: 0 };
    }
    const tok = this.engine.tokenizer;
    const drawn: Array<{ ids: number[]; text: string; truncated: boolean }> = [];
    let truncated = 0;
    for (let g = 0; g < count; g++) {
      const session = this.engine.session({ ...(this.params.adapter ? { adapter: this.config.adapterName } : {}), maxTokens: Math.min(this.engine.maxTokens, promptIds.length + this.cap) });
      try {
        const r = await generate(session, tok, {
          promptIds,
          maxTokens: this.cap,
          temperature: this.config.temperature,
          seed: Math.floor(rng() * 2 ** 32),
          ...(this.constraint ? { jsonSchema: this.constraint } : {}),
        });
        // The end-of-sequence token is part of the completion (the policy learns when to stop); which of
        // several EOS ids was drawn is not reported, so the first is used. A closure forced at the cap
        // stays in the text (the reward sees what inference would return) but is not the policy's choice.
        const sampled = r.ids.slice(0, r.ids.length - r.forcedTokens);
        const ids = r.finishReason === 'eos' ? [...sampled, tok.stopIds[0] ?? this.engine.config.eosTokenIds[0]!] : sampled;
        if (r.finishReason === 'length') truncated++;
        if (ids.length > 0) drawn.push({ ids, text: r.text, truncated: r.finishReason === 'length' });
      } finally {
        session.dispose();
      }
    }
    const old = await this.logProbs(drawn.map((d) => ({ promptIds, completionIds: d.ids })), 'policy');
    return { drawn: drawn.map((d, k) => ({ exampleIndex, promptIds, completionIds: d.ids, text: d.text, oldLogp: old[k]!, truncated: d.truncated })), truncated };
  }

  /** `count` draws among choices with tempered sequence log-probs `logps`: ∝ exp(logp), renormalised over the choices. */
  drawChoices(logps: readonly number[], count: number, rng: Rng): number[] {
    const top = Math.max(...logps);
    const weights = logps.map((s) => Math.exp(s - top));
    const total = weights.reduce((a, b) => a + b, 0);
    return Array.from({ length: count }, () => {
      let u = rng() * total;
      let k = 0;
      while (k < weights.length - 1 && u >= weights[k]!) u -= weights[k++]!;
      return k;
    });
  }

  /**
   * G rollouts per example with rewards (and reference log-probs when `withRef`); example i is
   * numbered first + i. `truncated` counts the completions cut by the cap.
   */
  async rollouts(examples: readonly E[], rng: Rng, withRef: boolean, first = 0): Promise<{ rollouts: Rollout[]; truncated: number }> {
    const rollouts: Rollout[] = [];
    let truncated = 0;
    for (let i = 0; i < examples.length; i++) {
      const promptIds = this.promptIds(examples[i]!);
      const sampled = await this.sample(examples[i]!, first + i, promptIds, this.config.groupSize, rng);
      truncated += sampled.truncated;
      for (const s of sampled.drawn) rollouts.push({ ...s, reward: await this.task.reward(examples[i]!, s.text) });
    }
    if (withRef && rollouts.length > 0) {
      const refs = await this.logProbs(rollouts, 'reference');
      rollouts.forEach((r, k) => (r.refLogp = refs[k]!));
    }
    return { rollouts, truncated };
  }
}
