// The Answer Agent: retrieve 30 memories per speaker, show them with short ids and dates, let the model
// name the ones it uses (distillation) and answer after **Answer:** in a few words.
import { DEFAULT_PER_SPEAKER, type Memory, type MemoryBank } from '../memory';
import type { ChatModel, ChatRequest, Sampling, TokenUsage } from '../llm/chat-model';
import { viewMemories } from './memory-view';
import { buildAnswerMessages, type ShownMemoryWithDate } from './prompts';

export const ANSWER_SAMPLING: Sampling = { temperature: 0, top_p: 1, max_tokens: 256 };

export interface ParsedAnswer {
  answer: string;
  /** Short ids listed after "Memories used:", in order, without repeats. */
  usedShortIds: string[];
}

/** Strips what models wrap a short answer in: markdown emphasis, quotes, a trailing full stop. */
function clean(answer: string): string {
  let previous: string;
  let current = answer;
  do {
    previous = current;
    current = current.replace(/^[\s*_`"'“”‘’]+|[\s*_`"'“”‘’]+$/g, '').replace(/\.$/, '');
  } while (current !== previous);
  return current;
}

/**
 * Reads an answer agent's reply: the text after the last **Answer:** marker (first non-empty line), or
 * with no marker the last non-empty line; an empty answer is "unknown". Never throws.
 */
export function parseAnswerReply(raw: string): ParsedAnswer {
  const usedShortIds: string[] = [];
  const usedLine = /memories used\**\s*:?\**\s*([^\n]*)/i.exec(raw);
  if (usedLine) for (const id of usedLine[1]!.match(/\d+/g) ?? []) if (!usedShortIds.includes(String(Number(id)))) usedShortIds.push(String(Number(id)));

  const markers = [...raw.matchAll(/\*\*\s*answer\s*:?\s*\*\*\s*:?/gi)];
  const last = markers.at(-1);
  let answer: string;
  if (last) {
    const after = raw.slice(last.index + last[0].length);
    answer = after.split('\n').map((line) => line.trim()).find(Boolean) ?? '';
  } else {
    const lines = raw.split('\n').map((line) => line.trim()).filter(Boolean);
    answer = (lines.at(-1) ?? '').replace(/^answer\s*:\s*/i, '');
    if (/^memories used/i.test(answer)) answer = '';
  }
  answer = clean(answer);
  return { answer: answer || 'unknown', usedShortIds };
}

export interface AnswerResult {
  answer: string;
  /** The memories the model said it used (those it named that were shown to it). */
  usedMemories: Memory[];
  raw: string;
  /** How many memories were retrieved and shown. */
  retrieved: number;
  usage: TokenUsage;
}

export interface AnswerOptions {
  /** Memories per speaker (default 30, as in Memory-R1: 60 for a two-person conversation). */
  perSpeaker?: number;
  sampling?: Sampling;
  date?: string;
  signal?: AbortSignal;
}

/** The prompt for a question over retrieved groups; exported so rollouts can rebuild the exact request. */
export function answerPrompt(question: string, groups: readonly { speaker: string; memories: readonly Memory[] }[], date?: string) {
  const all = groups.flatMap((group) => group.memories);
  const view = viewMemories(all);
  let next = 0;
  const shownGroups = groups.map((group) => ({
    speaker: group.speaker,
    memories: group.memories.map((): ShownMemoryWithDate => view.shown[next++]!),
  }));
  return { messages: buildAnswerMessages({ question, groups: shownGroups, ...(date ? { date } : {}) }), view };
}

export async function retrieveForQuestion(bank: MemoryBank, question: string, perSpeaker = DEFAULT_PER_SPEAKER) {
  const groups = await bank.retrieve(question, { perSpeaker });
  return groups.map((group) => ({ speaker: group.speaker, memories: group.memories.map((retrieved) => retrieved.memory) }));
}

/** Answers from already retrieved groups (the pipeline times retrieval separately). */
export async function answerFromMemories(
  model: ChatModel,
  question: string,
  groups: readonly { speaker: string; memories: readonly Memory[] }[],
  options: AnswerOptions = {},
): Promise<AnswerResult> {
  const { messages, view } = answerPrompt(question, groups, options.date);
  const request: ChatRequest = { ...ANSWER_SAMPLING, ...options.sampling, messages, ...(options.signal ? { signal: options.signal } : {}) };
  const reply = await model.chat(request);
  const parsed = parseAnswerReply(reply.text);
  const usedMemories = parsed.usedShortIds.map((id) => view.byShortId(id)).filter((m): m is Memory => m !== undefined);
  return { answer: parsed.answer, usedMemories, raw: reply.text, retrieved: view.shown.length, usage: reply.usage };
}

export async function answerQuestion(model: ChatModel, bank: MemoryBank, question: string, options: AnswerOptions = {}): Promise<AnswerResult> {
  const groups = await retrieveForQuestion(bank, question, options.perSpeaker);
  return answerFromMemories(model, question, groups, options);
}
