// The LoCoMo generator: its files load with the real loader and split as Memory-R1 splits locomo10.json,
// are the same for the same seed, and every question is answerable from its evidence turns — both by the
// templates' inverse and through the real pipeline with the scripted bank builder.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseSessionDate } from '../agents/dates';
import { MemoryPipeline } from '../agents/pipeline';
import { InMemoryBank } from '../memory';
import { CITIES, generatedFacts, generateLocomo, generateLocomoText, PETS } from './generate';
import { generatedBankModel } from './generated-oracle';
import { conversationsOf, EVALUATED_CATEGORIES, parseLocomo } from './locomo';
import { conversationTurns } from './turns';

const WORLD: Record<string, string> = { ...PETS, ...CITIES };

describe('LoCoMo generator', () => {
  const text = generateLocomoText({ conversations: 5, seed: 7 });
  const conversations = parseLocomo(text);

  it('writes a file the LoCoMo loader reads and splits like locomo10.json', () => {
    expect(conversations.map((c) => [c.sampleId, c.split])).toEqual([
      ['conv-26', 'train'],
      ['conv-30', 'validation'],
      ['gen-2', 'test'],
      ['gen-3', 'test'],
      ['gen-4', 'test'],
    ]);
    for (const c of conversations) {
      expect(c.unmatchedEvidence).toEqual([]);
      expect(c.datesWithoutSession).toEqual([]);
      expect(c.sessions.every((s) => s.date !== undefined && s.turns.length > 2)).toBe(true);
      expect(new Set(c.qa.map((q) => q.category))).toEqual(new Set(EVALUATED_CATEGORIES));
      const speakers = new Set(c.sessions.flatMap((s) => s.turns.map((t) => t.speaker)));
      expect(speakers).toEqual(new Set([c.speakerA, c.speakerB]));
      // Turns alternate between the two speakers, as LoCoMo's do.
      for (const s of c.sessions) s.turns.forEach((t, i) => i && expect(t.speaker).not.toBe(s.turns[i - 1]!.speaker));
    }
    // The training conversation has the most questions (twice the trips).
    expect(conversations[0]!.qa.length).toBeGreaterThan(conversations[2]!.qa.length);
    expect(conversationsOf(conversations, 'test')).toHaveLength(3);
  });

  it('is the same for the same seed, and conversation i does not depend on how many follow', () => {
    expect(generateLocomoText({ conversations: 5, seed: 7 })).toBe(text);
    expect(generateLocomoText({ conversations: 5, seed: 8 })).not.toBe(text);
    expect(generateLocomo({ conversations: 3, seed: 7 })).toEqual(generateLocomo({ conversations: 5, seed: 7 }).slice(0, 3));
    expect(() => generateLocomo({ conversations: 0, seed: 1 })).toThrow(/positive integer/);
    expect(() => generateLocomo({ conversations: 1, seed: 1, sessions: 1 })).toThrow(/sessions/);
  });

  it('answers every question from its evidence turns (the previous turn included)', () => {
    for (const c of conversations) {
      const turns = new Map(conversationTurns(c).map((t) => [t.diaId, t]));
      for (const qa of c.qa) {
        const facts = qa.evidence.flatMap((id) => {
          const t = turns.get(id)!;
          return generatedFacts(t.speaker, t.text, parseSessionDate(t.sessionDate!), t.previous?.text);
        });
        expect(facts.length, `${c.sampleId} ${qa.question}`).toBe(qa.evidence.length);
        const said = facts.join(' ');
        // Open-domain questions need one step of world knowledge (a city's country, a pet's sound).
        const known = qa.category === 4 ? Object.keys(WORLD).some((key) => said.includes(key) && WORLD[key] === qa.answer) : said.includes(qa.answer);
        expect(known, `${c.sampleId} "${qa.question}" → ${qa.answer}; evidence says: ${said}`).toBe(true);
      }
    }
    // Without the question before it, "Yes, a dog." states nothing.
    expect(generatedFacts('Anna', 'Yes, a dog.', undefined)).toEqual([]);
    expect(generatedFacts('Anna', 'Yes, a dog.', undefined, 'Do you have a pet?')).toEqual(['Anna has a dog.']);
  });

  it('the real pipeline with the scripted bank builder keeps every answer, merging changes into the memory they change', async () => {
    const c = conversations[2]!;
    const bank = new InMemoryBank(c.sampleId, []);
    const pipeline = new MemoryPipeline({ model: generatedBankModel(), bank });
    for (const turn of conversationTurns(c)) await pipeline.ingest(turn);
    const memories = await bank.list();
    const texts = memories.map((m) => m.text).join('\n');
    for (const qa of c.qa) if (qa.category !== 4) expect(texts, qa.question).toContain(qa.answer);
    // A move updates the one memory of where someone lives (keeping the old city in it), never adds a second.
    for (const speaker of [c.speakerA, c.speakerB]) expect(memories.filter((m) => m.text.startsWith(`${speaker} lives in`)), speaker).toHaveLength(1);
  });

  it('memory-r1 data generate writes the file and prints its counts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'memory-r1-generate-'));
    const out = join(dir, 'gen.json');
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const { stdout } = await promisify(execFile)('./bin/memory-r1.js', ['data', 'generate', '--out', out, '--conversations', '5', '--seed', '7', '--json'], { cwd: root });
    expect(await readFile(out, 'utf8')).toBe(text);
    const stats = JSON.parse(stdout);
    expect([stats.questions.train.total, stats.questions.validation.total, stats.questions.test.total]).toEqual([
      conversations[0]!.qa.length,
      conversations[1]!.qa.length,
      conversations.slice(2).reduce((n, x) => n + x.qa.length, 0),
    ]);
    await expect(promisify(execFile)('./bin/memory-r1.js', ['data', 'generate', '--out', out, '--seed', '1'], { cwd: root })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('missing --conversations'),
    });
  }, 60_000);
});
