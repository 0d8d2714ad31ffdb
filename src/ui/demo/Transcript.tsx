import { useEffect, useRef } from 'react';
import type { ReplayTurn } from './replay';

/** The turns replayed so far, by session; the one being processed is marked. */
export function Transcript({ turns, position, processing }: { turns: ReplayTurn[]; position: number; processing: boolean }) {
  const end = useRef<HTMLLIElement>(null);
  const shown = turns.slice(0, Math.min(turns.length, position + (processing ? 1 : 0)));
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'nearest' });
  }, [shown.length]);
  if (shown.length === 0) return <p className="empty">Press Play to replay the conversation turn by turn.</p>;
  return (
    <ol className="transcript" aria-label="Replayed turns">
      {shown.map((turn, i) => {
        const newSession = i === 0 || turns[i - 1]!.session !== turn.session;
        return (
          <li key={turn.id} ref={i === shown.length - 1 ? end : undefined} className={i === position ? 'current' : undefined} aria-current={i === position ? 'step' : undefined}>
            {newSession && <p className="session-mark muted small">Session {turn.session}{turn.date ? ` · ${turn.date}` : ''}</p>}
            <span className="speaker">{turn.speaker}</span> {turn.text}
          </li>
        );
      })}
    </ol>
  );
}
