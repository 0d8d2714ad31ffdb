// The engine worker: our WebGPU engine and its trainer off the UI thread, exposed with Comlink. All logic
// lives in src/hosts/engine-host.ts (and trainer-host.ts); the main thread talks to it through
// src/llm/engine-client.ts. Training checkpoints go to IndexedDB, one database per model URL; LoCoMo
// training tuples to one database of their own.
import { expose } from 'comlink';
import { createEngineHost, urlEngineOpener } from '../src/hosts/engine-host';
import { IndexedDbTupleCache } from '../src/eval/tuples.idb';
import { IndexedDbCheckpointStorage } from '../src/train/checkpoint-storage.idb';

expose(
  createEngineHost(urlEngineOpener(() => self.navigator.gpu), {
    checkpointStorage: (modelUrl) => IndexedDbCheckpointStorage.open(`memory-r1-training ${modelUrl}`),
    tupleStore: () => IndexedDbTupleCache.open(),
  }),
);
