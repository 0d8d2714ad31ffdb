// Test harness page for the engine worker: the real EngineClient, which spawns workers/engine.worker.ts
// (our WebGPU engine behind Comlink). Playwright drives it with page.evaluate.
import { EngineClient } from '../../src/hosts/engine-client';

const engineHarness = { EngineClient };

export type EngineHarness = typeof engineHarness;
declare global {
  interface Window {
    engineHarness: EngineHarness;
  }
}
window.engineHarness = engineHarness;
document.getElementById('status')!.textContent = 'ready';
