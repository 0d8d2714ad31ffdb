// A lost GPU device in the engine worker's host, on the real engine (Dawn): training stops with its last
// checkpoint kept, requests say a model must be loaded, and a reload (on a new device) resumes the run.
// Full fine-tuning through the host: offered for a float32 model only, its result exported as a Hugging
// Face model (live and from its checkpoint alike), and a new run starting from the base weights again.
// A LoCoMo run that validates: scored on the file's conv-30 before its first step and every few steps, the
// best step kept as best.ckpt and reported in the status, exportable, and refused without a conv-30.
import { afterAll, describe, expect, it } from 'vitest';
import { generateLocomoText } from '../eval/generate';
import { parseLocomo } from '../eval/locomo';
import { MemorySource } from '../model/source';
import { parseSafetensors, safetensorsData } from '../model/safetensors';
import { makeTinyModel } from '../model/tiny';
import { createEngineHost, urlEngineOpener } from './engine-host';
import type { TrainingEvent, TrainingStatus } from './trainer-host';

const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);
const dawn = create([]); // kept referenced for the whole file: Dawn needs it alive
const devices: GPUDevice[] = [];
/** Dawn's GPU, noting every device it hands out so the test can destroy one. */
const gpu = {
  requestAdapter: async (options?: GPURequestAdapterOptions) => {
    const adapter = (await dawn.requestAdapter(options))!;
    return new Proxy(adapter, {
      get(target, key) {
        if (key === 'requestDevice') {
          return async (descriptor?: GPUDeviceDescriptor) => {
            const device = await target.requestDevice(descriptor);
            devices.push(device);
            return device;
          };
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  },
} as unknown as GPU;

afterAll(() => devices.forEach((d) => d.destroy()));

async function until(check: () => Promise<TrainingStatus>, done: (s: TrainingStatus) => boolean): Promise<TrainingStatus> {
  for (;;) {
    const status = await check();
    if (done(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('engine host: a lost GPU device, full fine-tuning, LoCoMo validation', () => {
  it('stops training with its checkpoint, refuses requests until a reload, then resumes the run', async () => {
    const files = makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 1 });
    const host = createEngineHost(urlEngineOpener(() => gpu, () => new MemorySource(files)));
    await host.load('tiny/');
    const events: TrainingEvent[] = [];
    const options = { algorithm: 'grpo' as const, totalSteps: 4, promptsPerStep: 2, groupSize: 2, lora: { rank: 2, alpha: 4 }, optimizer: { lr: 5e-3 }, maxCompletionTokens: 4 };
    await host.startTraining({ task: 'synthetic', checkpointEvery: 1, options }, (e) => void events.push(e));
    await until(() => host.trainingStatus(), (s) => s.checkpoints.length > 0);

    devices.at(-1)!.destroy();
    const lost = await until(() => host.trainingStatus(), (s) => s.state === 'device-lost');
    expect(lost.message).toMatch(/^The GPU stopped responding \(.+\), so training stopped\. The last checkpoint is safe/);
    expect(lost.checkpoints.length).toBeGreaterThan(0);
    await expect(host.chat({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })).rejects.toThrow(/No model is loaded/);

    await host.load('tiny/');
    expect(devices).toHaveLength(2); // the lost device is never reused
    const resumed = await host.resumeTraining((e) => void events.push(e));
    expect(resumed.step).toBe(lost.checkpoints.at(-1)!.step);
    const end = await until(() => host.trainingStatus(), (s) => s.state !== 'running');
    expect([end.state, end.step]).toEqual(['finished', 4]);
    await expect(host.chat({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, temperature: 0 })).resolves.toMatchObject({ text: expect.any(String) });
    await host.unload();
  });

  it('full fine-tuning: refused with a reason on a float16 model; exports the Hugging Face model; a new run starts from the base again', async () => {
    const f16 = createEngineHost(urlEngineOpener(() => gpu, () => new MemorySource(makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 1, quant: 'q0f16' }))));
    await f16.load('tiny-f16/');
    const options = { fineTune: 'full' as const, algorithm: 'grpo' as const, totalSteps: 2, promptsPerStep: 4, groupSize: 4, optimizer: { lr: 1e-2 }, maxCompletionTokens: 4 };
    expect((await f16.trainingStatus()).fullFineTuneProblem).toMatch(/needs the weights in float32/);
    await expect(f16.startTraining({ task: 'synthetic', checkpointEvery: 1, options })).rejects.toThrow(/needs the weights in float32/);
    await f16.unload();

    const files = makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 1 });
    const source = () => new MemorySource(files);
    const host = createEngineHost(urlEngineOpener(() => gpu, source), { modelSource: source });
    await host.load('tiny-full/');
    expect((await host.trainingStatus()).fullFineTuneProblem).toBeNull();
    const exported: Array<Map<string, Uint8Array>> = [];
    for (let run = 0; run < 2; run++) {
      await host.startTraining({ task: 'synthetic', checkpointEvery: 1, options });
      const end = await until(() => host.trainingStatus(), (s) => s.state !== 'running');
      expect([end.state, end.step, end.message]).toEqual(['finished', 2, 'Finished 2 steps. Chat and the agents now run on the trained weights, until the model is reloaded or another run starts. Export the model below.']);
      expect(end.history.some((m) => m.gradNorm > 0)).toBe(true);
      expect(end.checkpoints.map((c) => c.step), 'a full run keeps only its latest checkpoint').toEqual([2]);
      const live = new Map((await host.exportAdapter()).map((f) => [f.name, f.bytes]));
      expect([...live.keys()]).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json']));
      const fromCheckpoint = new Map((await host.exportAdapter(end.checkpoints.at(-1)!.name)).map((f) => [f.name, f.bytes]));
      expect(Buffer.compare(fromCheckpoint.get('model.safetensors')!, live.get('model.safetensors')!), 'checkpoint and live export agree').toBe(0);
      exported.push(live);
    }
    // The runs moved the weights; the second started from the base weights, not from the first run's: it trained the same model.
    const tensor = (f: Map<string, Uint8Array>, name: string) => safetensorsData(parseSafetensors(f.get('model.safetensors')!, name).tensors.get(name)!);
    const name = 'model.layers.0.mlp.down_proj.weight';
    expect(tensor(exported[0]!, name)).not.toEqual(tensor(files, name));
    expect(Buffer.compare(exported[0]!.get('model.safetensors')!, exported[1]!.get('model.safetensors')!)).toBe(0);
    await host.unload();
  });

  it('a LoCoMo run validates on conv-30 from the start, keeps the best step as best.ckpt, and is refused validation without conv-30', async () => {
    const files = makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 1 });
    const host = createEngineHost(urlEngineOpener(() => gpu, () => new MemorySource(files)));
    await host.load('tiny-locomo/');
    const all = parseLocomo(generateLocomoText({ conversations: 3, seed: 1 }));
    const options = { algorithm: 'sft' as const, totalSteps: 2, promptsPerStep: 1, lora: { rank: 2, alpha: 4 }, optimizer: { lr: 1e-2 }, maxCompletionTokens: 8, validateEvery: 2 };
    const limits = { turns: 6, maxNewTokens: 8 };
    const withoutValidation = all.filter((c) => c.split === 'train');
    await expect(host.startTraining({ task: 'locomo-answer', checkpointEvery: 1, options, locomo: { conversations: withoutValidation, ...limits } })).rejects.toThrow(
      /Validation scores the policy on the validation conversation \(conv-30\), which the loaded file lacks/,
    );

    const messages: string[] = [];
    const listen = (e: TrainingEvent) => void (e.type === 'status' && e.status.message && messages.push(e.status.message));
    await host.startTraining({ task: 'locomo-answer', checkpointEvery: 1, options, locomo: { conversations: all.filter((c) => c.split !== 'test'), ...limits } }, listen);
    const end = await until(() => host.trainingStatus(), (s) => s.state !== 'running');
    expect([end.state, end.step, end.message]).toEqual(['finished', 2, expect.stringMatching(/^Finished 2 steps/)]);
    expect(messages).toContain('Scoring the policy before the first step on the validation conversation (conv-30)…');
    expect(messages).toContain('Scoring the policy after step 2 on the validation conversation (conv-30)…');
    const scored = end.history.find((m) => m.step === 2)!.validation!;
    expect(scored).toBeGreaterThanOrEqual(0);
    expect(scored).toBeLessThanOrEqual(1);
    // Step 2 is kept only if it beat the start (ties keep the start); best.ckpt holds that step's adapter.
    expect(end.best).toMatchObject({ checkpoint: 'best.ckpt' });
    expect([0, 2]).toContain(end.best!.step);
    const start = end.startScore!;
    expect(start).toBeGreaterThanOrEqual(0);
    if (end.best!.step === 2) expect([end.best!.score, scored > start]).toEqual([scored, true]);
    else expect([end.best!.score, scored <= start]).toEqual([start, true]);
    const bestFiles = new Map((await host.exportAdapter('best.ckpt')).map((f) => [f.name, f.bytes]));
    const lastFiles = new Map((await host.exportAdapter(end.checkpoints.at(-1)!.name)).map((f) => [f.name, f.bytes]));
    const same = Buffer.compare(bestFiles.get('adapter_model.safetensors')!, lastFiles.get('adapter_model.safetensors')!) === 0;
    expect(same, 'best.ckpt is the last step exactly when step 2 is the best').toBe(end.best!.step === 2);
    await host.unload();
  }, 240_000);
});
