import { useState } from 'react';
import type { HistoryEntry, UsedMemory } from '../../memory';
import { MemoryChip, type TurnMemory } from './MemoryChip';
import { MessageText } from './MessageText';

export interface ChatEntry {
  key: string;
  role: 'user' | 'assistant';
  text: string;
  /** When it was said (ms). */
  at: number;
  /** Still streaming: `text` is what the user has seen so far, exactly. */
  streaming?: boolean;
  /** Assistant: generation was stopped; `text` is what had streamed. */
  stopped?: boolean;
  /** Assistant: the memories the reply said it used, as they read then. */
  used?: UsedMemory[];
  /** User: the turn's memory update. */
  memory?: TurnMemory;
  /** Something failed for this message; what happened and what to do. */
  failed?: string;
}

interface Props {
  entry: ChatEntry;
  /** Actions; absent ones are not offered (e.g. while a reply streams). */
  onRegenerate?: (() => void) | undefined;
  onDelete?: (() => void) | undefined;
  loadOperations?: (() => Promise<HistoryEntry[]>) | undefined;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** One message: a reply rendered as Markdown, with its time, actions, and the memories it used or made. */
export function Message({ entry, onRegenerate, onDelete, loadOperations }: Props) {
  const [copied, setCopied] = useState<'Copied' | 'Copy failed' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(entry.text);
      setCopied('Copied');
    } catch {
      // No clipboard here (an insecure page, a denied permission): say so rather than nothing.
      setCopied('Copy failed');
    }
    setTimeout(() => setCopied(null), 1500);
  };
  const who = entry.role === 'user' ? 'You' : 'Assistant';
  return (
    <li className={`message ${entry.role}${entry.streaming ? ' pending' : ''}${entry.stopped ? ' stopped' : ''}`}>
      <span className="visually-hidden">{who}:</span>
      <div className="bubble">
        {entry.role === 'assistant' ? <MessageText text={entry.text} /> : <p className="plain">{entry.text}</p>}
        {entry.streaming && !entry.text && <span className="typing" aria-label="Replying">…</span>}
      </div>
      <div className="message-meta small">
        <time dateTime={new Date(entry.at).toISOString()}>{timeFormat.format(entry.at)}</time>
        {entry.stopped && <span className="stopped-mark">Stopped</span>}
        {!entry.streaming && (
          <span className="message-actions">
            <button type="button" className="link-button" onClick={() => void copy()} aria-label={`Copy ${who.toLowerCase()} message`}>
              {copied ?? 'Copy'}
            </button>
            {onRegenerate && (
              <button type="button" className="link-button" onClick={onRegenerate}>
                Regenerate
              </button>
            )}
            {onDelete && (
              <button type="button" className="link-button" onClick={onDelete} aria-label={`Delete ${who.toLowerCase()} message`}>
                Delete
              </button>
            )}
          </span>
        )}
      </div>
      {entry.memory && loadOperations && <MemoryChip memory={entry.memory} load={loadOperations} />}
      {entry.failed && (
        <p className="chat-error small" role="alert">
          {entry.failed}
        </p>
      )}
      {entry.used && !entry.streaming && (
        <details className="used">
          <summary>Memories used ({entry.used.length})</summary>
          {entry.used.length === 0 ? (
            <p className="muted small">The reply did not rely on any stored memory.</p>
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
