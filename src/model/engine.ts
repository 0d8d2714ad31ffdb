// The local inference engine: a model's weights on the GPU, named LoRA adapters chosen per request,
// scoring (log-probabilities of a completion) and decode sessions with a KV cache. The base model with
// no adapter is also the RL reference policy: same weights, LoRA off, no second copy.

import { GpuRuntime, logProbs, topK, type GpuContext, type GpuTensor } from '../gpu';
import type { ModelConfig, Quantization } from './config';
import type { DecodeSession, TopKResult } from './decode-session';
import { forward, releaseForwardRecord, type ForwardRecord } from './forward';
import { kvCacheBytes, mb, releaseWeights, uploadWeights, type GpuModelWeights } from './gpu-weights';
import { KvCache } from './kv-cache';
import { loadModel, type ModelFormat } from './load';
import { checkGpuAdapter, releaseLora, uploadLora, type HostLoraAdapter, type LoraAdapter } from './lora';
import { isPeftFiles, parsePeftAdapter, PEFT_WEIGHTS, type PeftFiles } from './peft';
import { PrefixCache, type CachedPrefix } from './prefix-cache';
import type { ModelSource } from './source';
import type { ModelTokenizer } from './tokenizer';
import type { ModelWeights } from './weights';

export interface EngineOptions {
  /** Default KV-cache size of a session (tokens); default min(context window, 4096). */
  maxTokens?: number;
  /** Tokens per forward when prefilling or scoring long inputs (bounds activation memory); default 512. */
  chunkTokens?: number;
  /** Idle KV caches kept for prefix reuse by sessions opened with `reusePrefixOf` (default 3; 0 = none). */
  prefixCaches?: number;
}

export interface SessionOptions extends RequestOptions {
  /** KV-cache positions the session needs (default: the engine's maxTokens). */
  maxTokens?: number;
  /**
   * The prompt about to be appended: the session may start from an idle cache that already holds a
   * prefix of it (its `length` says how many tokens; append the rest). Never all of it: at least one
   * token is left to append, so there are logits to sample from. Not for adapters the caller can
   * change (added as GPU tensors or taken with getAdapter): their cached K/V could be stale.
   */
  reusePrefixOf?: readonly number[];
}

/** An idle KV cache kept by the prefix cache. */
interface KeptCache extends CachedPrefix<LoraAdapter> {
  cache: KvCache;
}

export interface RequestOptions {
  /** Name of an adapter added with addAdapter; none = the base model. */
  adapter?: string;
}

/** What Engine.create needs: what loadModel returns (format and quantisation are optional). */
export interface EngineModel {
  config: ModelConfig;
  weights: ModelWeights;
  tokenizer: ModelTokenizer;
  format?: ModelFormat;
  quantization?: Quantization;
}

// Long inputs run in chunks: bounded activations, and logits at most ~64 MiB per chunk (V floats a row).
const PREFILL_CHUNK = 512;
const LOGIT_FLOATS_PER_CHUNK = 1 << 24;

export class Engine {
  private readonly adapters = new Map<string, LoraAdapter>();
  /** Open sessions per adapter: an adapter in use cannot be removed. */
  private readonly inUse = new Map<LoraAdapter, number>();
  /** Adapters whose tensors a caller holds and may change in place: never prefix-cached. */
  private readonly mutable = new WeakSet<LoraAdapter>();
  private readonly prefixes: PrefixCache<LoraAdapter, KeptCache>;
  private disposed = false;
  readonly maxTokens: number;
  /** Tokens per forward for long inputs. */
  readonly chunkTokens: number;

  private constructor(
    readonly runtime: GpuRuntime,
    readonly config: ModelConfig,
    readonly tokenizer: ModelTokenizer,
    /** The weights on the GPU (the trainer reads them; do not release). */
    readonly weights: GpuModelWeights,
    readonly format: ModelFormat | undefined,
    readonly quantization: Quantization | undefined,
    options: EngineOptions,
  ) {
    this.maxTokens = options.maxTokens ?? Math.min(config.maxPositionEmbeddings, 4096);
    this.chunkTokens = options.chunkTokens ?? PREFILL_CHUNK;
    this.prefixes = new PrefixCache(options.prefixCaches ?? 3);
  }

  /** Loads a model folder (HF or MLC) and uploads it. */
  static async load(source: ModelSource, gpu: GpuContext | GpuRuntime, options: EngineOptions = {}): Promise<Engine> {
    return Engine.create(await loadModel(source), gpu, options);
  }

  /** Uploads an already loaded model. */
  static async create(model: EngineModel, gpu: GpuContext | GpuRuntime, options: EngineOptions = {}): Promise<Engine> {
    const rt = gpu instanceof GpuRuntime ? gpu : new GpuRuntime(gpu);
    const weights = await uploadWeights(rt, model.weights, model.config);
    return new Engine(rt, model.config, model.tokenizer, weights, model.format, model.quantization, options);
  }

  // ----- adapters ------------------------------------------------------------------------------

  /**
   * Adds a LoRA adapter under `name`: a GPU adapter (kept as is, e.g. the trainer's), a host adapter
   * (uploaded), or a PEFT adapter's two files (parsed, checked against this model, uploaded).
   * The engine owns the adapter's GPU tensors from now on: removeAdapter / dispose free them.
   */
  addAdapter(name: string, adapter: LoraAdapter | HostLoraAdapter | PeftFiles): void {
    this.live();
    if (this.adapters.has(name)) throw new Error(`adapter "${name}" already exists; remove it first or pick another name`);
    let gpu: LoraAdapter;
    if (isPeftFiles(adapter)) gpu = uploadLora(this.runtime, this.config, parsePeftAdapter(adapter, this.config), PEFT_WEIGHTS);
    else if (isGpuAdapter(adapter)) {
      checkGpuAdapter(this.config, (gpu = adapter), `adapter "${name}"`);
      this.mutable.add(gpu);
    } else gpu = uploadLora(this.runtime, this.config, adapter, `adapter "${name}"`);
    this.adapters.set(name, gpu);
  }

  /** The GPU tensors of an adapter (the trainer updates them in place, so it is never prefix-cached). */
  getAdapter(name: string): LoraAdapter {
    const a = this.lookup(name);
    this.mutable.add(a);
    this.prefixes.drop((kept) => kept.owner === a);
    return a;
  }

  private lookup(name: string): LoraAdapter {
    const a = this.adapters.get(name);
    if (!a) throw new Error(`no adapter named "${name}"; added: ${[...this.adapters.keys()].join(', ') || 'none'}`);
    return a;
  }

  get adapterNames(): string[] {
    return [...this.adapters.keys()];
  }

  /** Removes an adapter and frees its GPU memory (fails while a session uses it). */
  removeAdapter(name: string): void {
    const a = this.lookup(name);
    if (this.inUse.get(a)) throw new Error(`adapter "${name}" is used by ${this.inUse.get(a)} open session(s); dispose them first`);
    this.prefixes.drop((kept) => kept.owner === a);
    this.adapters.delete(name);
    releaseLora(this.runtime, a);
  }

  private resolve(options: RequestOptions): LoraAdapter | null {
    return options.adapter === undefined ? null : this.lookup(options.adapter);
  }

  // ----- scoring -------------------------------------------------------------------------------

  /** log p(completion token | everything before it), per completion token (prompt must be non-empty). */
  async score(promptIds: readonly number[], completionIds: readonly number[], options: RequestOptions = {}): Promise<Float32Array> {
    this.live();
    if (promptIds.length === 0) throw new Error('score: the prompt must have at least one token (the first token has no prediction)');
    const tokens = [...promptIds, ...completionIds];
    this.checkIds(tokens, 'score');
    const out = new Float32Array(completionIds.length);
    if (completionIds.length === 0) return out;
    const P = promptIds.length;
    // Position t's logits predict token t+1: rows P-1 .. T-2 score the completion.
    await this.run(tokens, this.resolve(options), [P - 1, tokens.length - 1], async (logits, from, count) => {
      const targets = this.runtime.upload(Uint32Array.from(tokens.slice(from + 1, from + 1 + count)), [count], 'u32');
      const { logp, lse } = logProbs(this.runtime, logits, targets);
      out.set(await this.runtime.download(logp), from - (P - 1));
      this.runtime.release(targets, logp, lse);
    });
    return out;
  }

  /** Logits [T, vocab] of every position (row t predicts token t+1), e.g. for tests and analysis. */
  async logits(ids: readonly number[], options: RequestOptions = {}): Promise<Float32Array> {
    this.live();
    this.checkIds(ids, 'logits');
    const V = this.config.vocabSize;
    const out = new Float32Array(ids.length * V);
    await this.run(ids, this.resolve(options), [0, ids.length], async (logits, from) => {
      out.set(await this.runtime.download(logits), from * V);
    });
    return out;
  }

  /**
   * Runs `ids` through a scratch KV cache in chunks; `use` gets each chunk's logits for the wanted
   * positions [rows[0], rows[1]) it covers (absolute position `from`, `count` rows).
   */
  private async run(
    ids: readonly number[],
    adapter: LoraAdapter | null,
    rows: [number, number],
    use: (logits: GpuTensor, from: number, count: number) => Promise<void>,
  ): Promise<void> {
    const rt = this.runtime;
    const chunk = Math.max(1, Math.min(this.chunkTokens, Math.floor(LOGIT_FLOATS_PER_CHUNK / this.config.vocabSize)));
    const cache = new KvCache(rt, this.config, ids.length, true);
    try {
      for (let start = 0; start < ids.length; start += chunk) {
        const T = Math.min(chunk, ids.length - start);
        const from = Math.min(Math.max(start, rows[0]), start + T);
        const to = Math.max(Math.min(start + T, rows[1]), from);
        const idTensor = rt.upload(Uint32Array.from(ids.slice(start, start + T)), [T], 'u32');
        const logits = forward(rt, this.config, this.weights, { ids: idTensor, T, cache, adapter, logitRows: { start: from - start, count: to - from } });
        rt.release(idTensor);
        if (logits) {
          await use(logits, from, to - from);
          rt.release(logits);
        }
        rt.flush(); // one submit per chunk (pooled buffers are reused only after a submit)
      }
    } finally {
      cache.release();
    }
  }

  // ----- embeddings ----------------------------------------------------------------------------

  /**
   * A text embedding from this model: the final normed hidden states (what lm_head reads) mean-pooled
   * over the text's tokens, L2-normalised. The first EMBED_MAX_TOKENS tokens only (memories and
   * questions are short; the forward computes logits for every row, so the cap bounds that memory).
   * No special tokens are added; the adapter, if named, is on (the default, none, keeps vectors the
   * same whichever adapters the agents use).
   */
  async embed(text: string, options: RequestOptions = {}): Promise<Float32Array> {
    this.live();
    const ids = this.tokenizer.encode(text).slice(0, EMBED_MAX_TOKENS);
    const C = this.config.hiddenSize;
    if (ids.length === 0) return new Float32Array(C); // empty text: the zero vector (cosine 0 with all)
    this.checkIds(ids, 'embed');
    const rt = this.runtime;
    const T = ids.length;
    const cache = new KvCache(rt, this.config, T, true);
    const record: ForwardRecord = { layers: [] };
    const idTensor = rt.upload(Uint32Array.from(ids), [T], 'u32');
    try {
      const logits = forward(rt, this.config, this.weights, { ids: idTensor, T, cache, adapter: this.resolve(options), logitRows: { start: 0, count: T }, record });
      if (logits) rt.release(logits);
      const hidden = await rt.download(record.normed!);
      const out = new Float32Array(C);
      for (let t = 0; t < T; t++) for (let i = 0; i < C; i++) out[i]! += hidden[t * C + i]! / T;
      const norm = Math.hypot(...out);
      if (norm > 0) for (let i = 0; i < C; i++) out[i]! /= norm;
      return out;
    } finally {
      rt.release(idTensor);
      releaseForwardRecord(rt, record);
      cache.release();
      rt.flush();
    }
  }

  // ----- generation ----------------------------------------------------------------------------

  /**
   * A decode session with its own KV cache of at least `maxTokens` positions, using one adapter (or
   * none); with `reusePrefixOf`, possibly a kept cache already holding a prefix of that prompt.
   */
  session(options: SessionOptions = {}): DecodeSession {
    this.live();
    const adapter = this.resolve(options);
    const maxTokens = options.maxTokens ?? this.maxTokens;
    this.checkSessionSize(maxTokens);
    if (adapter) this.inUse.set(adapter, (this.inUse.get(adapter) ?? 0) + 1);
    const prompt = options.reusePrefixOf;
    const reusable = prompt !== undefined && this.prefixes.size > 0 && !(adapter && this.mutable.has(adapter));
    const release = (cache: KvCache, tokens: number[] | null): void => {
      if (adapter) this.inUse.set(adapter, this.inUse.get(adapter)! - 1);
      const owned = !this.disposed && (!adapter || [...this.adapters.values()].includes(adapter));
      if (reusable && tokens && owned && !(adapter && this.mutable.has(adapter))) {
        this.prefixes.keep({ owner: adapter, tokens, capacity: cache.maxTokens, cache, free: () => cache.release() });
      } else cache.release();
    };
    if (!reusable) return new EngineSession(this, adapter, maxTokens, [], release);
    const hit = this.prefixes.take(adapter, prompt, maxTokens);
    if (hit) {
      const keep = Math.min(hit.shared, prompt.length - 1);
      hit.entry.cache.length = Math.max(0, keep); // later positions are overwritten by the next append
      return new EngineSession(this, adapter, hit.entry.cache, hit.entry.tokens.slice(0, keep), release);
    }
    // Round fresh reusable caches up (to a power of two, within the engine's default) so that a
    // slightly longer prompt next time still fits.
    let size = Math.max(maxTokens, Math.min(nextPowerOfTwo(maxTokens), this.maxTokens, this.config.maxPositionEmbeddings));
    if (kvCacheBytes(this.config, size) / (2 * this.config.numLayers) > this.runtime.device.limits.maxStorageBufferBindingSize) size = maxTokens;
    return new EngineSession(this, adapter, size, [], release);
  }

  /** Frees the idle KV caches kept for prefix reuse (e.g. to make room on the GPU). */
  clearPrefixCache(): void {
    this.prefixes.drop();
  }

  private checkSessionSize(maxTokens: number): void {
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new Error(`session: maxTokens must be a positive integer, got ${maxTokens}`);
    if (maxTokens > this.config.maxPositionEmbeddings) throw new Error(`session: maxTokens ${maxTokens} exceeds the model's context window of ${this.config.maxPositionEmbeddings}`);
    const perLayer = kvCacheBytes(this.config, maxTokens) / (2 * this.config.numLayers);
    const limit = this.runtime.device.limits.maxStorageBufferBindingSize;
    if (perLayer > limit) throw new Error(`session: a KV cache of ${maxTokens} tokens needs ${mb(perLayer)} per layer, above this GPU's ${mb(limit)} per buffer; use a smaller maxTokens`);
  }

  /** @internal Checks ids are vocabulary entries (the embedding kernel would silently read zeros). */
  checkIds(ids: readonly number[], what: string): void {
    const V = this.config.vocabSize;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`${what}: token id ${id} is outside the vocabulary [0, ${V})`);
    }
  }

  private live(): void {
    if (this.disposed) throw new Error('this Engine has been disposed');
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the weights and adapters (the GPU device itself belongs to the caller). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.prefixes.drop();
    for (const a of this.adapters.values()) releaseLora(this.runtime, a); // open sessions fail from now on (live())
    this.adapters.clear();
    releaseWeights(this.runtime, this.weights);
    this.runtime.flush();
    this.runtime.pool.trim();
  }
}

/** Tokens of a text that embed() reads. */
export const EMBED_MAX_TOKENS = 128;

const nextPowerOfTwo = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(256, n)));

function isGpuAdapter(x: LoraAdapter | HostLoraAdapter): x is LoraAdapter {
  return typeof x.scale === 'number' && typeof x.dropout === 'number' && x.layers.some((l) => Object.values(l).some((m) => m !== undefined && 'A' in m));
}

/** One sequence: its KV cache and the logits of its last position. */
class EngineSession implements DecodeSession {
  private readonly cache: KvCache;
  private current: GpuTensor | null = null;
  private readonly allocated: Promise<GPUError | null>;
  private disposed = false;

  /** `cache`: a size to allocate, or a kept cache already holding `tokens`. */
  constructor(
    private readonly engine: Engine,
    private readonly adapter: LoraAdapter | null,
    cache: number | KvCache,
    /** The tokens in the cache, for prefix reuse; null once an append failed part-way. */
    private tokens: number[] | null,
    private readonly onDispose: (cache: KvCache, tokens: number[] | null) => void,
  ) {
    if (cache instanceof KvCache) {
      this.cache = cache;
      this.allocated = Promise.resolve(null);
    } else {
      const rt = engine.runtime;
      rt.flush(); // error scopes nest: the runtime's open batch holds one
      rt.device.pushErrorScope('out-of-memory');
      this.cache = new KvCache(rt, engine.config, cache);
      this.allocated = rt.device.popErrorScope();
    }
  }

  get length(): number {
    return this.cache.length;
  }

  get maxTokens(): number {
    return this.cache.maxTokens;
  }

  async append(ids: number[]): Promise<void> {
    this.live();
    const oom = await this.allocated;
    if (oom) {
      this.tokens = null;
      this.dispose();
      throw new Error(`Not enough GPU memory for a KV cache of ${this.maxTokens} tokens (${mb(kvCacheBytes(this.engine.config, this.maxTokens))}): ${oom.message}. Use a smaller maxTokens.`);
    }
    if (ids.length === 0) return;
    this.engine.checkIds(ids, 'append');
    if (this.cache.length + ids.length > this.maxTokens) {
      throw new Error(`append: ${this.cache.length} + ${ids.length} tokens exceed this session's ${this.maxTokens}; start a session with a larger maxTokens`);
    }
    const rt = this.engine.runtime;
    const tokens = this.tokens;
    this.tokens = null; // until the forwards are recorded: a failure leaves the cache unfit for reuse
    for (let start = 0; start < ids.length; start += this.engine.chunkTokens) {
      const T = Math.min(this.engine.chunkTokens, ids.length - start);
      const last = start + T === ids.length;
      const idTensor = rt.upload(Uint32Array.from(ids.slice(start, start + T)), [T], 'u32');
      const logits = forward(rt, this.engine.config, this.engine.weights, { ids: idTensor, T, cache: this.cache, adapter: this.adapter, logitRows: { start: T - 1, count: last ? 1 : 0 } });
      rt.release(idTensor);
      if (logits) {
        if (this.current) rt.release(this.current);
        this.current = logits;
      }
      rt.flush(); // one submit per forward
    }
    if (tokens) this.tokens = tokens.concat(ids);
  }

  async topK(k: number, temperature: number): Promise<TopKResult> {
    const logits = this.currentLogits();
    const rt = this.engine.runtime;
    const kk = Math.min(Math.max(1, Math.floor(k)), this.engine.config.vocabSize);
    const best = topK(rt, logits, kk);
    const { logp, lse } = logProbs(rt, logits, undefined, { temperature: temperature > 0 ? temperature : 1 });
    // One read-back for all three: [values (k f32) | indices (k u32) | lse (1 f32)] as raw words.
    const packed = rt.empty([2 * kk + 1], 'u32');
    rt.copy(best.values, packed, kk * 4, 0, 0);
    rt.copy(best.indices, packed, kk * 4, 0, kk * 4);
    rt.copy(lse, packed, 4, 0, 2 * kk * 4);
    const words = await rt.downloadU32(packed).catch((error: unknown) => this.unfit(error));
    rt.release(best.values, best.indices, logp, lse, packed);
    const values = new Float32Array(words.buffer, words.byteOffset, kk).slice();
    const indices = words.slice(kk, 2 * kk);
    const lseValue = new Float32Array(words.buffer, words.byteOffset + 2 * kk * 4, 1)[0]!;
    return { values, indices, lse: lseValue };
  }

  async logits(): Promise<Float32Array> {
    return this.engine.runtime.download(this.currentLogits()).catch((error: unknown) => this.unfit(error));
  }

  /** A GPU error surfaced: the cache may hold garbage, so it is not kept for reuse. */
  private unfit(error: unknown): never {
    this.tokens = null;
    throw error;
  }

  private currentLogits(): GpuTensor {
    this.live();
    if (!this.current) throw new Error('no current logits: append at least one token first');
    return this.current;
  }

  private live(): void {
    if (this.disposed) throw new Error('this DecodeSession has been disposed');
    if (this.engine.isDisposed) throw new Error('the Engine of this DecodeSession has been disposed');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const rt = this.engine.runtime;
    if (this.current) rt.release(this.current);
    this.current = null;
    this.onDispose(this.cache, this.tokens); // frees the cache or keeps it for prefix reuse
  }
}
