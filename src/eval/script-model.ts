// A scripted ChatModel from a JSON file, so `memory-r1 eval` can run end to end without a model (smoke
// tests, CI). Replies are given per agent, told apart by their exact system prompts:
//   {"id": "name", "extract": [...], "manage": [...], "answer": [...], "judge": [...]}
// Each list is used in order and its last reply repeats; a missing list fails the call that needs it.
import { z } from 'zod';
import { buildAnswerMessages, buildExtractionMessages, buildManagerMessages } from '../agents';
import type { ChatRequest } from '../llm/chat-model';
import { ScriptedChatModel } from '../llm/scripted';
import { judgeMessages } from './judge';

const ScriptSchema = z
  .object({
    id: z.string().optional(),
    extract: z.array(z.string()).min(1).optional(),
    manage: z.array(z.string()).min(1).optional(),
    answer: z.array(z.string()).min(1).optional(),
    judge: z.array(z.string()).min(1).optional(),
  })
  .strict();
export type AgentScript = z.infer<typeof ScriptSchema>;
export type ScriptedAgent = 'extract' | 'manage' | 'answer' | 'judge';

const SYSTEM_PROMPTS: [string, ScriptedAgent][] = [
  [buildExtractionMessages({ speaker: '', text: '' })[0]!.content, 'extract'],
  [buildManagerMessages({ facts: [], memories: [] })[0]!.content, 'manage'],
  [buildAnswerMessages({ question: '', groups: [] })[0]!.content, 'answer'],
  [judgeMessages({ question: '', gold: '', prediction: '' })[0]!.content, 'judge'],
];

/** Which agent sent a request (by its system prompt), or undefined for anything else. */
export function agentOf(request: Pick<ChatRequest, 'messages'>): ScriptedAgent | undefined {
  const system = request.messages[0]?.role === 'system' ? request.messages[0].content : undefined;
  return SYSTEM_PROMPTS.find(([prompt]) => prompt === system)?.[1];
}

export function parseAgentScript(text: string, where = 'script'): AgentScript {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where} is not JSON (${(error as Error).message})`);
  }
  const parsed = ScriptSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}: ${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'}; expected {"extract": [...], "manage": [...], "answer": [...], "judge": [...]} (lists of replies)`);
  }
  return parsed.data;
}

export function scriptedAgentModel(script: AgentScript): ScriptedChatModel {
  const used: Record<ScriptedAgent, number> = { extract: 0, manage: 0, answer: 0, judge: 0 };
  return new ScriptedChatModel(
    (request) => {
      const agent = agentOf(request);
      const replies = agent && script[agent];
      if (!agent || !replies) throw new Error(`the script has no replies for ${agent ?? 'this request'}`);
      const reply = replies[Math.min(used[agent]++, replies.length - 1)]!;
      return reply;
    },
    { id: script.id ?? 'scripted' },
  );
}
