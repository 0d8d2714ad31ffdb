import { useEffect, useState } from 'react';
import type { Conversation, Turn } from '../../memory';

interface Props {
  conversations: Conversation[];
  activeId: string;
  disabled: boolean;
  /** A temporary chat is open (memory off, nothing saved). */
  temporary: boolean;
  onOpen: (id: string) => void;
  onNew: (temporary: boolean) => void;
  onRename: (id: string, title: string) => Promise<void>;
  onDelete: (id: string) => Promise<void>;
  search: (query: string) => Promise<{ conversation: Conversation; match?: Turn }[]>;
}

/** Choose, start, rename, delete and search conversations; start a temporary chat. */
export function ConversationBar({ conversations, activeId, disabled, temporary, onOpen, onNew, onRename, onDelete, search }: Props) {
  const active = conversations.find((c) => c.id === activeId);
  const [mode, setMode] = useState<'idle' | 'rename' | 'delete'>('idle');
  const [title, setTitle] = useState('');
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<{ conversation: Conversation; match?: Turn }[] | null>(null);

  useEffect(() => setMode('idle'), [activeId]);
  useEffect(() => {
    let alive = true;
    if (!query.trim()) setResults(null);
    else void search(query).then((found) => alive && setResults(found));
    return () => {
      alive = false;
    };
  }, [query, search, conversations]);

  return (
    <div className="conversation-bar">
      <div className="row conversation-picker">
        <label htmlFor="chat-conversation">Conversation</label>
        <select id="chat-conversation" value={temporary ? '' : activeId} disabled={disabled} onChange={(e) => (e.target.value ? onOpen(e.target.value) : onNew(false))}>
          <option value="">{temporary ? 'Temporary chat' : 'New conversation'}</option>
          {conversations.map((c) => (
            <option key={c.id} value={c.id}>
              {c.title || 'Untitled'} · {new Date(c.updatedAt).toLocaleDateString()}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => onNew(false)} disabled={disabled || (activeId === '' && !temporary)}>
          New conversation
        </button>
        <button type="button" onClick={() => onNew(true)} disabled={disabled || temporary} title="Memory off: nothing is remembered or saved">
          Temporary chat
        </button>
        {active && (
          <>
            <button type="button" disabled={disabled} onClick={() => (setTitle(active.title), setMode('rename'))}>
              Rename
            </button>
            <button type="button" className="danger" disabled={disabled} onClick={() => setMode('delete')}>
              Delete
            </button>
          </>
        )}
      </div>
      {active && mode === 'rename' && (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (title.trim()) void onRename(active.id, title).then(() => setMode('idle'));
          }}
        >
          <label htmlFor="chat-rename">New name</label>
          <input id="chat-rename" value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} autoFocus />
          <button type="submit" disabled={!title.trim()}>
            Save name
          </button>
          <button type="button" onClick={() => setMode('idle')}>
            Cancel
          </button>
        </form>
      )}
      {active && mode === 'delete' && (
        <div className="row confirm" role="group" aria-label="Confirm deletion">
          <p className="small">
            Delete “{active.title || 'Untitled'}” and all its messages? The memories it led to stay in the bank (delete them on the Memory page).
          </p>
          <button type="button" className="danger" onClick={() => void onDelete(active.id).then(() => setMode('idle'))}>
            Delete conversation
          </button>
          <button type="button" onClick={() => setMode('idle')}>
            Cancel
          </button>
        </div>
      )}
      <div className="row chat-search">
        <label htmlFor="chat-search">Search chats</label>
        <input id="chat-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Words in a title or message" />
      </div>
      {results && (
        <ul className="search-results" aria-label="Chats found">
          {results.length === 0 && <li className="muted small">No chat has “{query.trim()}”.</li>}
          {results.map(({ conversation, match }) => (
            <li key={conversation.id}>
              <button type="button" className="link-button" disabled={disabled} onClick={() => (onOpen(conversation.id), setQuery(''))}>
                {conversation.title || 'Untitled'}
              </button>
              {match && <span className="muted small"> · {snippet(match.text, query)}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The words around the first match (at most ~80 characters). */
function snippet(text: string, query: string): string {
  const at = text.toLowerCase().indexOf(query.trim().toLowerCase());
  const from = Math.max(0, at - 30);
  const piece = text.slice(from, from + 80).replace(/\s+/g, ' ');
  return `${from > 0 ? '…' : ''}${piece}${from + 80 < text.length ? '…' : ''}`;
}
