// One chat turn as the app runs it, for the chat benchmark: the reply first (retrieve → reply, streamed),
// then the memory update (extract → manage → apply) queued behind the conversation's earlier ones.
import { MemoryPipeline, MemoryQueue, type ReplyTurn } from '../../src/agents';
import type { ChatModel, Sampling } from '../../src/llm/chat-model';
import type { MemoryBank } from '../../src/memory';

export type ChatRunner = (text: string, onToken: (delta: string) => void) => { reply: Promise<unknown>; memory: Promise<unknown> };

export function chatRunner(model: ChatModel, bank: MemoryBank, caps: { extract?: Sampling; manage?: Sampling; reply?: Sampling }): ChatRunner {
  const pipeline = new MemoryPipeline({ model, bank, sampling: caps });
  const queue = new MemoryQueue();
  const history: ReplyTurn[] = [];
  return (text, onToken) => {
    const reply = pipeline.reply(text, { speaker: 'User', history: [...history], date: '1 December 2026', onToken });
    const memory = reply.then((r) => {
      history.push({ role: 'user', text }, { role: 'assistant', text: r.text });
      return queue.run('chat', () => pipeline.ingest({ speaker: 'User', text, sessionDate: '1 December 2026' }));
    });
    return { reply, memory };
  };
}
