// Where a model folder's files come from. The loader only sees `ModelSource`; these implementations
// cover memory (tests, generated tiny models), HTTP, files the user picked in the browser, and the
// caches WebLLM already filled. The Node directory source lives in source.node.ts.

export interface ModelSource {
  /** Shown in error messages (a folder path, a URL, "picked files"). */
  readonly name: string;
  /** The file's bytes; rejects with an error naming the file when it is absent. */
  read(path: string): Promise<Uint8Array>;
  exists(path: string): Promise<boolean>;
  /** Relative paths of all files, where the source can enumerate them. */
  list?(): Promise<string[]>;
}

export class MissingFileError extends Error {
  override name = 'MissingFileError';
  constructor(
    readonly source: string,
    readonly path: string,
  ) {
    super(`${path}: not found in ${source}.`);
  }
}

/** Files held in memory, e.g. the output of makeTinyModel. */
export class MemorySource implements ModelSource {
  constructor(
    private readonly files: ReadonlyMap<string, Uint8Array>,
    readonly name = 'memory',
  ) {}
  async read(path: string): Promise<Uint8Array> {
    const bytes = this.files.get(path);
    if (!bytes) throw new MissingFileError(this.name, path);
    return bytes;
  }
  async exists(path: string): Promise<boolean> {
    return this.files.has(path);
  }
  async list(): Promise<string[]> {
    return [...this.files.keys()];
  }
}

export interface DownloadProgress {
  path: string;
  loaded: number;
  /** From Content-Length; null when the server does not say. */
  total: number | null;
}

type FetchLike = (input: string, init?: { method?: string }) => Promise<Response>;

/** Files under a base URL (e.g. https://huggingface.co/<repo>/resolve/main/), read with fetch (an HTML page counts as missing). */
export class UrlSource implements ModelSource {
  readonly name: string;
  private readonly base: string;
  private readonly fetch: FetchLike;
  constructor(
    baseUrl: string,
    private readonly options: { onProgress?: (p: DownloadProgress) => void; fetch?: FetchLike } = {},
  ) {
    this.base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    this.name = this.base;
    const get = options.fetch ?? ((input, init) => fetch(input, init));
    // No model file is an HTML page: single-page-app servers (Vite's dev server among them) answer
    // unknown paths with index.html, which would make a Hugging Face folder look like an MLC one.
    this.fetch = async (input, init) => {
      const response = await get(input, init);
      return response.ok && (response.headers.get('content-type') ?? '').includes('text/html') ? new Response(null, { status: 404 }) : response;
    };
  }
  private url(path: string): string {
    return new URL(path, this.base).href;
  }
  async read(path: string): Promise<Uint8Array> {
    const response = await this.fetch(this.url(path));
    if (response.status === 404) throw new MissingFileError(this.name, path);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} from ${this.url(path)}. Check the URL and your connection.`);
    const lengthHeader = response.headers.get('content-length');
    const total = lengthHeader === null ? null : Number(lengthHeader);
    const onProgress = this.options.onProgress;
    if (!response.body || !onProgress) return new Uint8Array(await response.arrayBuffer());
    // Stream so the caller can show progress on multi-hundred-megabyte shards.
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let loaded = 0;
    onProgress({ path, loaded, total });
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      onProgress({ path, loaded, total });
    }
    const out = new Uint8Array(loaded);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
  async exists(path: string): Promise<boolean> {
    const response = await this.fetch(this.url(path), { method: 'HEAD' });
    return response.ok;
  }
}

/** What we need of a browser `File` (from <input type=file webkitdirectory> or drag and drop). */
export interface PickedFile {
  name: string;
  /** "folder/sub/file.json" for directory picks; empty for single-file picks. */
  webkitRelativePath?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * Files the user picked. Paths are relative to the picked folder: its top-level directory name
 * ("Qwen2.5-0.5B-Instruct/config.json" → "config.json") is stripped when all files share it.
 */
export class FileListSource implements ModelSource {
  readonly name = 'picked files';
  private readonly byPath = new Map<string, PickedFile>();
  constructor(files: Iterable<PickedFile>) {
    const list = [...files];
    const paths = list.map((f) => f.webkitRelativePath || f.name);
    const tops = new Set(paths.map((p) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : '')));
    const strip = tops.size === 1 && !tops.has('');
    list.forEach((f, i) => {
      const p = paths[i]!;
      this.byPath.set(strip ? p.slice(p.indexOf('/') + 1) : p, f);
    });
  }
  async read(path: string): Promise<Uint8Array> {
    const f = this.byPath.get(path);
    if (!f) throw new MissingFileError(this.name, path);
    return new Uint8Array(await f.arrayBuffer());
  }
  async exists(path: string): Promise<boolean> {
    return this.byPath.has(path);
  }
  async list(): Promise<string[]> {
    return [...this.byPath.keys()];
  }
}

/** The parts of the Cache API we use (window.caches / self.caches satisfy it). */
export interface CacheStorageLike {
  has(cacheName: string): Promise<boolean>;
  open(cacheName: string): Promise<{ match(request: string): Promise<Response | undefined> }>;
}

/**
 * WebLLM's Cache API cache (its default backend), read without WebLLM. As in WebLLM
 * (src/cache_util.ts, engine.ts) and TVM's web runtime (web/src/artifact_cache.ts): cache
 * "webllm/config" holds mlc-chat-config.json, cache "webllm/model" holds tensor-cache.json, the
 * params_shard_*.bin files and tokenizer.json; the key of each is its absolute URL
 * `new URL(file, modelUrl).href`, with modelUrl ending in "/resolve/main/" (WebLLM's cleanModelUrl
 * appends it to a bare Hugging Face repo URL).
 */
export class CacheApiSource implements ModelSource {
  readonly name: string;
  private readonly base: string;
  constructor(
    modelUrl: string,
    private readonly caches: CacheStorageLike,
  ) {
    this.base = webllmModelUrl(modelUrl);
    this.name = `WebLLM cache (${this.base})`;
  }
  private async match(path: string): Promise<Response | undefined> {
    const scope = path === 'mlc-chat-config.json' ? 'webllm/config' : 'webllm/model';
    if (!(await this.caches.has(scope))) return undefined;
    const cache = await this.caches.open(scope);
    return cache.match(new URL(path, this.base).href);
  }
  async read(path: string): Promise<Uint8Array> {
    const response = await this.match(path);
    if (!response) throw new MissingFileError(this.name, path);
    return new Uint8Array(await response.arrayBuffer());
  }
  async exists(path: string): Promise<boolean> {
    return (await this.match(path)) !== undefined;
  }
}

/** WebLLM's normalisation of a model URL: trailing slash, then "resolve/main/" unless a /resolve/ is present. */
export function webllmModelUrl(modelUrl: string): string {
  let url = modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`;
  if (!/.+\/resolve\/.+\//.test(url)) url += 'resolve/main/';
  return new URL(url).href;
}

/** What we need of `indexedDB` (window.indexedDB / self.indexedDB satisfy it). */
export interface IdbFactoryLike {
  open(name: string): IDBOpenDBRequest;
}

/**
 * WebLLM's IndexedDB backend (appConfig.cacheBackend = "indexeddb"), read without WebLLM. TVM's
 * ArtifactIndexedDBCache (web/src/artifact_cache.ts) uses one database per scope, named like the Cache
 * API scopes ("webllm/model", "webllm/config"), version 1, object store "urls" with keyPath "url", and
 * records {url, data}: data is an ArrayBuffer for binary files and the parsed object for files fetched
 * as JSON (tensor-cache.json, mlc-chat-config.json), which we serialise back to bytes.
 */
export class IndexedDbCacheSource implements ModelSource {
  readonly name: string;
  private readonly base: string;
  private readonly dbs = new Map<string, Promise<IDBDatabase | null>>();
  constructor(
    modelUrl: string,
    private readonly idb: IdbFactoryLike,
  ) {
    this.base = webllmModelUrl(modelUrl);
    this.name = `WebLLM IndexedDB cache (${this.base})`;
  }
  /** Opens a scope's database; null when it does not exist (and we must not create it: WebLLM would then skip its upgrade). */
  private db(scope: string): Promise<IDBDatabase | null> {
    let db = this.dbs.get(scope);
    if (!db) {
      db = new Promise((resolve, reject) => {
        const request = this.idb.open(scope);
        request.onupgradeneeded = () => request.transaction?.abort(); // it did not exist: leave it so
        request.onsuccess = () => resolve(request.result.objectStoreNames.contains('urls') ? request.result : null);
        request.onerror = () => (request.error?.name === 'AbortError' ? resolve(null) : reject(request.error ?? new Error(`cannot open IndexedDB "${scope}"`)));
      });
      this.dbs.set(scope, db);
    }
    return db;
  }
  private async record(path: string): Promise<unknown> {
    const db = await this.db(path === 'mlc-chat-config.json' ? 'webllm/config' : 'webllm/model');
    if (!db) return undefined;
    return new Promise((resolve, reject) => {
      const request = db.transaction(['urls'], 'readonly').objectStore('urls').get(new URL(path, this.base).href);
      request.onsuccess = () => resolve((request.result as { data?: unknown } | undefined)?.data);
      request.onerror = () => reject(request.error ?? new Error(`cannot read ${path} from IndexedDB`));
    });
  }
  async read(path: string): Promise<Uint8Array> {
    const data = await this.record(path);
    if (data === undefined || data === null) throw new MissingFileError(this.name, path);
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return new TextEncoder().encode(JSON.stringify(data));
  }
  async exists(path: string): Promise<boolean> {
    const data = await this.record(path);
    return data !== undefined && data !== null;
  }
}
