import type { GpuSupport } from '../gpu-support';

/** What this browser's GPU can do, and what it means for the choice of model. */
export function GpuCapability({ support }: { support: GpuSupport }) {
  return (
    <section className="panel" aria-labelledby="gpu-title">
      <h2 id="gpu-title">This browser</h2>
      <dl className="facts">
        <dt>WebGPU</dt>
        <dd>{support.state === 'checking' ? 'checking…' : support.state === 'ready' ? `yes (${support.adapter})` : 'no'}</dd>
        <dt>16-bit float shaders (shader-f16)</dt>
        <dd>
          {support.state === 'ready'
            ? support.f16
              ? 'yes: models load as q4f16_1 (smaller and faster)'
              : 'no: models load as q4f32_1 (works everywhere, a little larger)'
            : '—'}
        </dd>
      </dl>
    </section>
  );
}
