import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { BackupError, exportBank, importBank, type HistoryEntry, type Memory, type MemoryStore } from '../../memory';
import { Highlighted } from '../components/Highlighted';
import { HistoryLine, MemoryHistory, MemorySource } from '../components/Provenance';

interface Props {
  store: MemoryStore;
  bankId: string;
  /** Whether the loaded model embeds, so search also finds memories by meaning. */
  canEmbed: boolean;
}

/** The memory browser: search, filter, edit and delete by hand, undo from history, backup, wipe. */
export function MemoryPage({ store, bankId, canEmbed }: Props) {
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

  /** Runs an action, saying how it went; resolves to whether it succeeded. */
  const attempt = async (action: () => Promise<unknown>, done?: string): Promise<boolean> => {
    try {
      setNotice(null);
      await action();
      if (done) setNotice({ kind: 'info', text: done });
      return true;
    } catch (error) {
      if (error instanceof BackupError) setNotice({ kind: 'error', text: 'The backup was not imported; nothing was changed.', details: error.problems });
      else setNotice({ kind: 'error', text: (error as Error).message });
      return false;
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
      const counts = `${summary.memoriesWritten} memories (${summary.memoriesKept} kept as they were) and ${summary.historyWritten} history entries`;
      // A backup goes back into the bank it was made from, which may not be the one shown here.
      const elsewhere = summary.bankId !== bankId;
      setNotice({
        kind: elsewhere ? 'error' : 'info',
        text: elsewhere
          ? `This backup is of the bank “${summary.bankId}”${summary.bankId === 'demo' ? ' (the Demo’s)' : ''}, not of the bank shown here: its ${counts} went into “${summary.bankId}”, and this page still shows your own memories.`
          : `Imported ${counts}.`,
      });
    });

  return (
    <div className="page memory-page">
      <section aria-label="Memory" className="panel">
        <h2>Memories ({memories.length})</h2>
        <div className="row">
          <label htmlFor="memory-search">Search memories</label>
          <input id="memory-search" type="search" aria-describedby="memory-search-help" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="e.g. where does she live" />
          <span className="labelled">
            <label htmlFor="memory-speaker">Speaker</label>
            <select id="memory-speaker" value={speaker} onChange={(e) => setSpeaker(e.target.value)}>
              <option value="">everyone</option>
              {speakers.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </span>
        </div>
        <p className="muted small" id="memory-search-help">
          Search finds the words you type in any of their forms (“peanut” finds “peanuts”).{' '}
          {canEmbed ? (
            'It also finds memories that mean the same in other words.'
          ) : (
            <>
              Finding memories by meaning needs an embedding model: load one on the <a href="#/models">Models page</a>.
            </>
          )}
        </p>
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
              <MemoryItem
                key={memory.id}
                store={store}
                memory={memory}
                query={matches ? query : ''}
                onSave={(text) => attempt(() => change({ event: 'UPDATE', id: memory.id, text }))}
                onDelete={() => void attempt(() => change({ event: 'DELETE', id: memory.id }))}
              />
            ))}
          </ul>
        )}
      </section>

      <section aria-label="History" className="panel">
        <h2>History</h2>
        <ol className="history">
          {history.map((entry) => (
            <HistoryLine key={entry.seq} entry={entry}>
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
            </HistoryLine>
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
          <WipeBank store={store} bankId={bankId} memories={memories.length} attempt={attempt} />
        </div>
      </section>
    </div>
  );
}

interface ItemProps {
  store: MemoryStore;
  memory: Memory;
  /** The search that found it, for highlighting ('' when not searching). */
  query: string;
  /** Resolves to whether the change was saved. */
  onSave: (text: string) => Promise<boolean>;
  onDelete: () => void;
}

function MemoryItem({ store, memory, query, onSave, onDelete }: ItemProps) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(memory.text);
  if (editing) {
    return (
      <li>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            // A change that was not saved keeps the draft open, so nothing typed is lost.
            void onSave(text).then((saved) => saved && setEditing(false));
          }}
        >
          <input aria-label="Memory text" value={text} onChange={(e) => setText(e.target.value)} autoFocus />
          <button type="submit">Save</button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      </li>
    );
  }
  return (
    <li>
      <span className="memory-text">
        <Highlighted text={memory.text} query={query} />
      </span>
      <span className="memory-meta muted">
        {memory.speaker && <span>{memory.speaker}</span>}
        {(memory.eventDate ?? memory.source?.sessionDate) && <span>{memory.eventDate ?? memory.source?.sessionDate}</span>}
      </span>
      <span className="actions">
        <button
          type="button"
          aria-label={`Edit "${memory.text}"`}
          onClick={() => {
            setText(memory.text);
            setEditing(true);
          }}
        >
          Edit
        </button>
        <button type="button" aria-label={`Delete "${memory.text}"`} onClick={onDelete}>
          Delete
        </button>
      </span>
      <MemorySource store={store} memory={memory} />
      <MemoryHistory store={store} memory={memory} />
    </li>
  );
}

/** Wiping a bank asks first, and whether its chats go too (their messages hold what the memories came from). */
function WipeBank({ store, bankId, memories, attempt }: { store: MemoryStore; bankId: string; memories: number; attempt: (action: () => Promise<unknown>, done?: string) => Promise<boolean> }) {
  const [chats, setChats] = useState<number | null>(null);
  const [withChats, setWithChats] = useState(false);
  const ask = async () => {
    setWithChats(false);
    setChats((await store.conversations.list()).filter((c) => c.bankId === bankId).length);
  };
  const wipe = () =>
    attempt(async () => {
      setChats(null);
      await store.wipe(bankId);
      if (withChats) await store.conversations.deleteForBank(bankId);
    }, withChats ? 'Bank and chats deleted.' : 'Bank wiped; your chats are kept.');
  if (chats === null) {
    return (
      <button type="button" className="danger" onClick={() => void ask()}>
        Wipe bank
      </button>
    );
  }
  return (
    <div role="group" aria-labelledby="wipe-question" className="confirm-box">
      <p id="wipe-question">Delete all {memories} memories and their history?</p>
      <label className="check">
        <input type="checkbox" checked={withChats} disabled={chats === 0} onChange={(e) => setWithChats(e.target.checked)} />
        {chats === 0 ? 'There are no chats to delete.' : `Also delete the ${chats} chat${chats === 1 ? '' : 's'} (their messages)`}
      </label>
      <div className="row">
        <button type="button" className="danger" autoFocus onClick={() => void wipe()}>
          {withChats ? 'Delete memories and chats' : 'Delete memories'}
        </button>
        <button type="button" onClick={() => setChats(null)}>
          Cancel
        </button>
      </div>
    </div>
  );
}
