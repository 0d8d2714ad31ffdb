// `npm run bench -- chat`: how long a chat user waits. For each turn of a short scripted chat (statements
// and questions) it measures the time to the first streamed token of the reply and the time until the
// turn's memory update (extract → manage → apply) is finished, both from the moment the message is sent.
// Two engines: the scripted one with a fixed delay per generated word (every call, as a real model spends
// time per token), and our local engine on a tiny random model (the words are noise, the costs are real).
// Each runs the turn order the chat uses (reply first, remember after) and the one it used before
// (remember, then answer), on a fresh bank each.
import { requestNodeGpuContext } from '../../src/gpu/node-device';
import type { ChatModel, ChatRequest, ChatResponse } from '../../src/llm/chat-model';
import { LocalChatModel } from '../../src/llm/local';
import { ScriptedChatModel } from '../../src/llm/scripted';
import { InMemoryBank } from '../../src/memory';
import { Engine } from '../../src/model/engine';
import { MemorySource } from '../../src/model/source';
import { makeTinyModel } from '../../src/model/tiny';
import { replyFor, ScriptSchema } from '../../src/ui/engines/script';
import { chatRunner, type ChatRunner, type TurnOrder } from './chat-turn';

const TURNS = ['Hi! I live in Paris with my cat Miso.', 'Where do I live?', 'Miso now has a sister, a kitten called Tofu.', 'What are my cats called?'];
const WORD_DELAY_MS = 15;

/** The chat fixture's rules, every call paced at WORD_DELAY_MS per word (streamed or not). */
function pacedScripted(): ChatModel {
  const script = ScriptSchema.parse({
    rules: [
      { call: 'extract', match: 'cat Miso', reply: { facts: ['User lives in Paris', 'User has a cat named Miso'] } },
      { call: 'extract', match: 'kitten called Tofu', reply: { facts: ['User has a second cat, a kitten named Tofu'] } },
      { call: 'manage', match: 'cat named Miso', reply: { memory: [{ id: '0', event: 'ADD', text: 'User lives in Paris' }, { id: '1', event: 'ADD', text: 'User has a cat named Miso' }] } },
      { call: 'manage', match: 'kitten named Tofu', reply: { memory: [{ id: '$id(User has a cat named Miso)', event: 'UPDATE', text: 'User has two cats, Miso and a kitten named Tofu', old_memory: 'User has a cat named Miso' }] } },
    ],
    fallback: {
      reply: 'Thanks for telling me. That is good to know, and I will keep it in mind. What else is new with you?\nMemories used: none',
    },
  });
  const inner = new ScriptedChatModel((request, index) => replyFor(script, request, index));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  return {
    id: 'scripted (paced)',
    async chat(request: ChatRequest): Promise<ChatResponse> {
      const { onToken, ...rest } = request;
      const response = await inner.chat(rest);
      for (const piece of response.text.match(/\S+\s*|\s+/g) ?? []) {
        await sleep(WORD_DELAY_MS);
        onToken?.(piece);
      }
      return response;
    },
  };
}

interface TurnSample {
  first_token_ms: number | null;
  reply_done_ms: number;
  memory_updated_ms: number;
  /** The reply call's prompt (the scripted engine counts words). */
  reply_prompt_tokens: number;
}

/** One chat of TURNS through a fresh runner: each turn's times, from the moment its message is sent. */
async function chat(engine: string, runner: ChatRunner): Promise<TurnSample[]> {
  const samples: TurnSample[] = [];
  for (const [i, text] of TURNS.entries()) {
    const start = performance.now();
    let first: number | null = null;
    const { reply, memory } = runner(text, () => {
      first ??= performance.now() - start;
    });
    const since = (promise: Promise<unknown>) => promise.then(() => performance.now() - start);
    const [replyDone, memoryDone] = await Promise.all([since(reply), since(memory)]);
    const promptTokens = ((await reply) as { usage: { promptTokens: number } }).usage.promptTokens;
    const sample = { first_token_ms: first === null ? null : Math.round(first), reply_done_ms: Math.round(replyDone), memory_updated_ms: Math.round(memoryDone), reply_prompt_tokens: promptTokens };
    samples.push(sample);
    console.error(`[chat] ${engine} turn ${i + 1}: first token ${sample.first_token_ms} ms, memory updated ${sample.memory_updated_ms} ms, reply prompt ${promptTokens} tokens`);
  }
  return samples;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return Math.round(sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2);
};

/**
 * ROUNDS chats per turn order, the orders alternating so that a change in the machine's load touches
 * both alike; per turn the median of the rounds.
 */
async function compare(engine: string, runner: (order: TurnOrder) => ChatRunner) {
  const rounds = new Map<TurnOrder, TurnSample[][]>(ORDERS.map((order) => [order, []]));
  for (let round = 0; round < ROUNDS; round++) for (const order of ORDERS) rounds.get(order)!.push(await chat(`${engine}, ${order}, round ${round + 1}`, runner(order)));
  return ORDERS.map((order) => {
    const chats = rounds.get(order)!;
    const turns = TURNS.map((text, i) => {
      const of = (pick: (s: TurnSample) => number) => median(chats.map((c) => pick(c[i]!)));
      return {
        turn: i + 1,
        text,
        first_token_ms: of((s) => s.first_token_ms ?? s.reply_done_ms),
        reply_done_ms: of((s) => s.reply_done_ms),
        memory_updated_ms: of((s) => s.memory_updated_ms),
        reply_prompt_tokens: of((s) => s.reply_prompt_tokens),
      };
    });
    const mean = (values: number[]) => Math.round(values.reduce((a, b) => a + b, 0) / values.length);
    return { engine, order, rounds: ROUNDS, turns, mean_first_token_ms: mean(turns.map((t) => t.first_token_ms)), mean_memory_updated_ms: mean(turns.map((t) => t.memory_updated_ms)) };
  });
}

const ORDERS: TurnOrder[] = ['sequential', 'reply-first'];
const ROUNDS = 3;
const results = [];
results.push(...(await compare(`scripted, ${WORD_DELAY_MS} ms per word`, (order) => chatRunner(pacedScripted(), new InMemoryBank('chat'), {}, order))));

const gpu = await requestNodeGpuContext();
const engine = await Engine.load(new MemorySource(makeTinyModel({ format: 'mlc', arch: 'qwen2', quant: 'q4f16_1', seed: 3 })), gpu, { maxTokens: 4096 });
const local = new LocalChatModel(engine);
// Shader compilation and first-use costs are paid once, before the first measured turn.
await local.chat({ messages: [{ role: 'user', content: 'warm up' }], max_tokens: 4, temperature: 0 });
// The reply samples (temperature 1): greedy decoding of the random model repeats a newline, which shows nothing.
const caps = { extract: { temperature: 0, max_tokens: 32 }, manage: { temperature: 0, max_tokens: 48 }, reply: { temperature: 1, seed: 11, max_tokens: 24 } };
results.push(...(await compare('local engine, tiny qwen2 q4f16_1', (order) => chatRunner(local, new InMemoryBank('chat'), caps, order))));
engine.dispose();
gpu.device.destroy();

console.log(JSON.stringify({ word_delay_ms: WORD_DELAY_MS, results }));
