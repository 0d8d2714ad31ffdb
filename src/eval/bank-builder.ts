// A bank builder made of two models: one extracts the facts from each turn, the other decides the memory
// operations on them. Training the Memory Manager changes only the second, so comparing managers over the
// same extractor's facts measures their operations alone (ours: the paper's manager, too, acts on
// extracted facts, but it does not say the extractor was held fixed).
import type { ChatModel } from '../llm/chat-model';
import { agentOf } from './script-model';

export function bankBuilder(extractor: ChatModel, manager: ChatModel): ChatModel {
  const embed = manager.embed?.bind(manager);
  return {
    id: `${extractor.id} (extraction) + ${manager.id} (operations)`,
    chat: (request) => (agentOf(request) === 'extract' ? extractor : manager).chat(request),
    ...(embed ? { embed } : {}),
  };
}
