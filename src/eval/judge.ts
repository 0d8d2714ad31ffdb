// LLM-as-a-Judge, the "J" of Memory-R1's and Mem0's tables: a model labels a generated answer CORRECT or
// WRONG against the gold answer, generously (same topic counts; the same date in another format or as a
// relative reference counts), replying `{"label": "CORRECT"|"WRONG"}`. The wording is ours; the rules and
// the reply format follow Mem0's evaluation (temperature 0, JSON reply, score 1 for CORRECT).
import { z } from 'zod';

/** The reply the judge must give; its JSON Schema constrains decoding where the model supports it. */
export const JudgeVerdictSchema = z.object({ label: z.enum(['CORRECT', 'WRONG']) });
export type JudgeLabel = z.infer<typeof JudgeVerdictSchema>['label'];
export const JUDGE_JSON_SCHEMA: Record<string, unknown> = z.toJSONSchema(JudgeVerdictSchema);

/**
 * The little of a chat model the judge needs. Structurally a subset of src/llm/chat-model.ts's ChatModel
 * (kept local so this module does not depend on that contract while it is being written).
 */
export interface JudgeChatModel {
  chat(request: {
    messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
    temperature?: number;
    max_tokens?: number;
    json_schema?: Record<string, unknown>;
  }): Promise<{ text: string }>;
}

export interface JudgeInput {
  question: string;
  gold: string;
  prediction: string;
}

const SYSTEM = 'You grade answers to questions about a conversation. You reply with JSON only.';

/** The judge's messages for one answer. */
export function judgeMessages({ question, gold, prediction }: JudgeInput): { role: 'system' | 'user'; content: string }[] {
  const user = [
    'Label the generated answer to the question below CORRECT or WRONG, judging it against the gold answer.',
    '',
    'The question asks about something one person in a conversation should remember about the other.',
    'The gold answer is short; the generated answer may be longer. Be generous:',
    '- If the generated answer is about the same thing as the gold answer, it is CORRECT, even with extra detail.',
    '- For a time or date, it is CORRECT if it points to the same date or period, whatever the format',
    '  ("May 7th" and "7 May" match) and even if it says it relatively ("the week before 9 June").',
    '- It is WRONG if it names something else, contradicts the gold answer, or does not answer.',
    '',
    `Question: ${question}`,
    `Gold answer: ${gold}`,
    `Generated answer: ${prediction}`,
    '',
    'Reply with exactly one JSON object and nothing else: {"label": "CORRECT"} or {"label": "WRONG"}.',
  ].join('\n');
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: user },
  ];
}

function labelOf(value: unknown): JudgeLabel | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const label = (value as Record<string, unknown>).label;
  if (typeof label !== 'string') return undefined;
  const word = label.trim().toUpperCase();
  return word === 'CORRECT' || word === 'WRONG' ? word : undefined;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The label in a judge's reply, tolerant of what models do: code fences, text around the JSON, single
 * quotes, lowercase labels; failing JSON, a reply that names exactly one of CORRECT / WRONG as a word.
 * Undefined when the reply is unreadable or names both.
 */
export function parseJudgeReply(text: string): JudgeLabel | undefined {
  const whole = labelOf(tryJson(text.trim()));
  if (whole) return whole;
  for (const [object] of text.matchAll(/\{[^{}]*\}/g)) {
    const label = labelOf(tryJson(object)) ?? labelOf(tryJson(object.replace(/'/g, '"')));
    if (label) return label;
  }
  const keyed = /["']?label["']?\s*[:=]\s*["']?(correct|wrong)\b/i.exec(text);
  if (keyed?.[1]) return keyed[1].toUpperCase() as JudgeLabel;
  const correct = /\bCORRECT\b/.test(text);
  const wrong = /\bWRONG\b/.test(text);
  if (correct !== wrong) return correct ? 'CORRECT' : 'WRONG';
  return undefined;
}

export interface JudgeResult {
  /** Undefined when the reply could not be read; it then scores 0. */
  label: JudgeLabel | undefined;
  /** 1 for CORRECT, else 0. */
  score: number;
  /** The model's reply, for reports. */
  reply: string;
}

/** Asks the model to judge one answer (temperature 0, JSON-constrained where supported). */
export async function judgeAnswer(model: JudgeChatModel, input: JudgeInput, { maxTokens = 32 } = {}): Promise<JudgeResult> {
  const { text } = await model.chat({ messages: judgeMessages(input), temperature: 0, max_tokens: maxTokens, json_schema: JUDGE_JSON_SCHEMA });
  const label = parseJudgeReply(text);
  return { label, score: label === 'CORRECT' ? 1 : 0, reply: text };
}
