import { useState, type FormEvent, type KeyboardEvent } from 'react';
import { MAX_MESSAGE_CHARS } from '../../memory/schema';

interface Props {
  /** Why sending is not possible now (shown on the button's title), or undefined when it is. */
  blocked?: string | undefined;
  busy: boolean;
  /** Resolves false when the message could not be stored: the box then gets it back. */
  onSend: (text: string) => Promise<boolean>;
  onStop: () => void;
}

const count = new Intl.NumberFormat('en');

/** Why a message cannot be sent as it is, or undefined. Checked before anything is stored. */
export function tooLong(text: string): string | undefined {
  return text.length > MAX_MESSAGE_CHARS
    ? `This message is ${count.format(text.length)} characters long; the limit is ${count.format(MAX_MESSAGE_CHARS)}. Shorten it or send it in parts; nothing was sent.`
    : undefined;
}

/** The message box: Enter sends, Shift+Enter starts a new line. A message over the limit is refused and kept. */
export function Composer({ blocked, busy, onSend, onStop }: Props) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const canSend = !blocked && !busy && text.trim() !== '';

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (!canSend) return;
    const refusal = tooLong(text.trim());
    setProblem(refusal);
    if (refusal) return;
    const sent = text.trim();
    setText('');
    void onSend(sent).then((stored) => {
      if (!stored) setText((now) => now || sent);
    });
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
        onChange={(e) => {
          setText(e.target.value);
          if (problem && !tooLong(e.target.value.trim())) setProblem(undefined);
        }}
        onKeyDown={keyDown}
        placeholder={blocked ?? 'Tell me something about you, or ask what I remember…'}
        aria-describedby={problem ? 'composer-hint composer-problem' : 'composer-hint'}
        aria-invalid={problem ? true : undefined}
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
      {problem && (
        <p id="composer-problem" className="chat-error small composer-problem" role="alert">
          {problem}
        </p>
      )}
      <p id="composer-hint" className="visually-hidden">
        Enter sends, Shift+Enter starts a new line.
      </p>
    </form>
  );
}
