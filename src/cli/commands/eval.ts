// `memory-r1 eval`: Memory-R1's LoCoMo evaluation of our agents. Replays each conversation of a split
// into a memory bank, answers its questions, scores them (F1, BLEU-1, exact match, LoCoMo F1, optionally
// an LLM judge) and writes the results and the paper-layout table. Resumable: rerun the same command.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ChatModel } from '../../llm/chat-model';
import type { JudgeChatModel } from '../../eval/judge';
import { conversationsOf, SPLITS, type Split } from '../../eval/locomo';
import { readLocomoFile } from '../../eval/locomo.node.js';
import { buildReport, reportMarkdown } from '../../eval/report';
import { runLocomoEval, type EvalProgress, type RunIdentity } from '../../eval/runner';
import { FileEvalStore, statePaths } from '../../eval/runner-store.node.js';
import { parseAgentScript, scriptedAgentModel } from '../../eval/script-model';
import type { GpuContext } from '../../gpu/device';
import { requestNodeGpuContext } from '../../gpu/node-device';
import { LocalChatModel } from '../../llm/local';
import { Engine } from '../../model/engine';
import { readPeftFiles } from '../../model/peft';
import { DirectorySource } from '../../model/source.node.js';
import { numberOption, parseOptions, progressReporter, requireOption, UsageError, type Command } from '../command';
import { ENDPOINT_OPTIONS, ENDPOINT_USAGE, openEndpoint, type EndpointValues } from '../endpoint-option';

interface OpenedModels {
  /** Extraction and memory management. */
  model: ChatModel;
  answerModel?: ChatModel;
  judge?: JudgeChatModel;
  /** The judge, for the report's J label. */
  judgeLabel?: { name: string; local: boolean };
  /** What the run depends on, for resuming only the same set-up. */
  identity: RunIdentity;
  /** What builds banks: the bank cache key. */
  bankKey: string;
  label: string;
  close(): void;
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

async function openScripted(path: string): Promise<OpenedModels> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read --script ${path}`);
  }
  const script = parseAgentScript(text, `--script ${path}`);
  const model = scriptedAgentModel(script);
  const id = `script:${digest(text)}`;
  return {
    model,
    ...(script.judge ? { judge: model } : {}),
    identity: { model: id, adapter: null, managerAdapter: null, judge: script.judge ? id : null },
    bankKey: id,
    label: `scripted (${script.id ?? path})`,
    close: () => {},
  };
}

/** Loads one model folder on the GPU with the given PEFT adapters added under their names. */
async function openEngine(gpu: GpuContext, dir: string, adapters: Record<string, string | undefined>): Promise<Engine> {
  const engine = await Engine.load(new DirectorySource(dir), gpu);
  for (const [name, adapterDir] of Object.entries(adapters)) if (adapterDir) engine.addAdapter(name, await readPeftFiles(new DirectorySource(adapterDir)));
  return engine;
}

/**
 * Our WebGPU engine: `model` (HF or MLC folder) with `managerAdapter` for extraction and the Memory
 * Manager and `adapter` for the Answer Agent (the same weights, two LoRAs), and `judge` as a second model.
 */
async function openLocal(values: { model: string; adapter?: string; managerAdapter?: string; judge?: string; embed?: string }): Promise<OpenedModels> {
  const gpu = await requestNodeGpuContext();
  const engine = await openEngine(gpu, values.model, { manager: values.managerAdapter, answer: values.adapter });
  const judgeEngine = values.judge ? await openEngine(gpu, values.judge, {}) : undefined;
  // --embed naming the chat model's own folder embeds with its hidden states (adapters off): no second copy.
  const embedEngine = values.embed === undefined ? undefined : values.embed === values.model ? engine : await openEngine(gpu, values.embed, {});
  const adapterId = async (dir: string | undefined) => (dir ? digest(await readFile(resolve(dir, 'adapter_model.safetensors')).then((b) => b.toString('base64'))) : null);
  const [answerId, managerId] = await Promise.all([adapterId(values.adapter), adapterId(values.managerAdapter)]);
  const modelId = `local:${values.model}`;
  return {
    // The bank embeds with the extraction/manager model's embedder (the runner's default).
    model: new LocalChatModel(engine, { ...(values.managerAdapter ? { adapter: 'manager' } : {}), ...(embedEngine ? { embedding: embedEngine } : {}) }),
    answerModel: new LocalChatModel(engine, values.adapter ? { adapter: 'answer' } : {}),
    ...(judgeEngine ? { judge: new LocalChatModel(judgeEngine), judgeLabel: { name: values.judge!, local: true } } : {}),
    identity: { model: modelId, adapter: answerId, managerAdapter: managerId, judge: values.judge ?? null, ...(values.embed ? { embed: values.embed } : {}) },
    // Without --embed, keys as before: earlier runs' progress and banks stay usable.
    bankKey: `${modelId}|${managerId ?? 'base'}${values.embed ? `|embed=${values.embed}` : ''}`,
    label: `${values.model}${values.adapter ? ` + ${values.adapter}` : ''}`,
    close: () => {
      engine.dispose();
      judgeEngine?.dispose();
      if (embedEngine !== engine) embedEngine?.dispose();
      gpu.device.destroy();
    },
  };
}

/**
 * A model server: --endpoint-model for extraction and the Memory Manager, --answer-endpoint-model for
 * the Answer Agent (e.g. an adapter's name on vLLM or memory-r1 serve; default the same model), and
 * --judge-endpoint-model as the judge. Identified by model names, so a server that moved keeps its progress.
 */
function openEndpoints(values: EndpointValues & { 'answer-endpoint-model'?: string | undefined; 'judge-endpoint-model'?: string | undefined; 'judge-endpoint'?: string | undefined }): OpenedModels {
  const main = openEndpoint(values)!;
  const answer = values['answer-endpoint-model'] ? openEndpoint(values, process.env, values['answer-endpoint-model'])! : undefined;
  const judgeName = values['judge-endpoint-model'];
  const judge = judgeName ? openEndpoint(values, process.env, judgeName, values['judge-endpoint'])! : undefined;
  return {
    model: main.model,
    ...(answer ? { answerModel: answer.model } : {}),
    ...(judge ? { judge: judge.model } : {}),
    identity: { model: main.identity, adapter: answer?.identity ?? null, managerAdapter: null, judge: judge?.identity ?? null },
    bankKey: main.identity,
    label: `${values['endpoint-model']}${answer ? ` + ${values['answer-endpoint-model']}` : ''} at ${main.model.endpoint}`,
    close: () => {},
  };
}

function formatEta(ms: number | undefined): string {
  if (ms === undefined) return '';
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `ETA ${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `ETA ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `ETA ${s}s`;
}

export const evaluate: Command = {
  name: 'eval',
  summary: 'evaluate the agents on LoCoMo (Memory-R1 split, paper-layout table), resumable',
  usage: `usage: memory-r1 eval --data FILE --split train|validation|test --out FILE
                     (--model DIR [--adapter DIR] [--manager-adapter DIR] [--judge DIR] | --script FILE
                      | --endpoint URL --endpoint-model NAME [--answer-endpoint-model NAME] [--judge-endpoint-model NAME])
                     [--embed DIR] [--conversations N] [--questions N] [--turns N] [--max-new-tokens N] [--json]

For each conversation of the split (Memory-R1's: train conv-26, validation conv-30, test the other 8),
replays its turns through fact extraction and the Memory Manager into one memory bank (both speakers,
tagged by speaker), then answers every question of categories 1-4 with the Answer Agent (30 memories
per speaker) and scores it: F1 and BLEU-1 as Memory-R1 / Mem0 report them, exact match, LoCoMo's F1,
evidence recall@60 (the share of a question's evidence turns behind its retrieved memories), and
LLM-as-a-Judge when a judge is given (marked in the table as a local judge).

  --data FILE             the LoCoMo JSON file (e.g. ../shared/data/locomo10.json)
  --split NAME            train, validation or test
  --model DIR             the model (Hugging Face or MLC folder), run on the GPU
  --manager-adapter DIR   LoRA adapter for extraction and the Memory Manager
  --adapter DIR           LoRA adapter for the Answer Agent
  --judge DIR             a model to judge answers (LLM-as-a-Judge, the J column)
  --embed DIR             embed memories and questions with this model (Qwen2 / Llama folder; mean-pooled
                          hidden states): retrieval is hybrid, BM25 + embeddings, as in Mem0 and the paper.
                          The --model folder itself uses the chat model's own hidden states. Default: BM25 only
  --script FILE           instead of a model: scripted replies per agent, for smoke tests
                          {"extract": [...], "manage": [...], "answer": [...], "judge": [...]}
  --answer-endpoint-model NAME  with --endpoint: the Answer Agent's model (e.g. an adapter's served name)
  --judge-endpoint-model NAME   the judge on a model server (--endpoint's, or --judge-endpoint URL; also
                          beside --model or --script)
  --out FILE              results and summary as JSON; the table goes to FILE.md
  --json                  print the summary as JSON instead of the table
Smoke tests only (a fraction of the benchmark, not comparable with published numbers):
  --conversations N       the first N conversations of the split
  --questions N           the first N questions of each conversation
  --turns N               the first N turns of each conversation
  --max-new-tokens N      cap every agent's reply at N tokens (the agents' defaults: 512 / 1024 / 256)

Progress is kept next to --out (FILE.state.jsonl, FILE.banks/): after a kill or Ctrl-C, the same command
resumes, skipping answered questions and banks already built. Another model, adapter, judge or --turns
with the same --out is refused (use another --out). A model server that fails (down, busy, cut off)
after its retries stops the run with what to do; rerunning resumes it, with no answer lost or counted twice.
Categories follow Memory-R1's naming (1 single-hop, 2 temporal, 3 multi-hop, 4 open-domain), not LoCoMo's own.

${ENDPOINT_USAGE}`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      data: { type: 'string' },
      split: { type: 'string' },
      model: { type: 'string' },
      adapter: { type: 'string' },
      'manager-adapter': { type: 'string' },
      judge: { type: 'string' },
      embed: { type: 'string' },
      script: { type: 'string' },
      out: { type: 'string' },
      conversations: { type: 'string' },
      questions: { type: 'string' },
      turns: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      json: { type: 'boolean', default: false },
      'answer-endpoint-model': { type: 'string' },
      'judge-endpoint-model': { type: 'string' },
      'judge-endpoint': { type: 'string' },
      ...ENDPOINT_OPTIONS,
    });
    const dataPath = requireOption(values.data, '--data');
    const split = requireOption(values.split, '--split');
    if (!(SPLITS as readonly string[]).includes(split)) throw new UsageError(`--split must be one of ${SPLITS.join(', ')}, got "${split}"`);
    const out = requireOption(values.out, '--out');
    const limit = (value: string | undefined, flag: string) => (value === undefined ? undefined : numberOption(value, flag, 0, { integer: true, min: 1 }));
    const limits = {
      ...(values.conversations !== undefined ? { conversations: limit(values.conversations, '--conversations')! } : {}),
      ...(values.questions !== undefined ? { questions: limit(values.questions, '--questions')! } : {}),
      ...(values.turns !== undefined ? { turns: limit(values.turns, '--turns')! } : {}),
    };
    const sources = [values.script, values.model, values.endpoint].filter((v) => v !== undefined).length;
    if (sources > 1) throw new UsageError('give one of --model, --endpoint or --script');
    if (sources === 0) throw new UsageError('missing --model or --endpoint (or --script for a scripted smoke test)');
    if (values.endpoint !== undefined) {
      for (const flag of ['adapter', 'manager-adapter', 'judge', 'embed'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --model (on a model server, name models with --answer-endpoint-model / --judge-endpoint-model)`);
    } else {
      if (values['answer-endpoint-model'] !== undefined) throw new UsageError('--answer-endpoint-model needs --endpoint');
      if (values['judge-endpoint-model'] !== undefined && values['judge-endpoint'] === undefined) throw new UsageError('--judge-endpoint-model needs --endpoint or --judge-endpoint URL');
      if (values['judge-endpoint-model'] !== undefined && values.judge !== undefined) throw new UsageError('give --judge DIR or --judge-endpoint-model NAME, not both');
    }
    if (values.script !== undefined) {
      for (const flag of ['adapter', 'manager-adapter', 'judge', 'embed'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --model (a script has no adapters; put judge replies in the script)`);
    }

    const conversations = conversationsOf(await readLocomoFile(dataPath), split as Split);
    const models =
      values.script !== undefined
        ? await openScripted(values.script)
        : values.endpoint !== undefined
          ? openEndpoints(values)
          : await openLocal({
            model: resolve(values.model!),
            ...(values.adapter ? { adapter: resolve(values.adapter) } : {}),
            ...(values['manager-adapter'] ? { managerAdapter: resolve(values['manager-adapter']) } : {}),
            ...(values.judge ? { judge: resolve(values.judge) } : {}),
            ...(values.embed ? { embed: resolve(values.embed) } : {}),
          });
    // A judge on a model server beside agents on this machine (or a script).
    if (values.endpoint === undefined && values['judge-endpoint-model'] !== undefined) {
      const judge = openEndpoint(values, process.env, values['judge-endpoint-model'], values['judge-endpoint'])!;
      models.judge = judge.model;
      models.identity = { ...models.identity, judge: judge.identity };
    }
    const controller = new AbortController();
    const interrupt = () => controller.abort(new Error('interrupted'));
    process.once('SIGINT', interrupt);
    const bar = progressReporter('eval');
    const onProgress = (p: EvalProgress) =>
      bar(p.questionsDone, p.questionsTotal, [p.phase === 'ingest' ? `${p.sampleId} ingest ${p.turn}/${p.turns}` : p.sampleId, formatEta(p.etaMs)].filter(Boolean).join(' '));
    const cap = values['max-new-tokens'] === undefined ? undefined : numberOption(values['max-new-tokens'], '--max-new-tokens', 0, { integer: true, min: 1 });
    const identity: RunIdentity = { split, turns: limits.turns ?? null, ...models.identity };
    try {
      const run = await runLocomoEval({
        conversations,
        model: models.model,
        ...(models.answerModel ? { answerModel: models.answerModel } : {}),
        ...(models.judge ? { judge: models.judge } : {}),
        store: new FileEvalStore(out),
        identity,
        bankKey: models.bankKey,
        limits,
        ...(cap ? { sampling: { extract: { max_tokens: cap }, manage: { max_tokens: cap }, answer: { max_tokens: cap } } } : {}),
        onProgress,
        signal: controller.signal,
      });
      const report = buildReport(run.results, { method: `ours: ${models.label}`, split, ...(models.judgeLabel ? { judge: models.judgeLabel } : {}) });
      const markdown = reportMarkdown(report);
      await writeFile(out, `${JSON.stringify({ split, limits, identity, summary: report.ours, report, results: run.results }, null, 2)}\n`);
      await writeFile(`${out}.md`, markdown);
      if (values.json) console.log(JSON.stringify({ ...report.ours, answered: run.answered, skipped: run.skipped, out }));
      else console.log(`${markdown}\nAnswered ${run.answered}, already done ${run.skipped}; wrote ${out} and ${out}.md (progress in ${statePaths(out).state}).`);
      return 0;
    } catch (error) {
      if (controller.signal.aborted) {
        console.error(`\nmemory-r1 eval: interrupted; progress is saved, run the same command again to resume.`);
        return 130;
      }
      throw error;
    } finally {
      process.off('SIGINT', interrupt);
      models.close();
    }
  },
};
