// `npm run bench -- drills`: what the learning experiment's learner model (src/eval/learn.ts) can learn to
// read from its prompt, and how fast, on two short drills in the generated data's words, each trained by
// full-weight SFT from random weights and scored by greedy exact match on 60 held-out prompts:
//   position: "Berlin, Oslo, Rome, Paris. Which city is last?" (first or last of four): attention by position.
//   binding:  "Nora lives in Rome. Ben lives in Oslo. Maria lives in Paris. Where does Ben live?": attention
//             by content (find the name, take the city after it), which answering from memories needs.
// A drill stops when it reaches 95 % (its step is `learnedAtStep`) or after DRILL_STEPS. Each drill's
// baselines are printed beside its curve: guessing among all cities, and guessing among the
// cities its prompt names (what a model that copies some city from its prompt, but not the right one, gets).
// Sizes (defaults in brackets): DRILL_STEPS [1000]  DRILL_EVERY [100]  DRILL_LR [3e-3]  DRILL_PROMPTS [8]
// DRILL_PEOPLE [3]  DRILL_MODEL_SEED [3].
import { requestNodeGpuContext } from '../../src/gpu/node-device';
import { learnerModel, pretrainData } from '../../src/eval/learn';
import { CITIES, NAMES } from '../../src/eval/generate';
import { LocalChatModel } from '../../src/llm/local';
import { Engine } from '../../src/model/engine';
import { createRng, type Rng } from '../../src/model/rng';
import { MemorySource } from '../../src/model/source';
import type { TaskExample, TrainingTask } from '../../src/train/task';
import { Trainer } from '../../src/train/trainer';

const env = (name: string, fallback: number): number => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${process.env[name]}"`);
  return n;
};
const steps = env('DRILL_STEPS', 1000);
const every = env('DRILL_EVERY', 100);
const lr = env('DRILL_LR', 3e-3);
const prompts = env('DRILL_PROMPTS', 8);
const people = env('DRILL_PEOPLE', 3);
const log = (line: string) => console.error(`[drills] ${line}`);
const LEARNED = 95;

interface Drill {
  question: string;
  answer: string;
  /** The distinct cities the question names (the answer among them). */
  named: number;
}
const cities = Object.keys(CITIES);
const shuffled = <T>(rng: Rng, items: readonly T[]): T[] => {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};
const DRILLS: Record<string, (rng: Rng) => Drill> = {
  position: (rng) => {
    const four = shuffled(rng, cities).slice(0, 4);
    const first = rng() < 0.5;
    return { question: `${four.join(', ')}. Which city is ${first ? 'first' : 'last'}?`, answer: first ? four[0]! : four[3]!, named: 4 };
  },
  binding: (rng) => {
    const names = shuffled(rng, NAMES).slice(0, people);
    const homes = names.map(() => cities[Math.floor(rng() * cities.length)]!);
    const asked = Math.floor(rng() * people);
    return { question: `${names.map((n, i) => `${n} lives in ${homes[i]}.`).join(' ')} Where does ${names[asked]} live?`, answer: homes[asked]!, named: new Set(homes).size };
  },
};

const started = performance.now();
const gpu = await requestNodeGpuContext();
// The learner's vocabulary comes from the learning experiment's own pre-training text, as there.
const vocabulary = await pretrainData({ dataSeed: 1, perSpeaker: 1, pretrain: { conversations: 160, steps: 0, promptsPerStep: 1, lr } });
const results: Record<string, unknown> = {};
for (const [name, make] of Object.entries(DRILLS)) {
  const engine = await Engine.load(new MemorySource(learnerModel(vocabulary, env('DRILL_MODEL_SEED', 3))), gpu, { maxTokens: 512 });
  const heldRng = createRng(99);
  const held = Array.from({ length: 60 }, () => make(heldRng));
  const format = (question: string) => engine.tokenizer.applyChatTemplate([{ role: 'user', content: question }], { addGenerationPrompt: true });
  const curve: { step: number; em: number }[] = [];
  const task: TrainingTask<TaskExample & { target: string }> = {
    name: `drill-${name}`,
    examples: (rng, count) => Array.from({ length: count }, () => {
      const d = make(rng);
      return { prompt: format(d.question), target: `**Answer:** ${d.answer}<|im_end|>` };
    }),
    reward: () => {
      throw new Error('drills train by SFT only');
    },
    validate: async ({ step }) => {
      const model = new LocalChatModel(engine);
      let right = 0;
      for (const d of held) {
        const reply = await model.chat({ messages: [{ role: 'user', content: d.question }], temperature: 0, max_tokens: 6 });
        right += +((reply.text.split('**Answer:**')[1] ?? '').trim() === d.answer);
      }
      const em = +((100 * right) / held.length).toFixed(1);
      curve.push({ step, em });
      log(`${name} step ${step}: EM ${em}`);
      return em / 100;
    },
  };
  const trainer = new Trainer(engine, { algorithm: 'sft', fineTune: 'full', totalSteps: steps, promptsPerStep: prompts, optimizer: { lr }, seed: 5, validateEvery: every }, task);
  // A drill stops once learned (95 % on the held-out prompts): the steps it took are the result.
  const metrics = [];
  for (let target = every; target <= steps && !((curve.at(-1)?.em ?? 0) >= LEARNED); target += every) metrics.push(...(await trainer.run({ steps: target })));
  const promptTokens = engine.tokenizer.encode(format(held[0]!.question)).length;
  trainer.dispose();
  engine.dispose();
  const seconds = metrics.reduce((s, m) => s + m.seconds, 0);
  results[name] = {
    curve,
    baselines: { anyCity: +(100 / cities.length).toFixed(1), aNamedCity: +((100 * held.reduce((s, d) => s + 1 / d.named, 0)) / held.length).toFixed(1) },
    learnedAtStep: (curve.find((c) => c.em >= LEARNED) ?? null)?.step ?? null,
    examples: metrics.length * prompts,
    promptTokens,
    tokensPerSecond: +(metrics.reduce((s, m) => s + m.tokens, 0) / seconds).toFixed(1),
  };
}
console.log(JSON.stringify({ model: 'tiny learner qwen2 (random weights)', settings: { steps, every, lr, prompts, people }, drills: results, seconds: +((performance.now() - started) / 1000).toFixed(1) }));
gpu.device.destroy();
