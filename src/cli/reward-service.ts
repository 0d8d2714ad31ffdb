// Memory-R1's rewards over HTTP for trainers on other machines (TRL's reward_funcs, verl's
// custom_reward_function; see examples/): POST /reward with {"items": [{"tuple_id", "completion"}, ...]}
// answers {"rewards": [...]} in the same order. The tuples are the exported ones (by tuple_id); the
// rewards are rewards.ts's: the answer agent's is exact match with the gold, the manager's applies the
// completion's operations to the tuple's bank snapshot and asks the frozen answer agent the linked
// questions (through `frozen`, a model server or the local engine), exact match averaged.
import { createServer, type Server } from 'node:http';
import { answerReward, managerReward, type ManagerRewardOptions } from '../eval/rewards';
import { answerTupleId, managerTupleId } from '../eval/trainer-datasets';
import type { AnswerTuple, ManagerTuple, TrainingTuples } from '../eval/tuples';
import type { ChatModel } from '../llm/chat-model';
import { HttpError, readJsonBody, sendJson } from './http-json';

export interface RewardServiceOptions {
  tuples: TrainingTuples;
  /** The frozen answer agent for manager rewards (absent: manager items are refused). */
  frozen?: ChatModel;
  rewardOptions?: ManagerRewardOptions;
  /** Items of one request scored at once (default 8). */
  concurrency?: number;
  maxItems?: number;
}

type Tuple = { kind: 'answer'; tuple: AnswerTuple } | { kind: 'manager'; tuple: ManagerTuple };

/** Scores items against the tuples; the same function the server calls, usable in-process. */
export function rewardScorer(options: RewardServiceOptions) {
  const byId = new Map<string, Tuple>();
  for (const tuple of options.tuples.answer) byId.set(answerTupleId(tuple), { kind: 'answer', tuple });
  for (const tuple of options.tuples.manager) byId.set(managerTupleId(tuple), { kind: 'manager', tuple });
  const manager = options.frozen ? managerReward(options.frozen, options.rewardOptions ?? {}) : undefined;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const maxItems = options.maxItems ?? 4096;

  /** The item's tuple and completion, or the reason it cannot be scored. */
  const lookup = (item: unknown, i: number): { found: Tuple; completion: string } => {
    const { tuple_id: id, completion } = (item ?? {}) as { tuple_id?: unknown; completion?: unknown };
    if (typeof id !== 'string' || typeof completion !== 'string') throw new HttpError(400, `items[${i}] must be {"tuple_id": string, "completion": string}`);
    const found = byId.get(id);
    if (!found) throw new HttpError(404, `items[${i}]: no tuple "${id}" in these tuples (export and reward-server must use the same tuples file)`);
    if (found.kind === 'manager' && !manager) throw new HttpError(400, `items[${i}] is a manager tuple, whose reward needs the frozen answer agent: start reward-server with --endpoint or --model`);
    return { found, completion };
  };

  return async (items: unknown): Promise<number[]> => {
    if (!Array.isArray(items) || items.length === 0) throw new HttpError(400, 'items must be a non-empty array of {"tuple_id", "completion"}');
    if (items.length > maxItems) throw new HttpError(413, `at most ${maxItems} items per request, got ${items.length}`);
    // All checked first, so a bad item fails the request before any model is asked anything.
    const checked = items.map(lookup);
    const rewards = new Array<number>(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        const { found, completion } = checked[i]!;
        rewards[i] = found.kind === 'answer' ? await answerReward(completion, found.tuple) : await manager!(completion, found.tuple);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
    return rewards;
  };
}

export function createRewardServer(options: RewardServiceOptions, log?: (line: string) => void): Server {
  const score = rewardScorer(options);
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/$/, '');
    const handle = async () => {
      if (path === '/health') return void res.writeHead(200).end();
      if (path !== '/reward') throw new HttpError(404, `no route ${path}: POST /reward {"items": [{"tuple_id", "completion"}]}`);
      if (req.method !== 'POST') throw new HttpError(405, '/reward takes POST');
      const body = (await readJsonBody(req, 64 << 20)) as { items?: unknown } | null;
      sendJson(res, 200, { rewards: await score(body?.items) });
    };
    handle().catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      // A failing frozen model (e.g. its server is down) is a 503: the trainer may retry the batch.
      const code = status === 500 && (error as Error).name === 'EndpointError' ? 503 : status;
      if (code >= 500) log?.(`reward: ${(error as Error).message}`);
      if (!res.headersSent) sendJson(res, code, { error: { message: (error as Error).message } });
      else res.end();
    });
  });
}
