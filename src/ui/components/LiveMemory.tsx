import { useEffect, useRef, useState } from 'react';
import type { Memory, MemoryStore } from '../../memory';

interface Props {
  store: MemoryStore;
  bankId: string;
  /** Shown above the list, e.g. what the bank belongs to. */
  caption?: string;
}

/** The bank as it is now, most recently changed first; memories that just changed are marked for a moment. */
export function LiveMemory({ store, bankId, caption }: Props) {
  const [memories, setMemories] = useState<Memory[]>([]);
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);

  useEffect(() => {
    let alive = true;
    const load = () => void store.list(bankId).then((list) => alive && setMemories(list.sort((a, b) => b.updatedAt - a.updatedAt)));
    load();
    const unsubscribe = store.subscribe((change) => {
      if (change.bankId !== bankId) return;
      load();
      if (change.kind === 'entries') {
        setFresh(new Set(change.entries.flatMap((e) => (e.after && e.event !== 'NONE' ? [e.after.id] : []))));
        clearTimeout(timer.current);
        timer.current = setTimeout(() => alive && setFresh(new Set()), 2500);
      }
    });
    return () => {
      alive = false;
      clearTimeout(timer.current);
      unsubscribe();
    };
  }, [store, bankId]);

  return (
    <section aria-label="Memory" className="panel live-memory">
      <h2>
        Memory <span className="count">{memories.length}</span>
      </h2>
      {caption && <p className="muted small">{caption}</p>}
      {memories.length === 0 ? (
        <p className="empty">Nothing remembered yet.</p>
      ) : (
        <ul className="memory-list live">
          {memories.map((memory) => (
            <li key={memory.id} className={fresh.has(memory.id) ? 'fresh' : undefined}>
              <span className="memory-text">{memory.text}</span>
              {memory.speaker && <span className="memory-meta muted">{memory.speaker}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
