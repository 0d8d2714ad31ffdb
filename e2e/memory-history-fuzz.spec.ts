// Property-based, in real Chromium: random edits, undos and redos build a bank with history; its export is
// imported back as it is, with a harmless change, or corrupted. A corrupted file must be refused with a
// BackupError and nothing changed; an accepted one must give the bank the model holds, and further
// undo/redo steps must keep bank and flags equal to a deliberately simple model after every step, never
// touching the other bank in the database.
import fc from 'fast-check';
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';

interface State {
  text: string;
  speaker?: string;
}
interface Entry {
  seq: number;
  memoryId: string;
  before: State | null;
  after: State | null;
  undoes?: number;
}
type Step =
  | { kind: 'add'; text: string }
  | { kind: 'update'; pick: number; text: string; speaker?: string }
  | { kind: 'delete'; pick: number }
  | { kind: 'undo' | 'redo'; pick: number };

const same = (a: State | null | undefined, b: State | null | undefined) => (!a || !b ? !a && !b : a.text === b.text && a.speaker === b.speaker);

/** What the bank should hold and which changes read undone, by the rules alone. */
class Model {
  memories = new Map<string, State>();
  entries: Entry[] = [];
  /** Entry seq → the entry that undoes it now. */
  undone = new Map<number, number>();

  /** Undoing `entry` (seq `revert` for its revert) flips the chain of reverts it ends: each entry in it is undone by the one after it, or back in effect. */
  undo(entry: Entry, revert: number): void {
    const current = this.memories.get(entry.memoryId) ?? null;
    this.entries.push({ seq: revert, memoryId: entry.memoryId, before: current, after: entry.before, undoes: entry.seq });
    if (entry.before) this.memories.set(entry.memoryId, entry.before);
    else this.memories.delete(entry.memoryId);
    let link: Entry | undefined = entry;
    let by: number | undefined = revert;
    while (link) {
      if (by === undefined) this.undone.delete(link.seq);
      else this.undone.set(link.seq, by);
      by = by === undefined ? link.seq : undefined;
      const next: number | undefined = link.undoes;
      link = next === undefined ? undefined : this.entries.find((e) => e.seq === next);
    }
  }

  canUndo(entry: Entry): boolean {
    return !this.undone.has(entry.seq) && same(this.memories.get(entry.memoryId), entry.after);
  }

  renumber(map: ReadonlyMap<number, number>): void {
    for (const entry of this.entries) {
      entry.seq = map.get(entry.seq)!;
      if (entry.undoes !== undefined) entry.undoes = map.get(entry.undoes)!;
    }
    this.undone = new Map([...this.undone].map(([a, b]) => [map.get(a)!, map.get(b)!]));
  }
}

const texts = fc.constantFrom('likes tea', 'lives in Oslo', 'has a dog', 'works nights', 'plays chess');
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), text: texts }),
  fc.record({ kind: fc.constant('update' as const), pick: fc.nat(9), text: texts, speaker: fc.option(fc.constantFrom('Ana', 'Ben'), { nil: undefined }) }, { requiredKeys: ['kind', 'pick', 'text'] }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat(9) }),
  fc.record({ kind: fc.constantFrom('undo' as const, 'redo' as const), pick: fc.nat(30) }),
  fc.record({ kind: fc.constantFrom('undo' as const, 'redo' as const), pick: fc.nat(30) }),
);

const CORRUPTIONS = [
  'entry of another bank', 'snapshot of another bank', 'snapshot of another memory', 'memory id of the other bank', 'memory reads differently',
  'memory missing', 'undo of nothing', 'stray undoneBy', 'wrong event', 'bad embedding', 'deep operation', 'repeated seq', 'history of the other bank',
] as const;
const HARMLESS = ['none', 'later time', 'bank renamed', 'stale flags'] as const;
type Change = (typeof CORRUPTIONS)[number] | (typeof HARMLESS)[number];

/** Changes a parsed export in place; returns false when the file has nothing this change applies to. */
function corrupt(file: any, change: Change, pick: number, victimId: string): boolean {
  const changes = file.history.filter((h: any) => h.event !== 'REJECTED' && h.event !== 'NONE');
  const one = <T>(list: T[]): T | undefined => list[pick % Math.max(list.length, 1)];
  const entry = one(changes) as any;
  switch (change) {
    case 'none':
      return true;
    case 'later time':
      return entry ? ((entry.at += 1), true) : false;
    case 'bank renamed':
      return (file.bank.name = 'renamed'), true;
    case 'stale flags': // as an older app wrote them; the import derives flags from the undo links
      for (const h of file.history) delete h.undoneBy;
      return true;
    case 'entry of another bank':
      return entry ? ((entry.bankId = 'victim'), true) : false;
    case 'snapshot of another bank': {
      const withAfter = one(changes.filter((h: any) => h.after)) as any;
      return withAfter ? ((withAfter.after.bankId = 'victim'), true) : false;
    }
    case 'snapshot of another memory': {
      const withBefore = one(changes.filter((h: any) => h.before)) as any;
      return withBefore ? ((withBefore.before.id = 'someone-else'), true) : false;
    }
    case 'memory id of the other bank':
      return entry ? ((entry.memoryId = victimId), true) : false;
    case 'memory reads differently': {
      const memory = one(file.memories) as any;
      return memory ? ((memory.text += ' (edited)'), true) : false;
    }
    case 'memory missing':
      return file.memories.length ? (file.memories.splice(pick % file.memories.length, 1), true) : false;
    case 'undo of nothing': {
      const revert = one(changes.filter((h: any) => h.undoes)) as any;
      return revert ? ((revert.undoes = 999_999), true) : false;
    }
    case 'stray undoneBy':
      return entry ? ((entry.undoneBy = entry.seq), true) : false;
    case 'wrong event': {
      const add = one(changes.filter((h: any) => h.event === 'ADD')) as any;
      return add ? ((add.event = 'DELETE'), true) : false;
    }
    case 'bad embedding': {
      const memory = one(file.memories) as any;
      return memory ? ((memory.embedding = ['A', 'AAAAA', '=', '', 'AADAfw=='][pick % 5]), true) : false;
    }
    case 'deep operation': {
      let operation: unknown = 'x';
      for (let i = 0; i < 40; i++) operation = [operation];
      file.history.push({ seq: 999_998, bankId: file.bank.id, event: 'REJECTED', before: null, after: null, actor: 'manager', at: 1, operation });
      return true;
    }
    case 'repeated seq':
      return file.history.length > 1 ? ((file.history[1].seq = file.history[0].seq), true) : false;
    case 'history of the other bank': {
      const snap = { id: victimId, bankId: file.bank.id, text: 'likes tea', createdAt: 1, updatedAt: 1, version: 1 };
      file.history.push(
        { seq: 999_990, bankId: file.bank.id, memoryId: victimId, event: 'ADD', before: null, after: snap, actor: 'user', at: 1 },
        { seq: 999_991, bankId: file.bank.id, memoryId: victimId, event: 'DELETE', before: snap, after: null, actor: 'user', at: 2 },
      );
      return true;
    }
  }
}

/** One step in the page, then the bank as it stands: memories and the undo flags of every change. */
async function run(page: Page, bank: string, step: { kind: string; id?: string; seq?: number; text?: string; speaker?: string }) {
  return page.evaluate(
    async ({ bank, step }) => {
      const store = window.harness.s;
      let outcome: { ok: boolean; seq?: number; memoryId?: string; error?: string };
      try {
        if (step.kind === 'add' || step.kind === 'update' || step.kind === 'delete') {
          const event = step.kind.toUpperCase();
          const result = await store.edit(bank, { event, id: step.id ?? '', text: step.text ?? '', ...(step.speaker ? { speaker: step.speaker } : {}) });
          outcome = result.status === 'applied' ? { ok: true, seq: result.seq, memoryId: result.memoryId } : { ok: false, error: result.reason };
        } else {
          const entry = step.kind === 'undo' ? await store.undo(step.seq!) : await store.redo(step.seq!);
          outcome = { ok: true, seq: entry.seq };
        }
      } catch (error) {
        outcome = { ok: false, error: `${(error as Error).name}: ${(error as Error).message}` };
      }
      return { outcome, ...(await window.harness.snapshotBank(bank)) };
    },
    { bank, step },
  );
}

function expectModel(model: Model, state: { memories: [string, State][]; flags: [number, number | null][] }, where: string) {
  expect(new Map(state.memories), where).toEqual(model.memories);
  expect(new Map(state.flags), where).toEqual(new Map(model.entries.map((e) => [e.seq, model.undone.get(e.seq) ?? null])));
}

/** Applies one generated step to page and model, checking that both agree on its outcome and the result. */
async function step(page: Page, bank: string, model: Model, spec: Step, where: string) {
  const ids = [...model.memories.keys()];
  const entries = model.entries;
  if (spec.kind === 'add') {
    const result = await run(page, bank, { kind: 'add', text: spec.text });
    expect(result.outcome.ok, where).toBe(true);
    model.memories.set(result.outcome.memoryId!, { text: spec.text });
    model.entries.push({ seq: result.outcome.seq!, memoryId: result.outcome.memoryId!, before: null, after: { text: spec.text } });
    return expectModel(model, result, where);
  }
  if (spec.kind === 'update' || spec.kind === 'delete') {
    const id = ids[spec.pick % Math.max(ids.length, 1)];
    if (!id) return;
    const before = model.memories.get(id)!;
    const speaker = spec.kind === 'update' ? (spec.speaker ?? before.speaker) : undefined;
    const after = spec.kind === 'delete' ? null : { text: spec.text, ...(speaker ? { speaker } : {}) };
    const expected = !after || !same(before, after);
    const result = await run(page, bank, spec.kind === 'delete' ? { kind: 'delete', id } : { kind: 'update', id, text: spec.text, ...(spec.speaker ? { speaker: spec.speaker } : {}) });
    expect(result.outcome.ok, `${where}: ${result.outcome.error}`).toBe(expected);
    if (expected) {
      if (after) model.memories.set(id, after);
      else model.memories.delete(id);
      model.entries.push({ seq: result.outcome.seq!, memoryId: id, before, after });
    }
    return expectModel(model, result, where);
  }
  const entry = entries[spec.pick % Math.max(entries.length, 1)];
  if (!entry) return;
  const target = spec.kind === 'undo' ? entry : entries.find((e) => e.seq === model.undone.get(entry.seq));
  const expected = target !== undefined && model.canUndo(target);
  const result = await run(page, bank, { kind: spec.kind, seq: entry.seq });
  expect(result.outcome.ok, `${where}: ${spec.kind} #${entry.seq}: ${result.outcome.error}`).toBe(expected);
  if (expected) model.undo(target!, result.outcome.seq!);
  expectModel(model, result, where);
}

test('history-bearing imports, valid or corrupted, then undo and redo: the bank follows the model', async ({ harnessPage: page }) => {
  test.setTimeout(240_000);
  const victim = await page.evaluate(async () => {
    const added = await window.harness.s.apply('victim', [{ event: 'ADD', text: 'likes tea' }], { actor: 'user' });
    return added.results[0]!.status === 'applied' ? added.results[0]!.memoryId : '';
  });
  const victimState = () => page.evaluate(() => window.harness.snapshotBank('victim'));
  const victimBefore = await victimState();
  const tally = { runs: 0, steps: 0, accepted: 0, refused: 0, undoRedo: 0 };
  await fc.assert(
    fc.asyncProperty(
      fc.array(stepArb, { minLength: 2, maxLength: 10 }),
      fc.oneof(fc.constantFrom<Change>(...HARMLESS), fc.constantFrom<Change>(...CORRUPTIONS)),
      fc.nat(50),
      fc.constantFrom('replace' as const, 'merge' as const),
      fc.array(stepArb, { minLength: 1, maxLength: 8 }),
      async (build, change, pick, mode, after) => {
        const bank = `b${++tally.runs}`;
        const model = new Model();
        for (const [i, spec] of build.entries()) await step(page, bank, model, spec, `${bank} build step ${i}`);
        tally.steps += build.length;
        const { text, seqs, state } = await page.evaluate(async (bank) => {
          const store = window.harness.s;
          return { text: await window.harness.memory.exportBank(store, bank), seqs: (await store.history(bank)).map((h) => h.seq).reverse(), state: await window.harness.snapshotBank(bank) };
        }, bank);
        const file = JSON.parse(text);
        if (!corrupt(file, change, pick, victim)) return;
        const harmless = (HARMLESS as readonly string[]).includes(change);
        // A harmless change merged into the same bank makes a second copy of history: merge only the file as exported.
        const importMode = harmless && change !== 'none' ? 'replace' : mode;
        const result = await page.evaluate(
          async ({ bank, text, mode }) => {
            const store = window.harness.s;
            try {
              const summary = await window.harness.memory.importBank(store, text, { mode });
              return { summary, error: undefined, seqs: (await store.history(bank)).map((h) => h.seq).reverse(), ...(await window.harness.snapshotBank(bank)) };
            } catch (error) {
              return { error: `${(error as Error).name}: ${(error as Error).message}`, seqs: [], ...(await window.harness.snapshotBank(bank)) };
            }
          },
          { bank, text: JSON.stringify(file), mode: importMode },
        );
        expect(await victimState(), `${bank} ${change}`).toEqual(victimBefore);
        if (!harmless) {
          expect(result.error, `${bank} ${change} (${importMode})`).toMatch(/^BackupError: The backup was not imported \(nothing was changed\):\n- /);
          expect({ memories: result.memories, flags: result.flags }, `${bank} ${change}`).toEqual(state);
          tally.refused++;
          return;
        }
        expect(result.error, `${bank} ${change} (${importMode})`).toBeUndefined();
        tally.accepted++;
        // Imported entries get new sequence numbers, in the same order.
        expect(result.seqs.length, bank).toBe(seqs.length);
        model.renumber(new Map(seqs.map((seq, i) => [seq, result.seqs[i]!])));
        expectModel(model, result, `${bank} after import (${change}, ${importMode})`);
        for (const [i, spec] of after.entries()) await step(page, bank, model, spec, `${bank} after import, step ${i}`);
        tally.undoRedo += after.length;
      },
    ),
    { numRuns: 80, seed: 20261202 },
  );
  expect(await victimState()).toEqual(victimBefore);
  console.log(`history fuzz: ${tally.runs} runs, ${tally.steps + tally.undoRedo} steps, ${tally.accepted} imports accepted, ${tally.refused} refused`);
  expect(tally.accepted).toBeGreaterThan(5);
  expect(tally.refused).toBeGreaterThan(5);
});
