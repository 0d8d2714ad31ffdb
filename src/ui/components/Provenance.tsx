// Where a memory came from (the chat message, its conversation and time) and everything that happened to
// it since (each operation, who made it, when, and the facts the manager acted on).
import { useEffect, useState } from 'react';
import type { Conversation, HistoryEntry, Memory, MemoryStore, Turn } from '../../memory';
import { chatHref } from '../router';
import { Time } from './Time';

const ACTORS: Record<HistoryEntry['actor'], string> = { manager: 'memory manager', user: 'you', import: 'backup import', system: 'the app' };

const quote = (text: string) => `“${text.length > 140 ? `${text.slice(0, 139)}…` : text}”`;

interface Source {
  turn?: Turn;
  conversation?: Conversation;
}

/** The message a memory was made from, with its conversation, when the log still has them. */
function useSource(store: MemoryStore, turnId: string | undefined): Source | null {
  const [source, setSource] = useState<Source | null>(turnId ? null : {});
  useEffect(() => {
    if (!turnId) return setSource({});
    let alive = true;
    void (async () => {
      const turn = await store.conversations.getTurn(turnId);
      const conversation = turn && (await store.conversations.get(turn.conversationId));
      if (alive) setSource({ ...(turn ? { turn } : {}), ...(conversation ? { conversation } : {}) });
    })().catch(() => alive && setSource({}));
    return () => {
      alive = false;
    };
  }, [store, turnId]);
  return source;
}

/** One line: "From your message “…” in “Trip plans”, 3 Dec 2026, 10:04", linked to the chat. */
export function MemorySource({ store, memory }: { store: MemoryStore; memory: Memory }) {
  const turnId = memory.source?.turnId;
  const source = useSource(store, turnId);
  if (!source) return null;
  const { turn, conversation } = source;
  return (
    <span className="memory-source small">
      {turn ? (
        <>
          From the message {quote(turn.text)}
          {conversation && (
            <>
              {' '}
              in the chat <a href={chatHref(conversation.id)}>{quote(conversation.title || 'untitled')}</a>
            </>
          )}
          , <Time at={turn.at} />
        </>
      ) : turnId ? (
        <>
          From turn {turnId}
          {memory.source?.sessionDate ? ` (${memory.source.sessionDate})` : ''}: the message is no longer in your chats
        </>
      ) : (
        <>
          Written on <Time at={memory.createdAt} />
        </>
      )}
    </span>
  );
}

/** Every history record of one memory, oldest first, read when the reader opens it. */
export function MemoryHistory({ store, memory }: { store: MemoryStore; memory: Memory }) {
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (!open) return;
    let alive = true;
    void store.history(memory.bankId).then((all) => alive && setEntries(all.filter((e) => e.memoryId === memory.id).reverse()));
    return () => {
      alive = false;
    };
  }, [store, memory, open]);
  return (
    <details className="memory-history" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>History</summary>
      {entries === null ? (
        <p className="muted small">Reading…</p>
      ) : (
        <ol aria-label={`History of “${memory.text}”`}>
          {entries.map((entry) => (
            <HistoryLine key={entry.seq} entry={entry} />
          ))}
        </ol>
      )}
    </details>
  );
}

/** One operation: what, by whom, when, on which text, and why (the facts). */
export function HistoryLine({ entry, children }: { entry: HistoryEntry; children?: React.ReactNode }) {
  const text = entry.event === 'REJECTED' ? entry.reason : (entry.after ?? entry.before)?.text;
  return (
    <li>
      <span className="op-badge">{entry.undoes ? `${entry.event} (undo)` : entry.event}</span> <span className="muted">by {ACTORS[entry.actor]}</span>{' '}
      <span className="muted small">
        <Time at={entry.at} />
      </span>{' '}
      {entry.event === 'UPDATE' && entry.before && entry.after && entry.before.text !== entry.after.text ? (
        <>
          <del>{entry.before.text}</del> → {entry.after.text}
        </>
      ) : (
        text
      )}
      {children}
      {entry.facts && entry.facts.length > 0 && (
        <span className="history-facts small">
          {' '}
          Facts behind it: {entry.facts.map(quote).join(', ')}
        </span>
      )}
    </li>
  );
}
