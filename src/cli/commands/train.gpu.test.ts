// `memory-r1 train` end to end (child processes on the GPU): a tiny model, 2 GRPO steps with --json,
// then --resume to step 3; the PEFT adapter in --out scores through `memory-r1 score --adapter` exactly
// as the same files re-imported into an in-process engine. With --full: 2 steps + --resume to 3 write the
// same Hugging Face model, byte for byte, as 3 steps straight; `score --model OUT` gives the logprobs of
// the checkpointed weights; a float16 model and a resume of the other kind of run are refused.
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
import { DirectoryCheckpointStorage } from '../../train/checkpoint-storage.node.js';
import { decodeCheckpoint, latestCheckpoint, resumeTrainer } from '../../train/checkpoint';
import { syntheticTask } from '../../train/tasks/synthetic';

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

  it('--full trains every weight, checkpoints, resumes to the same model as a straight run, and exports a folder `score` loads', async () => {
    const model = join(dir, 'model');
    const [split, straight] = [join(dir, 'full-split'), join(dir, 'full-straight')];
    const common = ['train', '--full', '--model', model, '--task', 'synthetic', '--algo', 'grpo', '--prompts', '2', '--group-size', '4', '--lr', '1e-3', '--json'];
    const first = await cli(...common, '--out', split, '--steps', '2');
    expect(first.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step)).toEqual([1, 2]);
    expect(await readdir(join(split, 'checkpoints'))).toEqual(['step-0000002.ckpt']);
    const resumed = await cli(...common, '--out', split, '--steps', '3', '--resume');
    expect(resumed.stderr).toMatch(/resuming from step-0000002\.ckpt/);
    await cli(...common, '--out', straight, '--steps', '3');
    const files = (await readdir(split)).sort();
    expect(files).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']));
    expect(files).not.toContain('adapter_config.json');
    expect(Buffer.compare(await readFile(join(split, 'model.safetensors')), await readFile(join(straight, 'model.safetensors'))), 'split and straight runs wrote the same model').toBe(0);
    expect(JSON.parse(await readFile(join(split, 'config.json'), 'utf8'))).toMatchObject({ torch_dtype: 'float32' });

    // The exported folder scores as the weights of the last checkpoint do on the base model.
    const prompt = 'Memory: (none)\nFact: likes jazz\nOperation (A=ADD, N=NONE, U=UPDATE, D=DELETE):';
    const scored = JSON.parse((await cli('score', '--model', split, '--prompt', prompt, '--completion', 'A', '--json')).stdout) as { tokens: Array<{ logprob: number }> };
    const storage = new DirectoryCheckpointStorage(join(split, 'checkpoints'));
    const name = (await latestCheckpoint(storage))!;
    const engine = await Engine.create(await loadModel(new DirectorySource(model)), gpu());
    const base = await engine.score(engine.tokenizer.encode(prompt, { addSpecialTokens: true }), engine.tokenizer.encode('A'));
    const trainer = await resumeTrainer(engine, decodeCheckpoint(await storage.load(name), name), syntheticTask());
    const want = await engine.score(engine.tokenizer.encode(prompt, { addSpecialTokens: true }), engine.tokenizer.encode('A'));
    expect(want.some((v, i) => Math.abs(v - base[i]!) > 1e-6), 'training moved the model').toBe(true);
    scored.tokens.forEach((t, i) => expect(Math.abs(t.logprob - want[i]!)).toBeLessThanOrEqual(1e-6));
    trainer.dispose();
    engine.dispose();

    // Refused, saying what to do: a resume without --full, and a float16 model.
    const lora = await cli(...common.filter((a) => a !== '--full'), '--out', split, '--steps', '4', '--resume').catch((e: { code: number; stderr: string }) => e);
    expect('code' in lora && lora.code).toBe(2);
    expect(lora.stderr).toMatch(/holds a full fine-tuning run; add --full to resume it/);
    await cli('make-tiny-model', '--out', join(dir, 'model-f16'), '--format', 'hf', '--arch', 'qwen2', '--seed', '1', '--quant', 'q0f16');
    const f16 = await cli(...common.map((a) => (a === model ? join(dir, 'model-f16') : a)), '--out', join(dir, 'f16'), '--steps', '1').catch((e: { code: number; stderr: string }) => e);
    expect('code' in f16 && f16.code).toBe(2);
    expect(f16.stderr).toMatch(/--full: .*needs the weights in float32.*train a LoRA adapter instead/);
  }, 600_000);
});
