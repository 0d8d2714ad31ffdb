import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedChatModel } from '../llm/scripted';
import { JournaledChatModel } from './call-journal';

const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }], temperature: 0 });

describe('JournaledChatModel', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memory-r1-journal-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('replays each recorded reply once, by occurrence, and asks only for the rest', async () => {
    const path = join(dir, 'a.jsonl');
    let n = 0;
    const first = await JournaledChatModel.open(new ScriptedChatModel(() => `reply ${n++}`), path, 'id-1');
    // The same request twice gets two replies; a third question fails (the "server" goes away).
    expect((await first.chat(ask('q'))).text).toBe('reply 0');
    expect((await first.chat(ask('q'))).text).toBe('reply 1');
    await first.close();

    const inner = new ScriptedChatModel(() => `fresh ${n++}`);
    const second = await JournaledChatModel.open(inner, path, 'id-1');
    expect(second.recorded).toBe(2);
    const streamed: string[] = [];
    expect((await second.chat({ ...ask('q'), onToken: (d) => streamed.push(d) })).text).toBe('reply 0');
    expect(streamed).toEqual(['reply 0']);
    expect((await second.chat(ask('q'))).text).toBe('reply 1');
    expect((await second.chat(ask('q'))).text).toBe('fresh 2');
    expect((await second.chat(ask('other'))).text).toBe('fresh 3');
    expect(inner.requests).toHaveLength(2);
    expect({ replayed: second.replayed, asked: second.asked }).toEqual({ replayed: 2, asked: 2 });
    await second.discard();
    await expect(readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("drops a half-written last line, and sets another identity's journal aside", async () => {
    const path = join(dir, 'b.jsonl');
    const first = await JournaledChatModel.open(new ScriptedChatModel(['one']), path, 'id-1');
    await first.chat(ask('q1'));
    await first.close();
    await writeFile(path, `${await readFile(path, 'utf8')}{"key":"abc","te`);
    const again = await JournaledChatModel.open(new ScriptedChatModel(['two']), path, 'id-1');
    expect(again.recorded).toBe(1);
    expect((await again.chat(ask('q2'))).text).toBe('two');
    await again.close();
    const reopened = await JournaledChatModel.open(new ScriptedChatModel([]), path, 'id-1');
    expect(reopened.recorded).toBe(2);
    await reopened.close();
    const other = await JournaledChatModel.open(new ScriptedChatModel(['three']), path, 'id-2');
    expect(other.recorded).toBe(0);
    expect((await other.chat(ask('q1'))).text).toBe('three');
    await other.close();
  });
});
