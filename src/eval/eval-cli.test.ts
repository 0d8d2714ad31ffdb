// `memory-r1 eval` end to end: the real CLI entry point in a child process, with a scripted model.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const cli = (...args: string[]) => run('./bin/memory-r1.js', args, { cwd: ROOT });

const SCRIPT = {
  id: 'smoke',
  extract: ['{"facts": ["Caroline went to an LGBTQ support group on 7 May 2023"]}'],
  manage: ['{"memory": [{"id": "new", "text": "Caroline went to an LGBTQ support group on 7 May 2023", "event": "ADD"}]}'],
  answer: ['Memories used: 0\n**Answer:** 7 May 2023'],
  judge: ['{"label": "CORRECT"}', '{"label": "WRONG"}'],
};

describe('memory-r1 eval (scripted)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'eval-cli-'));
    await writeFile(join(dir, 'script.json'), JSON.stringify(SCRIPT));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes results, summary and the table, and resumes without redoing work', async () => {
    const out = join(dir, 'out.json');
    const args = ['eval', '--data', '../shared/data/locomo10.json', '--split', 'train', '--script', join(dir, 'script.json'), '--out', out, '--turns', '3', '--json'];
    const first = JSON.parse((await cli(...args, '--questions', '2')).stdout);
    expect(first).toMatchObject({ answered: 2, skipped: 0, overall: { count: 2, em: 50, judge: 50 } });
    const second = JSON.parse((await cli(...args, '--questions', '4')).stdout);
    expect(second).toMatchObject({ answered: 2, skipped: 2, overall: { count: 4 } });
    const saved = JSON.parse(await readFile(out, 'utf8'));
    expect(saved.results.map((r: { qaIndex: number }) => r.qaIndex)).toEqual([0, 1, 2, 3]);
    expect(saved.results[0]).toMatchObject({ sampleId: 'conv-26', gold: '7 May 2023', prediction: '7 May 2023', em: 1, judge: 1 });
    const markdown = await readFile(`${out}.md`, 'utf8');
    expect(markdown).toContain('| Backbone | Method | Single Hop F1 | B1 | J |');
    expect(markdown).toContain('**ours: scripted (smoke)**');
  }, 60_000);

  it('refuses a different set-up on the same --out, and bad arguments', async () => {
    const out = join(dir, 'out.json');
    await expect(cli('eval', '--data', '../shared/data/locomo10.json', '--split', 'train', '--script', join(dir, 'script.json'), '--out', out, '--turns', '5')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('another set-up'),
    });
    await expect(cli('eval', '--data', 'x.json', '--split', 'dev', '--script', 's', '--out', 'o')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--split must be one of') });
    await expect(cli('eval', '--data', 'x.json', '--split', 'train', '--out', 'o')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('missing --model') });
  }, 60_000);
});
