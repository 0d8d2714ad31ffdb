import { useCallback, useEffect, useRef, useState } from 'react';
import type { Conversation, MemoryStore } from '../../memory';
import { ConversationPicker } from '../chat/ConversationPicker';
import { Composer } from '../chat/Composer';
import { Message, type ChatEntry } from '../chat/Message';
import { runTurn, summariseIngest } from '../chat/turn';
import { LiveMemory } from '../components/LiveMemory';
import { ModelNotice } from '../components/ModelNotice';
import { OperationsFeed } from '../components/OperationsFeed';
import { useModelState, type ModelHost } from '../engines/model-host';
import { todayAsSessionDate } from '../format';
import type { Settings } from '../settings';

interface Props {
  store: MemoryStore;
  bankId: string;
  host: ModelHost;
  settings: Settings;
  quickLoad?: { label: string; load: () => void } | undefined;
  /** The browser has no WebGPU and the engine needs it. */
  noGpu?: boolean;
}

const ASSISTANT = 'assistant';

function titleOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}

/** Chat with the assistant; every message is remembered, and the memory changes show beside it as they happen. */
export function ChatPage({ store, bankId, host, settings, quickLoad, noGpu = false }: Props) {
  const model = useModelState(host);
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [activeId, setActiveId] = useState('');
  const [messages, setMessages] = useState<ChatEntry[]>([]);
  const [step, setStep] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const end = useRef<HTMLDivElement>(null);

  const refreshList = useCallback(async () => {
    const list = (await store.conversations.list()).filter((c) => c.bankId === bankId);
    setConversations(list);
    return list;
  }, [store, bankId]);

  const open = useCallback(
    async (id: string) => {
      setActiveId(id);
      const turns = await store.conversations.turns(id);
      setMessages(
        turns.map((t) => ({ key: t.id, role: t.speaker === ASSISTANT ? 'assistant' : 'user', text: t.text, ...(t.usedMemories ? { used: t.usedMemories } : {}) })),
      );
    },
    [store],
  );

  // Resume the most recent conversation on arrival.
  useEffect(() => {
    void refreshList().then((list) => list[0] && open(list[0].id));
  }, [refreshList, open]);

  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'nearest' });
  }, [messages]);

  const patch = (key: string, change: Partial<ChatEntry>) => setMessages((list) => list.map((m) => (m.key === key ? { ...m, ...change } : m)));

  const send = async (text: string) => {
    const ready = host.model;
    if (!ready) return;
    const controller = new AbortController();
    abort.current = controller;
    setStep('Saving…');
    const sessionDate = todayAsSessionDate();
    const replyKey = `reply-${Date.now()}`;
    let userKey = '';
    try {
      const conversation = activeId || (await store.conversations.create(bankId, titleOf(text))).id;
      if (!activeId) setActiveId(conversation);
      const turn = await store.conversations.append(conversation, { speaker: settings.userName, text, at: Date.now(), sessionDate });
      userKey = turn.id;
      setMessages((list) => [...list, { key: turn.id, role: 'user', text }, { key: replyKey, role: 'assistant', text: '', pending: true }]);
      void refreshList();
      let streamed = '';
      const { ingest, reply } = await runTurn(
        { model: ready, store, bankId, settings, speaker: settings.userName, text, turnId: turn.id, sessionDate, signal: controller.signal },
        {
          onStep: setStep,
          onToken: (delta) => {
            streamed += delta;
            patch(replyKey, { text: streamed });
          },
        },
      );
      patch(turn.id, { note: summariseIngest(ingest) });
      const used = reply.usedMemories.map(({ id, text }) => ({ id, text }));
      patch(replyKey, { text: reply.answer, pending: false, used });
      await store.conversations.append(conversation, { speaker: ASSISTANT, text: reply.answer, at: Date.now(), usedMemories: used });
    } catch (error) {
      const aborted = error instanceof DOMException && error.name === 'AbortError';
      const why = aborted ? 'Stopped.' : `This turn failed: ${(error as Error).message}`;
      // Keep a partly streamed reply (marked stopped); drop an empty one. The failure shows under the message.
      setMessages((list) => list.filter((m) => m.key !== replyKey || m.text).map((m) => (m.key === replyKey ? { ...m, pending: false } : m)));
      if (userKey) patch(userKey, { failed: why });
    } finally {
      abort.current = null;
      setStep(null);
    }
  };

  const busy = step !== null;
  const blocked = model.status === 'ready' ? undefined : noGpu ? 'This browser cannot run models.' : 'Load a model first (Models page).';

  return (
    <div className="layout">
      <section className="page chat-page" aria-label="Chat">
        <ConversationPicker
          conversations={conversations}
          activeId={activeId}
          disabled={busy}
          onOpen={(id) => void open(id)}
          onNew={() => {
            setActiveId('');
            setMessages([]);
          }}
        />
        <ModelNotice state={model} quickLoad={quickLoad} noGpu={noGpu} />
        <div className="panel thread-panel">
          {messages.length === 0 ? (
            <div className="empty chat-empty">
              <p>Tell the assistant about yourself: where you live, what you like, what is coming up. It remembers, privately, in this browser.</p>
              <p>Later, ask it what it knows. Every memory it keeps shows up beside the chat as it is made, and you can edit or delete any of them on the Memory page.</p>
            </div>
          ) : (
            <ol className="thread" aria-label="Chat history">
              {messages.map((entry) => (
                <Message key={entry.key} entry={entry} />
              ))}
            </ol>
          )}
          <div ref={end} />
          <p className="step muted small" role="status" aria-live="polite">
            {step ?? ''}
          </p>
        </div>
        <Composer blocked={blocked} busy={busy} onSend={(text) => void send(text)} onStop={() => abort.current?.abort()} />
      </section>
      <aside className="side-column" aria-label="Live memory">
        <LiveMemory store={store} bankId={bankId} />
        <OperationsFeed store={store} bankId={bankId} limit={50} />
      </aside>
    </div>
  );
}
