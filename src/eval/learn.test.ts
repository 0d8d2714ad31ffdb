// The learning experiment's data, model and table (the runs themselves are `npm run bench -- learn`).
import { describe, expect, it } from 'vitest';
import { ScriptedChatModel } from '../llm/scripted';
import { ModelTokenizer } from '../model/tokenizer';
import { makeTinyModel } from '../model/tiny';
import { generatedBankModel } from './generated-oracle';
import { learnData, learnMarkdown, learnTable, managerTable, meanStd, pretrainData, tokenizerTextOf, type SeedResult } from './learn';
import { conversationsOf } from './locomo';
import { readingCheck, summarize } from './report';
import { MemoryEvalStore, runLocomoEval, type QuestionResult } from './runner';

const result = (category: 1 | 2 | 3 | 4, em: number): QuestionResult => ({
  sampleId: 'gen-2', qaIndex: 0, question: 'q', gold: 'g', prediction: 'p', category, em, f1: em, bleu1: em, locomo_f1: em, usedMemories: [], retrieved: 0, ms: 0, tokens: { prompt: 0, completion: 0 },
});
const reading = (found: number, missing: number) => ({ found: { em: found, count: 2 }, missing: { em: missing, count: 1 } });
const seed = (seed: number, grpoEm: number): SeedResult => ({
  seed,
  stages: {
    BASE: summarize([result(1, 0), result(2, 0), result(3, 0), result(4, 0)]),
    SFT: summarize([result(1, 1), result(2, 0), result(3, 0), result(4, 0)]),
    GRPO: summarize([result(1, 1), result(2, grpoEm), result(3, 0), result(4, 0)]),
  },
  reading: { BASE: reading(0, 0), SFT: reading(50, 0), GRPO: reading(50 + 50 * grpoEm, 0) },
  curves: { sftLoss: [], grpoReward: [], validation: { SFT: [], GRPO: [] } },
  bestStep: { SFT: null, GRPO: null },
  tokensPerSecond: { sft: 0, grpo: 0 },
  truncated: 0,
});

describe('the learning table', () => {
  it('gives mean and sample std over seeds per stage, column and metric', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1 });
    expect(meanStd([5])).toEqual({ mean: 5, std: 0 });
    const table = learnTable([seed(0, 1), seed(1, 0), seed(2, 1)]);
    expect(table.SFT['single-hop']!.em).toEqual({ mean: 100, std: 0 });
    expect(table.GRPO.temporal!.em.mean).toBeCloseTo(200 / 3, 10);
    expect(table.GRPO.temporal!.em.std).toBeCloseTo(Math.sqrt(((100 - 200 / 3) ** 2 * 2 + (200 / 3) ** 2) / 2), 10);
    expect(table.GRPO.overall!.f1.mean).toBeCloseTo((50 + 25 + 50) / 3, 10);
    const markdown = learnMarkdown([seed(0, 1), seed(1, 0), seed(2, 1)], 'tiny');
    expect(markdown.split('\n')[0]).toBe('| Model | Method | single-hop F1 | B1 | EM | multi-hop F1 | B1 | EM | open-domain F1 | B1 | EM | temporal F1 | B1 | EM | overall F1 | B1 | EM |');
    expect(markdown).toContain('| tiny | Memory-SFT | 100.0 ± 0.0 | 100.0 ± 0.0 | 100.0 ± 0.0 | 0.0 ± 0.0 |');
    expect(markdown).toContain('Seeds: 0, 1, 2; held-out questions per category 1: 1, 2: 1, 3: 1, 4: 1');
    expect(markdown).toContain('Reading check (answer agent, EM on the 2 held-out questions whose retrieved memories hold all their evidence / the 1 whose memories hold none;');
    expect(markdown).toContain('BASE 0.0 / 0.0, Memory-SFT 50.0 / 0.0, Memory-R1-GRPO 83.3 / 0.0.');
    // A category with no held-out question shows dashes.
    const only = { ...seed(0, 1), stages: { BASE: summarize([result(1, 0)]), SFT: summarize([result(1, 1)]), GRPO: summarize([result(1, 1)]) } };
    expect(learnMarkdown([only], 'tiny')).toContain('| tiny | Memory-SFT | 100.0 ± 0.0 | 100.0 ± 0.0 | 100.0 ± 0.0 | – | – | – |');
    expect(managerTable([seed(0, 1)])).toBeNull();
  });

  it('adds the manager\'s rows under the bank builder\'s reference when the run trained it', () => {
    const withManager = (s: SeedResult, referenceEm: number): SeedResult => ({ ...s, manager: { ...seed(s.seed, 0), reference: summarize([result(1, referenceEm), result(2, 0), result(3, 0), result(4, 0)]) } });
    const results = [withManager(seed(0, 1), 1), withManager(seed(1, 1), 0)];
    const table = managerTable(results)!;
    expect(table.reference['single-hop']!.em).toEqual({ mean: 50, std: Math.sqrt(5000) });
    expect(table.SFT['single-hop']!.em).toEqual({ mean: 100, std: 0 });
    const lines = learnMarkdown(results, 'tiny').split('\n');
    expect(lines.filter((l) => l.startsWith('| tiny |')).map((l) => l.split(' | ')[1])).toEqual([
      'BASE', 'Memory-SFT', 'Memory-R1-GRPO', 'manager: bank builder (reference)', 'manager: BASE', 'manager: Memory-SFT', 'manager: Memory-R1-GRPO',
    ]);
    expect(lines.at(-1)).toContain('the frozen BASE answer agent answers');
  });
});

describe('the reading check', () => {
  it('splits the evaluated questions by whether their memories held all of the evidence or none of it', () => {
    const withRecall = (em: number, evidenceRecall: number | undefined, category: 1 | 5 = 1): QuestionResult => ({ ...result(1, em), category: category as 1, ...(evidenceRecall === undefined ? {} : { evidenceRecall }) });
    const check = readingCheck([withRecall(1, 1), withRecall(0, 1), withRecall(1, 0), withRecall(1, 0.5), withRecall(1, undefined), withRecall(1, 1, 5)]);
    expect([check.found.count, check.found.em, check.missing.count, check.missing.em]).toEqual([2, 50, 1, 100]);
  });
});

describe('the learning experiment set-up', () => {
  const settings = { conversations: 4, dataSeed: 7, perSpeaker: 2, pretrain: { conversations: 6, steps: 1, promptsPerStep: 1, lr: 1e-3 } };

  it('pre-trains on a file of its own, and retrieves perSpeaker memories per speaker in tuples and evaluation', async () => {
    const [data, pre] = await Promise.all([learnData(settings), pretrainData(settings)]);
    expect(data.tuples.answer.length).toBeGreaterThan(10);
    expect(pre.answer.length).toBeGreaterThan(data.tuples.answer.length);
    // Nothing the experiment trains or tests on is a pre-training demonstration.
    const shown = (t: (typeof pre.answer)[number]) => JSON.stringify(t.prompt);
    const demonstrations = new Set(pre.answer.map(shown));
    expect(data.tuples.answer.filter((t) => demonstrations.has(shown(t)))).toEqual([]);
    for (const t of [...data.tuples.answer, ...pre.answer]) for (const g of t.groups) expect(g.memories.length).toBeLessThanOrEqual(2);
    expect(data.tuples.answer.some((t) => t.groups.every((g) => g.memories.length === 2))).toBe(true);

    const answers = new ScriptedChatModel(() => 'unknown');
    const run = await runLocomoEval({
      conversations: conversationsOf(data.conversations, 'test'),
      model: generatedBankModel(),
      answerModel: answers,
      store: new MemoryEvalStore(),
      identity: {},
      bankKey: 'b',
      limits: { questions: 3 },
      perSpeaker: 2,
    });
    expect(run.results.length).toBeGreaterThan(0);
    for (const r of run.results) expect(r.retrieved).toBe(4);
  });

  it('gives the learner model a vocabulary learned from the prompts, shortening them', async () => {
    const pre = await pretrainData(settings);
    const read = (files: Map<string, Uint8Array>, name: string) => JSON.parse(new TextDecoder().decode(files.get(name)!)) as Record<string, unknown>;
    const tokenizerOf = (files: Map<string, Uint8Array>) => new ModelTokenizer(read(files, 'tokenizer.json'), read(files, 'tokenizer_config.json'), []);
    const learner = makeTinyModel({ format: 'hf', shape: 'learner', tokenizerText: tokenizerTextOf(pre) });
    expect(read(learner, 'config.json')).toMatchObject({ hidden_size: 96, num_hidden_layers: 3, vocab_size: 2048 });
    const prompt = pre.answer.at(-1)!.prompt;
    const text = tokenizerOf(learner).applyChatTemplate(prompt, { addGenerationPrompt: true });
    const long = tokenizerOf(makeTinyModel({ format: 'hf' })).encode(text).length;
    const ids = tokenizerOf(learner).encode(text);
    expect(Math.max(...ids)).toBeLessThan(2048);
    expect(tokenizerOf(learner).decode(ids)).toBe(text);
    expect(ids.length).toBeLessThan(long / 2);
  });
});
