// Validation of a LoCoMo training run on Memory-R1's validation conversation (conv-30, 81 questions), as
// the paper picks its checkpoint: the trainer's validation hook scores the policy every N steps and keeps
// the best step's adapter. The score is the evaluation runner's exact match over the questions:
//   locomo-answer:  the banks are built once (by the bank builder; they do not depend on the policy), the
//                   policy answers;
//   locomo-manager: the policy (the manager adapter) builds the banks anew each time (from its own
//                   extraction, or a fixed extractor's), the frozen answer agent (the base model)
//                   answers — the manager's reward, over a whole conversation.
import type { ChatModel, Sampling } from '../llm/chat-model';
import { LocalChatModel, type LocalEmbedder, type LocalEngine } from '../llm/local';
import type { ValidationContext } from '../train/task';
import { bankBuilder } from './bank-builder';
import type { LocomoConversation } from './locomo';
import { summarize } from './report';
import { MemoryEvalStore, runLocomoEval, type BankCheckpoint } from './runner';

export interface ValidationSettings {
  /** The validation split's conversations (conv-30 in locomo10.json). */
  conversations: readonly LocomoConversation[];
  /** Builds the answer task's banks (default: the engine's base model). */
  bankModel?: ChatModel;
  /** Extracts the facts the manager task's policy manages (default: the policy itself). */
  extractModel?: ChatModel;
  embedding?: LocalEmbedder;
  /** First N questions / turns of each conversation (smoke runs). */
  questions?: number;
  turns?: number;
  /** Memories retrieved per speaker (default 30, as in Memory-R1). */
  perSpeaker?: number;
  /** Sampling of the agents while validating (default: their own, greedy). */
  sampling?: { extract?: Sampling; manage?: Sampling; answer?: Sampling };
  /** The engine's model with an adapter (or the base with none); default the local ChatModel. Tests pass doubles. */
  modelFor?: (adapter: string | undefined) => ChatModel;
}

/** The validation hook of a LoCoMo task: exact match (0-1) on the validation conversations. */
export function locomoValidator(task: 'locomo-answer' | 'locomo-manager', engine: LocalEngine, settings: ValidationSettings): (context: Pick<ValidationContext, 'adapterName' | 'step'>) => Promise<number> {
  const embedding = settings.embedding ? { embedding: settings.embedding } : {};
  const modelFor = settings.modelFor ?? ((adapter: string | undefined) => new LocalChatModel(engine, { ...(adapter ? { adapter } : {}), ...embedding }));
  // The answer task's banks never change: built on the first validation, reused after.
  const keptBanks = new Map<string, BankCheckpoint>();
  return async ({ adapterName, step }) => {
    if (settings.conversations.length === 0) throw new Error('No validation conversation (conv-30) to validate on: load a LoCoMo file that has it, or turn validation off.');
    const policy = modelFor(adapterName);
    const base = modelFor(undefined);
    const store = new MemoryEvalStore();
    if (task === 'locomo-answer') for (const [key, bank] of keptBanks) store.banks.set(key, bank);
    const limits = { ...(settings.questions ? { questions: settings.questions } : {}), ...(settings.turns ? { turns: settings.turns } : {}) };
    const run = await runLocomoEval({
      conversations: settings.conversations,
      model: task === 'locomo-answer' ? (settings.bankModel ?? base) : settings.extractModel ? bankBuilder(settings.extractModel, policy) : policy,
      answerModel: task === 'locomo-answer' ? policy : base,
      store,
      identity: { task, step },
      bankKey: task === 'locomo-answer' ? 'validation-bank' : `validation-manager-${step}`,
      limits,
      ...(settings.sampling ? { sampling: settings.sampling } : {}),
      ...(settings.perSpeaker ? { perSpeaker: settings.perSpeaker } : {}),
    });
    if (task === 'locomo-answer') for (const [key, bank] of store.banks) keptBanks.set(key, bank);
    return summarize(run.results).overall.em / 100;
  };
}
