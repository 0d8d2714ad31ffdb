import type { UsedMemory } from '../../memory';

export interface ChatEntry {
  key: string;
  role: 'user' | 'assistant';
  text: string;
  /** Still being generated: `text` is the raw stream so far. */
  pending?: boolean;
  /** Assistant: the memories the answer agent said it used, as they read then. */
  used?: UsedMemory[];
  /** User: what the turn did to the bank. */
  note?: string;
  /** The turn failed; why. */
  failed?: string;
}

/** One message; an assistant reply can be opened to show the memories it was answered from. */
export function Message({ entry }: { entry: ChatEntry }) {
  return (
    <li className={`message ${entry.role}${entry.pending ? ' pending' : ''}`}>
      <span className="visually-hidden">{entry.role === 'user' ? 'You:' : 'Assistant:'}</span>
      <p className="bubble">{entry.text || (entry.pending ? '…' : '')}</p>
      {entry.note && <p className="message-note muted small">{entry.note}</p>}
      {entry.failed && (
        <p className="message-note reason small" role="alert">
          {entry.failed}
        </p>
      )}
      {entry.used && (
        <details className="used">
          <summary>Memories used ({entry.used.length})</summary>
          {entry.used.length === 0 ? (
            <p className="muted small">The answer did not rely on any stored memory.</p>
          ) : (
            <ul>
              {entry.used.map((memory) => (
                <li key={memory.id}>{memory.text}</li>
              ))}
            </ul>
          )}
        </details>
      )}
    </li>
  );
}
