import type { Conversation } from '../../memory';

/** Choose a past conversation to resume, or start a new one. A select stays compact on a phone. */
export function ConversationPicker({ conversations, activeId, onOpen, onNew, disabled }: { conversations: Conversation[]; activeId: string; onOpen: (id: string) => void; onNew: () => void; disabled: boolean }) {
  return (
    <div className="row conversation-picker">
      <label htmlFor="chat-conversation">Conversation</label>
      <select id="chat-conversation" value={activeId} disabled={disabled} onChange={(e) => (e.target.value ? onOpen(e.target.value) : onNew())}>
        <option value="">New conversation</option>
        {conversations.map((c) => (
          <option key={c.id} value={c.id}>
            {c.title || 'Untitled'} · {new Date(c.updatedAt).toLocaleDateString()}
          </option>
        ))}
      </select>
      <button type="button" onClick={onNew} disabled={disabled || activeId === ''}>
        New conversation
      </button>
    </div>
  );
}
