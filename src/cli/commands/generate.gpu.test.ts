// `memory-r1 generate` end to end: a tiny model written by `make-tiny-model`, then generation by the
// CLI in a child process on the GPU.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANAGER_JSON_SCHEMA, ManagerOutputSchema } from '../../agents/schemas';

const exec = promisify(execFile);
const cli = (...args: string[]) => exec('./bin/memory-r1.js', args, { cwd: process.cwd(), timeout: 60_000 });

describe('memory-r1 generate', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memory-r1-generate-'));
    await cli('make-tiny-model', '--out', join(dir, 'model'), '--format', 'hf');
    await writeFile(join(dir, 'schema.json'), JSON.stringify(MANAGER_JSON_SCHEMA));
    await writeFile(join(dir, 'bad.json'), '{"type": "string", "pattern": "^a"}');
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes schema-valid JSON with --chat --json-schema --json', async () => {
    const { stdout } = await cli('generate', '--model', join(dir, 'model'), '--prompt', 'I moved to Berlin.', '--chat', '--json-schema', join(dir, 'schema.json'), '--max-tokens', '24', '--temperature', '0.8', '--top-k', '8', '--seed', '4', '--json');
    const out = JSON.parse(stdout) as { text: string; ids: number[]; finishReason: string; usage: { promptTokens: number; completionTokens: number } };
    expect(ManagerOutputSchema.safeParse(JSON.parse(out.text)).success, out.text).toBe(true);
    expect(out.usage.completionTokens).toBe(out.ids.length);
    expect(['stop', 'length']).toContain(out.finishReason);
  }, 60_000);

  it('refuses a schema it cannot enforce before loading anything', async () => {
    const error = await cli('generate', '--model', join(dir, 'model'), '--prompt', 'x', '--json-schema', join(dir, 'bad.json')).catch((e: { code: number; stderr: string }) => e);
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toMatch(/bad\.json: .*"pattern" is not supported/);
  }, 60_000);
});
