// The smallest end-to-end WebGPU check: y = a·x + y in a compute shader, read back, beside its reference.
// Used by the Node and the browser smoke tests to prove the GPU path really runs on this machine.

const AXPY_WGSL = /* wgsl */ `
struct Params { a: f32, n: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < params.n) { y[id.x] = params.a * x[id.x] + y[id.x]; }
}`;

export function axpyReference(a: number, x: Float32Array, y: Float32Array): Float32Array {
  return y.map((value, i) => Math.fround(Math.fround(a * x[i]!) + value));
}

export async function axpyOnGpu(device: GPUDevice, a: number, x: Float32Array, y: Float32Array): Promise<Float32Array> {
  if (x.length !== y.length) throw new Error(`axpy: x has ${x.length} elements, y has ${y.length}`);
  const n = x.length;
  const params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const paramData = new ArrayBuffer(16);
  new Float32Array(paramData, 0, 1)[0] = a;
  new Uint32Array(paramData, 4, 1)[0] = n;
  device.queue.writeBuffer(params, 0, paramData);
  const storage = (data: Float32Array, usage: number) => {
    const buffer = device.createBuffer({ size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE | usage });
    device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  };
  const xBuffer = storage(x, GPUBufferUsage.COPY_DST);
  const yBuffer = storage(y, GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
  const readback = device.createBuffer({ size: yBuffer.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });

  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: AXPY_WGSL }), entryPoint: 'main' },
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [params, xBuffer, yBuffer].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil(n / 64));
  pass.end();
  encoder.copyBufferToBuffer(yBuffer, 0, readback, 0, yBuffer.size);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const result = new Float32Array(readback.getMappedRange().slice(0, n * 4));
  readback.unmap();
  for (const buffer of [params, xBuffer, yBuffer, readback]) buffer.destroy();
  return result;
}
