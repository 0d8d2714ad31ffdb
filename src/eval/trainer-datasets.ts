// Memory-R1's training tuples as the datasets cluster trainers read, one row per tuple:
// - TRL (GRPOTrainer): a conversational prompt dataset, `prompt` a list of {role, content} messages;
//   the other columns reach reward functions as keyword arguments (tuple_id names the tuple to score).
// - verl (RL dataset): data_source, prompt (chat messages), ability, reward_model {style, ground_truth},
//   extra_info {split, index, ...}: the columns verl's RL dataset and its reward managers read.
// The rewards need the whole tuple (the manager's: its bank snapshot and linked questions), so rows carry
// its id and the reward server (reward-server.ts) looks the tuple up; ground_truth is also in the row
// for rule-based checks and for reading the data.
import type { ChatMessage } from '../llm/chat-model';
import type { LocomoTaskName } from './locomo-task';
import type { AnswerTuple, ManagerTuple, TrainingTuples } from './tuples';

export const DATA_SOURCE: Record<LocomoTaskName, string> = { 'locomo-answer': 'memory_r1_locomo_answer', 'locomo-manager': 'memory_r1_locomo_manager' };
const ABILITY: Record<LocomoTaskName, string> = { 'locomo-answer': 'memory_qa', 'locomo-manager': 'memory_management' };

export const answerTupleId = (t: Pick<AnswerTuple, 'sampleId' | 'qaIndex'>) => `answer:${t.sampleId}#${t.qaIndex}`;
export const managerTupleId = (t: Pick<ManagerTuple, 'turn'>) => `manager:${t.turn.id}`;

/** What the reward of one row is checked against. */
export interface RowSource {
  tupleId: string;
  sampleId: string;
  prompt: ChatMessage[];
  /** Answer: the gold answer. Manager: the linked questions' gold answers, as a JSON array. */
  groundTruth: string;
  /** Manager: the linked questions; answer: the one question. */
  questions: string[];
}

export function rowSources(task: LocomoTaskName, tuples: TrainingTuples): RowSource[] {
  if (task === 'locomo-answer') {
    return tuples.answer.map((t) => ({ tupleId: answerTupleId(t), sampleId: t.sampleId, prompt: t.prompt, groundTruth: t.gold, questions: [t.question] }));
  }
  return tuples.manager.map((t) => ({
    tupleId: managerTupleId(t),
    sampleId: t.sampleId,
    prompt: t.prompt,
    groundTruth: JSON.stringify(t.questions.map((q) => q.gold)),
    questions: t.questions.map((q) => q.question),
  }));
}

export interface TrlRow {
  prompt: ChatMessage[];
  task: LocomoTaskName;
  tuple_id: string;
  ground_truth: string;
}

export function trlRows(task: LocomoTaskName, tuples: TrainingTuples): TrlRow[] {
  return rowSources(task, tuples).map((s) => ({ prompt: s.prompt.map((m) => ({ role: m.role, content: m.content })), task, tuple_id: s.tupleId, ground_truth: s.groundTruth }));
}

export interface VerlRow {
  data_source: string;
  prompt: ChatMessage[];
  ability: string;
  reward_model: { style: string; ground_truth: string };
  extra_info: { split: string; index: number; tuple_id: string; sample_id: string; questions: string[] };
}

export function verlRows(task: LocomoTaskName, tuples: TrainingTuples): VerlRow[] {
  return rowSources(task, tuples).map((s, index) => ({
    data_source: DATA_SOURCE[task],
    prompt: s.prompt.map((m) => ({ role: m.role, content: m.content })),
    ability: ABILITY[task],
    // "rule": scored by a function (ours, through the reward server), not a reward model worker.
    reward_model: { style: 'rule', ground_truth: s.groundTruth },
    extra_info: { split: 'train', index, tuple_id: s.tupleId, sample_id: s.sampleId, questions: s.questions },
  }));
}
