// Fact extraction: one turn → short self-contained facts, relative dates resolved against the session
// date. As in Mem0 (which extracts from a message pair), the turn before is shown as context, so "Yes, a
// dog." after "Do you have a pet?" still gives a fact; facts come from the turn itself only.
// An unusable reply gets one repair attempt, then counts as "no facts" (nothing to manage).
import { addUsage, NO_USAGE, type ChatMessage, type ChatModel, type ChatRequest, type Sampling, type TokenUsage } from '../llm/chat-model';
import { findRelativeDates, parseSessionDate } from './dates';
import { findJson } from './parse-json';
import { buildExtractionMessages, buildRepairMessages, FACTS_FORMAT, quote } from './prompts';
import { FACTS_JSON_SCHEMA, FactsSchema } from './schemas';

export const EXTRACTION_SAMPLING: Sampling = { temperature: 0, top_p: 1, max_tokens: 512 };

export interface TurnInput {
  /** Stored with the memories it produces (source.turnId). */
  id?: string;
  speaker: string;
  text: string;
  sessionDate?: string;
  /** The message just before this one (the other speaker's, usually): context for extraction. */
  previous?: { speaker: string; text: string };
}

export interface ExtractionResult {
  facts: string[];
  /** True when no usable reply came even after the repair attempt. */
  failed: boolean;
  replies: string[];
  errors: string[];
  usage: TokenUsage;
}

/** Raw reply → facts (trimmed, non-empty, de-duplicated), or why it is unusable. A bare list is accepted. */
export function parseFactsReply(raw: string): { ok: true; facts: string[] } | { ok: false; error: string } {
  const found = findJson(raw);
  if (!found.ok) return found;
  const parsed = FactsSchema.safeParse(Array.isArray(found.value) ? { facts: found.value } : found.value);
  if (!parsed.success) return { ok: false, error: 'the JSON is not {"facts": [strings]}' };
  const facts = [...new Set(parsed.data.facts.map((fact) => fact.trim()).filter(Boolean))];
  return { ok: true, facts };
}

/** The line that shows the previous turn, placed before the message (the system prompt stays as it is). */
export const PREVIOUS_LABEL = 'Previous message (context only, take no facts from it):';

/** The extraction request for a turn (pure: the same turn always gives the same request). */
export function extractionMessages(turn: TurnInput): ChatMessage[] {
  const session = turn.sessionDate ? parseSessionDate(turn.sessionDate) : undefined;
  const messages = buildExtractionMessages({
    speaker: turn.speaker,
    text: turn.text,
    ...(turn.sessionDate ? { sessionDate: turn.sessionDate } : {}),
    ...(session ? { dateHints: findRelativeDates(turn.text, session) } : {}),
  });
  if (!turn.previous) return messages;
  const user = messages[1]!;
  const context = `${PREVIOUS_LABEL}\n${quote(turn.previous.speaker)}: ${quote(turn.previous.text)}\n\nMessage:`;
  return [messages[0]!, { ...user, content: user.content.replace(/^Message:$/m, () => context) }];
}

export async function extractFacts(model: ChatModel, turn: TurnInput, options: { sampling?: Sampling; signal?: AbortSignal } = {}): Promise<ExtractionResult> {
  const messages = extractionMessages(turn);
  const result: ExtractionResult = { facts: [], failed: false, replies: [], errors: [], usage: NO_USAGE };
  let conversation = messages;
  for (let attempt = 0; attempt < 2; attempt++) {
    const request: ChatRequest = {
      ...EXTRACTION_SAMPLING,
      ...options.sampling,
      messages: conversation,
      json_schema: FACTS_JSON_SCHEMA,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const reply = await model.chat(request);
    result.replies.push(reply.text);
    result.usage = addUsage(result.usage, reply.usage);
    const parsed = parseFactsReply(reply.text);
    if (parsed.ok) return { ...result, facts: parsed.facts };
    result.errors.push(parsed.error);
    conversation = buildRepairMessages(messages, reply.text, parsed.error, FACTS_FORMAT);
  }
  return { ...result, failed: true };
}
