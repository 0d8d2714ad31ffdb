// The `data stats` and `metrics` commands end to end: the real CLI entry point in a child process.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const cli = (...args: string[]) => run('./bin/memory-r1.js', args, { cwd: ROOT });

describe('memory-r1 CLI (eval commands)', () => {
  it('data stats --json counts the real file', async () => {
    const { stdout } = await cli('data', 'stats', '--data', '../shared/data/locomo10.json', '--json');
    const stats = JSON.parse(stdout);
    expect([stats.questions.train.total, stats.questions.validation.total, stats.questions.test.total]).toEqual([152, 81, 1307]);
    expect(stats.questions.test.byCategory).toEqual({ 1: 239, 2: 258, 3: 83, 4: 727 });
    expect(stats.questions.all.byCategory).toEqual({ 1: 282, 2: 321, 3: 96, 4: 841 });
    expect([stats.conversations, stats.sessions, stats.turns, stats.unmatchedEvidence]).toEqual([10, 272, 5882, 9]);
  }, 60_000);

  it('metrics --json scores one answer', async () => {
    const { stdout } = await cli('metrics', '--pred', 'May 7, 2023', '--gold', '7 May 2023', '--category', '2', '--json');
    expect(JSON.parse(stdout)).toEqual({ em: 0, f1: 1, bleu1: 0.75, locomo_f1: 1 });
  }, 60_000);

  it('a bad sub-command exits 2 with a pointer to --help', async () => {
    await expect(cli('data', 'count')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown sub-command "count"') });
  }, 60_000);
});
