// A LoCoMo conversation as the agents ingest it: its turns in order, each with a stable id, its session's
// date, the turn before it in the same session (extraction's context, as Mem0 extracts from message
// pairs), and the image caption folded into the text (a text model sees a shared photo only through it).
import type { LocomoConversation, LocomoQA } from './locomo';
import { EVALUATED_CATEGORIES } from './locomo';
import type { TurnInput } from '../agents';

export interface ConversationTurn extends TurnInput {
  id: string;
  /** "D<session>:<turn>", what QA evidence refers to. */
  diaId: string;
  /** Position in the whole conversation (0-based). */
  index: number;
}

/** `sampleId:diaId`: unique across the dataset, stored with the memories a turn produces (source.turnId). */
export function turnId(sampleId: string, diaId: string): string {
  return `${sampleId}:${diaId}`;
}

/** The conversation's turns in order; `limit` keeps the first N (smoke tests). */
export function conversationTurns(conversation: LocomoConversation, limit?: number): ConversationTurn[] {
  const turns: ConversationTurn[] = [];
  for (const session of conversation.sessions) {
    let previous: ConversationTurn | undefined;
    for (const turn of session.turns) {
      if (limit !== undefined && turns.length >= limit) return turns;
      const text = turn.blipCaption ? `${turn.text} [shares an image: ${turn.blipCaption}]` : turn.text;
      const current: ConversationTurn = {
        id: turnId(conversation.sampleId, turn.diaId),
        diaId: turn.diaId,
        index: turns.length,
        speaker: turn.speaker,
        text,
        ...(session.date ? { sessionDate: session.date.text } : {}),
        ...(previous ? { previous: { speaker: previous.speaker, text: previous.text } } : {}),
      };
      turns.push(current);
      previous = current;
    }
  }
  return turns;
}

export interface IndexedQA extends LocomoQA {
  /** Position in the conversation's `qa` list: with sampleId, what identifies a question across runs. */
  qaIndex: number;
}

/** The questions Memory-R1 evaluates (categories 1-4), in file order; `limit` keeps the first N. */
export function evaluatedQuestions(conversation: LocomoConversation, limit?: number): IndexedQA[] {
  const all = conversation.qa
    .map((qa, qaIndex) => ({ ...qa, qaIndex }))
    .filter((qa) => EVALUATED_CATEGORIES.includes(qa.category));
  return limit === undefined ? all : all.slice(0, limit);
}
