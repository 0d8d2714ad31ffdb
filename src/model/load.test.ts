import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesOf, utf8Decode, utf8Encode } from './bytes';
import type { ModelConfig } from './config';
import { loadModel } from './load';
import { parseTensorCache } from './mlc';
import { parseSafetensors, safetensorsData, writeSafetensors, type SafetensorsInput } from './safetensors';
import { CacheApiSource, FileListSource, IndexedDbCacheSource, MemorySource, UrlSource, webllmModelUrl, type DownloadProgress } from './source';
import { DirectorySource } from './source.node.js';
import { makeTinyModel } from './tiny';
import { writeTinyModel } from './tiny.node.js';
import { dequantize, hfTensor, hfTensorNames, type ModelWeights } from './weights';

/** Byte-for-byte equality of every tensor (much faster than toEqual on large typed arrays). */
function expectSameWeights(a: ModelWeights, b: ModelWeights, config: ModelConfig): void {
  expect(b.layers.length).toBe(a.layers.length);
  for (const name of hfTensorNames(config)) {
    const x = hfTensor(a, config, name);
    const y = hfTensor(b, config, name);
    expect(y.shape, name).toEqual(x.shape);
    expect(y.data.kind, name).toBe(x.data.kind);
    const bytes = (t: typeof x): Uint8Array[] => (t.data.kind === 'q4' ? [bytesOf(t.data.qWeight), bytesOf(t.data.qScale)] : [bytesOf(t.data.data)]);
    const [bx, by] = [bytes(x), bytes(y)];
    bx.forEach((part, i) => expect(Buffer.compare(part, by[i]!), name).toBe(0));
  }
}

const load = (files: Map<string, Uint8Array>) => loadModel(new MemorySource(files, 'tiny'));
const json = (files: Map<string, Uint8Array>, name: string): Record<string, unknown> => JSON.parse(utf8Decode(files.get(name)!)) as Record<string, unknown>;
const setJson = (files: Map<string, Uint8Array>, name: string, value: unknown): void => void files.set(name, utf8Encode(JSON.stringify(value)));

describe('tiny models load identically from HF and MLC', () => {
  for (const arch of ['qwen2', 'llama'] as const) {
    it(`${arch}: same config, identical q0f32 weights, close q4f16_1 weights`, async () => {
      const hf = await load(makeTinyModel({ format: 'hf', arch, seed: 3 }));
      const mlc = await load(makeTinyModel({ format: 'mlc', arch, quant: 'q0f32', seed: 3 }));
      const q4 = await load(makeTinyModel({ format: 'mlc', arch, quant: 'q4f16_1', seed: 3 }));
      expect(hf.format).toBe('hf');
      expect(mlc.format).toBe('mlc');
      expect(q4.quantization).toBe('q4f16_1');
      expect(mlc.config).toEqual(hf.config);
      expect(q4.config).toEqual(hf.config);
      expectSameWeights(mlc.weights, hf.weights, hf.config);
      expect(q4.weights.layers[0]!.qkv.data.kind).toBe('q4');
      const a = dequantize(hfTensor(hf.weights, hf.config, 'model.layers.1.mlp.down_proj.weight'));
      const b = dequantize(hfTensor(q4.weights, q4.config, 'model.layers.1.mlp.down_proj.weight'));
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThan(0.1);
      expect(hf.chatTemplate).toContain(arch === 'qwen2' ? '<|im_start|>' : '<|start_header_id|>');
      expect(mlc.tokenizer.encode('the user')).toEqual(hf.tokenizer.encode('the user'));
    });
  }

  it('a different seed gives different weights; the same seed the same bytes', () => {
    const same = (x: Uint8Array, y: Uint8Array): boolean => x.byteLength === y.byteLength && x.every((v, i) => v === y[i]);
    const a = makeTinyModel({ format: 'hf', seed: 1 }).get('model.safetensors')!;
    expect(same(makeTinyModel({ format: 'hf', seed: 1 }).get('model.safetensors')!, a)).toBe(true);
    expect(same(makeTinyModel({ format: 'hf', seed: 2 }).get('model.safetensors')!, a)).toBe(false);
  });

  it('HF f16 and bf16 checkpoints load (f16 kept, bf16 widened to f32)', async () => {
    const f16 = await load(makeTinyModel({ format: 'hf', quant: 'q0f16', seed: 3 }));
    expect(f16.quantization).toBe('q0f16');
    expect(f16.weights.embedTokens.data.kind).toBe('f16');
    const mlcF16 = await load(makeTinyModel({ format: 'mlc', quant: 'q0f16', seed: 3 }));
    expectSameWeights(mlcF16.weights, f16.weights, f16.config);

    // Rewrite the f32 checkpoint as bf16 (top 16 bits) and as two shards with an index.
    const files = makeTinyModel({ format: 'hf', seed: 3 });
    const parsed = parseSafetensors(files.get('model.safetensors')!, 'model.safetensors');
    const inputs: SafetensorsInput[] = [...parsed.tensors.values()].map((t) => {
      const f32 = safetensorsData(t) as Float32Array;
      return { name: t.name, dtype: 'BF16', shape: t.shape, data: Uint16Array.from(new Uint32Array(f32.buffer.slice(f32.byteOffset, f32.byteOffset + f32.byteLength)), (x) => x >>> 16) };
    });
    const half = Math.floor(inputs.length / 2);
    files.delete('model.safetensors');
    files.set('model-00001-of-00002.safetensors', writeSafetensors(inputs.slice(0, half)));
    files.set('model-00002-of-00002.safetensors', writeSafetensors(inputs.slice(half)));
    const weightMap: Record<string, string> = {};
    inputs.forEach((t, i) => (weightMap[t.name] = i < half ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors'));
    setJson(files, 'model.safetensors.index.json', { metadata: {}, weight_map: weightMap });
    const bf16 = await load(files);
    expect(bf16.weights.embedTokens.data.kind).toBe('f32');
    const ref = await load(makeTinyModel({ format: 'hf', seed: 3 }));
    const a = dequantize(ref.weights.layers[1]!.gateUp);
    const b = dequantize(bf16.weights.layers[1]!.gateUp);
    for (let i = 0; i < a.length; i += 97) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(Math.abs(a[i]!) * 2 ** -7);
  });
});

describe('loader errors name the file, the tensor and what to do', () => {
  it('missing files', async () => {
    const hf = makeTinyModel({ format: 'hf' });
    hf.delete('model.safetensors');
    await expect(load(hf)).rejects.toThrow(/model\.safetensors: missing from tiny\. This Hugging Face model folder is incomplete\. A Hugging Face folder needs config\.json, model\.safetensors/);
    const mlc = makeTinyModel({ format: 'mlc', quant: 'q0f32' });
    expect(mlc.has('params_shard_2.bin')).toBe(true);
    mlc.delete('params_shard_1.bin');
    await expect(load(mlc)).rejects.toThrow(/params_shard_1\.bin: missing from tiny\. This MLC model folder is incomplete/);
    const noTok = makeTinyModel({ format: 'mlc' });
    noTok.delete('tokenizer.json');
    await expect(load(noTok)).rejects.toThrow(/tokenizer\.json: missing/);
    await expect(load(new Map())).rejects.toThrow(/tiny: neither config\.json nor mlc-chat-config\.json found/);
  });

  it('a missing or misshapen tensor', async () => {
    const files = makeTinyModel({ format: 'hf', arch: 'llama' });
    const parsed = parseSafetensors(files.get('model.safetensors')!, 'model.safetensors');
    const keep = [...parsed.tensors.values()].filter((t) => t.name !== 'model.layers.1.self_attn.k_proj.weight');
    const asInputs = (ts: typeof keep): SafetensorsInput[] => ts.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: safetensorsData(t) }));
    files.set('model.safetensors', writeSafetensors(asInputs(keep)));
    await expect(load(files)).rejects.toThrow(/model\.safetensors: tensor "model\.layers\.1\.self_attn\.k_proj\.weight" is missing/);

    const wrong = asInputs([...parsed.tensors.values()]).map((t) => (t.name === 'model.norm.weight' ? { ...t, shape: [32, 2] } : t));
    files.set('model.safetensors', writeSafetensors(wrong));
    await expect(load(files)).rejects.toThrow(/model\.safetensors: tensor "model\.norm\.weight" has shape \[32, 2\] but config\.json needs \[64\]/);

    const mlc = makeTinyModel({ format: 'mlc', quant: 'q4f32_1' });
    const cache = parseTensorCache(json(mlc, 'tensor-cache.json'));
    const rec = cache.records.flatMap((s) => s.records).find((r) => r.name === 'model.layers.0.self_attn.c_attn.q_scale')!;
    rec.shape = [rec.shape[1]!, rec.shape[0]!];
    setJson(mlc, 'tensor-cache.json', cache);
    await expect(load(mlc)).rejects.toThrow(/tensor-cache\.json: tensor "model\.layers\.0\.self_attn\.c_attn\.q_scale" has shape \[2, 128\] but \[128, 64\] quantised needs \[128, 2\]/);
  });

  it('an unsupported architecture', async () => {
    const files = makeTinyModel({ format: 'hf' });
    setJson(files, 'config.json', { ...json(files, 'config.json'), architectures: ['GPT2LMHeadModel'] });
    await expect(load(files)).rejects.toThrow(/config\.json: field "architectures" is \["GPT2LMHeadModel"\], which is not supported/);
    const mlc = makeTinyModel({ format: 'mlc' });
    setJson(mlc, 'mlc-chat-config.json', { ...json(mlc, 'mlc-chat-config.json'), model_type: 'gemma' });
    await expect(load(mlc)).rejects.toThrow(/mlc-chat-config\.json: field "model_type" is "gemma"/);
  });

  it('falls back to the older ndarray-cache.json name', async () => {
    const files = makeTinyModel({ format: 'mlc' });
    files.set('ndarray-cache.json', files.get('tensor-cache.json')!);
    files.delete('tensor-cache.json');
    expect((await load(files)).format).toBe('mlc');
  });
});

describe('sources', () => {
  it('DirectorySource reads a folder written by writeTinyModel', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tiny-model-'));
    try {
      const written = await writeTinyModel(join(dir, 'm'), { format: 'mlc', arch: 'llama', quant: 'q4f16_1', seed: 5 });
      const source = new DirectorySource(join(dir, 'm'));
      expect((await source.list()).sort()).toEqual([...written].sort());
      const fromDisk = await loadModel(source);
      const fromMemory = await load(makeTinyModel({ format: 'mlc', arch: 'llama', quant: 'q4f16_1', seed: 5 }));
      expectSameWeights(fromDisk.weights, fromMemory.weights, fromMemory.config);
      await expect(source.read('../etc/passwd')).rejects.toThrow(/leaves the model folder/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('FileListSource strips the picked folder name', async () => {
    const files = makeTinyModel({ format: 'hf' });
    const picked = [...files].map(([name, bytes]) => ({
      name,
      webkitRelativePath: `Tiny-Qwen/${name}`,
      arrayBuffer: async () => bytes.slice().buffer,
    }));
    const model = await loadModel(new FileListSource(picked));
    expect(model.config.architecture).toBe('qwen2');
  });

  it('UrlSource fetches relative to the base, reports progress, and takes an HTML page for a missing file', async () => {
    const files = makeTinyModel({ format: 'hf' });
    const progress: DownloadProgress[] = [];
    // Like a single-page-app server: unknown paths get the app's index.html with 200.
    const fakeFetch = async (url: string, init?: { method?: string }): Promise<Response> => {
      const path = url.replace('https://example.test/m/resolve/main/', '');
      const bytes = files.get(path);
      if (!bytes) return new Response(init?.method === 'HEAD' ? null : '<!doctype html>', { headers: { 'content-type': 'text/html' } });
      return new Response(init?.method === 'HEAD' ? null : bytes.slice(), { headers: { 'content-length': String(bytes.byteLength) } });
    };
    const source = new UrlSource('https://example.test/m/resolve/main', { fetch: fakeFetch, onProgress: (p) => progress.push(p) });
    const model = await loadModel(source);
    expect(model.format).toBe('hf'); // mlc-chat-config.json "exists" only as the app's page
    await expect(source.read('mlc-chat-config.json')).rejects.toThrow(/mlc-chat-config.json/);
    const last = progress.filter((p) => p.path === 'model.safetensors').at(-1)!;
    expect(last.loaded).toBe(files.get('model.safetensors')!.byteLength);
    expect(last.total).toBe(last.loaded);
  });

  it("CacheApiSource reads WebLLM's scopes keyed by absolute URL", async () => {
    const files = makeTinyModel({ format: 'mlc', quant: 'q4f16_1' });
    const base = webllmModelUrl('https://huggingface.co/mlc-ai/Tiny-q4f16_1-MLC');
    expect(base).toBe('https://huggingface.co/mlc-ai/Tiny-q4f16_1-MLC/resolve/main/');
    const stores = new Map<string, Map<string, Uint8Array>>([
      ['webllm/config', new Map()],
      ['webllm/model', new Map()],
    ]);
    for (const [name, bytes] of files) {
      if (name === 'tokenizer_config.json') continue; // WebLLM does not cache it
      stores.get(name === 'mlc-chat-config.json' ? 'webllm/config' : 'webllm/model')!.set(base + name, bytes);
    }
    const caches = {
      has: async (name: string) => stores.has(name),
      open: async (name: string) => ({
        match: async (url: string) => {
          const bytes = stores.get(name)?.get(url);
          return bytes ? new Response(bytes.slice()) : undefined;
        },
      }),
    };
    const model = await loadModel(new CacheApiSource('https://huggingface.co/mlc-ai/Tiny-q4f16_1-MLC', caches));
    expect(model.quantization).toBe('q4f16_1');
    expect(model.chatTemplate).toBeNull();
  });

  it("IndexedDbCacheSource reads WebLLM's IndexedDB records (ArrayBuffer or parsed JSON)", async () => {
    const files = makeTinyModel({ format: 'mlc', arch: 'llama', quant: 'q4f32_1' });
    const base = 'https://huggingface.co/mlc-ai/Tiny-MLC/resolve/main/';
    const dbs = new Map<string, Map<string, { url: string; data: unknown }>>([
      ['webllm/config', new Map()],
      ['webllm/model', new Map()],
    ]);
    for (const [name, bytes] of files) {
      if (name === 'tokenizer_config.json') continue;
      const asJson = name.endsWith('-config.json') || name === 'tensor-cache.json';
      const data = asJson ? JSON.parse(utf8Decode(bytes)) : bytes.slice().buffer;
      dbs.get(name === 'mlc-chat-config.json' ? 'webllm/config' : 'webllm/model')!.set(base + name, { url: base + name, data });
    }
    // Just enough of IDBFactory: requests whose handlers fire on a later tick.
    type Req = { result?: unknown; error: DOMException | null; onsuccess?: () => void; onerror?: () => void; onupgradeneeded?: () => void; transaction: null };
    const later = (req: Req, result: unknown): Req => {
      setTimeout(() => {
        req.result = result;
        req.onsuccess?.();
      }, 0);
      return req;
    };
    const idb = {
      open: (name: string) => {
        const store = dbs.get(name);
        const db = {
          objectStoreNames: { contains: (s: string) => s === 'urls' && store !== undefined },
          transaction: () => ({ objectStore: () => ({ get: (url: string) => later({ error: null, transaction: null }, store?.get(url)) }) }),
        };
        return later({ error: null, transaction: null }, db) as unknown as IDBOpenDBRequest;
      },
    };
    const model = await loadModel(new IndexedDbCacheSource('https://huggingface.co/mlc-ai/Tiny-MLC', idb));
    expect(model.config.architecture).toBe('llama');
    expect(model.quantization).toBe('q4f32_1');
  });
});
