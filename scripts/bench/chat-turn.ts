// One chat turn as the app runs it, for the chat benchmark. `reply-first` (the app now): the reply
// (retrieve → reply, streamed), then the memory update (extract → manage → apply) queued behind the
// conversation's earlier ones. `sequential` (the app before): the memory update, then the paper's Answer
// Agent, streamed; kept so the two can be compared on the same machine at the same time.
import { MemoryPipeline, MemoryQueue, type ReplyTurn } from '../../src/agents';
import type { ChatModel, Sampling } from '../../src/llm/chat-model';
import type { MemoryBank } from '../../src/memory';

export type ChatRunner = (text: string, onToken: (delta: string) => void) => { reply: Promise<unknown>; memory: Promise<unknown> };
export type TurnOrder = 'reply-first' | 'sequential';

const DATE = '1 December 2026';

export function chatRunner(model: ChatModel, bank: MemoryBank, caps: { extract?: Sampling; manage?: Sampling; reply?: Sampling }, order: TurnOrder): ChatRunner {
  const pipeline = new MemoryPipeline({ model, bank, sampling: { ...caps, ...(caps.reply ? { answer: caps.reply } : {}) } });
  const queue = new MemoryQueue();
  const history: ReplyTurn[] = [];
  if (order === 'sequential') {
    return (text, onToken) => {
      const streaming = new MemoryPipeline({ model, bank, answerModel: { id: model.id, chat: (request) => model.chat({ ...request, onToken }) }, sampling: { ...caps, ...(caps.reply ? { answer: caps.reply } : {}) } });
      const memory = streaming.ingest({ speaker: 'User', text, sessionDate: DATE });
      return { reply: memory.then(() => streaming.ask(text, { date: DATE })), memory };
    };
  }
  return (text, onToken) => {
    const reply = pipeline.reply(text, { speaker: 'User', history: [...history], date: DATE, onToken });
    const memory = reply.then((r) => {
      history.push({ role: 'user', text }, { role: 'assistant', text: r.text });
      return queue.run('chat', () => pipeline.ingest({ speaker: 'User', text, sessionDate: DATE }));
    });
    return { reply, memory };
  };
}
