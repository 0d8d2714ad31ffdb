// The engine worker: our WebGPU engine off the UI thread, exposed with Comlink. All logic lives in
// src/llm/engine-host.ts; the main thread talks to it through src/llm/engine-client.ts.
import { expose } from 'comlink';
import { createEngineHost, urlEngineOpener } from '../src/llm/engine-host';

expose(createEngineHost(urlEngineOpener(() => self.navigator.gpu)));
