// The LoCoMo benchmark (Maharana et al., ACL 2024; locomo10.json, CC BY-NC 4.0): a validated, typed view of
// the file's JSON text, and the Memory-R1 split. Pure (no file system): ./locomo.node reads a path.
import { z } from 'zod';
import { parseLocomoDate, type LocomoDate } from './locomo-date';

/**
 * QA categories, named as Memory-R1's and Mem0's result tables name them. LoCoMo's own code and paper call
 * 1 "multi-hop" and 4 "single-hop" (the other way round); the papers' overall scores reproduce only with
 * the naming below, so use it when comparing with Memory-R1 / Mem0 and say so in reports.
 */
export const CATEGORY_NAMES = {
  1: 'single-hop',
  2: 'temporal',
  3: 'multi-hop',
  4: 'open-domain',
  5: 'adversarial',
} as const;
export type Category = keyof typeof CATEGORY_NAMES;
/** The categories Memory-R1 and Mem0 evaluate (5, adversarial, has no gold answer and is excluded). */
export const EVALUATED_CATEGORIES: readonly Category[] = [1, 2, 3, 4];

export type Split = 'train' | 'validation' | 'test';
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];
/** Memory-R1's split: train on conv-26 (152 QA), validate on conv-30 (81), test on the other 8 (1307). */
const SPLIT_OF: Record<string, Split> = { 'conv-26': 'train', 'conv-30': 'validation' };

export function splitOf(sampleId: string): Split {
  return SPLIT_OF[sampleId] ?? 'test';
}

export interface LocomoTurn {
  speaker: string;
  /** "D<session>:<turn>", e.g. "D1:3"; what QA evidence refers to. */
  diaId: string;
  text: string;
  /** Image URLs shared with this turn (the file lists them). */
  imgUrls?: string[];
  /** BLIP's caption of the shared image: the only view of it a text model gets. */
  blipCaption?: string;
}

export interface LocomoSession {
  /** N of `session_N`. */
  index: number;
  /** Absent when the file has no `session_N_date_time` for this session. */
  date?: LocomoDate;
  turns: LocomoTurn[];
}

export interface LocomoQA {
  question: string;
  /** The gold answer as text (numbers in the file are stringified as Python's str() would). Category 5: the
   *  file's answer if it has one, else "" (the expected reply is that the conversation does not say). */
  answer: string;
  /** dia_ids as written; some match no turn (see `unmatchedEvidence`). */
  evidence: string[];
  category: Category;
  /** Category 5 only: the distractor answer the question tempts a model into. */
  adversarialAnswer?: string;
}

export interface LocomoConversation {
  sampleId: string;
  speakerA: string;
  speakerB: string;
  split: Split;
  /** Sessions in order of N. */
  sessions: LocomoSession[];
  qa: LocomoQA[];
  /** Session numbers with a `session_N_date_time` but no `session_N` (tolerated: the file has some). */
  datesWithoutSession: number[];
  /** Evidence ids of the loaded questions that match no turn: question index in `qa`, the id. */
  unmatchedEvidence: { qa: number; id: string }[];
  /** Category-5 questions left out (see LoadOptions.includeAdversarial). */
  adversarialExcluded: number;
}

export interface LoadOptions {
  /** Keep category-5 (adversarial) questions; Memory-R1 and Mem0 leave them out (default false). */
  includeAdversarial?: boolean;
}

/** The input is not a LoCoMo file; the message names the conversation and field and says what to do. */
export class LocomoFormatError extends Error {
  override name = 'LocomoFormatError';
}

const TurnSchema = z.object({
  speaker: z.string(),
  dia_id: z.string(),
  text: z.string(),
  img_url: z.union([z.string(), z.array(z.string())]).optional(),
  blip_caption: z.string().optional(),
});

const QASchema = z.object({
  question: z.string(),
  answer: z.union([z.string(), z.number()]).optional(),
  evidence: z.array(z.string()),
  category: z.literal([1, 2, 3, 4, 5]),
  adversarial_answer: z.string().optional(),
});

const ConversationSchema = z.looseObject({ speaker_a: z.string(), speaker_b: z.string() });

const ItemSchema = z.object({
  sample_id: z.string().min(1),
  conversation: ConversationSchema,
  qa: z.array(z.unknown()),
});

const SESSION_KEY = /^session_(\d+)$/;
const DATE_KEY = /^session_(\d+)_date_time$/;
const HINT = 'Load an unmodified locomo10.json (snap-research/LoCoMo, data/locomo10.json) or fix that field.';

function formatIssue(where: string, error: z.ZodError, prefix: (string | number)[] = []): LocomoFormatError {
  const issue = error.issues[0];
  const path = [...prefix, ...(issue?.path ?? [])]
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`))
    .join('');
  return new LocomoFormatError(`LoCoMo ${where}: ${path || 'item'}: ${issue?.message ?? 'invalid'}. ${HINT}`);
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string, prefix: (string | number)[]): T {
  const result = schema.safeParse(value);
  if (!result.success) throw formatIssue(where, result.error, prefix);
  return result.data;
}

function parseTurn(raw: unknown, where: string, path: (string | number)[]): LocomoTurn {
  const t = parseWith(TurnSchema, raw, where, path);
  const turn: LocomoTurn = { speaker: t.speaker, diaId: t.dia_id, text: t.text };
  if (t.img_url !== undefined) turn.imgUrls = typeof t.img_url === 'string' ? [t.img_url] : t.img_url;
  if (t.blip_caption !== undefined) turn.blipCaption = t.blip_caption;
  return turn;
}

function parseSessions(conversation: Record<string, unknown>, where: string) {
  const sessions = new Map<number, LocomoTurn[]>();
  const dates = new Map<number, LocomoDate>();
  for (const [key, value] of Object.entries(conversation)) {
    const session = SESSION_KEY.exec(key);
    const dateKey = DATE_KEY.exec(key);
    if (session) {
      if (!Array.isArray(value)) throw new LocomoFormatError(`LoCoMo ${where}: conversation.${key}: expected a list of turns. ${HINT}`);
      sessions.set(Number(session[1]), value.map((turn, i) => parseTurn(turn, where, ['conversation', key, i])));
    } else if (dateKey) {
      const date = typeof value === 'string' ? parseLocomoDate(value) : undefined;
      if (!date) {
        throw new LocomoFormatError(
          `LoCoMo ${where}: conversation.${key}: expected a date like "1:56 pm on 8 May, 2023", got ${JSON.stringify(value)}. ${HINT}`,
        );
      }
      dates.set(Number(dateKey[1]), date);
    }
  }
  const ordered = [...sessions.keys()].sort((a, b) => a - b);
  return {
    sessions: ordered.map((index): LocomoSession => {
      const date = dates.get(index);
      return { index, ...(date ? { date } : {}), turns: sessions.get(index) ?? [] };
    }),
    datesWithoutSession: [...dates.keys()].filter((n) => !sessions.has(n)).sort((a, b) => a - b),
  };
}

function parseQA(raw: unknown, where: string, index: number): LocomoQA {
  const q = parseWith(QASchema, raw, where, ['qa', index]);
  if (q.category !== 5 && q.answer === undefined) {
    throw new LocomoFormatError(`LoCoMo ${where}: qa[${index}].answer: missing (category ${q.category} needs a gold answer). ${HINT}`);
  }
  const qa: LocomoQA = { question: q.question, answer: q.answer === undefined ? '' : String(q.answer), evidence: q.evidence, category: q.category };
  if (q.adversarial_answer !== undefined) qa.adversarialAnswer = q.adversarial_answer;
  return qa;
}

function parseConversation(raw: unknown, position: number, options: LoadOptions): LocomoConversation {
  const guessedId = typeof raw === 'object' && raw !== null && 'sample_id' in raw ? String(raw.sample_id) : undefined;
  const where = guessedId ? `conversation ${guessedId}` : `item [${position}]`;
  const item = parseWith(ItemSchema, raw, where, []);
  const { sessions, datesWithoutSession } = parseSessions(item.conversation, where);
  const allQA = item.qa.map((q, i) => parseQA(q, where, i));
  const qa = options.includeAdversarial ? allQA : allQA.filter((q) => q.category !== 5);
  const turnIds = new Set(sessions.flatMap((s) => s.turns.map((t) => t.diaId)));
  const unmatchedEvidence = qa.flatMap((q, i) => q.evidence.filter((id) => !turnIds.has(id)).map((id) => ({ qa: i, id })));
  return {
    sampleId: item.sample_id,
    speakerA: item.conversation.speaker_a,
    speakerB: item.conversation.speaker_b,
    split: splitOf(item.sample_id),
    sessions,
    qa,
    datesWithoutSession,
    unmatchedEvidence,
    adversarialExcluded: allQA.length - qa.length,
  };
}

/** Parses and validates the text of locomo10.json (or a file of the same shape). Throws LocomoFormatError. */
export function parseLocomo(jsonText: string, options: LoadOptions = {}): LocomoConversation[] {
  let data: unknown;
  try {
    data = JSON.parse(jsonText);
  } catch (error) {
    throw new LocomoFormatError(`LoCoMo: not JSON (${(error as Error).message}). ${HINT}`);
  }
  if (!Array.isArray(data)) throw new LocomoFormatError(`LoCoMo: expected a JSON list of conversations, got ${typeof data}. ${HINT}`);
  const conversations = data.map((item, i) => parseConversation(item, i, options));
  const seen = new Set<string>();
  for (const c of conversations) {
    if (seen.has(c.sampleId)) throw new LocomoFormatError(`LoCoMo conversation ${c.sampleId}: sample_id appears twice. ${HINT}`);
    seen.add(c.sampleId);
  }
  return conversations;
}

/** The conversations of one split of Memory-R1's. */
export function conversationsOf(conversations: readonly LocomoConversation[], split: Split): LocomoConversation[] {
  return conversations.filter((c) => c.split === split);
}
