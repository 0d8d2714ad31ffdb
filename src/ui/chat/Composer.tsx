import { useState, type FormEvent, type KeyboardEvent } from 'react';

interface Props {
  /** Why sending is not possible now (shown on the button's title), or undefined when it is. */
  blocked?: string | undefined;
  busy: boolean;
  onSend: (text: string) => void;
  onStop: () => void;
}

/** The message box: Enter sends, Shift+Enter starts a new line. */
export function Composer({ blocked, busy, onSend, onStop }: Props) {
  const [text, setText] = useState('');
  const canSend = !blocked && !busy && text.trim() !== '';

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (!canSend) return;
    onSend(text.trim());
    setText('');
  };
  const keyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor="chat-message" className="visually-hidden">
        Message
      </label>
      <textarea
        id="chat-message"
        rows={2}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={keyDown}
        placeholder={blocked ?? 'Tell me something about you, or ask what I remember…'}
        aria-describedby="composer-hint"
      />
      <div className="composer-actions">
        {busy ? (
          <button type="button" onClick={onStop}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={!canSend} title={blocked}>
            Send
          </button>
        )}
      </div>
      <p id="composer-hint" className="visually-hidden">
        Enter sends, Shift+Enter starts a new line.
      </p>
    </form>
  );
}
