import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { HistoryEntry, Memory, MemoryStore } from '../memory';

interface Props {
  store: MemoryStore;
  bankId: string;
}

/** The bank as a live list: add, edit and delete by hand (through the bank's validated path) and undo. */
export function MemoryPanel({ store, bankId }: Props) {
  const [memories, setMemories] = useState<Memory[]>([]);
  const [history, setHistory] = useState<HistoryEntry[]>([]);
  const [draft, setDraft] = useState('');
  const [message, setMessage] = useState('');

  const refresh = useCallback(async () => {
    setMemories(await store.list(bankId));
    setHistory(await store.history(bankId, 20));
  }, [store, bankId]);

  useEffect(() => {
    void refresh();
    return store.subscribe((change) => {
      if (change.bankId === bankId) void refresh();
    });
  }, [store, bankId, refresh]);

  const run = async (action: () => Promise<unknown>) => {
    try {
      setMessage('');
      await action();
    } catch (error) {
      setMessage((error as Error).message);
    }
  };

  const add = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const result = await store.edit(bankId, { event: 'ADD', text: draft });
      if (result.status === 'rejected') setMessage(result.reason);
      else setDraft('');
    });
  };

  const lastUndoable = history.find((entry) => ['ADD', 'UPDATE', 'DELETE'].includes(entry.event) && !entry.undoneBy && !entry.undoes);

  return (
    <section aria-label="Memory" className="memory-panel">
      <h2>Memory</h2>
      <form onSubmit={add} className="row">
        <label htmlFor="new-memory">New memory</label>
        <input id="new-memory" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="e.g. Allergic to peanuts" />
        <button type="submit" disabled={!draft.trim()}>
          Add
        </button>
        <button type="button" disabled={!lastUndoable} onClick={() => lastUndoable && void run(() => store.undo(lastUndoable.seq))}>
          Undo
        </button>
      </form>
      {message && <p role="alert">{message}</p>}
      {memories.length === 0 ? (
        <p className="empty">No memories yet.</p>
      ) : (
        <ul>
          {memories.map((memory) => (
            <li key={memory.id}>
              <span>{memory.text}</span>
              <button type="button" aria-label={`Delete "${memory.text}"`} onClick={() => void run(() => store.edit(bankId, { event: 'DELETE', id: memory.id }))}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
