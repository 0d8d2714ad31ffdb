import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from './device';
import { requestNodeGpuContext } from './node-device';
import { axpyOnGpu, axpyReference } from './smoke';

describe('WebGPU in Node (Dawn)', () => {
  let gpu: GpuContext;
  beforeAll(async () => {
    gpu = await requestNodeGpuContext();
  });
  afterAll(() => gpu?.device.destroy());

  it('runs a WGSL compute kernel and matches JavaScript', async () => {
    const n = 1000; // not a multiple of the workgroup size
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const y = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.5));
    const result = await axpyOnGpu(gpu.device, 1.75, x, y);
    expect(Array.from(result)).toEqual(Array.from(axpyReference(1.75, x, y)));
  });
});
