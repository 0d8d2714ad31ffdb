// `memory-r1 eval --endpoint` in a child process against our OpenAI-compatible server on 127.0.0.1 with
// scripted agents behind it (extraction, manager, answers, judge): the results equal an in-process run
// with the same agents, and a server that is down stops the run with the endpoint and what to do.
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationsOf } from '../eval/locomo';
import { readLocomoFile } from '../eval/locomo.node.js';
import { MemoryEvalStore, runLocomoEval, type QuestionResult } from '../eval/runner';
import { echoAgents } from '../eval/test-helpers';
import { closedLoopbackPort } from './faulty-proxy';
import { createOpenAIServer } from './openai-server';

const exec = promisify(execFile);
const DATA = '../shared/data/locomo10.json';
const agents = () => echoAgents((question) => (question.length % 2 ? 'Caroline' : '7 May 2023'));
const withoutMs = (results: QuestionResult[]) => results.map(({ ms: _ms, ...rest }) => rest);

describe('memory-r1 eval --endpoint', () => {
  let dir = '';
  let server: Server;
  let url = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memory-r1-eval-endpoint-'));
    server = createOpenAIServer({ models: new Map([['echo', { model: agents().model }]]) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('scores as the same agents in-process, judge included', async () => {
    const out = join(dir, 'eval.json');
    const { stdout } = await exec('./bin/memory-r1.js', ['eval', '--data', DATA, '--split', 'train', '--endpoint', url, '--endpoint-model', 'echo', '--judge-endpoint-model', 'echo', '--turns', '4', '--questions', '3', '--out', out, '--json'], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toMatchObject({ answered: 3, skipped: 0 });
    const local = agents().model;
    const want = await runLocomoEval({
      conversations: conversationsOf(await readLocomoFile(DATA), 'train'),
      model: local,
      judge: local,
      store: new MemoryEvalStore(),
      identity: {},
      bankKey: 'echo',
      limits: { turns: 4, questions: 3 },
    });
    const got = JSON.parse(await readFile(out, 'utf8')) as { results: QuestionResult[]; identity: Record<string, unknown> };
    expect(withoutMs(got.results)).toEqual(withoutMs(want.results));
    expect(got.results.some((r) => r.judge === 1)).toBe(true);
    expect(got.identity).toMatchObject({ model: 'endpoint:echo|json=json_schema', judge: 'endpoint:echo|json=json_schema' });
  });

  it('stops with the endpoint and what to do when the server is down', async () => {
    const down = `http://127.0.0.1:${await closedLoopbackPort()}/v1`;
    const error = await exec('./bin/memory-r1.js', ['eval', '--data', DATA, '--split', 'train', '--endpoint', down, '--endpoint-model', 'echo', '--endpoint-retries', '0', '--turns', '1', '--out', join(dir, 'down.json')], { timeout: 60_000 }).catch((e: { code: number; stderr: string }) => e);
    expect(error).toMatchObject({ code: 1 });
    expect((error as { stderr: string }).stderr).toContain(`memory-r1 eval: model server ${down}: cannot connect (ECONNREFUSED); is the server running at this address? (gave up after 1 try)`);
  });
});
