import { ModelType, prebuiltAppConfig } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import { CHAT_MODELS, chatModelId, DEFAULT_CHAT_MODEL, EMBEDDING_MODELS, pickQuantisation, WEBLLM_LIBRARY_FOLDER } from './webllm-catalogue';

const records = new Map(prebuiltAppConfig.model_list.map((record) => [record.model_id, record]));
const features = (...names: string[]) => new Set(names);

describe('model catalogue against WebLLM 0.2.79 prebuiltAppConfig', () => {
  it.each(CHAT_MODELS.flatMap((entry) => Object.entries(entry.ids).map(([q, id]) => [entry.key, q, id] as const)))('%s %s → %s exists, is an LLM, VRAM matches', (key, quantisation, id) => {
    const record = records.get(id);
    expect(record, `${id} is not a prebuilt model`).toBeDefined();
    expect(record!.model_type ?? ModelType.LLM).toBe(ModelType.LLM);
    expect(id).toContain(quantisation);
    const entry = CHAT_MODELS.find((e) => e.key === key)!;
    expect(Math.abs(entry.vramMB[quantisation as 'q4f16_1'] - record!.vram_required_MB!)).toBeLessThan(1);
    expect(record!.model_lib).toMatch(new RegExp(`^https://raw\\.githubusercontent\\.com/mlc-ai/binary-mlc-llm-libs/main/web-llm-models/${WEBLLM_LIBRARY_FOLDER}/[^/]+-webgpu\\.wasm$`));
    // The f32 variant must run on adapters without shader-f16.
    if (quantisation === 'q4f32_1') expect(record!.required_features ?? []).not.toContain('shader-f16');
  });

  it.each(EMBEDDING_MODELS.map((e) => [e.id, e] as const))('embedding model %s exists and is an embedding model', (id, entry) => {
    const record = records.get(id);
    expect(record).toBeDefined();
    expect(record!.model_type).toBe(ModelType.embedding);
    expect(record!.model_lib).toContain(`/web-llm-models/${WEBLLM_LIBRARY_FOLDER}/`);
    expect(Math.abs(entry.vramMB - record!.vram_required_MB!)).toBeLessThan(1);
  });

  it('picks q4f16_1 with shader-f16 and q4f32_1 without', () => {
    expect(pickQuantisation(features('shader-f16', 'timestamp-query'))).toBe('q4f16_1');
    expect(pickQuantisation(features())).toBe('q4f32_1');
    expect(chatModelId(DEFAULT_CHAT_MODEL, features('shader-f16'))).toBe('Qwen2.5-1.5B-Instruct-q4f16_1-MLC');
    expect(chatModelId(DEFAULT_CHAT_MODEL, features())).toBe('Qwen2.5-1.5B-Instruct-q4f32_1-MLC');
    expect(chatModelId('Llama-3.2-1B-Instruct-q4f16_1-MLC', features())).toBe('Llama-3.2-1B-Instruct-q4f32_1-MLC');
    expect(() => chatModelId('gpt-5', features())).toThrow(/not in the model catalogue/);
  });

  it('keys are unique', () => {
    expect(new Set(CHAT_MODELS.map((e) => e.key)).size).toBe(CHAT_MODELS.length);
  });
});
