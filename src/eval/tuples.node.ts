// Training tuples cached as one JSON file: reused when it was built by the same set-up (identity),
// otherwise built and written atomically (a killed build leaves no half-written cache).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sameIdentity, type RunIdentity } from './runner';
import { TUPLES_VERSION, type TrainingTuples, type TupleCache } from './tuples';

function isTuples(value: unknown): value is TrainingTuples {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<TrainingTuples>;
  return v.version === TUPLES_VERSION && typeof v.identity === 'object' && Array.isArray(v.manager) && Array.isArray(v.answer);
}

/** The cached tuples at `path` if they match `identity`; undefined when absent or built otherwise. */
export async function readTuplesCache(path: string, identity: RunIdentity): Promise<TrainingTuples | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`tuple cache ${path} is not JSON: delete it to rebuild`);
  }
  if (!isTuples(value)) throw new Error(`tuple cache ${path} is not a tuple file of version ${TUPLES_VERSION}: delete it to rebuild`);
  return sameIdentity(value.identity, identity) ? value : undefined;
}

export async function writeTuplesCache(path: string, tuples: TrainingTuples): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(tuples));
  await rename(temporary, path);
}

/** Tuples kept in one JSON file (a file holds one identity's; another identity's build replaces it). */
export class FileTupleCache implements TupleCache {
  constructor(readonly path: string) {}
  load(identity: RunIdentity): Promise<TrainingTuples | undefined> {
    return readTuplesCache(this.path, identity);
  }
  save(tuples: TrainingTuples): Promise<void> {
    return writeTuplesCache(this.path, tuples);
  }
}
