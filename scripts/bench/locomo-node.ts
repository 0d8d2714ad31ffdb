// `npm run bench -- locomo`: Memory-R1's loop end to end on a tiny model — training tuples from LoCoMo's
// training conversation, GRPO on the Memory Manager (reward: the frozen base answer agent's exact match)
// and on the Answer Agent (reward: exact match), PEFT export and re-import, then a test-split evaluation
// whose manager and answer agent are the two trained adapters. A random tiny model extracts no facts, so
// the tuples' facts come from a scripted extractor (everything after it runs on the engine). The scores
// of a random model mean nothing; the timings and that every stage runs are what this reports.
import { requestNodeGpuContext } from '../../src/gpu/node-device';
import { conversationsOf } from '../../src/eval/locomo';
import { readLocomoFile } from '../../src/eval/locomo.node.js';
import { buildReport } from '../../src/eval/report';
import { managerReward } from '../../src/eval/rewards';
import { MemoryEvalStore, runLocomoEval } from '../../src/eval/runner';
import { echoAgents } from '../../src/eval/test-helpers';
import { locomoAnswerTask, locomoManagerTask } from '../../src/eval/training-tasks';
import { buildTrainingTuples } from '../../src/eval/tuples';
import { LocalChatModel } from '../../src/llm/local';
import { Engine } from '../../src/model/engine';
import { parsePeftAdapter, PEFT_CONFIG, PEFT_WEIGHTS } from '../../src/model/peft';
import { MemorySource } from '../../src/model/source';
import { makeTinyModel } from '../../src/model/tiny';
import type { TaskExample, TrainingTask } from '../../src/train/task';
import { Trainer, type StepMetrics } from '../../src/train/trainer';

const gpu = await requestNodeGpuContext();
const engine = await Engine.load(new MemorySource(makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 3 })), gpu, { maxTokens: 4096 });
const data = await readLocomoFile('../shared/data/locomo10.json');
const seconds = (since: number) => +((performance.now() - since) / 1000).toFixed(1);
const log = (text: string) => console.error(`[locomo] ${text}`);

let t = performance.now();
const tuples = await buildTrainingTuples({ conversations: conversationsOf(data, 'train'), model: echoAgents(() => 'unknown').model, identity: { model: 'scripted-extractor' }, limits: { turns: 12, questions: 4 } });
const tupleSeconds = seconds(t);
log(`${tuples.manager.length} manager and ${tuples.answer.length} answer tuples`);

const format = (messages: Parameters<typeof engine.tokenizer.applyChatTemplate>[0]) => engine.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
const short = { temperature: 0, top_p: 1, max_tokens: 6 };
const base = new LocalChatModel(engine, { id: 'base' });
const config = { algorithm: 'grpo' as const, totalSteps: 2, promptsPerStep: 1, groupSize: 2, maxCompletionTokens: 6, lora: { rank: 4, alpha: 8 }, optimizer: { lr: 1e-3 } };

async function train<E extends TaskExample>(name: 'manager' | 'answer', task: TrainingTask<E>) {
  const started = performance.now();
  const trainer = new Trainer(engine, { ...config, adapterName: name }, task);
  const steps: StepMetrics[] = await trainer.run({ onProgress: (m) => log(`${name} step ${m.step}: reward ${m.rewardMean} kl ${m.kl.toFixed(4)} ${m.tokensPerSecond.toFixed(0)} tok/s`) });
  const peft = await trainer.exportPeft();
  trainer.dispose();
  // The evaluation uses the exported adapter, re-imported as a user's PEFT folder would be.
  engine.removeAdapter(name);
  engine.addAdapter(name, parsePeftAdapter({ config: peft.get(PEFT_CONFIG)!, weights: peft.get(PEFT_WEIGHTS)! }, engine.config));
  return { seconds: seconds(started), rewards: steps.map((s) => s.rewardMean), tokens_per_s: steps.map((s) => +s.tokensPerSecond.toFixed(1)) };
}

const manager = await train('manager', locomoManagerTask(tuples.manager, format, managerReward(base, { sampling: short })));
const answer = await train('answer', locomoAnswerTask(tuples.answer, format));

t = performance.now();
const run = await runLocomoEval({
  conversations: conversationsOf(data, 'test'),
  model: new LocalChatModel(engine, { adapter: 'manager' }),
  answerModel: new LocalChatModel(engine, { adapter: 'answer' }),
  store: new MemoryEvalStore(),
  identity: { model: 'tiny', adapter: 'answer', managerAdapter: 'manager' },
  bankKey: 'tiny+manager',
  limits: { conversations: 1, turns: 2, questions: 2 },
  sampling: { extract: short, manage: short, answer: short },
});
const report = buildReport(run.results, { method: 'tiny random model + trained adapters', split: 'test' });
console.log(JSON.stringify({ tuples: { manager: tuples.manager.length, answer: tuples.answer.length, seconds: tupleSeconds }, manager, answer, eval: { seconds: seconds(t), answered: run.answered, overall: report.ours } }));
engine.dispose();
gpu.device.destroy();
