// One chat turn: the user's message goes into memory (facts → manager operations → the bank), then the
// answer agent answers it from retrieved memories, its reply streamed as it is generated.
import { MemoryPipeline, type AskReport, type IngestReport, type PipelineEvent } from '../../agents';
import type { ChatModel } from '../../llm/chat-model';
import { storeBank, type MemoryStore } from '../../memory';
import type { Settings } from '../settings';

export interface TurnRequest {
  model: ChatModel;
  store: MemoryStore;
  bankId: string;
  settings: Settings;
  speaker: string;
  text: string;
  turnId: string;
  sessionDate: string;
  signal: AbortSignal;
}

export interface TurnCallbacks {
  onStep(label: string): void;
  onToken(delta: string): void;
}

const STEP_LABELS: Record<string, string> = {
  'ingest:extract': 'Picking out facts…',
  'ingest:retrieve': 'Looking up related memories…',
  'ingest:manage': 'Deciding memory operations…',
  'ingest:apply': 'Updating memory…',
  'ask:retrieve': 'Retrieving memories…',
  'ask:answer': 'Answering…',
};

/** The same model, with every reply streamed to `onToken` (the pipeline itself does not stream). */
export function streaming(model: ChatModel, onToken: (delta: string) => void): ChatModel {
  return { id: model.id, chat: (request) => model.chat({ ...request, onToken }) };
}

/** A pipeline over the bank with the user's sampling settings. */
export function pipelineFor(model: ChatModel, store: MemoryStore, bankId: string, settings: Settings, answerModel?: ChatModel): MemoryPipeline {
  return new MemoryPipeline({
    model,
    bank: storeBank(store, bankId),
    ...(answerModel ? { answerModel } : {}),
    perSpeaker: settings.perSpeaker,
    sampling: { manage: { temperature: settings.managerTemperature }, answer: { temperature: settings.temperature } },
  });
}

export function stepLabel(event: PipelineEvent): string | undefined {
  return event.type === 'step-start' ? STEP_LABELS[`${event.run}:${event.step}`] : undefined;
}

/** A one-line summary of what a turn did to the bank ("1 added, 1 updated"). */
export function summariseIngest(report: IngestReport): string {
  if (report.fellBack) return 'The memory manager’s reply was unusable; nothing was changed.';
  const counts = new Map<string, number>();
  for (const op of report.applied) counts.set(op.event, (counts.get(op.event) ?? 0) + 1);
  const words: Record<string, string> = { ADD: 'added', UPDATE: 'updated', DELETE: 'deleted', NONE: 'already known' };
  const parts = [...counts].map(([event, n]) => `${n} ${words[event] ?? event}`);
  if (report.rejected.length) parts.push(`${report.rejected.length} rejected`);
  return parts.length ? `Memory: ${parts.join(', ')}` : 'Nothing new to remember';
}

export async function runTurn(request: TurnRequest, callbacks: TurnCallbacks): Promise<{ ingest: IngestReport; reply: AskReport }> {
  const { model, store, bankId, settings, signal } = request;
  const pipeline = pipelineFor(model, store, bankId, settings, streaming(model, callbacks.onToken));
  const off = pipeline.on((event) => {
    const label = stepLabel(event);
    if (label) callbacks.onStep(label);
  });
  try {
    const ingest = await pipeline.ingest({ id: request.turnId, speaker: request.speaker, text: request.text, sessionDate: request.sessionDate }, { signal });
    const reply = await pipeline.ask(request.text, { signal, date: request.sessionDate });
    return { ingest, reply };
  } finally {
    off();
  }
}
