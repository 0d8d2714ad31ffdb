// Property-based fuzzing of raw model output through parse → validate → apply. Whatever the model
// writes, the manager must not throw and the bank must end exactly as an independent model of the rules
// says: only well-formed operations on shown memories, each memory touched at most once.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENTS } from '../memory';
import { ScriptedChatModel } from '../llm/scripted';
import { manageMemories, type ManagerResult } from './manager';
import type { ManagerOperation } from './schemas';
import { seededBank } from './test-helpers';

const RUNS = 200;
type Tally = { runs: number; operationsApplied: number; operationsRejected: number; fellBack: number; repaired: number; bankChanged: number };
const tallies: Record<string, Tally> = {};
let tally: Tally;
function startTally(name: string): void {
  tally = tallies[name] = { runs: 0, operationsApplied: 0, operationsRejected: 0, fellBack: 0, repaired: 0, bankChanged: 0 };
}

/** What the bank should hold after `operations`, by the rules alone (independent of planBatch). */
function expectedBank(initial: ReadonlyMap<string, string>, shown: readonly string[], operations: readonly ManagerOperation[]) {
  const kept = new Map(initial);
  const added: string[] = [];
  const touched = new Set<string>();
  let applied = 0;
  for (const op of operations) {
    if (op.text.length > 4000 || (op.old_memory?.length ?? 0) > 4000) continue;
    const text = op.text.trim();
    if (op.event === 'ADD') {
      if (text) {
        added.push(text);
        applied++;
      }
      continue;
    }
    const short = op.id.trim();
    const real = /^(0|[1-9]\d*)$/.test(short) ? shown[Number(short)] : undefined;
    if (real === undefined || touched.has(real)) continue;
    if (op.event === 'UPDATE' && (!text || text === initial.get(real))) continue;
    touched.add(real);
    applied++;
    if (op.event === 'UPDATE') kept.set(real, text);
    if (op.event === 'DELETE') kept.delete(real);
  }
  return { kept, added, applied };
}

const SEED_TEXTS = ['Caroline lives in Boston', 'Melanie paints', 'Caroline likes tea', 'Melanie has two kids'];

/** Runs the manager on `replies` over a fresh bank and checks the result against the model of the rules. */
async function check(replies: string[], seedCount: number): Promise<void> {
  const { bank, memories } = await seededBank(SEED_TEXTS.slice(0, seedCount));
  const initial = new Map(memories.map((m) => [m.id, m.text]));
  const historyBefore = bank.history.length;
  const model = new ScriptedChatModel(replies);
  let result: ManagerResult;
  try {
    result = await manageMemories(model, bank, ['a new fact'], memories);
  } catch (error) {
    throw new Error(`manager threw on ${JSON.stringify(replies)}: ${String(error)}`);
  }
  const expected = expectedBank(initial, memories.map((m) => m.id), result.operations);
  const after = await bank.list();
  const afterExisting = new Map(after.filter((m) => initial.has(m.id)).map((m) => [m.id, m.text]));
  const afterAdded = after.filter((m) => !initial.has(m.id)).map((m) => m.text);
  expect(afterExisting).toEqual(expected.kept);
  expect(afterAdded.sort()).toEqual([...expected.added].sort());
  expect(result.applied.length).toBe(expected.applied);
  expect(result.applied.length + result.rejected.length).toBe(result.operations.length);
  expect(bank.history.length - historyBefore).toBe(result.operations.length);
  if (result.fellBack) expect(result.operations).toEqual([]);

  tally.runs++;
  tally.operationsApplied += result.applied.length;
  tally.operationsRejected += result.rejected.length;
  if (result.fellBack) tally.fellBack++;
  if (!result.fellBack && result.attempts === 2) tally.repaired++;
  if (result.applied.some((a) => a.event !== 'NONE')) tally.bankChanged++;
}

const anyId = fc.oneof(
  fc.integer({ min: 0, max: 5 }).map(String),
  fc.integer({ min: 0, max: 5 }),
  fc.constantFrom('b:0', 'b:1', 'unknown:0', ' 1 ', '01', '-1', '1.0', ''),
  fc.string({ maxLength: 6 }),
);
// Mostly valid events, so that many batches get through to the bank and exercise its rules.
const anyEvent = fc.oneof(
  { arbitrary: fc.constantFrom(...EVENTS), weight: 12 },
  { arbitrary: fc.constantFrom('add', ' Update ', 'delete', 'MERGE', ''), weight: 2 },
  { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
);
const anyText = fc.oneof(fc.constantFrom(...SEED_TEXTS, '', '   ', 'Caroline moved to Paris', '</memories>', '"**Answer:** x'), fc.string({ maxLength: 30 }));
const anyOperation = fc.record(
  { id: anyId, event: anyEvent, text: anyText, old_memory: anyText },
  { requiredKeys: ['event'] },
);
const wrapped = (json: string) =>
  fc.constantFrom(json, '```json\n' + json + '\n```', `Here are the operations:\n${json}\nDone.`, `[${json}`, json.slice(0, -1));
const opsReply = fc.array(anyOperation, { maxLength: 6 }).chain((ops) => wrapped(JSON.stringify({ memory: ops })));

/** A valid reply with a few random character edits (deletions, insertions, replacements). */
const mutatedReply = fc
  .tuple(
    fc.array(anyOperation.filter((op) => (EVENTS as readonly unknown[]).includes(op.event)), { minLength: 1, maxLength: 4 }),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom('delete', 'insert', 'replace'), fc.constantFrom('"', '{', '}', '[', ']', ',', ':', 'x', '\\', ' ')), { minLength: 1, maxLength: 4 }),
  )
  .map(([ops, edits]) => {
    let text = JSON.stringify({ memory: ops });
    for (const [at, kind, char] of edits) {
      const i = at % (text.length + 1);
      text = kind === 'delete' ? text.slice(0, i) + text.slice(i + 1) : kind === 'insert' ? text.slice(0, i) + char + text.slice(i) : text.slice(0, i) + char + text.slice(i + 1);
    }
    return text;
  });

describe('manager fuzz: raw output → parse → validate → apply', () => {
  afterAll(() => {
    for (const [name, t] of Object.entries(tallies)) console.log(`manager fuzz [${name}]: ${JSON.stringify(t)}`);
  });

  it('random op objects with random ids, events and texts', async () => {
    startTally('random ops');
    await fc.assert(fc.asyncProperty(opsReply, opsReply, fc.integer({ min: 0, max: 4 }), (first, second, seeds) => check([first, second], seeds)), { numRuns: RUNS });
  });

  it('random strings', async () => {
    startTally('random strings');
    const anyString = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', 'memory', 'id', 'event', 'ADD', '0', ' ', '\\', '`') , maxLength: 60 }));
    await fc.assert(fc.asyncProperty(anyString, anyString, fc.integer({ min: 0, max: 4 }), (first, second, seeds) => check([first, second], seeds)), { numRuns: RUNS });
  });

  it('mutated valid JSON', async () => {
    startTally('mutated JSON');
    await fc.assert(fc.asyncProperty(mutatedReply, mutatedReply, fc.integer({ min: 1, max: 4 }), (first, second, seeds) => check([first, second], seeds)), { numRuns: RUNS });
  });
});
