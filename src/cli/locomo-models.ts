// The models a LoCoMo training run uses besides the policy, opened from the command line:
//   --bank-model DIR           a separate model builds the tuples' memory banks (the paper builds them with
//                              a strong model, not the one being trained);
//   --answer-bank-adapter DIR  the answer tuples' banks are kept by this (trained) manager adapter on the
//                              policy's base model (the paper's Algorithm 2);
//   --embed DIR                memories and questions are embedded (mean-pooled hidden states) for hybrid
//                              retrieval in the tuples and the manager's reward; --model's own folder uses
//                              the policy's base model itself.
import type { GpuContext } from '../gpu/device';
import type { ChatModel } from '../llm/chat-model';
import { LocalChatModel, type LocalEmbedder } from '../llm/local';
import { Engine } from '../model/engine';
import { readPeftFiles } from '../model/peft';
import { DirectorySource } from '../model/source.node.js';

export interface LocomoModelPaths {
  bankModel?: string | undefined;
  answerBankAdapter?: string | undefined;
  embed?: string | undefined;
}

export interface LocomoModels {
  bankModel?: ChatModel;
  answerBankModel?: ChatModel;
  embedding?: LocalEmbedder;
  /** What the tuples depend on beyond the policy's folder (for the cache identity). */
  identity: { bankModel: string | null; answerBankAdapter: string | null; embed: string | null };
  dispose(): void;
}

const ANSWER_BANK_ADAPTER = 'answer-bank-manager';

export async function openLocomoModels(gpu: GpuContext, policy: Engine, policyDir: string, paths: LocomoModelPaths): Promise<LocomoModels> {
  const opened: Engine[] = [];
  const load = async (dir: string) => {
    const engine = await Engine.load(new DirectorySource(dir), gpu);
    opened.push(engine);
    return engine;
  };
  const embedding = paths.embed === undefined ? undefined : paths.embed === policyDir ? policy : await load(paths.embed);
  const withEmbedding = embedding ? { embedding } : {};
  const bankModel = paths.bankModel ? new LocalChatModel(await load(paths.bankModel), { id: `local:${paths.bankModel}`, ...withEmbedding }) : undefined;
  let answerBankModel: ChatModel | undefined;
  if (paths.answerBankAdapter) {
    policy.addAdapter(ANSWER_BANK_ADAPTER, await readPeftFiles(new DirectorySource(paths.answerBankAdapter)));
    answerBankModel = new LocalChatModel(policy, { adapter: ANSWER_BANK_ADAPTER, id: `local:${policyDir}+${paths.answerBankAdapter}`, ...withEmbedding });
  }
  return {
    ...(bankModel ? { bankModel } : {}),
    ...(answerBankModel ? { answerBankModel } : {}),
    ...(embedding ? { embedding } : {}),
    identity: { bankModel: paths.bankModel ?? null, answerBankAdapter: paths.answerBankAdapter ?? null, embed: paths.embed ?? null },
    dispose: () => {
      for (const engine of opened) engine.dispose();
      if (paths.answerBankAdapter && !policy.isDisposed) policy.removeAdapter(ANSWER_BANK_ADAPTER);
    },
  };
}
