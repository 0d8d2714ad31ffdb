import { describe, expect, it } from 'vitest';
import { add } from './kernels/elementwise';
import { linear, linearReference } from './kernels/linear';
import { argmax, argmaxReference } from './kernels/sampling';
import { maxAbsDiff } from './testing';
import { useGpuRuntime } from './test-runtime';

describe('GpuRuntime', () => {
  const gpu = useGpuRuntime();

  it('the pool hands a released buffer out again for the same size class', () => {
    const rt = gpu();
    const a = rt.empty([100]);
    rt.release(a);
    const before = rt.pool.getStats();
    const b = rt.empty([99]); // 396 bytes: same 448-byte class as 400 bytes
    expect(b.buffer).toBe(a.buffer);
    expect(rt.pool.getStats().reused).toBe(before.reused + 1);
    const c = rt.empty([1000]);
    expect(c.buffer).not.toBe(a.buffer);
    rt.release(b, c);
    // Exact-size tensors (weights) bypass the pool: released, they are destroyed, not kept.
    const w = rt.upload(new Float32Array(100), [100], 'f32', { exact: true });
    expect(w.buffer.size).toBe(400);
    const free = rt.pool.getStats().freeBuffers;
    rt.release(w);
    expect(rt.pool.getStats().freeBuffers).toBe(free);
    // Releasing twice is a bug (the buffer would be handed out to two owners): it throws.
    const d = rt.empty([8]);
    rt.release(d);
    expect(() => rt.release(d)).toThrow(/already released/);
    rt.empty([8]); // takes d's buffer back out of the free list
  });

  it('defers reuse of buffers released mid-batch until the batch is submitted', async () => {
    const rt = gpu();
    const x = rt.upload(Float32Array.from([1, 2, 3]), [3]);
    const y = add(rt, x, x); // recorded, not submitted
    rt.release(x);
    const z = rt.upload(Float32Array.from([10, 20, 30]), [3]); // must not overwrite x before add runs
    expect(z.buffer).not.toBe(x.buffer);
    expect(Array.from(await rt.download(y))).toEqual([2, 4, 6]);
    rt.release(y, z);
  });

  it('records many dispatches into one submit', async () => {
    const rt = gpu();
    const x = rt.upload(Float32Array.from([1, 2]), [2]);
    rt.flush();
    const submits = rt.submits;
    let y = x;
    for (let i = 0; i < 5; i++) y = add(rt, y, x);
    expect(rt.recordedDispatches).toBe(5);
    expect(Array.from(await rt.download(y))).toEqual([6, 12]);
    expect(rt.submits).toBe(submits + 1);
  });

});

describe('GpuRuntime errors', () => {
  const gpu = useGpuRuntime();
  it('reports a WGSL compile error at the next download instead of returning garbage', async () => {
    const rt = gpu();
    const y = rt.zeros([4]);
    const broken = { code: '@group(0) @binding(0) var<storage, read_write> y: array<f32>;\n@compute @workgroup_size(1) fn main() { y[0] = undefined_fn(); }', bindings: ['write'] as const, label: 'broken' };
    rt.dispatch(broken, undefined, [y.buffer], [1]);
    await expect(rt.download(y)).rejects.toThrow(/broken/);
  });
});

describe('GpuRuntime batch validation', () => {
  const gpu = useGpuRuntime();
  it('reports an invalid dispatch (wrong buffer usage) at the next download', async () => {
    const rt = gpu();
    const y = rt.zeros([4]);
    const uniformOnly = rt.device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM });
    const spec = { code: '@group(0) @binding(0) var<storage, read_write> y: array<f32>;\n@compute @workgroup_size(1) fn main() { y[0] = 1.0; }', bindings: ['write'] as const, label: 'misbound' };
    rt.dispatch(spec, undefined, [uniformOnly], [1]);
    await expect(rt.download(y)).rejects.toThrow(/batch/);
    // The runtime keeps working afterwards.
    expect(Array.from(await rt.download(rt.upload(Float32Array.from([3]), [1])))).toEqual([3]);
  });
});

describe('2-D workgroup grids', () => {
  const gpu = useGpuRuntime();
  it('kernels re-linearise x/y workgroup ids when a 1-D count is split (cap lowered to 7)', async () => {
    const rt = gpu();
    rt.maxWorkgroupsPerDim = 7;
    try {
      const n = 256 * 20 + 3; // 21 workgroups -> grid (7, 3)
      const a = Float32Array.from({ length: n }, (_, i) => i);
      const x = rt.upload(a, [n]);
      expect(Array.from(await rt.download(add(rt, x, x)))).toEqual(Array.from(a, (v) => 2 * v));
      const R = 23; // one workgroup per row -> grid (6, 4), one spare workgroup
      const logits = Float32Array.from({ length: R * 5 }, (_, i) => ((i * 7) % 5) - (i % 3));
      const ids = await rt.downloadU32(argmax(rt, rt.upload(logits, [R, 5])));
      expect(Array.from(ids)).toEqual(Array.from(argmaxReference(logits, 5)));
      const N = 130; // linear decode: 17 column blocks -> grid (6, 3)
      const wHost = Float32Array.from({ length: N * 3 }, (_, i) => Math.sin(i));
      const y = await rt.download(linear(rt, rt.upload(Float32Array.from([1, 2, 3]), [1, 3]), rt.upload(wHost, [N, 3])));
      expect(maxAbsDiff(y, linearReference(Float32Array.from([1, 2, 3]), wHost, 1, N, 3))).toBeLessThanOrEqual(1e-6);
    } finally {
      rt.maxWorkgroupsPerDim = 65535;
    }
  });
});

describe('GpuRuntime.write', () => {
  const gpu = useGpuRuntime();
  it('does not let a host write overtake dispatches already recorded', async () => {
    const rt = gpu();
    const x = rt.upload(Float32Array.from([1, 2]), [2]);
    const y1 = add(rt, x, x); // recorded with x = [1, 2]
    rt.write(x, Float32Array.from([10, 20]));
    const y2 = add(rt, x, x);
    expect(Array.from(await rt.download(y1))).toEqual([2, 4]);
    expect(Array.from(await rt.download(y2))).toEqual([20, 40]);
  });
});
