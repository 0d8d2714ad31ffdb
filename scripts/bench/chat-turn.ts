// One chat turn as the app runs it, for the chat benchmark: returns when the reply is finished and when
// the turn's memory update is.
import { MemoryPipeline } from '../../src/agents';
import type { ChatModel, Sampling } from '../../src/llm/chat-model';
import type { MemoryBank } from '../../src/memory';

export type ChatRunner = (text: string, onToken: (delta: string) => void) => { reply: Promise<unknown>; memory: Promise<unknown> };

export function chatRunner(model: ChatModel, bank: MemoryBank, caps: { extract?: Sampling; manage?: Sampling; reply?: Sampling }): ChatRunner {
  return (text, onToken) => {
    // Extract → manage → apply, then the answer agent, streamed.
    const streaming: ChatModel = { id: model.id, chat: (request) => model.chat({ ...request, onToken }) };
    const pipeline = new MemoryPipeline({ model, bank, answerModel: streaming, sampling: { ...caps, ...(caps.reply ? { answer: caps.reply } : {}) } });
    const memory = pipeline.ingest({ speaker: 'User', text, sessionDate: '1 December 2026' });
    const reply = memory.then(() => pipeline.ask(text, { date: '1 December 2026' }));
    return { reply, memory };
  };
}
