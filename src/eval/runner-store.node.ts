// The evaluation's progress on disk, next to the output file: `<out>.state.jsonl` (the run's identity,
// then one line per answered question, appended as each is scored) and `<out>.banks/` (one JSON file per
// conversation bank, part-built or complete). Files are replaced atomically (write, then rename), and a
// line cut off by a kill is dropped on the next load, so a killed run always resumes cleanly.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { StoredMemorySchema } from './bank-snapshot';
import type { BankCheckpoint, EvalStore, QuestionResult, RunIdentity } from './runner';

const IdentitySchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

const ResultSchema = z.object({
  sampleId: z.string(),
  qaIndex: z.number().int().nonnegative(),
  question: z.string(),
  gold: z.string(),
  prediction: z.string(),
  category: z.literal([1, 2, 3, 4, 5]),
  em: z.number(),
  f1: z.number(),
  bleu1: z.number(),
  locomo_f1: z.number(),
  judge: z.number().optional(),
  usedMemories: z.array(z.string()),
  retrieved: z.number(),
  evidenceRecall: z.number().optional(),
  ms: z.number(),
  tokens: z.object({ prompt: z.number(), completion: z.number() }),
});

const LineSchema = z.union([z.object({ identity: IdentitySchema }), z.object({ result: ResultSchema })]);

const CheckpointSchema = z.object({
  key: z.string(),
  sampleId: z.string(),
  turnsDone: z.number().int().nonnegative(),
  turnsTotal: z.number().int().nonnegative(),
  memories: z.array(StoredMemorySchema),
  provenance: z.record(z.string(), z.array(z.string())).optional(),
});

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

/** Where the state of a run writing `out` lives. */
export function statePaths(out: string) {
  return { state: `${out}.state.jsonl`, banks: `${out}.banks` };
}

export class FileEvalStore implements EvalStore {
  readonly statePath: string;
  readonly bankDir: string;

  constructor(out: string) {
    const paths = statePaths(out);
    this.statePath = paths.state;
    this.bankDir = paths.banks;
  }

  async load(): Promise<{ identity?: RunIdentity; results: QuestionResult[] }> {
    const text = await readIfExists(this.statePath);
    if (text === undefined) return { results: [] };
    const complete = text.lastIndexOf('\n') + 1;
    // A line without its newline was cut off mid-write: drop it so the next append starts a clean line.
    if (complete < text.length) await truncate(this.statePath, Buffer.byteLength(text.slice(0, complete)));
    let identity: RunIdentity | undefined;
    const results: QuestionResult[] = [];
    text
      .slice(0, complete)
      .split('\n')
      .forEach((line, i) => {
        if (!line.trim()) return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          throw new Error(`${this.statePath} line ${i + 1} is not JSON: delete the file to start the run afresh`);
        }
        const parsed = LineSchema.safeParse(value);
        if (!parsed.success) throw new Error(`${this.statePath} line ${i + 1} is not a result of this tool: delete the file to start the run afresh`);
        if ('identity' in parsed.data) identity ??= parsed.data.identity;
        else results.push(parsed.data.result as QuestionResult);
      });
    return { ...(identity ? { identity } : {}), results };
  }

  async begin(identity: RunIdentity): Promise<void> {
    if ((await readIfExists(this.statePath)) !== undefined) return;
    await writeAtomically(this.statePath, `${JSON.stringify({ identity })}\n`);
  }

  async append(result: QuestionResult): Promise<void> {
    await appendFile(this.statePath, `${JSON.stringify({ result })}\n`);
  }

  private bankPath(key: string): string {
    const sampleId = key.split('|')[0]!.replace(/[^A-Za-z0-9_.-]/g, '_');
    return join(this.bankDir, `${sampleId}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.json`);
  }

  async loadBank(key: string): Promise<BankCheckpoint | undefined> {
    const path = this.bankPath(key);
    const text = await readIfExists(path);
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`bank cache ${path} is not JSON: delete it to rebuild that bank`);
    }
    const parsed = CheckpointSchema.safeParse(value);
    if (!parsed.success || parsed.data.key !== key) throw new Error(`bank cache ${path} is not a bank of this run: delete it to rebuild that bank`);
    return parsed.data;
  }

  async saveBank(checkpoint: BankCheckpoint): Promise<void> {
    await mkdir(this.bankDir, { recursive: true });
    await writeAtomically(this.bankPath(checkpoint.key), JSON.stringify(checkpoint));
  }
}
