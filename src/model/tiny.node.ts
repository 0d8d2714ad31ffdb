// Writes a tiny model folder to disk (Node only); the entry point for `memory-r1 make-tiny-model`.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTinyModel, type TinyModelOptions } from './tiny';

/** Creates `dir` (and parents) and writes the model's files into it; returns the file names written. */
export async function writeTinyModel(dir: string, options: TinyModelOptions): Promise<string[]> {
  const files = makeTinyModel(options);
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
  return [...files.keys()];
}
