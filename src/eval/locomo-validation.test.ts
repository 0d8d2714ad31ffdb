// Validation on conv-30 (the trainer's validateEvery hook), with scripted models standing in for the
// engine's adapters: the answer task scores the policy's answers over banks built once by the bank
// builder; the manager task lets the policy build the banks and the frozen base model answer.
import { describe, expect, it } from 'vitest';
import type { ChatModel, ChatRequest } from '../llm/chat-model';
import type { LocalEngine } from '../llm/local';
import { ScriptedChatModel } from '../llm/scripted';
import { generateLocomoText } from './generate';
import { generatedBankModel } from './generated-oracle';
import { conversationsOf, parseLocomo } from './locomo';
import { locomoValidator } from './locomo-validation';
import { agentOf } from './script-model';

const validation = conversationsOf(parseLocomo(generateLocomoText({ conversations: 2, seed: 4 })), 'validation');
const golds = new Map(validation[0]!.qa.map((q) => [q.question, q.answer]));
const question = (request: ChatRequest) => JSON.parse(/^Question: (".*")$/m.exec(request.messages[1]!.content)![1]!) as string;
/** Answers right exactly when the gold is among the memories it was shown. */
const reader = new ScriptedChatModel((request) => {
  const gold = golds.get(question(request))!;
  return `Memories used: 0\n**Answer:** ${request.messages[1]!.content.includes(gold) ? gold : 'unknown'}`;
});
const unusedEngine = {} as LocalEngine;

describe('LoCoMo validation on conv-30', () => {
  it('answer task: the policy answers over banks the bank builder makes once', async () => {
    const oracle = generatedBankModel();
    const calls = () => oracle.requests.length;
    const wrong = new ScriptedChatModel(() => '**Answer:** nothing');
    const modelFor = (adapter: string | undefined): ChatModel => (adapter === 'good' ? reader : wrong);
    const validate = locomoValidator('locomo-answer', unusedEngine, { conversations: validation, bankModel: oracle, modelFor });
    const open = validation[0]!.qa.filter((q) => q.category !== 4).length / validation[0]!.qa.length; // world knowledge is not in the bank
    expect(await validate({ adapterName: 'good', step: 1 })).toBeCloseTo(open, 10);
    const built = calls();
    expect(built).toBeGreaterThan(0);
    expect(await validate({ adapterName: 'bad', step: 2 })).toBe(0);
    expect(calls()).toBe(built); // the banks were kept, not rebuilt
  });

  it('manager task: the policy builds the banks, the frozen base model answers', async () => {
    const oracle = generatedBankModel();
    const keepsNothing = new ScriptedChatModel((request) => (agentOf(request) === 'manage' ? '{"memory": []}' : oracle.chat(request).then((r) => r.text)));
    const router = (manager: ChatModel) => new ScriptedChatModel((request) => (agentOf(request) === 'answer' ? reader : manager).chat(request).then((r) => r.text));
    const modelFor = (adapter: string | undefined): ChatModel => (adapter === undefined ? reader : adapter === 'good' ? router(oracle) : router(keepsNothing));
    const validate = locomoValidator('locomo-manager', unusedEngine, { conversations: validation, modelFor, questions: 6 });
    expect(await validate({ adapterName: 'good', step: 1 })).toBeGreaterThan(0.3);
    expect(await validate({ adapterName: 'forgetful', step: 2 })).toBe(0);
    await expect(locomoValidator('locomo-answer', unusedEngine, { conversations: [], modelFor })({ adapterName: 'x', step: 1 })).rejects.toThrow(/No validation conversation/);
  });

  it('manager task with a fixed extractor: the policy only decides the operations on its facts', async () => {
    const oracle = generatedBankModel();
    const asked: string[] = [];
    const managesOnly = (manager: ChatModel) => new ScriptedChatModel((request) => (asked.push(agentOf(request) ?? '?'), manager.chat(request).then((r) => r.text)));
    const keepsNothing = new ScriptedChatModel(() => '{"memory": []}');
    const modelFor = (adapter: string | undefined): ChatModel => (adapter === undefined ? reader : managesOnly(adapter === 'good' ? oracle : keepsNothing));
    const validate = locomoValidator('locomo-manager', unusedEngine, { conversations: validation, modelFor, extractModel: generatedBankModel(), questions: 6 });
    expect(await validate({ adapterName: 'good', step: 1 })).toBeGreaterThan(0.3);
    expect(await validate({ adapterName: 'forgetful', step: 2 })).toBe(0);
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set(['manage']));
  });
});
