// Shared set-up for agent tests: a bank seeded with memories through the bank's own write path.
import { InMemoryBank, type Memory } from '../memory';

export async function seededBank(texts: readonly (string | { text: string; speaker?: string; eventDate?: string })[], bankId = 'b'): Promise<{ bank: InMemoryBank; memories: Memory[] }> {
  const bank = new InMemoryBank(bankId);
  const operations = texts.map((t) => (typeof t === 'string' ? { event: 'ADD', text: t } : { event: 'ADD', ...t }));
  const result = await bank.apply(operations, { actor: 'system' });
  if (result.rejected) throw new Error('seeding failed');
  const memories = await bank.list();
  return { bank, memories };
}

/** The bank's contents as sorted "id: text" lines, for exact comparisons. */
export async function contents(bank: InMemoryBank): Promise<string[]> {
  return (await bank.list()).map((m) => `${m.id}: ${m.text}`).sort();
}
