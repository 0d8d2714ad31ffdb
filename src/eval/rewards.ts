// Memory-R1's rewards, as plain functions `(completion, tuple) → reward` for the trainer, which knows
// nothing of memories. Answer agent: exact match of the parsed answer with the gold. Manager: its
// operations applied to a copy of the tuple's bank, then a FROZEN answer agent answers the questions
// linked to the turn from that bank; the reward is their mean exact match.
import { ANSWER_SAMPLING, answerQuestion, applyOperations, parseAnswerReply, parseManagerReply, viewMemories } from '../agents';
import { embedderOf, type ChatModel, type Sampling } from '../llm/chat-model';
import type { Embedder, InMemoryBank, Memory } from '../memory';
import { loadMemories, restoreBank } from './bank-snapshot';
import { exactMatch } from './metrics';
import type { AnswerTuple, ManagerTuple } from './tuples';

export type RewardFunction<T> = (completion: string, tuple: T) => Promise<number>;

/** 1 when the answer after **Answer:** (parsed as the evaluation parses it) matches the gold exactly. */
export async function answerReward(completion: string, tuple: Pick<AnswerTuple, 'gold'>): Promise<number> {
  return exactMatch(parseAnswerReply(completion).answer, tuple.gold);
}

export interface ManagerRewardOptions {
  /** The frozen answer agent's sampling (default: the answer agent's, temperature 0). */
  sampling?: Sampling;
  /** Embeds new memories in the copy (default: the frozen model's embeddings, if it has any). */
  embedder?: Embedder;
}

/**
 * The manager's reward with `frozen` as the answer agent (e.g. the base model with no adapter). An
 * unusable completion scores 0, as do rejected operations' effects (they are not applied). Each tuple's
 * bank is restored once and copied (`clone()`) per completion, so completions never see each other's edits.
 */
export function managerReward(frozen: ChatModel, options: ManagerRewardOptions = {}): RewardFunction<ManagerTuple> {
  const embedder = options.embedder ?? embedderOf(frozen);
  const restored = new WeakMap<ManagerTuple, { bank: InMemoryBank; related: Memory[] }>();
  const prepare = async (tuple: ManagerTuple) => {
    let entry = restored.get(tuple);
    if (!entry) {
      const bank = restoreBank(tuple.sampleId, loadMemories(tuple.memories, `manager tuple ${tuple.turn.id}`), embedder);
      const byId = new Map((await bank.list()).map((m) => [m.id, m]));
      const related = tuple.related.map((id) => byId.get(id)).filter((m): m is Memory => m !== undefined);
      entry = { bank, related };
      restored.set(tuple, entry);
    }
    return entry;
  };
  return async (completion, tuple) => {
    if (tuple.questions.length === 0) return 0;
    const parsed = parseManagerReply(completion);
    if (!parsed.ok) return 0;
    const { bank, related } = await prepare(tuple);
    const copy = bank.clone();
    await applyOperations(copy, parsed.operations, viewMemories(related), {
      turnId: tuple.turn.id,
      speaker: tuple.turn.speaker,
      ...(tuple.turn.sessionDate ? { sessionDate: tuple.turn.sessionDate } : {}),
    });
    let total = 0;
    for (const qa of tuple.questions) {
      const { answer } = await answerQuestion(frozen, copy, qa.question, { sampling: options.sampling ?? ANSWER_SAMPLING });
      total += exactMatch(answer, qa.gold);
    }
    return total / tuple.questions.length;
  };
}
