import { useEffect, useId, useRef, useState } from 'react';
import type { HistoryEntry, MemoryStore } from '../../memory';
import { wordDiff } from '../diff';
import { Time } from './Time';

interface Props {
  store: MemoryStore;
  bankId: string;
  /** How many entries to keep on screen. */
  limit?: number;
}

/** A live feed of what happens to the bank: every operation as it is applied, rejected ones with their reason. */
export function OperationsFeed({ store, bankId, limit = 100 }: Props) {
  const [entries, setEntries] = useState<HistoryEntry[]>([]);
  const titleId = useId();
  const list = useRef<HTMLOListElement>(null);

  // Newest entries arrive at the bottom: keep them in view.
  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [entries]);

  useEffect(() => {
    let alive = true;
    void store.history(bankId, limit).then((recent) => alive && setEntries(recent.reverse()));
    const unsubscribe = store.subscribe((change) => {
      if (change.bankId !== bankId) return;
      if (change.kind === 'reset') void store.history(bankId, limit).then((recent) => alive && setEntries(recent.reverse()));
      else setEntries((previous) => [...previous, ...change.entries].slice(-limit));
    });
    return () => {
      alive = false;
      unsubscribe();
    };
  }, [store, bankId, limit]);

  return (
    <section className="feed-panel">
      <h2 id={titleId}>Memory operations</h2>
      <ol ref={list} role="log" aria-labelledby={titleId} aria-live="polite" className="feed">
        {entries.length === 0 && <li className="empty">Operations appear here as turns are processed.</li>}
        {entries.map((entry) => (
          <FeedItem key={entry.seq} entry={entry} />
        ))}
      </ol>
    </section>
  );
}

function FeedItem({ entry }: { entry: HistoryEntry }) {
  const label = entry.undoes ? `${entry.event} (undo)` : entry.event;
  return (
    <li className={`feed-item op-${entry.event.toLowerCase()}`}>
      <span className="op-badge">{label}</span>
      <span className="op-text">
        {entry.event === 'ADD' && entry.after?.text}
        {entry.event === 'UPDATE' && entry.before && entry.after && (
          <>
            {wordDiff(entry.before.text, entry.after.text).map((part, i) =>
              part.kind === 'same' ? <span key={i}>{part.text}</span> : part.kind === 'added' ? <ins key={i}>{part.text}</ins> : <del key={i}>{part.text}</del>,
            )}
          </>
        )}
        {entry.event === 'DELETE' && <del>{entry.before?.text}</del>}
        {entry.event === 'NONE' && <span className="muted">{entry.before?.text} (already known)</span>}
        {entry.event === 'REJECTED' && (
          <>
            <span className="reason">{explainReason(entry.reason ?? '')}</span> <code className="muted">{describeOperation(entry.operation).replace(/"unknown:/g, '"')}</code>
          </>
        )}
        <span className="op-time muted small">
          <Time at={entry.at} />
        </span>
      </span>
    </li>
  );
}

/** The bank marks a short id the model made up as "unknown:<id>"; say it in the user's terms. */
function explainReason(reason: string): string {
  return reason.replace(/no memory with id "unknown:([^"]*)" in this bank/, 'id "$1" is not one of the memories shown to the model');
}

/** A short, safe description of a rejected operation (it may be anything the model produced). */
function describeOperation(operation: unknown): string {
  try {
    const text = JSON.stringify(operation) ?? String(operation);
    return text.length > 160 ? `${text.slice(0, 157)}…` : text;
  } catch {
    return String(operation);
  }
}
