// A seeded generator of LoCoMo-format conversations, small in vocabulary and length, so the whole
// Memory-R1 loop (loader, split, tuples, rewards, trainer, runner, report) can be scored offline on a model
// small enough to train here. Two speakers talk over dated sessions; each states facts about themselves,
// later refines them (a pet's name), contradicts them (a move, a new job), mentions trips with relative
// dates ("two days ago") and facts that only make sense with the previous turn (an answer to a question).
// Questions of the four evaluated categories come with their gold answers and evidence dia_ids.
//
// Conversation 0 is "conv-26" and 1 is "conv-30", so the loader's Memory-R1 split makes them the training
// and validation conversations; the rest ("gen-N") are the test split. The training conversation gets
// more trips (the paper trains on one conversation with many questions).
//
// The output is JSON-able data in locomo10.json's shape; `generatedFacts` is the inverse of the turn
// templates (what a perfect extractor would find), used by the scripted bank builder (./generated-oracle).
import { formatDate } from '../agents/dates';
import { createRng, type Rng } from '../model/rng';
import type { Category } from './locomo';

export const NAMES = ['Anna', 'Tom', 'Maria', 'Ben', 'Lisa', 'Sam', 'Nora', 'Omar'] as const;
export const SISTERS = ['Eva', 'Mia', 'Ida', 'Zoe', 'Ada'] as const;
export const PETS = { dog: 'bark', cat: 'meow', cow: 'moo', duck: 'quack' } as const;
export const PET_NAMES = ['Max', 'Rex', 'Luna', 'Coco', 'Bella'] as const;
export const CITIES = { Paris: 'France', Rome: 'Italy', Berlin: 'Germany', Oslo: 'Norway', Madrid: 'Spain' } as const;
export const JOBS = ['nurse', 'teacher', 'cook', 'pilot', 'baker'] as const;
export const SPORTS = ['chess', 'tennis', 'golf', 'yoga', 'judo'] as const;
export const PLACES = ['zoo', 'beach', 'lake', 'museum', 'park', 'market', 'farm', 'library'] as const;
const AGO = [
  ['Yesterday', 1],
  ['Two days ago', 2],
  ['Three days ago', 3],
] as const;
const FILLERS = ['Nice!', 'Oh, really?', 'That sounds good.', 'Cool.', 'I see.', 'Tell me more.'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** One turn as locomo10.json writes it. */
export interface RawTurn {
  speaker: string;
  dia_id: string;
  text: string;
}
export interface RawQA {
  question: string;
  answer: string;
  evidence: string[];
  category: Category;
}
/** One conversation as locomo10.json writes it (only the fields the loader reads). */
export interface RawConversation {
  sample_id: string;
  conversation: Record<string, string | RawTurn[]>;
  qa: RawQA[];
}

export interface GenerateOptions {
  conversations: number;
  seed: number;
  /** Sessions per conversation (default 3). */
  sessions?: number;
  /** Trips per speaker beyond the fixed episodes in a test conversation (default 1); the training one gets twice as many (more questions to learn from, prompts still under 2,048 tokens for a tiny model). */
  trips?: number;
}

export const TRAIN_ID = 'conv-26';
/** The training conversation's trips per speaker, as a multiple of a test conversation's. */
const TRAIN_TRIP_FACTOR = 2;
export const VALIDATION_ID = 'conv-30';

/** A line someone says in a session, with the questions that cite it (filled in when dia_ids are known). */
interface Line {
  speaker: string;
  text: string;
  /** Lines that must come first, in this or an earlier session (the statement a refinement builds on). */
  after?: Line;
  /** The other speaker says this right before (a question the line answers). */
  prompt?: string;
  diaId?: string;
}
interface PendingQA {
  question: string;
  answer: string;
  category: Category;
  evidence: Line[];
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
/** Two different items. */
function pickTwo<T>(rng: Rng, items: readonly T[]): [T, T] {
  const [a, b] = shuffle(rng, [...items]);
  return [a!, b!];
}

/** "1:56 pm on 8 May, 2023", the form LoCoMo's session dates take. */
function locomoDateText(date: Date, rng: Rng): string {
  const hour = 1 + Math.floor(rng() * 12);
  const minute = String(Math.floor(rng() * 60)).padStart(2, '0');
  return `${hour}:${minute} ${rng() < 0.5 ? 'am' : 'pm'} on ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]}, ${date.getUTCFullYear()}`;
}

/** The episodes of one speaker: their lines (placed in sessions later) and the questions about them. */
function speakerEpisodes(rng: Rng, speaker: string, trips: number, sessionOf: (line: Line, earliest: number) => void, sessionDates: Date[], qa: PendingQA[]): void {
  const sessions = sessionDates.length;
  const later = (from: number) => from + Math.floor(rng() * (sessions - from));
  // A pet, stated (sometimes as the answer to a question), then named in a later session.
  const pet = pick(rng, Object.keys(PETS) as (keyof typeof PETS)[]);
  const asked = rng() < 0.5;
  const hasPet: Line = asked ? { speaker, text: `Yes, a ${pet}.`, prompt: 'Do you have a pet?' } : { speaker, text: `I have a ${pet}.` };
  const s0 = later(0);
  sessionOf(hasPet, s0);
  const petName = pick(rng, PET_NAMES);
  const named: Line = { speaker, text: `My ${pet} is called ${petName}.`, after: hasPet };
  sessionOf(named, later(s0));
  qa.push({ question: `What pet does ${speaker} have?`, answer: pet, category: 1, evidence: [hasPet] });
  qa.push({ question: `What is the name of ${speaker}'s ${pet}?`, answer: petName, category: 1, evidence: [named] });
  qa.push({ question: `What sound does ${speaker}'s pet make?`, answer: PETS[pet], category: 4, evidence: [hasPet] });

  // A city, then a move that contradicts it.
  const [city, newCity] = pickTwo(rng, Object.keys(CITIES) as (keyof typeof CITIES)[]);
  const lives: Line = { speaker, text: `I live in ${city}.` };
  const s1 = later(0);
  sessionOf(lives, s1);
  const moved: Line = { speaker, text: `I moved to ${newCity}.`, after: lives };
  sessionOf(moved, later(s1));
  qa.push({ question: `Where does ${speaker} live now?`, answer: newCity, category: 1, evidence: [lives, moved] });
  qa.push({ question: `In which country does ${speaker} live now?`, answer: CITIES[newCity], category: 4, evidence: [moved] });
  qa.push({ question: `Where did ${speaker} live before moving?`, answer: city, category: 3, evidence: [lives, moved] });

  // A job, later changed.
  const [job, newJob] = pickTwo(rng, JOBS);
  const works: Line = { speaker, text: `I work as a ${job}.` };
  const s2 = later(0);
  sessionOf(works, s2);
  const changed: Line = { speaker, text: `I am not a ${job} any more, now I am a ${newJob}.`, after: works };
  sessionOf(changed, later(s2));
  qa.push({ question: `What is ${speaker}'s job now?`, answer: newJob, category: 1, evidence: [works, changed] });

  // A sister and her job: two turns, one question (multi-hop).
  const sister = pick(rng, SISTERS);
  const sisterJob = pick(rng, JOBS);
  const hasSister: Line = { speaker, text: `My sister is called ${sister}.` };
  const s3 = later(0);
  sessionOf(hasSister, s3);
  const sisterWorks: Line = { speaker, text: `${sister} works as a ${sisterJob}.`, after: hasSister };
  sessionOf(sisterWorks, later(s3));
  qa.push({ question: `What is the job of ${speaker}'s sister?`, answer: sisterJob, category: 3, evidence: [hasSister, sisterWorks] });

  // A sport.
  const sport = pick(rng, SPORTS);
  const plays: Line = { speaker, text: `I play ${sport}.` };
  sessionOf(plays, later(0));
  qa.push({ question: `What sport does ${speaker} play?`, answer: sport, category: 1, evidence: [plays] });

  // Trips with a relative date: the answer is the date it resolves to on the session's date.
  const places = shuffle(rng, [...PLACES]).slice(0, Math.min(trips, PLACES.length));
  for (const place of places) {
    const [phrase, days] = pick(rng, AGO);
    const trip: Line = { speaker, text: `${phrase} I went to the ${place}.` };
    const session = later(0);
    sessionOf(trip, session);
    const day = new Date(sessionDates[session]!.getTime() - days * 86_400_000);
    qa.push({ question: `When did ${speaker} go to the ${place}?`, answer: formatDate(day), category: 2, evidence: [trip] });
  }
}

function generateConversation(rng: Rng, sampleId: string, sessions: number, trips: number): RawConversation {
  const [a, b] = pickTwo(rng, NAMES);
  const start = Date.UTC(2023, Math.floor(rng() * 10), 1 + Math.floor(rng() * 25));
  const dates: Date[] = [];
  for (let s = 0, t = start; s < sessions; s++, t += (3 + Math.floor(rng() * 8)) * 86_400_000) dates.push(new Date(t));
  const bySession: Line[][] = Array.from({ length: sessions }, () => []);
  const placed = new Map<Line, number>();
  const sessionOf = (line: Line, session: number) => {
    const earliest = line.after ? placed.get(line.after)! : 0;
    const s = Math.max(session, earliest);
    placed.set(line, s);
    bySession[s]!.push(line);
  };
  const pending: PendingQA[] = [];
  for (const speaker of [a, b]) speakerEpisodes(rng, speaker, trips, sessionOf, dates, pending);

  const conversation: Record<string, string | RawTurn[]> = { speaker_a: a, speaker_b: b };
  for (let s = 0; s < sessions; s++) {
    // Shuffle, then move each refinement after what it refines (a stable pass keeps the rest random).
    const lines = shuffle(rng, bySession[s]!);
    const ordered: Line[] = [];
    const pendingLines = [...lines];
    while (pendingLines.length) {
      const index = pendingLines.findIndex((l) => !l.after || placed.get(l.after)! < s || ordered.includes(l.after));
      ordered.push(...pendingLines.splice(index, 1));
    }
    const turns: RawTurn[] = [];
    const say = (speaker: string, text: string) => turns.push({ speaker, dia_id: `D${s + 1}:${turns.length + 1}`, text });
    say(a, `Hi ${b}! How are you?`);
    say(b, `Hi ${a}! Good, thanks.`);
    for (const line of ordered) {
      const other = line.speaker === a ? b : a;
      // Turns alternate: whoever is not next speaks a short reply first; an asked question is that reply.
      if (turns.at(-1)!.speaker === line.speaker) say(other, line.prompt ?? pick(rng, FILLERS));
      else if (line.prompt) {
        say(line.speaker, pick(rng, FILLERS));
        say(other, line.prompt);
      }
      say(line.speaker, line.text);
      line.diaId = turns.at(-1)!.dia_id;
    }
    say(turns.at(-1)!.speaker === a ? b : a, 'Bye, see you soon!');
    conversation[`session_${s + 1}_date_time`] = locomoDateText(dates[s]!, rng);
    conversation[`session_${s + 1}`] = turns;
  }
  const qa = pending.map((q) => ({ question: q.question, answer: q.answer, evidence: q.evidence.map((l) => l.diaId!), category: q.category }));
  return { sample_id: sampleId, conversation, qa };
}

/** `conversations` seeded conversations: the same options always give the same data. */
export function generateLocomo(options: GenerateOptions): RawConversation[] {
  const { conversations, seed } = options;
  if (!Number.isInteger(conversations) || conversations < 1) throw new Error(`conversations must be a positive integer, got ${conversations}`);
  const sessions = options.sessions ?? 3;
  if (!Number.isInteger(sessions) || sessions < 2) throw new Error(`sessions must be an integer ≥ 2 (facts are refined in a later session), got ${sessions}`);
  const trips = options.trips ?? 1;
  if (!Number.isInteger(trips) || trips < 0) throw new Error(`trips must be a non-negative integer, got ${trips}`);
  const out: RawConversation[] = [];
  for (let i = 0; i < conversations; i++) {
    // Each conversation has its own stream, so conversation i does not depend on how many follow it.
    const rng = createRng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
    const id = i === 0 ? TRAIN_ID : i === 1 ? VALIDATION_ID : `gen-${i}`;
    out.push(generateConversation(rng, id, sessions, i === 0 ? TRAIN_TRIP_FACTOR * trips : trips));
  }
  return out;
}

/** The generated file's text, as `memory-r1 data generate` writes it. */
export function generateLocomoText(options: GenerateOptions): string {
  return `${JSON.stringify(generateLocomo(options), null, 1)}\n`;
}

// ── What a perfect extractor finds in a generated turn ────────────────────────────────────────────────

const TEMPLATES: [RegExp, (s: string, m: RegExpExecArray) => string][] = [
  [/^I have an? (\w+)\.$/, (s, m) => `${s} has a ${m[1]}.`],
  [/^Yes, an? (\w+)\.$/, (s, m) => `${s} has a ${m[1]}.`],
  [/^My (\w+) is called (\w+)\.$/, (s, m) => `${s}'s ${m[1]} is called ${m[2]}.`],
  [/^I live in (\w+)\.$/, (s, m) => `${s} lives in ${m[1]}.`],
  [/^I moved to (\w+)\.$/, (s, m) => `${s} lives in ${m[1]}.`],
  [/^I work as an? (\w+)\.$/, (s, m) => `${s} works as a ${m[1]}.`],
  [/^I am not an? \w+ any more, now I am an? (\w+)\.$/, (s, m) => `${s} works as a ${m[1]}.`],
  [/^My sister is called (\w+)\.$/, (s, m) => `${s}'s sister is called ${m[1]}.`],
  [/^(\w+) works as an? (\w+)\.$/, (s, m) => `${s}'s sister ${m[1]} works as a ${m[2]}.`],
  [/^I play (\w+)\.$/, (s, m) => `${s} plays ${m[1]}.`],
];
const TRIP = /^(Yesterday|Two days ago|Three days ago) I went to the (\w+)\.$/;

/**
 * The facts a perfect extractor writes for a generated turn (third person, dates resolved), or none
 * for small talk. `previous` is the turn before: "Yes, a dog." states a fact only after "Do you have a pet?".
 */
export function generatedFacts(speaker: string, text: string, sessionDate: Date | undefined, previous?: string): string[] {
  const trip = TRIP.exec(text);
  if (trip) {
    const days = AGO.find(([phrase]) => phrase === trip[1])![1];
    const when = sessionDate ? ` on ${formatDate(new Date(sessionDate.getTime() - days * 86_400_000))}` : '';
    return [`${speaker} went to the ${trip[2]}${when}.`];
  }
  if (/^Yes, /.test(text) && previous !== 'Do you have a pet?') return [];
  for (const [pattern, fact] of TEMPLATES) {
    const m = pattern.exec(text);
    if (m) return [fact(speaker, m)];
  }
  return [];
}

/** The subject a generated fact is about (what a newer fact about it replaces), e.g. "Anna lives in". */
export function factSlot(fact: string): string | undefined {
  const m = /^(\w+(?:'s (?:\w+))?) (lives in|works as|has a|is called|plays|went to the \w+)/.exec(fact) ?? /^(\w+'s sister \w+) (works as)/.exec(fact);
  return m ? `${m[1]} ${m[2]}` : undefined;
}
