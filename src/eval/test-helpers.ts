// Test doubles for evaluation tests: a scripted model that plays every agent deterministically from the
// prompts themselves (the extractor keeps the whole turn as one fact, the manager ADDs every fact, the
// answerer answers through a given function, the judge says CORRECT exactly when the answer matches the gold).
import { ScriptedChatModel } from '../llm/scripted';
import type { ChatRequest } from '../llm/chat-model';
import { exactMatch } from './metrics';
import { agentOf, type ScriptedAgent } from './script-model';

const quoted = (content: string, label: string) => {
  const match = new RegExp(`^${label}: (".*")$`, 'm').exec(content);
  return match ? (JSON.parse(match[1]!) as string) : undefined;
};

function between(content: string, open: string, close: string): string[] {
  const lines = content.split('\n');
  return lines.slice(lines.indexOf(open) + 1, lines.indexOf(close));
}

export interface EchoAgents {
  model: ScriptedChatModel;
  calls: Record<ScriptedAgent, number>;
}

export function echoAgents(answer: (question: string, request: ChatRequest) => string, id = 'echo'): EchoAgents {
  const calls: Record<ScriptedAgent, number> = { extract: 0, manage: 0, answer: 0, judge: 0 };
  const model = new ScriptedChatModel((request) => {
    const agent = agentOf(request);
    if (!agent) throw new Error('unexpected request');
    calls[agent]++;
    const user = request.messages[1]!.content;
    switch (agent) {
      case 'extract': {
        const lines = user.split('\n');
        const text = JSON.parse(lines[lines.indexOf('Message:') + 1]!) as string;
        return JSON.stringify({ facts: [`${quoted(user, 'Speaker')}: ${text}`.slice(0, 300)] });
      }
      case 'manage': {
        const facts = between(user, '<facts>', '</facts>').map((line) => JSON.parse(line) as string);
        return JSON.stringify({ memory: facts.map((text) => ({ id: 'new', text, event: 'ADD' })) });
      }
      case 'answer':
        return `Memories used: 0\n**Answer:** ${answer(quoted(user, 'Question') ?? '', request)}`;
      case 'judge': {
        const gold = /^Gold answer: (.*)$/m.exec(user)?.[1];
        const prediction = /^Generated answer: (.*)$/m.exec(user)?.[1];
        return JSON.stringify({ label: exactMatch(prediction ?? '', gold ?? '') ? 'CORRECT' : 'WRONG' });
      }
    }
  }, { id });
  return { model, calls };
}
