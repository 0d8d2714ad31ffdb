import { useState, type FormEvent } from 'react';
import { parseLocomo, type LocomoConversation } from '../../eval/locomo';

interface Props {
  disabled: boolean;
  chosen: LocomoConversation | null;
  onChoose: (conversation: LocomoConversation | null) => void;
  /** The panel's heading (the demo replays one conversation; the evaluation takes a whole file). */
  title?: string;
  /** Offer a choice among the file's conversations (default true). */
  pick?: boolean;
  /** Hears every file loaded, with all its conversations. */
  onLoaded?: (name: string, conversations: LocomoConversation[]) => void;
  /** Keeps element ids unique when two pickers are mounted (the demo stays mounted while hidden). */
  idPrefix?: string;
}

const SAMPLE_NAME = 'The sample conversation';
export const SAMPLE_URL = `${import.meta.env.BASE_URL}demo/sample-conversation.json`;

export async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not fetch ${url} (${response.status} ${response.statusText}).`);
  return response.text();
}

/** Where the demo's conversation comes from: the sample shipped with the app, or LoCoMo from a file or URL. */
export function SourcePicker({ disabled, chosen, onChoose, title = 'Conversation to replay', pick = true, onLoaded, idPrefix = '' }: Props) {
  const [loaded, setLoaded] = useState<{ name: string; conversations: LocomoConversation[] } | null>(null);
  const [url, setUrl] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const take = async (name: string, text: () => Promise<string>) => {
    setProblem(null);
    setBusy(true);
    try {
      const conversations = parseLocomo(await text());
      if (conversations.length === 0) throw new Error(`${name} holds no conversations.`);
      setLoaded({ name, conversations });
      onLoaded?.(name, conversations);
      onChoose(conversations[0]!);
    } catch (error) {
      setProblem((error as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const fromUrl = (event: FormEvent) => {
    event.preventDefault();
    if (url.trim()) void take(url.trim(), () => fetchText(url.trim()));
  };

  return (
    <section className="panel" aria-labelledby={`${idPrefix}source-title`}>
      <h2 id={`${idPrefix}source-title`}>{title}</h2>
      <div className="row">
        <button type="button" disabled={disabled || busy} onClick={() => void take(SAMPLE_NAME, () => fetchText(SAMPLE_URL))}>
          Load the sample conversation
        </button>
        <label className="file-button">
          Open locomo10.json…
          <input type="file" accept="application/json,.json" disabled={disabled || busy} onChange={(e) => e.target.files?.[0] && void take(e.target.files[0].name, () => e.target.files![0]!.text())} />
        </label>
      </div>
      <form className="row" onSubmit={fromUrl}>
        <label htmlFor={`${idPrefix}locomo-url`}>or from a URL</label>
        <input id={`${idPrefix}locomo-url`} type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://…/locomo10.json" disabled={disabled || busy} />
        <button type="submit" disabled={disabled || busy || !url.trim()}>
          Load
        </button>
      </form>
      {problem && (
        <p role="alert" className="notice error">
          {problem}
        </p>
      )}
      {pick && loaded && loaded.conversations.length > 1 && (
        <div className="row">
          <label htmlFor={`${idPrefix}demo-conversation`}>Conversation in {loaded.name}</label>
          <select id={`${idPrefix}demo-conversation`} value={chosen?.sampleId ?? ''} disabled={disabled} onChange={(e) => onChoose(loaded.conversations.find((c) => c.sampleId === e.target.value) ?? null)}>
            {loaded.conversations.map((c) => (
              <option key={c.sampleId} value={c.sampleId}>
                {c.sampleId}: {c.speakerA} & {c.speakerB}, {c.sessions.reduce((n, s) => n + s.turns.length, 0)} turns, {c.qa.length} questions
              </option>
            ))}
          </select>
        </div>
      )}
      {pick && chosen && (
        <p className="muted small">
          {chosen.speakerA} and {chosen.speakerB}: {chosen.sessions.length} sessions, {chosen.qa.length} questions with gold answers.
          {loaded?.name === SAMPLE_NAME ? ' Written for this project.' : ' LoCoMo (Maharana et al., ACL 2024), CC BY-NC 4.0.'}
        </p>
      )}
    </section>
  );
}
