// A LoCoMo-shaped conversation as the flat list of turns the demo replays, each with its session's date.
import type { LocomoConversation } from '../../eval/locomo';

export interface ReplayTurn {
  id: string;
  session: number;
  /** The session's date as the file writes it ("1:56 pm on 8 May, 2023"). */
  date?: string;
  speaker: string;
  text: string;
}

export function replayTurns(conversation: LocomoConversation): ReplayTurn[] {
  return conversation.sessions.flatMap((session) =>
    session.turns.map((turn): ReplayTurn => {
      // A text model sees a shared photo only through its caption, as Memory-R1 and Mem0 feed it.
      const text = turn.blipCaption ? `${turn.text} [shares a photo: ${turn.blipCaption}]` : turn.text;
      return { id: `${conversation.sampleId}:${turn.diaId}`, session: session.index, ...(session.date ? { date: session.date.text } : {}), speaker: turn.speaker, text };
    }),
  );
}

/** The date questions are asked on: the last session's. */
export function lastDate(conversation: LocomoConversation): string | undefined {
  return conversation.sessions.findLast((s) => s.date)?.date?.text;
}
