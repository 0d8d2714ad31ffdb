// Vitest helper for *.gpu.test.ts files: one Dawn device and GpuRuntime per test file.
import { afterAll, beforeAll } from 'vitest';
import { requestNodeGpuContext } from './node-device';
import { GpuRuntime } from './runtime';

export function useGpuRuntime(): () => GpuRuntime {
  let rt: GpuRuntime | undefined;
  beforeAll(async () => {
    rt = new GpuRuntime(await requestNodeGpuContext());
  });
  afterAll(() => rt?.device.destroy());
  return () => {
    if (!rt) throw new Error('GPU runtime not initialised (beforeAll failed?)');
    return rt;
  };
}
