// `memory-r1 train` end to end (child processes on the GPU): a tiny model, 2 GRPO steps with --json,
// then --resume to step 3; the PEFT adapter in --out scores through `memory-r1 score --adapter` exactly
// as the same files re-imported into an in-process engine.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../../gpu/test-runtime';
import { Engine } from '../../model/engine';
import { loadModel } from '../../model/load';
import { readPeftFiles } from '../../model/peft';
import { DirectorySource } from '../../model/source.node.js';

const exec = promisify(execFile);
const cli = (...args: string[]) => exec('./bin/memory-r1.js', args, { cwd: process.cwd(), timeout: 300_000 });

describe('memory-r1 train', () => {
  const gpu = useGpuRuntime();
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memory-r1-train-'));
    await cli('make-tiny-model', '--out', join(dir, 'model'), '--format', 'hf', '--arch', 'qwen2', '--seed', '1');
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('trains, checkpoints, resumes and exports an adapter that `score --adapter` reads', async () => {
    const model = join(dir, 'model');
    const out = join(dir, 'out');
    const common = ['train', '--model', model, '--task', 'synthetic', '--algo', 'grpo', '--out', out, '--prompts', '2', '--group-size', '4', '--lr', '5e-3', '--rank', '4', '--alpha', '8', '--json'];
    const first = await cli(...common, '--steps', '2');
    const lines = first.stdout.trim().split('\n').map((l) => JSON.parse(l) as { step: number; rewardMean: number; tokensPerSecond: number });
    expect(lines.map((l) => l.step)).toEqual([1, 2]);
    expect(first.stderr).toMatch(/train grpo 2\/2 100% reward [\d.]+ kl [\d.]+ loss -?[\d.]+ \d+ tok\/s/);
    expect(await readdir(join(out, 'checkpoints'))).toEqual(['step-0000002.ckpt']);

    const resumed = await cli(...common, '--steps', '3', '--resume');
    expect(resumed.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step)).toEqual([3]);
    expect(resumed.stderr).toMatch(/resuming from step-0000002\.ckpt/);
    expect(JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8 });

    const prompt = 'Memory: (none)\nFact: likes jazz\nOperation (A=ADD, N=NONE, U=UPDATE, D=DELETE):';
    const completion = 'A';
    const scored = JSON.parse((await cli('score', '--model', model, '--adapter', out, '--prompt', prompt, '--completion', completion, '--json')).stdout) as { tokens: Array<{ logprob: number }> };
    const engine = await Engine.create(await loadModel(new DirectorySource(model)), gpu());
    engine.addAdapter('out', await readPeftFiles(new DirectorySource(out)));
    const want = await engine.score(engine.tokenizer.encode(prompt, { addSpecialTokens: true }), engine.tokenizer.encode(completion), { adapter: 'out' });
    scored.tokens.forEach((t, i) => expect(Math.abs(t.logprob - want[i]!)).toBeLessThanOrEqual(1e-6));
    engine.dispose();
  }, 600_000);
});
