// Merged models as WebLLM custom models. WebLLM finds a model's files in its cache by absolute URL before
// it ever fetches, so a model whose files are already cached under a made-up URL loads without a network:
//   model URL   https://local.invalid/<name>            (".invalid" can never resolve: RFC 2606)
//   files       https://local.invalid/<name>/resolve/main/<file>   (WebLLM's cleanModelUrl adds resolve/main/)
//   scopes      "webllm/config": mlc-chat-config.json  (engine.reloadInternal, fetched as json)
//               "webllm/model":  ndarray-cache.json (0.2.79; tensor-cache.json from 0.2.80; fetched as
//                                json), params_shard_*.bin, tokenizer.json
//                                (+ tokenizer_config.json, which WebLLM ignores but our loader reads)
//   model_lib   the base model's prebuilt library URL: it lives in "webllm/wasm" (or is downloaded) as for
//               the base; a merge changes weights only, never the architecture or quantisation.
// A registry of installed custom models (their ModelRecords) is one JSON file in "webllm/config" under
// REGISTRY_URL. It is written last, so a model is listed only once all its files are in place; a failed
// install deletes what it wrote, and files without a registry entry (a tab closed mid-install) are
// orphans that `sweepOrphans` (and the next install of that name) removes.
//
// Both WebLLM backends are supported: the Cache API ("cache", the default) and IndexedDB (useIndexedDBCache:
// one database per scope, version 1, store "urls" with keyPath "url", records {url, data}; data is an
// ArrayBuffer, or the parsed object for files WebLLM fetches as JSON: mlc-chat-config.json and the
// tensor cache).
// WebLLM itself is loaded only by webllmSeesCustomModel (a dynamic import); the rest uses its types.

import type { AppConfig, ModelRecord } from '@mlc-ai/web-llm';
import { parseJsonFile, utf8Encode } from '../model/bytes';
import { TENSOR_CACHE, TENSOR_CACHE_NAMES, parseTensorCache } from '../model/mlc';
import { webllmModelUrl } from '../model/source';

export const CUSTOM_MODEL_ORIGIN = 'https://local.invalid';
/** Cannot collide with a model's files: those all live under `<origin>/<name>/`. */
export const REGISTRY_URL = `${CUSTOM_MODEL_ORIGIN}/memory-r1-custom-models.json`;
export const CONFIG_SCOPE = 'webllm/config';
export const MODEL_SCOPE = 'webllm/model';
export type Scope = typeof CONFIG_SCOPE | typeof MODEL_SCOPE;
/** WebLLM's model record, named here so that code outside the WebLLM adapter never imports WebLLM itself. */
export type { ModelRecord };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkCustomModelName(name: string): void {
  if (!NAME.test(name) || name.includes('..')) {
    throw new Error(`"${name}" is not a usable model name: use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit.`);
  }
}

/** The record's `model`: a made-up absolute URL (absolute, so WebLLM does not resolve it against the page). */
export const customModelUrl = (name: string): string => `${CUSTOM_MODEL_ORIGIN}/${name}`;

/** The cache key WebLLM uses for one file of a custom model. */
export const customFileUrl = (name: string, file: string): string => new URL(file, webllmModelUrl(customModelUrl(name))).href;

/** Which WebLLM cache scope a model file lives in. */
export const scopeOf = (file: string): Scope => (file === 'mlc-chat-config.json' ? CONFIG_SCOPE : MODEL_SCOPE);

/** Fields of records in WebLLM releases after 0.2.79 that a merge must not inherit. */
type LaterRecordFields = { integrity?: unknown; model_manifest?: unknown };

/**
 * The ModelRecord of a merge of `base`: same library, memory needs, overrides and required features;
 * without the integrity hashes (the merged files differ) and manifest (a plain layout is written) that
 * later WebLLM releases add. `modelUrl` defaults to the made-up URL the cache install uses.
 */
export function customModelRecord(base: ModelRecord, name: string, modelUrl = customModelUrl(name)): ModelRecord {
  checkCustomModelName(name);
  const { integrity: _integrity, model_manifest: _manifest, ...rest } = base as ModelRecord & LaterRecordFields;
  return { ...rest, model: modelUrl, model_id: name };
}

export interface CustomModelEntry {
  name: string;
  record: ModelRecord;
  /** The files written (relative names) and their total size. */
  files: string[];
  bytes: number;
  installedAt: string;
}

/** The app's AppConfig with the custom models appended (a custom id never replaces a prebuilt one). */
export function withCustomModels(appConfig: AppConfig, entries: readonly CustomModelEntry[]): AppConfig {
  const known = new Set(appConfig.model_list.map((r) => r.model_id));
  return { ...appConfig, model_list: [...appConfig.model_list, ...entries.map((e) => e.record).filter((r) => !known.has(r.model_id))] };
}

/**
 * WebLLM's own answer to "is this model's data cached?" (hasModelInCache: tensor-cache.json and every shard
 * it lists, under the record's URL). WebLLM is imported only when this is called.
 */
export async function webllmSeesCustomModel(record: ModelRecord, cacheBackend: 'cache' | 'indexeddb' = 'cache'): Promise<boolean> {
  const { hasModelInCache } = await import('@mlc-ai/web-llm');
  return hasModelInCache(record.model_id, { model_list: [record], useIndexedDBCache: cacheBackend === 'indexeddb' });
}

// ---- Storage backends ----------------------------------------------------------------------------------

export interface StoreEntry {
  url: string;
  bytes: Uint8Array;
  /** WebLLM reads it as JSON (matters for IndexedDB, which keeps the parsed object). */
  json: boolean;
}

/** What install/list/remove need of a WebLLM cache backend. */
export interface ArtifactStore {
  readonly kind: 'cache' | 'indexeddb';
  putAll(scope: Scope, entries: readonly StoreEntry[]): Promise<void>;
  get(scope: Scope, url: string): Promise<Uint8Array | undefined>;
  deleteAll(scope: Scope, urls: readonly string[]): Promise<void>;
  keys(scope: Scope): Promise<string[]>;
}

/** The parts of the Cache API we write through (window.caches / self.caches satisfy it). */
export interface WritableCacheStorageLike {
  open(cacheName: string): Promise<{
    match(request: string): Promise<Response | undefined>;
    put(request: string, response: Response): Promise<void>;
    delete(request: string): Promise<boolean>;
    keys(): Promise<ReadonlyArray<{ url: string }>>;
  }>;
}

/** An ArrayBuffer holding exactly `bytes` (no copy when it already is one). */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/** WebLLM's default backend. Stored as a fetch would have been: a 200 response with a content type. */
export function cacheApiStore(caches: WritableCacheStorageLike | undefined = globalThis.caches): ArtifactStore {
  if (!caches) throw new Error('The Cache API is not available here (it needs a secure context: https or localhost).');
  return {
    kind: 'cache',
    async putAll(scope, entries) {
      const cache = await caches.open(scope);
      for (const e of entries) {
        const type = e.json ? 'application/json' : 'application/octet-stream';
        await cache.put(e.url, new Response(exactBuffer(e.bytes), { status: 200, headers: { 'Content-Type': type } }));
      }
    },
    async get(scope, url) {
      const response = await (await caches.open(scope)).match(url);
      return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
    },
    async deleteAll(scope, urls) {
      const cache = await caches.open(scope);
      for (const url of urls) await cache.delete(url);
    },
    async keys(scope) {
      return (await (await caches.open(scope)).keys()).map((r) => r.url);
    },
  };
}

function idbRequest<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

/** WebLLM's IndexedDB backend (appConfig.useIndexedDBCache); each putAll is one transaction. */
export function indexedDbStore(idb: IDBFactory | undefined = globalThis.indexedDB): ArtifactStore {
  if (!idb) throw new Error('IndexedDB is not available here.');
  const withStore = async <T>(scope: Scope, mode: IDBTransactionMode, work: (store: IDBObjectStore) => Promise<T>): Promise<T> => {
    const open = idb.open(scope, 1);
    // Create what WebLLM's ArtifactIndexedDBCache.initDB would, so WebLLM later opens it without an upgrade.
    open.onupgradeneeded = () => {
      if (!open.result.objectStoreNames.contains('urls')) open.result.createObjectStore('urls', { keyPath: 'url' });
    };
    const db = await idbRequest(open);
    try {
      const tx = db.transaction(['urls'], mode);
      const done = new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onabort = () => reject(tx.error ?? new Error(`IndexedDB "${scope}": transaction aborted`));
      });
      const result = await work(tx.objectStore('urls'));
      await done;
      return result;
    } finally {
      db.close();
    }
  };
  return {
    kind: 'indexeddb',
    putAll: (scope, entries) =>
      withStore(scope, 'readwrite', async (store) => {
        // Queue every put before awaiting, so they all belong to the one transaction.
        const data = entries.map((e) => ({ url: e.url, data: e.json ? parseJsonFile(e.bytes, e.url) : exactBuffer(e.bytes) }));
        await Promise.all(data.map((record) => idbRequest(store.put(record))));
      }),
    get: (scope, url) =>
      withStore(scope, 'readonly', async (store) => {
        const record = (await idbRequest(store.get(url))) as { data?: unknown } | undefined;
        const data = record?.data;
        if (data === undefined || data === null) return undefined;
        if (data instanceof ArrayBuffer) return new Uint8Array(data);
        if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        return utf8Encode(JSON.stringify(data));
      }),
    deleteAll: (scope, urls) =>
      withStore(scope, 'readwrite', async (store) => {
        await Promise.all(urls.map((url) => idbRequest(store.delete(url))));
      }),
    keys: (scope) => withStore(scope, 'readonly', async (store) => (await idbRequest(store.getAllKeys())).map(String)),
  };
}

// ---- Registry ------------------------------------------------------------------------------------------

interface Registry {
  version: 1;
  models: CustomModelEntry[];
}

async function readRegistry(store: ArtifactStore): Promise<Registry> {
  const bytes = await store.get(CONFIG_SCOPE, REGISTRY_URL);
  if (!bytes) return { version: 1, models: [] };
  const json = parseJsonFile(bytes, 'the custom model registry') as Partial<Registry>;
  if (json.version !== 1 || !Array.isArray(json.models)) throw new Error(`The custom model registry (${REGISTRY_URL} in "${CONFIG_SCOPE}") is not in a known format; remove the custom models and merge again.`);
  return { version: 1, models: json.models };
}

const writeRegistry = (store: ArtifactStore, registry: Registry): Promise<void> =>
  store.putAll(CONFIG_SCOPE, [{ url: REGISTRY_URL, bytes: utf8Encode(JSON.stringify(registry)), json: false }]);

/** Serialises registry changes across tabs (Web Locks) where available; Node tests run without. */
async function exclusive<T>(work: () => Promise<T>): Promise<T> {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  // request() resolves with the callback's promise; awaiting flattens it.
  return locks ? await locks.request('memory-r1/custom-models', work) : await work();
}

/** Every key under `<origin>/<name>/` in both scopes. */
async function keysOf(store: ArtifactStore, name: string): Promise<Array<{ scope: Scope; url: string }>> {
  const prefix = `${customModelUrl(name)}/`;
  const out: Array<{ scope: Scope; url: string }> = [];
  for (const scope of [MODEL_SCOPE, CONFIG_SCOPE] as const) {
    for (const url of await store.keys(scope)) if (url.startsWith(prefix)) out.push({ scope, url });
  }
  return out;
}

async function deleteKeys(store: ArtifactStore, keys: ReadonlyArray<{ scope: Scope; url: string }>): Promise<void> {
  for (const scope of [MODEL_SCOPE, CONFIG_SCOPE] as const) {
    const urls = keys.filter((k) => k.scope === scope).map((k) => k.url);
    if (urls.length > 0) await store.deleteAll(scope, urls);
  }
}

/** The files WebLLM fetches as JSON (its IndexedDB backend keeps them parsed). */
const fetchedAsJson = (file: string): boolean => file === 'mlc-chat-config.json' || (TENSOR_CACHE_NAMES as readonly string[]).includes(file);

/** Checks that the folder is a complete MLC model WebLLM can load: config, tensor cache, every shard, tokenizer. */
function checkFiles(files: ReadonlyMap<string, Uint8Array>): void {
  for (const f of ['mlc-chat-config.json', ...TENSOR_CACHE_NAMES, 'tokenizer.json']) {
    if (!files.has(f)) throw new Error(`${f}: missing from the merged model; WebLLM needs mlc-chat-config.json, tensor-cache.json and ndarray-cache.json (the same list under its two names), its shards and tokenizer.json.`);
  }
  const cache = parseTensorCache(parseJsonFile(files.get(TENSOR_CACHE)!, TENSOR_CACHE));
  for (const shard of cache.records) {
    const bytes = files.get(shard.dataPath);
    if (!bytes) throw new Error(`${shard.dataPath}: listed in tensor-cache.json but missing from the merged model.`);
    if (bytes.byteLength !== shard.nbytes) throw new Error(`${shard.dataPath}: ${bytes.byteLength} bytes but tensor-cache.json says ${shard.nbytes}.`);
  }
  for (const f of files.keys()) {
    if (f.includes('/') || f.includes('..') || f.length === 0) throw new Error(`"${f}": model files must be plain file names.`);
  }
}

/**
 * Writes a merged MLC model (file name → bytes, as writeMergedMlcModel returns) into WebLLM's cache under
 * `record` (from customModelRecord) and registers it. All or nothing: on any failure what was written is
 * deleted and the registry is unchanged. Refuses a name that is already installed.
 */
export async function installIntoWebLlmCache(files: ReadonlyMap<string, Uint8Array>, record: ModelRecord, store: ArtifactStore = cacheApiStore()): Promise<CustomModelEntry> {
  const name = record.model_id;
  checkCustomModelName(name);
  if (record.model !== customModelUrl(name)) throw new Error(`The record's model URL must be ${customModelUrl(name)} (use customModelRecord).`);
  checkFiles(files);
  return exclusive(async () => {
    const registry = await readRegistry(store);
    if (registry.models.some((m) => m.name === name)) throw new Error(`A custom model named "${name}" is already installed; remove it first or choose another name.`);
    await deleteKeys(store, await keysOf(store, name)); // leftovers of an interrupted install
    const entries = [...files].map(([file, bytes]) => ({ file, scope: scopeOf(file), entry: { url: customFileUrl(name, file), bytes, json: fetchedAsJson(file) } }));
    try {
      // Model files first, config next, registry last: the model is listed only once it is complete.
      for (const scope of [MODEL_SCOPE, CONFIG_SCOPE] as const) {
        await store.putAll(scope, entries.filter((e) => e.scope === scope).map((e) => e.entry));
      }
      const entry: CustomModelEntry = {
        name,
        record,
        files: [...files.keys()],
        bytes: [...files.values()].reduce((n, b) => n + b.byteLength, 0),
        installedAt: new Date().toISOString(),
      };
      await writeRegistry(store, { version: 1, models: [...registry.models, entry] });
      return entry;
    } catch (error) {
      await deleteKeys(store, await keysOf(store, name)).catch(() => undefined);
      const quota = error instanceof DOMException && error.name === 'QuotaExceededError';
      const why = quota ? 'the browser has no storage left for it (free space by removing models you do not use)' : String(error instanceof Error ? error.message : error);
      throw new Error(`Could not install "${name}" into WebLLM's ${store.kind === 'cache' ? 'Cache API' : 'IndexedDB'} cache: ${why}. Nothing was kept.`, { cause: error });
    }
  });
}

/** The installed custom models (add their records to the AppConfig with withCustomModels). */
export async function listCustomModels(store: ArtifactStore = cacheApiStore()): Promise<CustomModelEntry[]> {
  return (await readRegistry(store)).models;
}

/** Unregisters a custom model, then deletes all its files; false when it was not installed. */
export async function removeCustomModel(name: string, store: ArtifactStore = cacheApiStore()): Promise<boolean> {
  checkCustomModelName(name);
  return exclusive(async () => {
    const registry = await readRegistry(store);
    const models = registry.models.filter((m) => m.name !== name);
    const registered = models.length !== registry.models.length;
    // Registry first: a failure part-way leaves unlisted orphans (swept later), never a listed broken model.
    if (registered) await writeRegistry(store, { version: 1, models });
    await deleteKeys(store, await keysOf(store, name));
    return registered;
  });
}

/** Deletes files under the custom origin that belong to no registered model; returns their URLs. */
export async function sweepOrphans(store: ArtifactStore = cacheApiStore()): Promise<string[]> {
  return exclusive(async () => {
    const registered = new Set((await readRegistry(store)).models.map((m) => `${customModelUrl(m.name)}/`));
    const orphans: Array<{ scope: Scope; url: string }> = [];
    for (const scope of [MODEL_SCOPE, CONFIG_SCOPE] as const) {
      for (const url of await store.keys(scope)) {
        if (url.startsWith(`${CUSTOM_MODEL_ORIGIN}/`) && url !== REGISTRY_URL && ![...registered].some((p) => url.startsWith(p))) orphans.push({ scope, url });
      }
    }
    await deleteKeys(store, orphans);
    return orphans.map((o) => o.url);
  });
}
