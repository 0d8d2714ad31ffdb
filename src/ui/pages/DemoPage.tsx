import { useEffect, useMemo, useState } from 'react';
import { parseLocomo } from '../../eval/locomo';
import { LiveMemory } from '../components/LiveMemory';
import { ModelNotice } from '../components/ModelNotice';
import { OperationsFeed } from '../components/OperationsFeed';
import { QaTable } from '../demo/QaTable';
import { fetchText, SAMPLE_URL, SourcePicker } from '../demo/SourcePicker';
import { Transcript } from '../demo/Transcript';
import { useQuestions } from '../demo/useQuestions';
import { useReplay } from '../demo/useReplay';
import { ModelHost, useModelState } from '../engines/model-host';
import { scriptedModel } from '../engines/script';
import type { ModelPageProps } from './model-page';

/** The replies the sample conversation was written with: the demo runs on them when no model is loaded. */
const SAMPLE_SCRIPT_URL = `${import.meta.env.BASE_URL}demo/sample-script.json`;

/** Replays a conversation into its own bank with the operations streaming live, then asks its questions. */
export function DemoPage({ store, bankId, host, settings, quickLoad, noGpu = false }: ModelPageProps) {
  // Without a model the sample can still be watched: its shipped script answers, in this page only.
  const sampleHost = useMemo(() => new ModelHost(), []);
  const [sample, setSample] = useState<'off' | 'starting' | 'on'>('off');
  const [sampleProblem, setSampleProblem] = useState<string | null>(null);
  const activeHost = sample === 'off' ? host : sampleHost;
  const ownModel = useModelState(host);
  const model = useModelState(activeHost);
  const replay = useReplay({ store, bankId, host: activeHost, settings });
  const questions = useQuestions({ store, bankId, host: activeHost, settings });
  const [count, setCount] = useState(20);
  const { conversation, turns, position, state } = replay;
  const ready = model.status === 'ready';
  const running = state !== 'idle' || questions.asking;
  const finished = turns.length > 0 && position === turns.length;
  const current = turns[Math.min(position, turns.length - 1)];
  const total = conversation?.qa.length ?? 0;

  const watchSample = async () => {
    setSampleProblem(null);
    try {
      const [script, conversations] = await Promise.all([fetchText(SAMPLE_SCRIPT_URL), fetchText(SAMPLE_URL).then(parseLocomo)]);
      sampleHost.use('the sample’s script', scriptedModel(script));
      questions.clear();
      await replay.choose(conversations[0] ?? null);
      setSample('starting');
    } catch (error) {
      setSampleProblem(`The sample could not be loaded: ${(error as Error).message}`);
    }
  };
  const leaveSample = () => {
    questions.clear();
    void replay.choose(null);
    setSample('off');
  };
  // Once the script is ready (and the replay hook sees it), play the sample from the start.
  useEffect(() => {
    if (sample !== 'starting' || !ready || !conversation) return;
    setSample('on');
    void replay.play();
  }, [sample, ready, conversation, replay]);

  // Why a control is off, said next to it (a disabled button alone does not say).
  const noModel = 'No model is loaded: load one on the Models page, or watch the sample without a model.';
  const playWhy = !ready ? noModel : questions.asking ? 'Wait until the questions are answered.' : finished ? 'The replay is finished: Start over to watch it again.' : null;
  const askWhy = !ready ? noModel : running ? 'Wait until the replay is paused or finished.' : position === 0 ? 'Replay some turns first.' : null;

  return (
    <div className="layout demo-layout">
      <div className="page demo-page">
        <section className="panel intro">
          <h2>Demo: watch memory being managed</h2>
          <p className="muted">
            A conversation is fed to the memory manager one turn at a time, as if it were happening now. Watch facts being added, merged, and deleted when they are contradicted; then
            the answer agent answers the benchmark&rsquo;s questions from what was kept. The demo uses its own bank, separate from your memories.
          </p>
        </section>
        {sample === 'off' ? <ModelNotice state={model} quickLoad={quickLoad} noGpu={noGpu} /> : null}
        {sample === 'off' && ownModel.status !== 'ready' && ownModel.status !== 'loading' && (
          <section className="panel" aria-labelledby="sample-title">
            <h2 id="sample-title">No model? Watch the sample</h2>
            <p className="muted">The sample conversation comes with the replies it was written with, so you can watch memory being managed without downloading a model.</p>
            <button type="button" className="primary" onClick={() => void watchSample()}>
              Watch the sample without a model
            </button>
            {sampleProblem && (
              <p role="alert" className="notice error">
                {sampleProblem}
              </p>
            )}
          </section>
        )}
        {sample !== 'off' && (
          <p className="notice info" role="status">
            Replies come from the sample&rsquo;s script, not a model: it knows only the sample conversation.{' '}
            <button type="button" disabled={running} onClick={leaveSample}>
              Stop using the script
            </button>
          </p>
        )}
        <SourcePicker
          disabled={running || sample !== 'off'}
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
                <button type="button" className="primary" disabled={playWhy !== null} aria-describedby={playWhy ? 'replay-why' : undefined} onClick={() => void replay.play()}>
                  {position === 0 ? 'Play' : 'Resume'}
                </button>
              ) : (
                <button type="button" onClick={replay.pause} disabled={state === 'pausing'}>
                  {state === 'pausing' ? 'Pausing…' : 'Pause'}
                </button>
              )}
              <button type="button" disabled={playWhy !== null || running} aria-describedby={playWhy ? 'replay-why' : undefined} onClick={() => void replay.step()}>
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
            {playWhy && state === 'idle' && (
              <p id="replay-why" className="muted small">
                {playWhy}
              </p>
            )}
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
          <section className="panel demo-questions" aria-labelledby="questions-title">
            <h2 id="questions-title">Questions</h2>
            <div className="row">
              <label htmlFor="demo-count">Questions to ask</label>
              <input id="demo-count" type="number" min={1} max={total} value={Math.min(count, total)} onChange={(e) => e.target.valueAsNumber >= 1 && setCount(Math.round(e.target.valueAsNumber))} className="narrow" />
              {questions.asking ? (
                <button type="button" onClick={questions.stop}>
                  Stop asking
                </button>
              ) : (
                <button type="button" className="primary" disabled={askWhy !== null} aria-describedby={askWhy ? 'ask-why' : undefined} onClick={() => void questions.ask(conversation, Math.min(count, total))}>
                  Ask the questions
                </button>
              )}
              {askWhy && !questions.asking && (
                <span id="ask-why" className="muted small">
                  {askWhy}
                </span>
              )}
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
