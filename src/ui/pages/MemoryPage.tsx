import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { BackupError, exportBank, importBank, type HistoryEntry, type Memory, type MemoryStore } from '../../memory';
import { ConfirmButton } from '../components/ConfirmButton';

interface Props {
  store: MemoryStore;
  bankId: string;
}

/** The memory browser: search, filter, edit and delete by hand, undo from history, backup, wipe. */
export function MemoryPage({ store, bankId }: Props) {
  const [memories, setMemories] = useState<Memory[]>([]);
  const [history, setHistory] = useState<HistoryEntry[]>([]);
  const [query, setQuery] = useState('');
  const [matches, setMatches] = useState<Set<string> | null>(null);
  const [speaker, setSpeaker] = useState('');
  const [draft, setDraft] = useState('');
  const [notice, setNotice] = useState<{ kind: 'error' | 'info'; text: string; details?: string[] } | null>(null);

  const refresh = useCallback(async () => {
    setMemories(await store.list(bankId));
    setHistory(await store.history(bankId, 30));
  }, [store, bankId]);

  useEffect(() => {
    void refresh();
    return store.subscribe((change) => change.bankId === bankId && void refresh());
  }, [store, bankId, refresh]);

  // Search goes through the bank's own retrieval (BM25 + embeddings), so it finds what the agents would.
  useEffect(() => {
    if (!query.trim()) return setMatches(null);
    let alive = true;
    void store.retrieve(bankId, query, { perSpeaker: 200, fillWithRecent: false }).then((groups) => {
      if (alive) setMatches(new Set(groups.flatMap((g) => g.memories.map((r) => r.memory.id))));
    });
    return () => {
      alive = false;
    };
  }, [store, bankId, query, memories]);

  const speakers = useMemo(() => [...new Set(memories.map((m) => m.speaker ?? ''))].filter(Boolean).sort(), [memories]);
  const shown = memories.filter((m) => (!speaker || m.speaker === speaker) && (!matches || matches.has(m.id)));

  const attempt = async (action: () => Promise<unknown>, done?: string) => {
    try {
      setNotice(null);
      await action();
      if (done) setNotice({ kind: 'info', text: done });
    } catch (error) {
      if (error instanceof BackupError) setNotice({ kind: 'error', text: 'The backup was not imported; nothing was changed.', details: error.problems });
      else setNotice({ kind: 'error', text: (error as Error).message });
    }
  };

  const change = async (operation: Record<string, unknown>) => {
    const result = await store.edit(bankId, operation);
    if (result.status === 'rejected') throw new Error(`Not saved: ${result.reason}.`);
  };

  const add = (event: FormEvent) => {
    event.preventDefault();
    void attempt(async () => {
      await change({ event: 'ADD', text: draft });
      setDraft('');
    });
  };

  const download = () =>
    attempt(async () => {
      const text = await exportBank(store, bankId);
      const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      const link = Object.assign(document.createElement('a'), { href: url, download: `memory-r1-${bankId}-${new Date().toISOString().slice(0, 10)}.json` });
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }, 'Backup downloaded.');

  const upload = (file: File, mode: 'merge' | 'replace') =>
    attempt(async () => {
      const summary = await importBank(store, await file.text(), { mode });
      setNotice({ kind: 'info', text: `Imported ${summary.memoriesWritten} memories (${summary.memoriesKept} kept as they were) and ${summary.historyWritten} history entries.` });
    });

  return (
    <div className="page memory-page">
      <section aria-label="Memory" className="panel">
        <h2>Memories ({memories.length})</h2>
        <div className="row">
          <label htmlFor="memory-search">Search memories</label>
          <input id="memory-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="e.g. where does she live" />
          <label htmlFor="memory-speaker">Speaker</label>
          <select id="memory-speaker" value={speaker} onChange={(e) => setSpeaker(e.target.value)}>
            <option value="">everyone</option>
            {speakers.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <form onSubmit={add} className="row">
          <label htmlFor="memory-new">New memory</label>
          <input id="memory-new" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="e.g. Allergic to peanuts" />
          <button type="submit" disabled={!draft.trim()}>
            Add
          </button>
        </form>
        {notice && (
          <div role={notice.kind === 'error' ? 'alert' : 'status'} className={`notice ${notice.kind}`}>
            {notice.text}
            {notice.details && (
              <ul>
                {notice.details.map((d) => (
                  <li key={d}>{d}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        {shown.length === 0 ? (
          <p className="empty">{memories.length ? 'No memory matches.' : 'No memories yet. They appear here as you chat, or add one above.'}</p>
        ) : (
          <ul className="memory-list">
            {shown.map((memory) => (
              <MemoryItem key={memory.id} memory={memory} onSave={(text) => attempt(() => change({ event: 'UPDATE', id: memory.id, text }))} onDelete={() => attempt(() => change({ event: 'DELETE', id: memory.id }))} />
            ))}
          </ul>
        )}
      </section>

      <section aria-label="History" className="panel">
        <h2>History</h2>
        <ol className="history">
          {history.map((entry) => (
            <li key={entry.seq}>
              <span className="op-badge">{entry.event}</span> <span className="muted">{entry.actor}</span> {entry.after?.text ?? entry.before?.text ?? entry.reason}
              {['ADD', 'UPDATE', 'DELETE'].includes(entry.event) &&
                (entry.undoneBy ? (
                  <button type="button" onClick={() => void attempt(() => store.redo(entry.seq))}>
                    Redo
                  </button>
                ) : (
                  <button type="button" onClick={() => void attempt(() => store.undo(entry.seq))}>
                    Undo
                  </button>
                ))}
            </li>
          ))}
        </ol>
      </section>

      <section aria-label="Backup" className="panel">
        <h2>Backup</h2>
        <div className="row">
          <button type="button" onClick={() => void download()}>
            Export bank
          </button>
          <label className="file-button">
            Import (merge)
            <input type="file" accept="application/json,.json" onChange={(e) => e.target.files?.[0] && void upload(e.target.files[0], 'merge')} />
          </label>
          <label className="file-button">
            Import (replace)
            <input type="file" accept="application/json,.json" onChange={(e) => e.target.files?.[0] && void upload(e.target.files[0], 'replace')} />
          </label>
          <ConfirmButton question={`Delete all ${memories.length} memories and their history?`} onConfirm={() => void attempt(() => store.wipe(bankId), 'Bank wiped.')}>
            Wipe bank
          </ConfirmButton>
        </div>
      </section>
    </div>
  );
}

function MemoryItem({ memory, onSave, onDelete }: { memory: Memory; onSave: (text: string) => Promise<void>; onDelete: () => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(memory.text);
  if (editing) {
    return (
      <li>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void onSave(text).then(() => setEditing(false));
          }}
        >
          <input aria-label="Memory text" value={text} onChange={(e) => setText(e.target.value)} autoFocus />
          <button type="submit">Save</button>
          <button type="button" onClick={() => (setEditing(false), setText(memory.text))}>
            Cancel
          </button>
        </form>
      </li>
    );
  }
  return (
    <li>
      <span className="memory-text">{memory.text}</span>
      <span className="memory-meta muted">
        {memory.speaker && <span>{memory.speaker}</span>}
        {(memory.eventDate ?? memory.source?.sessionDate) && <span>{memory.eventDate ?? memory.source?.sessionDate}</span>}
      </span>
      <span className="actions">
        <button type="button" aria-label={`Edit "${memory.text}"`} onClick={() => setEditing(true)}>
          Edit
        </button>
        <button type="button" aria-label={`Delete "${memory.text}"`} onClick={onDelete}>
          Delete
        </button>
      </span>
    </li>
  );
}
