// `npm run bench -- eval`: the whole LoCoMo test split (8 conversations, 5,094 turns, 1,307 questions) on
// our engine with a tiny random model and replies capped at 8 tokens. The scores mean nothing. With that
// cap the extraction reply is forced (8 tokens cannot hold more than an empty fact list), so ingestion
// runs the agents' code but not the model; every question runs retrieval and the model. Resumable:
// progress is kept under tmp/bench-eval/ (delete it to start over). Then a sample with room for real
// replies (64 tokens): the first 40 turns of conv-41 through extraction and the manager, and 10 of its
// questions, so the cost of a turn with every model call is measured too.
import { mkdir } from 'node:fs/promises';
import { requestNodeGpuContext } from '../../src/gpu/node-device';
import { conversationsOf } from '../../src/eval/locomo';
import { readLocomoFile } from '../../src/eval/locomo.node.js';
import { buildReport } from '../../src/eval/report';
import { runLocomoEval } from '../../src/eval/runner';
import { FileEvalStore } from '../../src/eval/runner-store.node.js';
import { MemoryPipeline } from '../../src/agents';
import { conversationTurns, evaluatedQuestions } from '../../src/eval/turns';
import { LocalChatModel } from '../../src/llm/local';
import { InMemoryBank } from '../../src/memory';
import { Engine } from '../../src/model/engine';
import { MemorySource } from '../../src/model/source';
import { makeTinyModel } from '../../src/model/tiny';

const gpu = await requestNodeGpuContext();
const engine = await Engine.load(new MemorySource(makeTinyModel({ format: 'mlc', arch: 'qwen2', quant: 'q4f16_1', seed: 1 })), gpu, { maxTokens: 8192 });
const cap = { temperature: 0, max_tokens: 8 };
const conversations = conversationsOf(await readLocomoFile('../shared/data/locomo10.json'), 'test');
await mkdir('tmp/bench-eval', { recursive: true });
const started = performance.now();
let last = 0;
const run = await runLocomoEval({
  conversations,
  model: new LocalChatModel(engine),
  store: new FileEvalStore('tmp/bench-eval/test-split.json'),
  identity: { model: 'tiny-qwen2-q4f16_1', cap: 8 },
  bankKey: 'tiny-qwen2-q4f16_1',
  sampling: { extract: cap, manage: cap, answer: cap },
  onProgress: (p) => {
    if (Date.now() - last < 5000) return;
    last = Date.now();
    const turn = p.phase === 'ingest' ? ` turn ${p.turn}/${p.turns}` : '';
    const eta = p.etaMs === undefined ? '' : ` eta ${Math.round(p.etaMs / 60000)} min`;
    console.error(`[eval] ${p.sampleId} ${p.phase}${turn} questions ${p.questionsDone}/${p.questionsTotal}${eta} (${Math.round((performance.now() - started) / 1000)} s)`);
  },
});
const seconds = (performance.now() - started) / 1000;
const report = buildReport(run.results, { method: 'tiny random model', split: 'test' });
const wholeSplit = { questions: run.results.length, answered_now: run.answered, resumed: run.skipped, turns_ingested_now: run.ingestedTurns, seconds: +seconds.toFixed(1), overall: report.ours.overall };

// The sample with every model call: 64-token extraction and manager replies.
const roomy = { temperature: 0, max_tokens: 64 };
const sampleConversation = conversations[0]!;
const bank = new InMemoryBank(sampleConversation.sampleId, []);
const pipeline = new MemoryPipeline({ model: new LocalChatModel(engine), bank, sampling: { extract: roomy, manage: roomy, answer: cap } });
const counts = { facts: 0, applied: 0, rejected: 0, fell_back: 0 };
pipeline.on((e) => {
  if (e.type === 'facts') counts.facts += e.facts.length;
  else if (e.type === 'applied') counts.applied++;
  else if (e.type === 'rejected') counts.rejected++;
  else if (e.type === 'fell-back') counts.fell_back++;
});
const turns = conversationTurns(sampleConversation).slice(0, 40);
let t = performance.now();
for (const [i, turn] of turns.entries()) {
  await pipeline.ingest(turn);
  console.error(`[eval] sample turn ${i + 1}/${turns.length}`);
}
const turnMs = (performance.now() - t) / turns.length;
const questions = evaluatedQuestions(sampleConversation).slice(0, 10);
t = performance.now();
for (const qa of questions) await pipeline.ask(qa.question);
const questionMs = (performance.now() - t) / questions.length;
const sample = { conversation: sampleConversation.sampleId, turns: turns.length, reply_cap: 64, ms_per_turn: Math.round(turnMs), ...counts, memories: (await bank.list()).length, questions: questions.length, ms_per_question: Math.round(questionMs) };

console.log(JSON.stringify({ whole_split: wholeSplit, every_call_sample: sample }));
engine.dispose();
gpu.device.destroy();
