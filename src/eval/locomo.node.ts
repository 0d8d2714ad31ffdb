// Reads a LoCoMo file from disk (Node only; the app hands parseLocomo the text of a picked file or URL).
import { readFile } from 'node:fs/promises';
import { parseLocomo, type LoadOptions, type LocomoConversation } from './locomo';

export async function readLocomoFile(path: string, options: LoadOptions = {}): Promise<LocomoConversation[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`cannot read LoCoMo file ${path}${code ? ` (${code})` : ''}: give the path of locomo10.json (e.g. ../shared/data/locomo10.json)`);
  }
  return parseLocomo(text, options);
}
