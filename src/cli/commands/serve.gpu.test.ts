// The whole "beyond one machine" path on this machine: `memory-r1 serve` (a child process, a tiny model
// and a LoRA adapter) on 127.0.0.1; chat, embeddings, `generate --endpoint`, `eval --endpoint`,
// `export --endpoint` and `reward-server --endpoint` against it give what the same model in this process
// gives; failures injected by a loopback proxy stop eval and tuple building with errors naming the
// endpoint, and the same commands resume with nothing lost or counted twice.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACTS_JSON_SCHEMA } from '../../agents/schemas';
import { conversationsOf } from '../../eval/locomo';
import { readLocomoFile } from '../../eval/locomo.node.js';
import { tupleIdentity, tuplesOnEngine } from '../../eval/locomo-task';
import { answerReward, managerReward } from '../../eval/rewards';
import { MemoryEvalStore, runLocomoEval, type QuestionResult } from '../../eval/runner';
import { answerTupleId, managerTupleId, trlRows } from '../../eval/trainer-datasets';
import type { TrainingTuples } from '../../eval/tuples';
import { useGpuRuntime } from '../../gpu/test-runtime';
import { LocalChatModel } from '../../llm/local';
import { OpenAIChatModel } from '../../llm/openai';
import { Engine } from '../../model/engine';
import { loadModel } from '../../model/load';
import { writePeftAdapter } from '../../model/peft';
import { DirectorySource } from '../../model/source.node.js';
import { randomLoraAdapter } from '../../model/testing';
import { embedOnEngine } from '../engine-embeddings';
import { startFaultyProxy, type Fault } from '../faulty-proxy';

const exec = promisify(execFile);
const cli = (...args: string[]) => exec('./bin/memory-r1.js', args, { cwd: process.cwd(), timeout: 240_000 });
const failure = (args: string[]) => cli(...args).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
const DATA = '../shared/data/locomo10.json';
/** Few turns, short replies: a random model's words mean nothing; the path is what is checked. */
const TURNS = 3;
const CAP = 24;
/** Evaluation needs no facts to be found: shorter still. */
const EVAL_CAP = 12;

/**
 * Starts a long-running command that prints one JSON line once listening. In its own process group:
 * bin/memory-r1.js may run the command in a second process (to set the GPU driver's environment), and
 * stopping the group stops both.
 */
async function start(args: string[]): Promise<{ child: ChildProcess; info: { url: string } }> {
  const child = spawn('./bin/memory-r1.js', args, { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code} before listening`)));
  });
  return { child, info: JSON.parse(line) as { url: string } };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Timestamps differ between two builds; everything else must not. */
const withoutTimes = (value: unknown) => JSON.parse(JSON.stringify(value), (key, v: unknown) => (key === 'createdAt' || key === 'updatedAt' ? undefined : v)) as unknown;
const withoutMs = (results: QuestionResult[]) => results.map(({ ms: _ms, ...rest }) => rest);

describe('memory-r1 serve, and every command through --endpoint', () => {
  const gpu = useGpuRuntime();
  let dir = '';
  let engine: Engine;
  let server: ChildProcess | undefined;
  let url = '';
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memory-r1-serve-'));
    await cli('make-tiny-model', '--out', join(dir, 'model'), '--format', 'hf', '--arch', 'qwen2', '--seed', '1');
    engine = await Engine.create(await loadModel(new DirectorySource(join(dir, 'model'))), gpu());
    const adapter = randomLoraAdapter(engine.config, 7, { rank: 2, alpha: 4 });
    await mkdir(join(dir, 'adapter'));
    for (const [name, bytes] of writePeftAdapter(adapter, engine.config)) await writeFile(join(dir, 'adapter', name), bytes);
    engine.addAdapter('tuned', adapter);
    const served = await start(['serve', '--model', join(dir, 'model'), '--served-model-name', 'tiny', '--adapter', `tuned=${join(dir, 'adapter')}`, '--port', '0', '--json']);
    server = served.child;
    url = served.info.url;
  }, 120_000);
  afterAll(async () => {
    await Promise.all([...children, server].map((child) => child && stop(child)));
    engine?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers chat (streamed or not, JSON Schema, seed), embeddings and generate as the engine in-process does', async () => {
    const models = (await (await fetch(`${url}/models`)).json()) as { data: { id: string; parent: string | null }[] };
    expect(models.data.map((m) => [m.id, m.parent])).toEqual([['tiny', null], ['tuned', 'tiny']]);
    for (const [name, adapter] of [['tiny', undefined], ['tuned', 'tuned']] as const) {
      const request = { messages: [{ role: 'user' as const, content: 'I moved to Berlin.' }], temperature: 0.8, seed: 5, max_tokens: 16, json_schema: FACTS_JSON_SCHEMA };
      const local = await new LocalChatModel(engine, adapter ? { adapter } : {}).chat(request);
      const remote = new OpenAIChatModel({ url, model: name });
      expect(await remote.chat(request)).toEqual(local);
      const deltas: string[] = [];
      expect(await remote.chat({ ...request, onToken: (d) => deltas.push(d) })).toEqual(local);
      expect(deltas.join('')).toBe(local.text);
    }
    const texts = ['Caroline likes hiking.', 'x'];
    const vectors = await new OpenAIChatModel({ url, model: 'tiny', embeddingModel: 'tiny' }).embed!(texts);
    expect(vectors).toEqual((await embedOnEngine(engine, texts)).vectors);

    const { stdout } = await cli('generate', '--endpoint', url, '--endpoint-model', 'tuned', '--prompt', 'hello', '--max-tokens', '6', '--json');
    const local = await new LocalChatModel(engine, { adapter: 'tuned' }).chat({ messages: [{ role: 'user', content: 'hello' }], max_tokens: 6, temperature: 0, top_p: 1, seed: 0 });
    expect(JSON.parse(stdout)).toEqual({ text: local.text, finishReason: local.finishReason, usage: local.usage });
  }, 120_000);

  it('evaluates through --endpoint as in-process, and resumes after the server fails', async () => {
    const conversations = conversationsOf(await readLocomoFile(DATA), 'train');
    const cap = { max_tokens: EVAL_CAP };
    const inProcess = await runLocomoEval({
      conversations,
      model: new LocalChatModel(engine),
      store: new MemoryEvalStore(),
      identity: {},
      bankKey: 'tiny',
      limits: { conversations: 1, turns: 2, questions: 2 },
      sampling: { extract: cap, manage: cap, answer: cap },
    });
    const out = join(dir, 'eval.json');
    const evalArgs = (endpoint: string, questions: number) => ['eval', '--data', DATA, '--split', 'train', '--endpoint', endpoint, '--endpoint-model', 'tiny', '--turns', '2', '--questions', String(questions), '--max-new-tokens', String(EVAL_CAP), '--out', out, '--json'];
    // The first question is answered, then the server fails the next request (no retries): a clear error.
    await cli(...evalArgs(url, 1));
    const failing = await startFaultyProxy(url, () => ({ kind: 'status', status: 500 }), { maxRequests: 5, lifetimeMs: 60_000 });
    const failed = await failure([...evalArgs(failing.url, 2), '--endpoint-retries', '0']);
    await failing.close();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`model server ${failing.url}: HTTP 500, the server failed (the server said: injected 500); check its log, then rerun (progress is kept)`);
    // Rerun through a busy, then garbled server (retried), and it finishes the second question only.
    const flaky: Fault[] = [{ kind: 'status', status: 429, retryAfter: '0' }, { kind: 'malformed' }];
    const proxy = await startFaultyProxy(url, (i) => flaky[i] ?? { kind: 'pass' }, { maxRequests: 20, lifetimeMs: 120_000 });
    const resumed = JSON.parse((await cli(...evalArgs(proxy.url, 2))).stdout) as { answered: number; skipped: number };
    await proxy.close();
    expect(resumed).toMatchObject({ answered: 1, skipped: 1 });
    const written = JSON.parse(await readFile(out, 'utf8')) as { results: QuestionResult[] };
    expect(withoutMs(written.results)).toEqual(withoutMs(inProcess.results));
    const state = (await readFile(`${out}.state.jsonl`, 'utf8')).trim().split('\n').slice(1);
    expect(state).toHaveLength(2); // each answer stored once
  }, 240_000);

  it('exports tuples built through --endpoint as in-process (resuming a failed build), scored by reward-server as in-process', async () => {
    const settings = { turns: TURNS, maxNewTokens: CAP };
    const conversations = conversationsOf(await readLocomoFile(DATA), 'train');
    const memory: { kept?: TrainingTuples } = {};
    const { tuples: want } = await tuplesOnEngine(engine, conversations, tupleIdentity('in-process', settings), settings, { load: async () => undefined, save: async (t) => void (memory.kept = t) });
    const out = join(dir, 'export');
    const exportArgs = (endpoint: string, task: string, format: string) => ['export', '--task', task, '--format', format, '--data', DATA, '--endpoint', endpoint, '--endpoint-model', 'tiny', '--turns', String(TURNS), '--max-new-tokens', String(CAP), '--out', out, '--json'];
    // The server goes away after three replies: the build stops, naming the endpoint and the kept replies.
    const dying = await startFaultyProxy(url, (i) => (i < 3 ? { kind: 'pass' } : { kind: 'status', status: 502 }), { maxRequests: 4, lifetimeMs: 60_000 });
    const failed = await failure([...exportArgs(dying.url, 'locomo-manager', 'trl'), '--endpoint-retries', '0']);
    await dying.close();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(new RegExp(`model server ${dying.url.replace(/[/.]/g, '\\$&')}: HTTP 502[\\s\\S]*kept in .*tuples\\.json\\.calls\\.jsonl: the same command resumes`));
    const resumed = JSON.parse((await cli(...exportArgs(url, 'locomo-manager', 'trl'))).stdout) as { rows: number; file: string; cached: boolean; replayed: number; asked: number };
    expect(resumed).toMatchObject({ cached: false, replayed: 3 });
    expect(resumed.asked).toBeGreaterThan(0);
    const built = JSON.parse(await readFile(join(out, 'tuples.json'), 'utf8')) as TrainingTuples;
    expect(withoutTimes({ manager: built.manager, answer: built.answer })).toEqual(withoutTimes({ manager: want.manager, answer: want.answer }));
    expect(want.manager.length).toBeGreaterThan(0);
    const trl = (await readFile(resumed.file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(trl).toEqual(trlRows('locomo-manager', built));

    // verl's Parquet from the kept tuples (no model asked), read back by DuckDB.
    const verl = JSON.parse((await cli(...exportArgs(url, 'locomo-answer', 'verl'))).stdout) as { file: string; cached: boolean; rows: number };
    expect(verl).toMatchObject({ cached: true, rows: want.answer.length });
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const rows = (await connection.runAndReadAll(`select prompt, reward_model, extra_info.tuple_id as id from read_parquet('${verl.file}') order by extra_info.index`)).getRowObjectsJson() as { prompt: unknown; reward_model: { ground_truth: string }; id: string }[];
    expect(rows.map((r) => r.id)).toEqual(built.answer.map(answerTupleId));
    expect(rows.map((r) => r.reward_model.ground_truth)).toEqual(built.answer.map((t) => t.gold));
    expect(rows[0]!.prompt).toEqual(built.answer[0]!.prompt.map((m) => ({ content: m.content, role: m.role })));
    connection.closeSync();
    db.closeSync();

    // `train --endpoint` keys its tuples as export does: it reads these instead of building them.
    const trained = await cli('train', '--model', join(dir, 'model'), '--task', 'locomo-answer', '--algo', 'sft', '--steps', '1', '--prompts', '1', '--data', DATA, '--endpoint', url, '--endpoint-model', 'tiny', '--turns', String(TURNS), '--max-new-tokens', String(CAP), '--tuples', join(out, 'tuples.json'), '--out', join(dir, 'trained'));
    expect(trained.stderr).toContain(`read ${built.manager.length} manager and ${built.answer.length} answer tuples`);

    // Rewards over HTTP, the frozen answer agent on the served base model.
    const rewards = await start(['reward-server', '--tuples', join(out, 'tuples.json'), '--endpoint', url, '--endpoint-model', 'tiny', '--max-new-tokens', String(CAP), '--port', '0', '--json']);
    children.push(rewards.child);
    const manager = built.manager[0]!;
    const items = [
      { tuple_id: managerTupleId(manager), completion: JSON.stringify({ memory: manager.facts.map((text) => ({ id: 'new', text, event: 'ADD' })) }), tuple: manager },
      { tuple_id: managerTupleId(manager), completion: 'no operations', tuple: manager },
      ...built.answer.slice(0, 2).flatMap((t) => [`**Answer:** ${t.gold}`, '**Answer:** no'].map((completion) => ({ tuple_id: answerTupleId(t), completion, tuple: t }))),
    ];
    const response = await fetch(`${rewards.info.url}/reward`, { method: 'POST', body: JSON.stringify({ items: items.map(({ tuple_id, completion }) => ({ tuple_id, completion })) }) });
    const { rewards: got } = (await response.json()) as { rewards: number[] };
    const reference = managerReward(new LocalChatModel(engine), { sampling: { temperature: 0, top_p: 1, max_tokens: CAP } });
    const expected = [];
    for (const item of items) expected.push('turn' in item.tuple ? await reference(item.completion, item.tuple) : await answerReward(item.completion, item.tuple));
    expect(got).toEqual(expected);
    expect(got.slice(2)).toEqual([1, 0, 1, 0]);
  }, 300_000);
});
