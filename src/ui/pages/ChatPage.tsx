import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ReplyReport } from '../../agents';
import type { Conversation, PendingTurn, Turn } from '../../memory';
import { ConversationBar } from '../chat/ConversationBar';
import { Composer, tooLong } from '../chat/Composer';
import { Message, type ChatEntry } from '../chat/Message';
import { ChatMemory, pipelineFor, replyHistory, stepLabel } from '../chat/turn';
import { LiveMemory } from '../components/LiveMemory';
import { ModelNotice } from '../components/ModelNotice';
import { OperationsFeed } from '../components/OperationsFeed';
import { useModelState } from '../engines/model-host';
import { todayAsSessionDate } from '../format';
import { routeArgument } from '../router';
import type { ModelPageProps } from './model-page';

const ASSISTANT = 'assistant';

function titleOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}

function entryOf(turn: Turn): ChatEntry {
  return {
    key: turn.id,
    role: turn.speaker === ASSISTANT ? 'assistant' : 'user',
    text: turn.text,
    at: turn.at,
    ...(turn.usedMemories ? { used: turn.usedMemories } : {}),
    ...(turn.stopped ? { stopped: true } : {}),
    ...(turn.memory ? { memory: turn.memory } : {}),
  };
}

const failure = (error: unknown) => (error instanceof Error ? error.message : String(error)).replace(/\.?$/, '.');

/**
 * Chat with the assistant. A message is answered first (the reply streams), then remembered: its memory
 * update runs after the reply, and what it changed shows under the message and in the live feed beside.
 */
export function ChatPage({ store, bankId, host, settings, quickLoad, noGpu = false }: ModelPageProps) {
  const model = useModelState(host);
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [activeId, setActiveId] = useState('');
  const [temporary, setTemporary] = useState(false);
  const [messages, setMessages] = useState<ChatEntry[]>([]);
  const [streaming, setStreaming] = useState(false);
  const [step, setStep] = useState<string | null>(null);
  const [memoryStep, setMemoryStep] = useState<string | null>(null);
  /** A failure that belongs to no message (saving one, finishing earlier updates). */
  const [problem, setProblem] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const end = useRef<HTMLDivElement>(null);
  const settingsRef = useRef(settings);
  settingsRef.current = settings;

  const patch = useCallback((key: string, change: Partial<ChatEntry>) => setMessages((list) => list.map((m) => (m.key === key ? { ...m, ...change } : m))), []);
  /** Says what went wrong under a message, after anything already said there. */
  const fail = useCallback((key: string, why: string) => setMessages((list) => list.map((m) => (m.key === key ? { ...m, failed: m.failed ? `${m.failed} ${why}` : why } : m))), []);

  const memory = useMemo(
    () =>
      new ChatMemory(
        store,
        (turnId, outcome) => patch(turnId, { memory: { status: 'done', ...outcome } }),
        setMemoryStep,
      ),
    [store, patch],
  );

  const refreshList = useCallback(async () => {
    const list = (await store.conversations.list()).filter((c) => c.bankId === bankId);
    setConversations(list);
    return list;
  }, [store, bankId]);

  const open = useCallback(
    async (id: string) => {
      setActiveId(id);
      setTemporary(false);
      setMessages((await store.conversations.turns(id)).map(entryOf));
    },
    [store],
  );

  // On arrival, open the conversation the address names (#/chat/<id>, e.g. a memory's source), else the
  // most recent one; follow the address while the page is open.
  useEffect(() => {
    const follow = (arriving: boolean) =>
      void refreshList().then((list) => {
        const named = list.find((c) => c.id === routeArgument());
        const chosen = named ?? (arriving ? list[0] : undefined);
        if (chosen) void open(chosen.id);
      });
    follow(true);
    const onHash = () => follow(false);
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [refreshList, open]);

  // Memory updates left unfinished by an earlier visit (a closed tab) are finished once a model is ready.
  const ready = model.status === 'ready' ? model.model : undefined;
  useEffect(() => {
    if (!ready) return;
    void memory.resume(bankId, ready, settingsRef.current).catch((error) => setProblem(`Could not finish earlier memory updates: ${failure(error)} They stay queued for the next visit.`));
  }, [ready, memory, bankId]);

  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'nearest' });
  }, [messages]);

  /** Streams a reply to `message` into entry `key`; a stop returns what had streamed. */
  const streamReply = async (key: string, message: string, before: readonly ChatEntry[]): Promise<ReplyReport> => {
    const ready = host.model;
    if (!ready) throw new Error('No model is loaded; load one on the Models page.');
    const controller = new AbortController();
    abort.current = controller;
    setStreaming(true);
    const pipeline = pipelineFor(ready, store, bankId, settings);
    const off = pipeline.on((event) => {
      const label = stepLabel(event);
      if (label) setStep(label);
    });
    let shown = '';
    try {
      return await pipeline.reply(message, {
        speaker: settings.userName,
        history: replyHistory(before),
        date: todayAsSessionDate(),
        signal: controller.signal,
        useMemory: !temporary,
        onToken: (delta) => {
          shown += delta;
          patch(key, { text: shown });
        },
      });
    } finally {
      off();
      abort.current = null;
      setStreaming(false);
      setStep(null);
    }
  };

  const replyFields = (report: ReplyReport) => ({
    text: report.text,
    usedMemories: report.usedMemories.map(({ id, text }) => ({ id, text })),
    ...(report.stopped ? { stopped: true } : {}),
  });

  /** Runs a turn's memory update in the background; a failure stays queued and is said under the message. */
  const remember = (pending: PendingTurn) => {
    const ready = host.model;
    if (!ready) return;
    void memory.update(pending, ready, settings).catch((error) =>
      fail(pending.turnId, `Remembering this message failed: ${failure(error)} It stays queued and is retried when you reload the page.`),
    );
  };

  /** Sends a message; false when it could not be stored (the composer then keeps it). */
  const send = async (text: string): Promise<boolean> => {
    if (!host.model || tooLong(text)) return false;
    setProblem(null);
    const sessionDate = todayAsSessionDate();
    const at = Date.now();
    const before = messages;
    let userKey = `temporary-${at}`;
    let conversation = activeId;
    let pending: PendingTurn | undefined;
    try {
      if (!temporary) {
        conversation ||= (await store.conversations.create(bankId, titleOf(text))).id;
        const turn = await store.conversations.append(conversation, { speaker: settings.userName, text, at, sessionDate }, { rememberIn: bankId }).catch(async (error: unknown) => {
          // A conversation made for this message must not stay behind empty.
          if (!activeId) await store.conversations.delete(conversation).catch(() => undefined);
          throw error;
        });
        if (!activeId) setActiveId(conversation);
        userKey = turn.id;
        pending = { turnId: turn.id, conversationId: conversation, bankId, speaker: turn.speaker, text, sessionDate, at };
        void refreshList();
      }
    } catch (error) {
      setProblem(`Your message could not be saved: ${failure(error)} It is back in the box; free some space (Models page) or reload, then send it again.`);
      return false;
    }
    const replyKey = `reply-${at}`;
    setMessages((list) => [
      ...list,
      { key: userKey, role: 'user', text, at, ...(pending ? { memory: { status: 'pending' as const } } : {}) },
      { key: replyKey, role: 'assistant', text: '', at: Date.now(), streaming: true },
    ]);
    try {
      const report = await streamReply(replyKey, text, before);
      const fields = replyFields(report);
      if (temporary) {
        patch(replyKey, { ...fields, used: fields.usedMemories, streaming: false });
      } else {
        const stored = await store.conversations.append(conversation, { speaker: ASSISTANT, at: Date.now(), ...fields });
        setMessages((list) => list.map((m) => (m.key === replyKey ? entryOf(stored) : m)));
      }
    } catch (error) {
      setMessages((list) => list.filter((m) => m.key !== replyKey));
      fail(userKey, `No reply: ${failure(error)} Your message is kept; press Regenerate to try again, or check the model on the Models page.`);
    }
    if (pending) remember(pending);
    return true;
  };

  /** A new reply to the last message of the user, in place of the last one (kept as it was if this fails). */
  const regenerate = async () => {
    const u = messages.findLastIndex((m) => m.role === 'user');
    if (u < 0) return;
    const question = messages[u]!;
    const old = messages[u + 1];
    const key = old?.key ?? `reply-${Date.now()}`;
    const saved = old && { ...old };
    setMessages((list) => list.map((m) => (m.key === question.key ? { ...m, failed: undefined } : m)));
    setMessages((list) => (old ? list.map((m) => (m.key === key ? { ...m, text: '', streaming: true, stopped: false } : m)) : [...list, { key, role: 'assistant', text: '', at: Date.now(), streaming: true }]));
    try {
      const report = await streamReply(key, question.text, messages.slice(0, u));
      const fields = replyFields(report);
      if (temporary) patch(key, { ...fields, used: fields.usedMemories, stopped: report.stopped, streaming: false });
      else {
        const stored = old
          ? await store.conversations.updateTurn(key, { ...fields, stopped: report.stopped, at: Date.now() })
          : await store.conversations.append(activeId, { speaker: ASSISTANT, at: Date.now(), ...fields });
        setMessages((list) => list.map((m) => (m.key === key ? entryOf(stored) : m)));
      }
    } catch (error) {
      setMessages((list) => (saved ? list.map((m) => (m.key === key ? saved : m)) : list.filter((m) => m.key !== key)));
      fail(question.key, `No new reply: ${failure(error)} Try again, or check the model on the Models page.`);
    }
  };

  const deleteMessage = async (key: string) => {
    try {
      if (!temporary) await store.conversations.deleteTurn(key);
      setMessages((list) => list.filter((m) => m.key !== key));
    } catch (error) {
      fail(key, `This message could not be deleted: ${failure(error)} Reload the page and try again.`);
    }
  };

  const startNew = (asTemporary: boolean) => {
    setActiveId('');
    setTemporary(asTemporary);
    setMessages([]);
  };

  const search = useCallback((query: string) => store.conversations.search(bankId, query), [store, bankId]);
  const busy = streaming;
  const blocked = model.status === 'ready' ? undefined : noGpu ? 'This browser cannot run models.' : 'Load a model first (Models page).';
  const last = messages.at(-1);

  return (
    <div className="layout">
      <section className="page chat-page" aria-label="Chat">
        <ConversationBar
          conversations={conversations}
          activeId={activeId}
          temporary={temporary}
          disabled={busy}
          onOpen={(id) => void open(id)}
          onNew={startNew}
          onRename={async (id, title) => {
            await store.conversations.rename(id, title);
            await refreshList();
          }}
          onDelete={async (id) => {
            await store.conversations.delete(id);
            const list = await refreshList();
            if (id === activeId) {
              startNew(false);
              if (list[0]) await open(list[0].id);
            }
          }}
          search={search}
        />
        {temporary && (
          <p className="notice info temporary-notice" role="status">
            Temporary chat: memory is off. Nothing you say here is remembered or saved, and the chat is gone when you leave it.
          </p>
        )}
        <ModelNotice state={model} quickLoad={quickLoad} noGpu={noGpu} />
        <div className="panel thread-panel">
          {messages.length === 0 ? (
            <div className="empty chat-empty">
              {temporary ? (
                <p>Ask anything; the assistant will not use or keep memories in this chat.</p>
              ) : (
                <>
                  <p>Tell the assistant about yourself: where you live, what you like, what is coming up. It remembers, privately, in this browser.</p>
                  <p>Later, ask it what it knows. Every memory it keeps shows up beside the chat as it is made, and you can edit or delete any of them on the Memory page.</p>
                </>
              )}
            </div>
          ) : (
            <ol className="thread" aria-label="Chat history">
              {messages.map((entry) => {
                // Regenerate: the last reply, or the last message when it has none (it failed, or the tab closed first).
                const canRegenerate = !busy && ready !== undefined && entry === last;
                return (
                  <Message
                    key={entry.key}
                    entry={entry}
                    onRegenerate={canRegenerate ? () => void regenerate() : undefined}
                    onDelete={busy ? undefined : () => void deleteMessage(entry.key)}
                    loadOperations={temporary ? undefined : () => store.conversations.operationsOf(entry.key)}
                  />
                );
              })}
            </ol>
          )}
          <div ref={end} />
          <p className="step muted small" role="status" aria-live="polite">
            {step ?? memoryStep ?? ''}
          </p>
          {problem && (
            <p className="chat-error small" role="alert">
              {problem}
            </p>
          )}
        </div>
        <Composer blocked={blocked} busy={busy} onSend={send} onStop={() => abort.current?.abort()} />
      </section>
      <aside className="side-column" aria-label="Live memory">
        <LiveMemory store={store} bankId={bankId} />
        <OperationsFeed store={store} bankId={bankId} limit={50} />
      </aside>
    </div>
  );
}
