// The trainer datasets and the reward server on tuples built by the real pipeline over LoCoMo's training
// conversation with scripted agents: the verl Parquet read back by DuckDB column by column, and the
// server's rewards (over HTTP on 127.0.0.1) equal to rewards.ts's in-process ones.
import { execFile, execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationsOf } from '../eval/locomo';
import { readLocomoFile } from '../eval/locomo.node.js';
import { answerReward, managerReward } from '../eval/rewards';
import { echoAgents } from '../eval/test-helpers';
import { answerTupleId, DATA_SOURCE, managerTupleId, trlRows, verlRows } from '../eval/trainer-datasets';
import { buildTrainingTuples, type TrainingTuples } from '../eval/tuples';
import { OpenAIChatModel } from '../llm/openai';
import { closedLoopbackPort } from './faulty-proxy';
import { createRewardServer } from './reward-service';
import { verlParquet } from './verl-parquet';

const MARK = 'zebra-crossing';
/** The frozen answer agent: gives the gold answer exactly when a memory with the mark was retrieved. */
const frozenAgents = (goldOf: Map<string, string>) => echoAgents((question, request) => (request.messages[1]!.content.includes(MARK) ? goldOf.get(question) ?? 'none' : 'no idea'));

const python = (() => {
  try {
    execFileSync('python3', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

/** Calls examples/trl_reward.py and examples/verl_reward.py the way TRL and verl call them. */
const PY_CALLS = `
import json, sys
sys.path.insert(0, "examples")
from trl_reward import memory_r1_reward
from verl_reward import compute_score, compute_score_batch
items = json.load(sys.stdin)
ids = [i["tuple_id"] for i in items]
texts = [i["completion"] for i in items]
trl = memory_r1_reward([[{"role": "assistant", "content": t}] for t in texts], tuple_id=ids, prompts=None)
single = [compute_score("memory_r1", t, "", {"tuple_id": i, "index": 0}) for i, t in zip(ids, texts)]
batch = compute_score_batch(["memory_r1"] * len(ids), texts, [""] * len(ids), [{"tuple_id": i} for i in ids])
print(json.dumps({"trl": trl, "single": single, "batch": batch}))
`;

describe('training data for TRL and verl, and the reward server', () => {
  let tuples: TrainingTuples;
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memory-r1-export-'));
    const conversations = conversationsOf(await readLocomoFile('../shared/data/locomo10.json'), 'train');
    tuples = await buildTrainingTuples({ conversations, model: echoAgents(() => 'x').model, identity: { model: 'echo' }, limits: { turns: 12 } });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes verl rows that DuckDB reads back column by column', async () => {
    expect(tuples.manager.length).toBeGreaterThan(0);
    for (const task of ['locomo-manager', 'locomo-answer'] as const) {
      const rows = verlRows(task, tuples);
      const path = join(dir, `${task}.parquet`);
      await writeFile(path, verlParquet(rows));
      const db = await DuckDBInstance.create(':memory:');
      const connection = await db.connect();
      const read = await connection.runAndReadAll(`select * from read_parquet('${path}') order by extra_info.index`);
      const back = read.getRowObjectsJson() as Record<string, unknown>[];
      const types = Object.fromEntries(((await connection.runAndReadAll(`describe select * from read_parquet('${path}')`)).getRowObjectsJson() as { column_name: string; column_type: string }[]).map((c) => [c.column_name, c.column_type]));
      expect(types).toEqual({
        data_source: 'VARCHAR',
        prompt: 'STRUCT("content" VARCHAR, "role" VARCHAR)[]',
        ability: 'VARCHAR',
        reward_model: 'STRUCT(ground_truth VARCHAR, style VARCHAR)',
        extra_info: 'STRUCT("index" BIGINT, sample_id VARCHAR, split VARCHAR, tuple_id VARCHAR, questions VARCHAR[])',
      });
      expect(back).toHaveLength(rows.length);
      back.forEach((got, i) => {
        const want = rows[i]!;
        expect(got.data_source).toBe(DATA_SOURCE[task]);
        expect(got.prompt).toEqual(want.prompt.map((m) => ({ content: m.content, role: m.role })));
        expect(got.ability).toBe(want.ability);
        expect(got.reward_model).toEqual(want.reward_model);
        expect(got.extra_info).toEqual({ ...want.extra_info, index: String(i) });
      });
      connection.closeSync();
      db.closeSync();
    }
    const [first] = verlRows('locomo-answer', tuples);
    expect(first!.reward_model.ground_truth).toBe(tuples.answer[0]!.gold);
    expect(first!.prompt).toEqual(tuples.answer[0]!.prompt);
  });

  it('writes TRL rows with the exact agent prompts and tuple ids', () => {
    const rows = trlRows('locomo-manager', tuples);
    expect(rows.map((r) => r.tuple_id)).toEqual(tuples.manager.map(managerTupleId));
    expect(rows[0]!.prompt).toEqual(tuples.manager[0]!.prompt);
    expect(JSON.parse(rows[0]!.ground_truth)).toEqual(tuples.manager[0]!.questions.map((q) => q.gold));
  });

  it('answers batched reward requests equal to the in-process rewards', async () => {
    const goldOf = new Map(tuples.manager.flatMap((t) => t.questions.map((q) => [q.question, q.gold] as const)));
    const frozen = frozenAgents(goldOf).model;
    const server: Server = createRewardServer({ tuples, frozen, concurrency: 3 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/reward`;
    try {
      const manager = tuples.manager.slice(0, 3);
      const answer = tuples.answer.slice(0, 3);
      const add = JSON.stringify({ memory: [{ id: 'new', text: `Remember the ${MARK}`, event: 'ADD' }] });
      const items = [
        ...manager.flatMap((t) => [add, '{"memory": []}', 'not json'].map((completion) => ({ tuple_id: managerTupleId(t), completion, tuple: t }))),
        ...answer.flatMap((t) => [`**Answer:** ${t.gold}`, '**Answer:** wrong'].map((completion) => ({ tuple_id: answerTupleId(t), completion, tuple: t }))),
      ];
      const res = await fetch(url, { method: 'POST', body: JSON.stringify({ items: items.map(({ tuple_id, completion }) => ({ tuple_id, completion })) }) });
      const { rewards } = (await res.json()) as { rewards: number[] };
      const reference = managerReward(frozenAgents(goldOf).model);
      const want = await Promise.all(items.map((item) => ('turn' in item.tuple ? reference(item.completion, item.tuple) : answerReward(item.completion, item.tuple))));
      expect(rewards).toEqual(want);
      // Real rewards, not all zeros: the marked memory makes the frozen agent right, nothing else does.
      expect(rewards.slice(0, 9)).toEqual(manager.flatMap(() => [1, 0, 0]));
      expect(rewards.slice(9)).toEqual(answer.flatMap(() => [1, 0]));

      if (python) {
        const child = promisify(execFile)('python3', ['-c', PY_CALLS], { env: { ...process.env, MEMORY_R1_REWARD_URL: url }, timeout: 60_000 });
        child.child.stdin!.end(JSON.stringify(items.map(({ tuple_id, completion }) => ({ tuple_id, completion }))));
        const fromPython = JSON.parse((await child).stdout) as Record<string, number[]>;
        expect(fromPython).toEqual({ trl: want, single: want, batch: want });
      }

      const bad = await fetch(url, { method: 'POST', body: JSON.stringify({ items: [{ tuple_id: 'answer:nope#1', completion: 'x' }] }) });
      expect(bad.status).toBe(404);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/no tuple "answer:nope#1"/);
      // The frozen agent's server is down: 503, so the trainer may retry the batch.
      const gone = `http://127.0.0.1:${await closedLoopbackPort()}/v1`;
      const down = createRewardServer({ tuples, frozen: new OpenAIChatModel({ url: gone, model: 'x', retries: 0 }) });
      await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
      const unavailable = await fetch(`http://127.0.0.1:${(down.address() as AddressInfo).port}/reward`, { method: 'POST', body: JSON.stringify({ items: [{ tuple_id: managerTupleId(manager[0]!), completion: add }] }) });
      await new Promise((resolve) => down.close(resolve));
      expect(unavailable.status).toBe(503);
      expect(((await unavailable.json()) as { error: { message: string } }).error.message).toContain(`model server ${gone}: cannot connect (ECONNREFUSED)`);
      const malformed = await fetch(url, { method: 'POST', body: JSON.stringify({ items: [{ tuple_id: 3 }] }) });
      expect(malformed.status).toBe(400);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
