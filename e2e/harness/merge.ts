// Test harness page for merging a LoRA adapter and installing the result as a WebLLM custom model: the
// real merge, the real Cache API / IndexedDB, our loaders reading the cache back, and WebLLM's own
// hasModelInCache. Nothing is mocked; WebLLM cannot run the model here (no model library offline).
import type { ModelRecord } from '../../src/llm/webllm-custom-model';
import { appConfigFor, workerEngine } from '../../src/llm/webllm';
import { prebuiltRecordFor } from '../../src/llm/webllm-base-record';
import {
  CONFIG_SCOPE,
  CUSTOM_MODEL_ORIGIN,
  MODEL_SCOPE,
  cacheApiStore,
  customModelRecord,
  indexedDbStore,
  installIntoWebLlmCache,
  listCustomModels,
  removeCustomModel,
  webllmSeesCustomModel,
  withCustomModels,
  type ArtifactStore,
} from '../../src/llm/webllm-custom-model';
import { CacheApiSource, IndexedDbCacheSource, MemorySource, hfTensor, hfTensorNames, loadModel, loraDims, makeTinyModel } from '../../src/model';
import type { HostLoraAdapter, LoraTarget, ModelConfig, Quantization, WeightTensor } from '../../src/model';
import { createRng } from '../../src/model/rng';
import { mergeLora, writeMergedMlcModel } from '../../src/train/merge';

type Backend = 'cache' | 'indexeddb';

// A prebuilt record of the pinned WebLLM (Qwen2.5-0.5B q4f16_1); the tiny model's own architecture does
// not matter to the cache layout.
const BASE: ModelRecord = prebuiltRecordFor('https://huggingface.co/mlc-ai/Qwen2.5-0.5B-Instruct-q4f16_1-MLC')!;

const TARGETS: LoraTarget[][] = [['q', 'k', 'v', 'o', 'gate', 'up', 'down'], ['q', 'v', 'down']];

function randomAdapter(c: ModelConfig, seed: number, rank = 4): HostLoraAdapter {
  const rng = createRng(seed);
  const uniform = (n: number, std: number): Float32Array => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * std * Math.sqrt(3));
  const layers = TARGETS.map((targets) =>
    Object.fromEntries(targets.map((t) => [t, { a: uniform(rank * loraDims(c, t).in, 1 / Math.sqrt(loraDims(c, t).in)), b: uniform(loraDims(c, t).out * rank, 0.1) }])),
  );
  return { rank, alpha: 8, layers };
}

const storeFor = (backend: Backend): ArtifactStore => (backend === 'cache' ? cacheApiStore(caches) : indexedDbStore(indexedDB));

function parts(t: WeightTensor): Uint8Array[] {
  const view = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return t.data.kind === 'q4' ? [view(t.data.qWeight), view(t.data.qScale)] : [view(t.data.data)];
}
const sameBytes = (a: WeightTensor, b: WeightTensor): boolean =>
  a.data.kind === b.data.kind && parts(a).every((p, i) => { const q = parts(b)[i]!; return p.byteLength === q.byteLength && p.every((v, j) => v === q[j]); });

/** Every key under the custom-model origin, per scope. */
async function customKeys(store: ArtifactStore): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const scope of [MODEL_SCOPE, CONFIG_SCOPE] as const) out[scope] = (await store.keys(scope)).filter((k) => k.startsWith(CUSTOM_MODEL_ORIGIN)).sort();
  return out;
}

const mergeHarness = {
  /** Merges a random adapter into a tiny MLC model, installs it, and reads it back from the cache. */
  async install(name: string, quant: Quantization, backend: Backend) {
    const baseFiles = makeTinyModel({ format: 'mlc', quant, seed: 21 });
    const base = await loadModel(new MemorySource(baseFiles));
    const merged = mergeLora(base.weights, base.config, randomAdapter(base.config, 3));
    const files = await writeMergedMlcModel(new MemorySource(baseFiles), merged, name, { shardCapBytes: 48 * 1024 });
    const record = customModelRecord(BASE, name);
    const store = storeFor(backend);
    const entry = await installIntoWebLlmCache(files, record, store);
    const source = backend === 'cache' ? new CacheApiSource(record.model, caches) : new IndexedDbCacheSource(record.model, indexedDB);
    const back = await loadModel(source);
    const names = hfTensorNames(base.config);
    const mismatched = names.filter((n) => !sameBytes(hfTensor(back.weights, base.config, n), hfTensor(merged, base.config, n)));
    const changed = names.filter((n) => !sameBytes(hfTensor(merged, base.config, n), hfTensor(base.weights, base.config, n)));
    return {
      files: [...files.keys()].sort(),
      entryName: entry.name,
      record,
      quantization: back.quantization,
      sameConfig: JSON.stringify(back.config) === JSON.stringify(base.config),
      tensors: names.length,
      changed: changed.length,
      mismatched,
      keys: await customKeys(store),
      listed: (await listCustomModels(store)).map((m) => m.name),
      webllmSees: await webllmSeesCustomModel(record, backend),
      tokens: back.tokenizer.encode('hello memory'),
    };
  },
  /**
   * Starts the real WebLLM engine (our worker) on an installed custom model. Offline it cannot get the
   * model library, but it reads mlc-chat-config.json from the cache first: the test watches which URLs
   * it asks the network for.
   */
  async startEngine(name: string): Promise<{ ok: boolean; error?: string; progress: string[] }> {
    const appConfig = withCustomModels(appConfigFor('cache'), await listCustomModels(cacheApiStore(caches)));
    const progress: string[] = [];
    try {
      const { engine, dispose } = await workerEngine([name], { appConfig, initProgressCallback: (r) => progress.push(r.text) });
      await engine.unload();
      dispose();
      return { ok: true, progress };
    } catch (error) {
      return { ok: false, error: String(error instanceof Error ? error.message : error), progress };
    }
  },
  async remove(name: string, backend: Backend) {
    const store = storeFor(backend);
    const removed = await removeCustomModel(name, store);
    const record = customModelRecord(BASE, name);
    return { removed, keys: await customKeys(store), listed: (await listCustomModels(store)).map((m) => m.name), webllmSees: await webllmSeesCustomModel(record, backend) };
  },
};

declare global {
  interface Window {
    mergeHarness: typeof mergeHarness;
  }
}
window.mergeHarness = mergeHarness;
document.getElementById('status')!.textContent = 'ready';
