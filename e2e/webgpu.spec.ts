// WebGPU in real Chromium (SwiftShader without a GPU): a compute kernel runs and matches JavaScript.
import { expect, test } from './fixtures';

test('runs a WGSL compute kernel in the browser and matches JavaScript', async ({ harnessPage: page }) => {
  const outcome = await page.evaluate(async () => {
    const { requestGpuContext, axpyOnGpu, axpyReference } = window.harness.gpu;
    const gpu = await requestGpuContext(navigator.gpu);
    const n = 1000;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const y = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.5));
    const result = await axpyOnGpu(gpu.device, -0.75, x, y);
    const reference = axpyReference(-0.75, x, y);
    gpu.device.destroy();
    return { adapter: gpu.adapterInfo, mismatches: result.filter((v, i) => v !== reference[i]).length, length: result.length };
  });
  console.log(`browser WebGPU adapter: ${JSON.stringify(outcome.adapter)}`);
  expect(outcome).toMatchObject({ mismatches: 0, length: 1000 });
});
