// Install / list / remove against an in-memory Cache API (Node has none; the real one is exercised in
// e2e/merge-webllm-cache.spec.ts). The fake keeps what the real one keeps: responses keyed by URL per scope.
import type { ModelRecord } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../model/load';
import { CacheApiSource, MemorySource } from '../model/source';
import { makeTinyModel } from '../model/tiny';
import {
  CONFIG_SCOPE,
  MODEL_SCOPE,
  REGISTRY_URL,
  cacheApiStore,
  customFileUrl,
  customModelRecord,
  installIntoWebLlmCache,
  listCustomModels,
  removeCustomModel,
  sweepOrphans,
  withCustomModels,
  type WritableCacheStorageLike,
} from './webllm-custom-model';

class FakeCaches implements WritableCacheStorageLike {
  readonly scopes = new Map<string, Map<string, { body: ArrayBuffer; type: string | null }>>();
  /** Fail the put after this many more succeed (a full disk mid-install). */
  failAfter = Infinity;
  async has(name: string): Promise<boolean> {
    return this.scopes.has(name);
  }
  async open(name: string) {
    let scope = this.scopes.get(name);
    if (!scope) this.scopes.set(name, (scope = new Map()));
    const entries = scope;
    return {
      match: async (url: string) => {
        const e = entries.get(url);
        return e ? new Response(e.body.slice(0), { headers: e.type ? { 'Content-Type': e.type } : {} }) : undefined;
      },
      put: async (url: string, response: Response) => {
        if (this.failAfter-- <= 0) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        entries.set(new URL(url).href, { body: await response.arrayBuffer(), type: response.headers.get('Content-Type') });
      },
      delete: async (url: string) => entries.delete(url),
      keys: async () => [...entries.keys()].map((url) => ({ url })),
    };
  }
  keys(scope: string): string[] {
    return [...(this.scopes.get(scope)?.keys() ?? [])];
  }
}

const BASE: ModelRecord = {
  model: 'https://huggingface.co/mlc-ai/Qwen2.5-0.5B-Instruct-q4f16_1-MLC',
  model_id: 'Qwen2.5-0.5B-Instruct-q4f16_1-MLC',
  model_lib: 'https://raw.githubusercontent.com/mlc-ai/binary-mlc-llm-libs/main/web-llm-models/v0_2_48/Qwen2-0.5B-Instruct-q4f16_1-ctx4k_cs1k-webgpu.wasm',
  low_resource_required: true,
  vram_required_MB: 944.62,
  required_features: ['shader-f16'],
  overrides: { context_window_size: 4096 },
  integrity: { config: 'sha256-base' }, // as later WebLLM releases have
} as ModelRecord;

describe('customModelRecord', () => {
  it("keeps the base's library, memory needs, features and overrides; points at the made-up URL; drops the base's hashes", () => {
    const r = customModelRecord(BASE, 'qwen-memory-r1');
    expect(r).toEqual({
      model: 'https://local.invalid/qwen-memory-r1',
      model_id: 'qwen-memory-r1',
      model_lib: BASE.model_lib,
      low_resource_required: true,
      vram_required_MB: 944.62,
      required_features: ['shader-f16'],
      overrides: { context_window_size: 4096 },
    });
    expect(customFileUrl('qwen-memory-r1', 'params_shard_0.bin')).toBe('https://local.invalid/qwen-memory-r1/resolve/main/params_shard_0.bin');
    expect(() => customModelRecord(BASE, '../x')).toThrow(/not a usable model name/);
    expect(() => customModelRecord(BASE, 'a b')).toThrow(/not a usable model name/);
  });

  it('withCustomModels appends records, never replacing a prebuilt id', () => {
    const own = { name: 'mine', record: customModelRecord(BASE, 'mine'), files: [], bytes: 0, installedAt: '' };
    const clash = { ...own, name: BASE.model_id, record: { ...own.record, model_id: BASE.model_id } };
    const app = withCustomModels({ model_list: [BASE], useIndexedDBCache: false }, [own, clash]);
    expect(app.model_list.map((r) => r.model_id)).toEqual([BASE.model_id, 'mine']);
    expect(app.model_list[0]).toBe(BASE);
    expect(app.useIndexedDBCache).toBe(false);
  });
});

describe('installIntoWebLlmCache (Cache API)', () => {
  const files = makeTinyModel({ format: 'mlc', quant: 'q4f16_1', seed: 8 });

  it('writes every file where WebLLM looks for it, then lists it; the cache reads back as the same model', async () => {
    const caches = new FakeCaches();
    const store = cacheApiStore(caches);
    const record = customModelRecord(BASE, 'tiny-merged');
    const entry = await installIntoWebLlmCache(files, record, store);
    expect(entry).toMatchObject({ name: 'tiny-merged', record, bytes: [...files.values()].reduce((n, b) => n + b.byteLength, 0) });
    expect(caches.keys(CONFIG_SCOPE).sort()).toEqual([REGISTRY_URL, 'https://local.invalid/tiny-merged/resolve/main/mlc-chat-config.json']);
    const modelKeys = [...files.keys()].filter((f) => f !== 'mlc-chat-config.json').map((f) => customFileUrl('tiny-merged', f));
    expect(caches.keys(MODEL_SCOPE).sort()).toEqual(modelKeys.sort());
    expect(caches.scopes.get(MODEL_SCOPE)!.get(customFileUrl('tiny-merged', 'tensor-cache.json'))!.type).toBe('application/json');

    const fromCache = await loadModel(new CacheApiSource(record.model, caches));
    const original = await loadModel(new MemorySource(files));
    expect(fromCache.config).toEqual(original.config);
    expect(fromCache.weights).toEqual(original.weights);
    expect(await listCustomModels(store)).toEqual([entry]);
  });

  it('refuses a second model of the same name; removal deletes every entry and the listing', async () => {
    const caches = new FakeCaches();
    const store = cacheApiStore(caches);
    const record = customModelRecord(BASE, 'twice');
    await installIntoWebLlmCache(files, record, store);
    await installIntoWebLlmCache(files, customModelRecord(BASE, 'other'), store);
    await expect(installIntoWebLlmCache(files, record, store)).rejects.toThrow(/"twice" is already installed/);
    expect(await removeCustomModel('twice', store)).toBe(true);
    expect(caches.keys(MODEL_SCOPE).some((k) => k.includes('/twice/'))).toBe(false);
    expect(caches.keys(CONFIG_SCOPE).some((k) => k.includes('/twice/'))).toBe(false);
    expect((await listCustomModels(store)).map((m) => m.name)).toEqual(['other']);
    expect(await removeCustomModel('twice', store)).toBe(false);
    expect(await removeCustomModel('other', store)).toBe(true);
    expect(caches.keys(MODEL_SCOPE)).toEqual([]);
    expect(caches.keys(CONFIG_SCOPE)).toEqual([REGISTRY_URL]);
  });

  it('a failure part-way keeps nothing and leaves the registry as it was', async () => {
    const caches = new FakeCaches();
    const store = cacheApiStore(caches);
    await installIntoWebLlmCache(files, customModelRecord(BASE, 'kept'), store);
    const before = { model: caches.keys(MODEL_SCOPE), config: caches.keys(CONFIG_SCOPE), list: await listCustomModels(store) };
    for (const failAfter of [0, 2, files.size - 1, files.size]) {
      caches.failAfter = failAfter; // files.size - 1: the config; files.size: the registry itself
      await expect(installIntoWebLlmCache(files, customModelRecord(BASE, 'broken'), store)).rejects.toThrow(/Could not install "broken".*no storage left.*Nothing was kept/);
      caches.failAfter = Infinity;
      expect({ model: caches.keys(MODEL_SCOPE), config: caches.keys(CONFIG_SCOPE), list: await listCustomModels(store) }).toEqual(before);
    }
  });

  it('refuses an incomplete folder before writing anything', async () => {
    const caches = new FakeCaches();
    const partial = new Map(files);
    partial.delete('params_shard_0.bin');
    await expect(installIntoWebLlmCache(partial, customModelRecord(BASE, 'partial'), cacheApiStore(caches))).rejects.toThrow(/params_shard_0\.bin: listed in tensor-cache\.json but missing/);
    expect(caches.scopes.size).toBe(0);
    await expect(installIntoWebLlmCache(files, { ...customModelRecord(BASE, 'x'), model: 'https://example.com/x' }, cacheApiStore(caches))).rejects.toThrow(/must be https:\/\/local\.invalid\/x/);
  });

  it('orphans of an interrupted install are swept, and replaced by the next install of that name', async () => {
    const caches = new FakeCaches();
    const store = cacheApiStore(caches);
    await installIntoWebLlmCache(files, customModelRecord(BASE, 'alive'), store);
    const stray = customFileUrl('ghost', 'params_shard_0.bin');
    await store.putAll(MODEL_SCOPE, [{ url: stray, bytes: new Uint8Array(4), json: false }]);
    expect(await sweepOrphans(store)).toEqual([stray]);
    expect(caches.keys(MODEL_SCOPE)).not.toContain(stray);
    await store.putAll(MODEL_SCOPE, [{ url: customFileUrl('ghost', 'params_shard_99.bin'), bytes: new Uint8Array(4), json: false }]);
    await installIntoWebLlmCache(files, customModelRecord(BASE, 'ghost'), store);
    expect(caches.keys(MODEL_SCOPE)).not.toContain(customFileUrl('ghost', 'params_shard_99.bin'));
    expect((await listCustomModels(store)).map((m) => m.name)).toEqual(['alive', 'ghost']);
  });

  it('says so where there is no Cache API', () => {
    expect(() => cacheApiStore(undefined)).toThrow(/Cache API is not available/);
  });
});
