import { useState } from 'react';
import type { HistoryEntry } from '../../memory';

export interface TurnMemory {
  status: 'pending' | 'done';
  changed?: number | undefined;
  rejected?: number | undefined;
}

const WORDS: Record<string, string> = { ADD: 'Added', UPDATE: 'Updated', DELETE: 'Deleted', NONE: 'Already known', REJECTED: 'Rejected' };

/**
 * Under a user's message: what its memory update did. "Remembering…" while it is queued; once done, a
 * "Memory updated" chip that opens the operations the turn made (read from the bank's history).
 */
export function MemoryChip({ memory, load }: { memory: TurnMemory; load: () => Promise<HistoryEntry[]> }) {
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  const [open, setOpen] = useState(false);
  if (memory.status === 'pending') return <p className="memory-chip pending muted small">Remembering…</p>;
  if (!memory.changed && !memory.rejected) return <p className="memory-chip muted small">Nothing new to remember</p>;
  const toggle = async () => {
    if (!open && entries === null) setEntries(await load());
    setOpen(!open);
  };
  return (
    <div className="memory-chip">
      <button type="button" className="chip" aria-expanded={open} onClick={() => void toggle()}>
        {memory.changed ? `Memory updated (${memory.changed})` : `Memory unchanged, ${memory.rejected} rejected`}
      </button>
      {open && entries && (
        <ul className="chip-operations small">
          {entries.length === 0 && <li className="muted">These changes are no longer in the bank's history (it was wiped).</li>}
          {entries.map((entry) => (
            <li key={entry.seq} className={`op-${entry.event.toLowerCase()}`}>
              <span className="op-badge">{WORDS[entry.event] ?? entry.event}</span>{' '}
              {entry.event === 'UPDATE' && entry.before ? (
                <>
                  <del>{entry.before.text}</del> → <ins>{entry.after?.text}</ins>
                </>
              ) : entry.event === 'DELETE' ? (
                <del>{entry.before?.text}</del>
              ) : entry.event === 'REJECTED' ? (
                <span>{entry.reason}</span>
              ) : (
                <span>{entry.after?.text ?? entry.before?.text}</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
