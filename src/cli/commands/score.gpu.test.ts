// `memory-r1 score` end to end: a tiny model written by `make-tiny-model`, scored by the CLI (a child
// process on the GPU), checked against the float64 reference on the same tokens.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../model/load';
import { loraDims, LORA_TARGETS, type HostLoraAdapter } from '../../model/lora';
import { writePeftAdapter } from '../../model/peft';
import { ReferenceModel } from '../../model/reference';
import { DirectorySource } from '../../model/source.node.js';

const exec = promisify(execFile);
const cli = (...args: string[]) => exec('./bin/memory-r1.js', args, { cwd: process.cwd(), timeout: 60_000 });

interface ScoreJson {
  tokens: Array<{ id: number; token: string; logprob: number }>;
  total: number;
}

describe('memory-r1 score', () => {
  let dir = '';
  let model: LoadedModel;
  let lora: HostLoraAdapter;
  const prompt = 'The cat sat';
  const completion = ' on the mat.';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memory-r1-score-'));
    await cli('make-tiny-model', '--out', join(dir, 'model'), '--format', 'hf', '--arch', 'llama', '--seed', '3');
    model = await loadModel(new DirectorySource(join(dir, 'model')));
    const c = model.config;
    let x = 1;
    const fill = (n: number): Float32Array => Float32Array.from({ length: n }, () => ((x = (x * 48271) % 2147483647) / 2147483647 - 0.5) * 0.4);
    lora = { rank: 2, alpha: 4, layers: Array.from({ length: c.numLayers }, () => Object.fromEntries(LORA_TARGETS.map((t) => [t, { a: fill(2 * loraDims(c, t).in), b: fill(loraDims(c, t).out * 2) }]))) };
    await mkdir(join(dir, 'adapter'));
    for (const [name, bytes] of writePeftAdapter(lora, c)) await writeFile(join(dir, 'adapter', name), bytes);
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints per-token log-probs matching the reference, with and without --adapter', async () => {
    const tok = model.tokenizer;
    const promptIds = tok.encode(prompt, { addSpecialTokens: true });
    const completionIds = tok.encode(completion);
    expect(promptIds[0]).toBe(model.config.bosTokenId); // Llama-3's post-processor adds <|begin_of_text|>
    const ref = new ReferenceModel(model.config, model.weights);
    for (const withAdapter of [false, true]) {
      const args = ['score', '--model', join(dir, 'model'), '--prompt', prompt, '--completion', completion, '--json'];
      if (withAdapter) args.push('--adapter', join(dir, 'adapter'));
      const out = JSON.parse((await cli(...args)).stdout) as ScoreJson;
      const want = ref.logProbs([...promptIds, ...completionIds], promptIds.length, withAdapter ? lora : undefined);
      expect(out.tokens.map((t) => t.id)).toEqual(completionIds);
      expect(out.tokens.map((t) => t.token)).toEqual(completionIds.map((id) => tok.tokenString(id)));
      out.tokens.forEach((t, i) => expect(Math.abs(t.logprob - want[i]!)).toBeLessThanOrEqual(1e-3));
      expect(out.total).toBeCloseTo(out.tokens.reduce((s, t) => s + t.logprob, 0), 6);
    }
  });

  it('fails with exit 1 and names the missing adapter file', async () => {
    await mkdir(join(dir, 'broken'));
    const args = ['score', '--model', join(dir, 'model'), '--adapter', join(dir, 'broken'), '--prompt', 'a', '--completion', 'b'];
    const error = (await cli(...args).catch((e: unknown) => e)) as { code?: number; stderr?: string };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/adapter_config\.json: missing from .*broken/);
  });
});
