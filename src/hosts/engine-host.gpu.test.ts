// A lost GPU device in the engine worker's host, on the real engine (Dawn): training stops with its last
// checkpoint kept, requests say a model must be loaded, and a reload (on a new device) resumes the run.
import { afterAll, describe, expect, it } from 'vitest';
import { MemorySource } from '../model/source';
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

describe('engine host on a lost GPU device', () => {
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
});
