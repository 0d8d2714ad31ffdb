// A ChatModel that writes every finished reply to a journal file (JSON lines, synced before the reply
// is handed on) and, on a rerun, answers the same requests from it: a long job that builds from model
// replies (training tuples) resumes after a failed or killed run where it stopped, with every reply it
// already had reused exactly once and none asked again. Requests are matched by their content and by
// occurrence (the n-th identical request gets the n-th recorded reply), so the replay is exact even
// when the job asks the same thing twice. The journal's first line names what it belongs to; another
// identity's journal is set aside rather than replayed.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ChatModel, ChatRequest, ChatResponse } from '../llm/chat-model';

interface Entry {
  key: string;
  text: string;
  usage: ChatResponse['usage'];
  finishReason?: string;
}

/** What makes two requests the same question (not the streaming callback or the abort signal). */
export function requestKey(request: ChatRequest): string {
  const { messages, temperature, top_p, max_tokens, seed, stop, json_schema } = request;
  return createHash('sha256').update(JSON.stringify({ messages, temperature, top_p, max_tokens, seed, stop, json_schema })).digest('hex');
}

export class JournaledChatModel implements ChatModel {
  readonly id: string;
  readonly embed?: (texts: string[]) => Promise<Float32Array[]>;
  /** Replies recorded by earlier runs, per key, in the order they were asked. */
  private readonly kept = new Map<string, Entry[]>();
  private readonly seen = new Map<string, number>();
  private file: FileHandle | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Replies this run took from the journal, and asked of the model. */
  replayed = 0;
  asked = 0;

  private constructor(
    private readonly inner: ChatModel,
    readonly path: string,
  ) {
    this.id = inner.id;
    if (inner.embed) this.embed = inner.embed.bind(inner);
  }

  /** Opens (or starts) the journal at `path` for `identity`; a journal of another identity is discarded. */
  static async open(inner: ChatModel, path: string, identity: string): Promise<JournaledChatModel> {
    const model = new JournaledChatModel(inner, path);
    const header = JSON.stringify({ journal: 1, identity });
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const lines = text.split('\n');
    const fresh = lines[0] !== header;
    if (!fresh) {
      // A run killed mid-write leaves at most one unfinished last line: it is dropped (asked again).
      for (const line of lines.slice(1)) {
        if (!line) continue;
        let entry: Entry;
        try {
          entry = JSON.parse(line) as Entry;
        } catch {
          continue;
        }
        const list = model.kept.get(entry.key) ?? [];
        list.push(entry);
        model.kept.set(entry.key, list);
      }
    }
    await mkdir(dirname(path), { recursive: true });
    if (fresh) await rm(path, { force: true });
    // The unfinished last line goes, so the next entry starts on a line of its own.
    else if (!text.endsWith('\n')) await truncate(path, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
    model.file = await open(path, 'a');
    if (fresh) {
      await model.file.appendFile(`${header}\n`);
      await model.file.datasync();
    }
    return model;
  }

  /** Replies kept from earlier runs. */
  get recorded(): number {
    let n = 0;
    for (const list of this.kept.values()) n += list.length;
    return n;
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const key = requestKey(request);
    const occurrence = this.seen.get(key) ?? 0;
    this.seen.set(key, occurrence + 1);
    const kept = this.kept.get(key)?.[occurrence];
    if (kept) {
      this.replayed++;
      request.onToken?.(kept.text);
      return { text: kept.text, usage: kept.usage, ...(kept.finishReason ? { finishReason: kept.finishReason } : {}) };
    }
    const reply = await this.inner.chat(request);
    this.asked++;
    const entry: Entry = { key, text: reply.text, usage: reply.usage, ...(reply.finishReason ? { finishReason: reply.finishReason } : {}) };
    const list = this.kept.get(key) ?? [];
    list[occurrence] = entry;
    this.kept.set(key, list);
    const line = `${JSON.stringify(entry)}\n`;
    const write = this.writing.then(async () => {
      await this.file!.appendFile(line);
      await this.file!.datasync();
    });
    this.writing = write.catch(() => undefined);
    await write;
    return reply;
  }

  async close(): Promise<void> {
    await this.writing;
    await this.file?.close();
    this.file = undefined;
  }

  /** Closes and deletes the journal (its job finished and kept its result elsewhere). */
  async discard(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
  }
}
