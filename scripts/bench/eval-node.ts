// `npm run bench -- eval`: the whole LoCoMo test split (8 conversations, 5,094 turns, 1,307 questions) on
// our engine with a tiny random model and replies capped at 8 tokens. The scores mean nothing. With that
// cap the extraction reply is forced (8 tokens cannot hold more than an empty fact list), so ingestion
// runs the agents' code but not the model; every question runs retrieval and the model. Resumable:
// progress is kept under tmp/bench-eval/ (delete it to start over).
import { mkdir } from 'node:fs/promises';
import { requestNodeGpuContext } from '../../src/gpu/node-device';
import { conversationsOf } from '../../src/eval/locomo';
import { readLocomoFile } from '../../src/eval/locomo.node.js';
import { buildReport } from '../../src/eval/report';
import { runLocomoEval } from '../../src/eval/runner';
import { FileEvalStore } from '../../src/eval/runner-store.node.js';
import { LocalChatModel } from '../../src/llm/local';
import { Engine } from '../../src/model/engine';
import { MemorySource } from '../../src/model/source';
import { makeTinyModel } from '../../src/model/tiny';

const gpu = await requestNodeGpuContext();
const engine = await Engine.load(new MemorySource(makeTinyModel({ format: 'mlc', arch: 'qwen2', quant: 'q4f16_1', seed: 1 })), gpu, { maxTokens: 8192 });
const cap = { temperature: 0, max_tokens: 8 };
await mkdir('tmp/bench-eval', { recursive: true });
const started = performance.now();
let last = 0;
const run = await runLocomoEval({
  conversations: conversationsOf(await readLocomoFile('../shared/data/locomo10.json'), 'test'),
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
console.log(JSON.stringify({ questions: run.results.length, answered_now: run.answered, resumed: run.skipped, turns_ingested_now: run.ingestedTurns, seconds: +seconds.toFixed(1), overall: report.ours.overall }));
engine.dispose();
gpu.device.destroy();
