import { useState } from 'react';
import type { MemoryStore } from '../../memory';
import { LiveMemory } from '../components/LiveMemory';
import { ModelNotice } from '../components/ModelNotice';
import { OperationsFeed } from '../components/OperationsFeed';
import { QaTable } from '../demo/QaTable';
import { SourcePicker } from '../demo/SourcePicker';
import { Transcript } from '../demo/Transcript';
import { useQuestions } from '../demo/useQuestions';
import { useReplay } from '../demo/useReplay';
import { useModelState, type ModelHost } from '../engines/model-host';
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

/** Replays a conversation into its own bank with the operations streaming live, then asks its questions. */
export function DemoPage({ store, bankId, host, settings, quickLoad, noGpu = false }: Props) {
  const model = useModelState(host);
  const replay = useReplay({ store, bankId, host, settings });
  const questions = useQuestions({ store, bankId, host, settings });
  const [count, setCount] = useState(20);
  const { conversation, turns, position, state } = replay;
  const ready = model.status === 'ready';
  const running = state !== 'idle' || questions.asking;
  const finished = turns.length > 0 && position === turns.length;
  const current = turns[Math.min(position, turns.length - 1)];
  const total = conversation?.qa.length ?? 0;

  return (
    <div className="layout">
      <div className="page demo-page">
        <section className="panel intro">
          <h2>Demo: watch memory being managed</h2>
          <p className="muted">
            A conversation is fed to the memory manager one turn at a time, as if it were happening now. Watch facts being added, merged, and deleted when they are contradicted; then
            the answer agent answers the benchmark&rsquo;s questions from what was kept. The demo uses its own bank, separate from your memories.
          </p>
        </section>
        <ModelNotice state={model} quickLoad={quickLoad} noGpu={noGpu} />
        <SourcePicker
          disabled={running}
          chosen={conversation}
          onChoose={(c) => {
            questions.clear();
            void replay.choose(c);
          }}
        />
        {conversation && (
          <section className="panel" aria-labelledby="replay-title">
            <h2 id="replay-title">Replay</h2>
            <div className="row">
              {state === 'idle' ? (
                <button type="button" className="primary" disabled={!ready || finished || questions.asking} onClick={() => void replay.play()}>
                  {position === 0 ? 'Play' : 'Resume'}
                </button>
              ) : (
                <button type="button" onClick={replay.pause} disabled={state === 'pausing'}>
                  {state === 'pausing' ? 'Pausing…' : 'Pause'}
                </button>
              )}
              <button type="button" disabled={!ready || running || finished} onClick={() => void replay.step()}>
                Step one turn
              </button>
              <button type="button" disabled={running || position === 0} onClick={() => (questions.clear(), void replay.reset())}>
                Start over
              </button>
              <label htmlFor="demo-delay">Pause between turns</label>
              <input id="demo-delay" type="range" min={0} max={3000} step={100} value={replay.delayMs} onChange={(e) => replay.setDelayMs(e.target.valueAsNumber)} aria-valuetext={`${(replay.delayMs / 1000).toFixed(1)} seconds`} />
              <output htmlFor="demo-delay" className="muted small">
                {(replay.delayMs / 1000).toFixed(1)} s
              </output>
            </div>
            <p className="muted small" role="status">
              {finished ? `Replay finished: all ${turns.length} turns remembered.` : `Turn ${Math.min(position + 1, turns.length)} of ${turns.length}${current ? ` · session ${current.session}${current.date ? ` (${current.date})` : ''}` : ''}`}
            </p>
            <progress max={turns.length} value={position} aria-label="Replay progress" className="replay-progress" />
            {replay.error && (
              <p role="alert" className="notice error">
                {replay.error}
              </p>
            )}
            <Transcript turns={turns} position={position} processing={state !== 'idle'} />
          </section>
        )}
        {conversation && (
          <section className="panel" aria-labelledby="questions-title">
            <h2 id="questions-title">Questions</h2>
            <div className="row">
              <label htmlFor="demo-count">Questions to ask</label>
              <input id="demo-count" type="number" min={1} max={total} value={Math.min(count, total)} onChange={(e) => e.target.valueAsNumber >= 1 && setCount(Math.round(e.target.valueAsNumber))} className="narrow" />
              {questions.asking ? (
                <button type="button" onClick={questions.stop}>
                  Stop asking
                </button>
              ) : (
                <button type="button" className="primary" disabled={!ready || running || position === 0} onClick={() => void questions.ask(conversation, Math.min(count, total))}>
                  Ask the questions
                </button>
              )}
              {position === 0 && <span className="muted small">Replay some turns first.</span>}
            </div>
            {questions.error && (
              <p role="alert" className="notice error">
                {questions.error}
              </p>
            )}
            <QaTable results={questions.results} total={Math.min(count, total)} />
          </section>
        )}
      </div>
      <aside className="side-column" aria-label="Live memory">
        <LiveMemory store={store} bankId={bankId} caption="The demo's bank" />
        <OperationsFeed store={store} bankId={bankId} limit={80} />
      </aside>
    </div>
  );
}
