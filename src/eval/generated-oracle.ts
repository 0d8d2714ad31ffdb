// A scripted bank builder for generated conversations (./generate): the "strong model" that builds the
// memory banks training tuples are made from, where the paper uses a large LLM. It plays the extractor
// (the generator's templates inverted, the previous turn read for answers such as "Yes, a dog.") and the
// Memory Manager (ADD a new subject, UPDATE a stored memory about the same subject into one text that
// keeps what was true before, NONE for a repeat).
// It answers only extraction and management requests, from the prompts alone, so it goes through the
// same pipeline as any model.
import { PREVIOUS_LABEL } from '../agents/extract';
import { parseSessionDate } from '../agents/dates';
import type { ChatRequest } from '../llm/chat-model';
import { ScriptedChatModel } from '../llm/scripted';
import { factSlot, generatedFacts } from './generate';
import { agentOf } from './script-model';

const quotedField = (content: string, label: string): string | undefined => {
  const m = new RegExp(`^${label}: (".*")$`, 'm').exec(content);
  return m ? (JSON.parse(m[1]!) as string) : undefined;
};

function between(content: string, open: string, close: string): string[] {
  const lines = content.split('\n');
  return lines.slice(lines.indexOf(open) + 1, lines.indexOf(close));
}

function extract(user: string): string {
  const lines = user.split('\n');
  const text = JSON.parse(lines[lines.indexOf('Message:') + 1]!) as string;
  const speaker = quotedField(user, 'Speaker') ?? '';
  const date = quotedField(user, 'Session date');
  const at = lines.indexOf(PREVIOUS_LABEL);
  // The previous turn's line is `"speaker": "text"`: two JSON strings.
  const previous = at >= 0 ? (JSON.parse(`[${lines[at + 1]!.replace(/^(".*?[^\\]"): /, '$1, ')}]`) as string[])[1] : undefined;
  return JSON.stringify({ facts: generatedFacts(speaker, text, date ? parseSessionDate(date) : undefined, previous) });
}

function manage(user: string): string {
  const stored = between(user, '<memories>', '</memories>')
    .filter((line) => line !== '(none)')
    .map((line) => JSON.parse(line) as { id: string; text: string });
  const facts = between(user, '<facts>', '</facts>').map((line) => JSON.parse(line) as string);
  const touched = new Set<string>();
  const ops = facts.map((text, i) => {
    const same = stored.find((m) => m.text === text);
    if (same && !touched.has(same.id)) return touched.add(same.id), { id: same.id, text, event: 'NONE' };
    const slot = factSlot(text);
    const older = slot ? stored.find((m) => !touched.has(m.id) && factSlot(m.text) === slot) : undefined;
    // A merged text that keeps what was true before, as the manager's prompt asks of an UPDATE.
    if (older) return touched.add(older.id), { id: older.id, text: `${text} Earlier: ${older.text}`, event: 'UPDATE', old_memory: older.text };
    return { id: `new-${i}`, text, event: 'ADD' };
  });
  return JSON.stringify({ memory: ops });
}

/** The bank builder for generated data: a ChatModel that extracts and manages (other calls are refused). */
export function generatedBankModel(id = 'generated-oracle'): ScriptedChatModel {
  return new ScriptedChatModel(
    (request: ChatRequest) => {
      const agent = agentOf(request);
      const user = request.messages[1]?.content ?? '';
      if (agent === 'extract') return extract(user);
      if (agent === 'manage') return manage(user);
      throw new Error(`the generated-data bank builder only extracts and manages memories (asked: ${agent ?? 'an unknown request'})`);
    },
    { id },
  );
}
