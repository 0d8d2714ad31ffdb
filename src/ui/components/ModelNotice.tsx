import type { ModelState } from '../engines/model-host';
import { LoadProgressBar } from './LoadProgressBar';

/**
 * Says why the page cannot use a model yet (none loaded, still loading, failed) and where to fix it;
 * renders nothing once a model is ready. `quickLoad` offers the model chosen before, in one click.
 */
export function ModelNotice({ state, quickLoad, noGpu }: { state: ModelState; quickLoad?: { label: string; load: () => void } | undefined; noGpu?: boolean }) {
  if (state.status === 'ready') return null;
  if (noGpu && state.status === 'none') {
    return (
      <div className="notice info" role="status">
        <p>
          <strong>This browser cannot run models</strong> (see above), so the assistant cannot reply here. Your memories still work: <a href="#/memory">open Memory</a>.
        </p>
      </div>
    );
  }
  if (state.status === 'loading') {
    return (
      <div className="notice info" role="status">
        <p>Loading {state.label}…</p>
        <LoadProgressBar label={state.label} progress={state.progress} />
      </div>
    );
  }
  if (state.status === 'error') {
    return (
      <div className="notice error" role="alert">
        <p>
          <strong>The model could not be loaded.</strong> {state.message}
        </p>
        <p>
          <a href="#/models">Open Models</a> to try again or pick another model.
        </p>
      </div>
    );
  }
  return (
    <div className="notice info" role="status">
      <p>
        <strong>No model is loaded.</strong> The assistant needs a language model running in this tab.{' '}
        {quickLoad ? (
          <>
            <button type="button" onClick={quickLoad.load}>
              Load {quickLoad.label}
            </button>{' '}
            or <a href="#/models">choose another on Models</a>.
          </>
        ) : (
          <>
            <a href="#/models">Choose one on the Models page</a> (it downloads once, then works offline).
          </>
        )}
      </p>
    </div>
  );
}
