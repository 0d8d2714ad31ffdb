import { describe, expect, it } from 'vitest';
import { OpenAIChatModel } from '../llm/openai';
import { UsageError } from './command';
import { oneModelSource, openEndpoint } from './endpoint-option';

describe('--endpoint options', () => {
  it('opens a model server from the flags, the key from the named variable', () => {
    expect(openEndpoint({})).toBeUndefined();
    const opened = openEndpoint({ endpoint: 'http://127.0.0.1:8000', 'endpoint-model': 'qwen', 'endpoint-key-env': 'MY_KEY', 'endpoint-json': 'none' }, { MY_KEY: 'sk-1' })!;
    expect(opened.model).toBeInstanceOf(OpenAIChatModel);
    expect(opened.model.endpoint).toBe('http://127.0.0.1:8000/v1');
    expect(opened.identity).toBe('endpoint:qwen|json=none');
    expect(JSON.stringify(opened)).not.toContain('sk-1');
    expect(openEndpoint({ endpoint: 'http://h/v1', 'endpoint-model': 'a', 'endpoint-embedding-model': 'e' }, {})!.model.embed).toBeDefined();
  });

  it('refuses what cannot work, saying what to give', () => {
    const refuse = (values: Parameters<typeof openEndpoint>[0], env: NodeJS.ProcessEnv = {}) => {
      try {
        openEndpoint(values, env);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refuse({ endpoint: 'http://h/v1' })).toMatch(/--endpoint needs --endpoint-model NAME/);
    expect(refuse({ 'endpoint-model': 'x' })).toMatch(/--endpoint-model needs --endpoint URL/);
    expect(refuse({ endpoint: 'ftp://h', 'endpoint-model': 'x' })).toMatch(/--endpoint: .*not an http\(s\) URL/);
    expect(refuse({ endpoint: 'nonsense', 'endpoint-model': 'x' })).toMatch(/is not a URL/);
    expect(refuse({ endpoint: 'http://h/v1', 'endpoint-model': 'x', 'endpoint-key-env': 'NOPE' })).toMatch(/NOPE: that environment variable is not set/);
    expect(refuse({ endpoint: 'http://h/v1', 'endpoint-model': 'x', 'endpoint-json': 'yaml' })).toMatch(/--endpoint-json must be one of json_schema, json_object, none/);
    expect(refuse({ endpoint: 'http://h/v1', 'endpoint-model': 'x', 'endpoint-retries': '-1' })).toMatch(/--endpoint-retries must be an integer ≥ 0/);
    expect(() => oneModelSource({ model: 'dir', endpoint: 'http://h' })).toThrow(/--model DIR or --endpoint URL, not both/);
  });
});
