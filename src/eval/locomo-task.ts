// Memory-R1's LoCoMo training tasks on the local engine, as the CLI and the Train page both build them:
// the training tuples come from running our own pipeline over the training conversations (conv-26) with a
// bank builder — the base model itself by default, or, as the paper does, a separate (stronger) model —
// and the answer tuples optionally over banks kept by a trained manager adapter (Algorithm 2); they are
// kept by what built them (tuples.ts's TupleCache). The manager's reward asks the base model (adapter
// off: the frozen answer agent) the questions linked to each turn. An embedder makes the tuples' and the
// reward's retrieval hybrid.
import type { ChatModel } from '../llm/chat-model';
import { LocalChatModel, type LocalEmbedder, type LocalEngine } from '../llm/local';
import type { TaskExample, TrainingTask } from '../train/task';
import type { LocomoConversation } from './locomo';
import { locomoValidator, type ValidationSettings } from './locomo-validation';
import { managerReward } from './rewards';
import type { RunIdentity } from './runner';
import { locomoAnswerTask, locomoManagerTask } from './training-tasks';
import { buildTrainingTuples, loadOrBuildTuples, type TrainingTuples, type TupleCache, type TupleProgress } from './tuples';

export const LOCOMO_TASKS = ['locomo-manager', 'locomo-answer'] as const;
export type LocomoTaskName = (typeof LOCOMO_TASKS)[number];

export const isLocomoTask = (name: string): name is LocomoTaskName => (LOCOMO_TASKS as readonly string[]).includes(name);

/** How the tuples are built: limits for smoke runs and small models. */
export interface TupleSettings {
  /** Only the first N turns of each conversation. */
  turns?: number | undefined;
  /** Cap on the base model's replies while building tuples and scoring the manager. */
  maxNewTokens?: number | undefined;
  /** Builds the answer tuples' banks (e.g. the base model with a trained manager adapter); default: the bank builder. */
  answerBankModel?: ChatModel | undefined;
  /** Embeds memories and questions in the tuples' banks and the manager's reward (hybrid retrieval). */
  embedding?: LocalEmbedder | undefined;
}

/** What the tuples of a model depend on: the model, the split, the limits, the answer banks' manager and the embedder. */
export function tupleIdentity(model: string, settings: TupleSettings & { embeddingId?: string }): RunIdentity {
  return {
    model,
    split: 'train',
    turns: settings.turns ?? null,
    maxNewTokens: settings.maxNewTokens ?? null,
    // Only when set, so tuples kept before these options existed stay valid.
    ...(settings.answerBankModel ? { answerBank: settings.answerBankModel.id } : {}),
    ...(settings.embedding ? { embedding: settings.embeddingId ?? 'yes' } : {}),
  };
}

/**
 * The kept tuples of `identity`, or builds them over `conversations` and keeps them; the bank builder is
 * the engine's base model, or `bankModel` (a separate model, as the paper builds its banks) when given.
 */
export function tuplesOnEngine(
  engine: LocalEngine,
  conversations: readonly LocomoConversation[],
  identity: RunIdentity,
  settings: TupleSettings,
  cache: TupleCache,
  onProgress?: (progress: TupleProgress) => void,
  bankModel?: ChatModel,
): Promise<{ tuples: TrainingTuples; cached: boolean }> {
  return tuplesOnModel(bankModel ?? new LocalChatModel(engine), conversations, identity, settings, cache, onProgress);
}

/** As tuplesOnEngine, with any ChatModel building them (e.g. a model server). */
export function tuplesOnModel(
  model: ChatModel,
  conversations: readonly LocomoConversation[],
  identity: RunIdentity,
  settings: TupleSettings,
  cache: TupleCache,
  onProgress?: (progress: TupleProgress) => void,
): Promise<{ tuples: TrainingTuples; cached: boolean }> {
  const cap = { max_tokens: settings.maxNewTokens ?? 0 };
  const embedding = settings.embedding;
  return loadOrBuildTuples(cache, identity, () =>
    buildTrainingTuples({
      conversations,
      model,
      identity,
      ...(settings.answerBankModel ? { answerBankModel: settings.answerBankModel } : {}),
      ...(embedding ? { embedder: { embed: (texts: string[]) => sequentially(texts, (t) => embedding.embed(t)) } } : {}),
      ...(settings.turns ? { limits: { turns: settings.turns } } : {}),
      ...(settings.maxNewTokens ? { sampling: { extract: cap, manage: cap } } : {}),
      ...(onProgress ? { onProgress } : {}),
    }),
  );
}

async function sequentially<T, U>(items: readonly T[], f: (item: T) => Promise<U>): Promise<U[]> {
  const out: U[] = [];
  for (const item of items) out.push(await f(item));
  return out;
}

/** Validation on `conversations` (conv-30) within the run's own limits: the tuples' turn limit and reply cap. */
export function runValidation(conversations: readonly LocomoConversation[], settings: Pick<TupleSettings, 'turns' | 'maxNewTokens'>, bankModel?: ChatModel): ValidationSettings {
  const cap = settings.maxNewTokens ? { max_tokens: settings.maxNewTokens } : undefined;
  return {
    conversations,
    ...(bankModel ? { bankModel } : {}),
    ...(settings.turns ? { turns: settings.turns } : {}),
    ...(cap ? { sampling: { extract: cap, manage: cap, answer: cap } } : {}),
  };
}

/**
 * The task on this engine from built tuples (refused when there are none for it, saying why); with
 * `validation` (conv-30), the task validates the policy there for the trainer's validateEvery hook.
 */
export function locomoTrainingTask(name: LocomoTaskName, engine: LocalEngine, tuples: TrainingTuples, settings: TupleSettings, validation?: ValidationSettings): TrainingTask<TaskExample> {
  const task = locomoTaskOf(name, engine, tuples, settings);
  if (!validation) return task;
  const validate = locomoValidator(name, engine, { ...(settings.embedding ? { embedding: settings.embedding } : {}), ...validation });
  return { ...task, validate };
}

function locomoTaskOf(name: LocomoTaskName, engine: LocalEngine, tuples: TrainingTuples, settings: TupleSettings): TrainingTask<TaskExample> {
  if (name === 'locomo-manager' && tuples.manager.length === 0) {
    throw new Error(
      `No training data for the memory manager: the base model found no facts in any of the ${tuples.linkedTurnsWithoutFacts} turns that questions point to` +
        `${settings.turns ? ` (within the first ${settings.turns} turns)` : ''}, so the manager is never called there. Use more turns, a larger reply cap, or a stronger base model.`,
    );
  }
  if (name === 'locomo-answer' && tuples.answer.length === 0) throw new Error('No training data for the answer agent: the training conversation has no questions within the turns used.');
  const format = (messages: Parameters<LocalEngine['tokenizer']['applyChatTemplate']>[0]) => engine.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
  if (name === 'locomo-answer') return locomoAnswerTask(tuples.answer, format);
  const cap = settings.maxNewTokens ? { sampling: { temperature: 0, top_p: 1, max_tokens: settings.maxNewTokens } } : {};
  const frozen = new LocalChatModel(engine, settings.embedding ? { embedding: settings.embedding } : {});
  return locomoManagerTask(tuples.manager, format, managerReward(frozen, cap));
}
