// The runtime every kernel goes through: uploads and downloads, a buffer pool, a pipeline cache, and
// command batching. Dispatches are recorded into one open command encoder (one compute pass) and only
// submitted by flush() or by a download, so a whole model forward is a single queue.submit().
//
// Lifetime rule that makes pooling safe with batching: a tensor released while commands are still
// being recorded goes back to the pool only after the next submit. Until then nothing else can be
// handed the buffer, so a later queue.writeBuffer (which runs before the whole pending command buffer)
// can never clobber data an earlier recorded dispatch still reads.

import type { GpuContext } from './device';
import { BufferPool } from './pool';
import { byteSize, isQ4, numel, shapeToString, unpackF16, type DType, type GpuTensor, type Q4Weight, type Weight } from './tensor';

/** How a kernel binds each buffer, in binding order (group 0). */
export type BindingKind = 'uniform' | 'read' | 'write';

export interface KernelSpec {
  /** Full WGSL source; different variants are different sources (and different cache entries). */
  code: string;
  entryPoint?: string;
  bindings: readonly BindingKind[];
  label?: string;
}

/** A uniform field: all params structs use 4-byte scalars only, so field i sits at byte 4·i. */
export type ParamField = { u32: number } | { i32: number } | { f32: number };

// The spec's numeric flag values (GPUBufferUsage etc. are globals only once a WebGPU implementation
// is loaded, which in Node happens after this module is imported).
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const UNIFORM = 0x40;
const STORAGE = 0x80;
const SHADER_STAGE_COMPUTE = 0x4;
const MAP_MODE_READ = 0x1;
const STORAGE_USAGE = STORAGE | COPY_SRC | COPY_DST;
const UNIFORM_USAGE = UNIFORM | COPY_DST;
const READBACK_USAGE = MAP_READ | COPY_DST;

/** Largest workgroup count per dimension every WebGPU device supports. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

/**
 * Packs uniform fields. WGSL uniform structs made only of 4-byte scalars (u32/i32/f32) have their
 * fields at offsets 0, 4, 8, ... and a size rounded up to 16 bytes; vectors are never used in params
 * so there are no vec3 alignment traps.
 */
export function packParams(fields: readonly ParamField[]): ArrayBuffer {
  const bytes = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  const data = new ArrayBuffer(bytes);
  const view = new DataView(data);
  fields.forEach((field, i) => {
    if ('u32' in field) view.setUint32(i * 4, field.u32 >>> 0, true);
    else if ('i32' in field) view.setInt32(i * 4, field.i32 | 0, true);
    else view.setFloat32(i * 4, field.f32, true);
  });
  return data;
}

/** Splits a 1-D workgroup count over x and y so no dimension exceeds 65535 (kernels re-linearise). */
export function grid1d(workgroups: number, maxPerDim = MAX_WORKGROUPS_PER_DIM): [number, number] {
  if (workgroups <= maxPerDim) return [Math.max(1, workgroups), 1];
  const y = Math.ceil(workgroups / maxPerDim);
  return [Math.ceil(workgroups / y), y];
}

export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** Resolves to the compile/validation error of this pipeline, or null (WebGPU reports them asynchronously). */
  compiled: Promise<GPUError | null>;
}

const pipelineCaches = new WeakMap<GPUDevice, Map<string, CachedPipeline>>();

/** Compiles (once per device + source + entry point + binding layout) a compute pipeline. */
export function getPipeline(device: GPUDevice, spec: KernelSpec): CachedPipeline {
  let cache = pipelineCaches.get(device);
  if (!cache) pipelineCaches.set(device, (cache = new Map()));
  const entryPoint = spec.entryPoint ?? 'main';
  const key = `${entryPoint}\u0000${spec.bindings.join(',')}\u0000${spec.code}`;
  let hit = cache.get(key);
  if (!hit) {
    // Explicit layouts: 'auto' would silently drop bindings an entry point does not use.
    const layout = device.createBindGroupLayout({
      entries: spec.bindings.map((kind, binding) => ({
        binding,
        visibility: SHADER_STAGE_COMPUTE,
        buffer: { type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage' },
      })),
    });
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code: spec.code, ...(spec.label ? { label: spec.label } : {}) });
    const pipeline = device.createComputePipeline({
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint },
      ...(spec.label ? { label: spec.label } : {}),
    });
    const compiled = device.popErrorScope();
    cache.set(key, (hit = { pipeline, layout, compiled }));
  }
  return hit;
}

export interface TensorOptions {
  label?: string;
  /** Allocate exactly, outside the pool (weights, KV caches). release() then destroys the buffer. */
  exact?: boolean;
}

export class GpuRuntime {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  /** True when WGSL f16 arithmetic is available (not needed by any kernel here). */
  readonly f16: boolean;
  private encoder: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  private pendingRelease = new Set<GPUBuffer>();
  private dispatchesInBatch = 0;
  private readonly checked = new WeakSet<Promise<GPUError | null>>();
  private pendingChecks: Promise<string | null>[] = [];
  /**
   * Per-dimension cap grid1d splits at. 65535 on every device; tests lower it to exercise the 2-D
   * split (and the kernels' re-linearisation) without dispatching 16M threads.
   */
  maxWorkgroupsPerDim = MAX_WORKGROUPS_PER_DIM;
  /** Number of queue.submit() calls so far (tests check batching with it). */
  submits = 0;

  constructor(context: GpuContext | GPUDevice) {
    if ('device' in context) {
      this.device = context.device;
      this.f16 = context.f16;
    } else {
      this.device = context;
      this.f16 = context.features.has('shader-f16');
    }
    this.pool = new BufferPool(this.device);
  }

  // ----- tensors ------------------------------------------------------------------------------

  /**
   * An uninitialised tensor (contents are whatever a reused buffer held). From the pool by default;
   * `exact: true` allocates exactly the bytes needed, outside the pool — for weights and KV caches,
   * which live long and are large enough that a size class's rounding (up to 25%) would waste memory.
   */
  empty(shape: readonly number[], dtype: DType = 'f32', options: TensorOptions = {}): GpuTensor {
    const { label, exact = false } = options;
    if (exact) {
      const size = Math.max(16, align4(byteSize(shape, dtype)));
      const buffer = this.device.createBuffer({ size, usage: STORAGE_USAGE, ...(label ? { label } : {}) });
      return { buffer, shape: [...shape], dtype };
    }
    const buffer = this.pool.acquire(byteSize(shape, dtype), STORAGE_USAGE, label);
    return { buffer, shape: [...shape], dtype };
  }

  /** A tensor filled with zeros (recorded as a clear command, so it stays in the batch). */
  zeros(shape: readonly number[], dtype: DType = 'f32'): GpuTensor {
    const t = this.empty(shape, dtype);
    this.endPass();
    this.getEncoder().clearBuffer(t.buffer, 0, align4(byteSize(shape, dtype)));
    return t;
  }

  /**
   * Uploads host data. For 'f16' pass the packed words (see packF16 / packF16Bits); for 'f32' a
   * Float32Array; for 'u32' a Uint32Array.
   */
  upload(data: Float32Array | Uint32Array | Int32Array, shape: readonly number[], dtype: DType = 'f32', options: TensorOptions = {}): GpuTensor {
    const expectedWords = byteSize(shape, dtype) / 4;
    if (data.length !== expectedWords) {
      throw new Error(`upload ${options.label ?? ''} ${dtype}${shapeToString(shape)}: expected ${expectedWords} 32-bit words, got ${data.length}`);
    }
    const t = this.empty(shape, dtype, options);
    if (data.byteLength > 0) this.device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return t;
  }

  /**
   * Uploads an MLC q4 weight [N, K]: q_weight words [N, K/8] and q_scale [N, K/32], the scales either
   * f32 values (q4f32_1) or packed f16 words (q4f16_1, 'f16'). Exact-size buffers (weights live long).
   */
  uploadQ4(qWeight: Uint32Array, qScale: Float32Array | Uint32Array, shape: readonly [number, number], scaleDtype: 'f32' | 'f16', label?: string): Q4Weight {
    const [n, k] = shape;
    if (k % 32 !== 0) throw new Error(`uploadQ4 ${label ?? ''}: K = ${k} is not a multiple of 32`);
    return {
      kind: 'q4',
      qWeight: this.upload(qWeight, [n, k / 8], 'u32', { exact: true, ...(label ? { label: `${label}.q_weight` } : {}) }),
      qScale: this.upload(qScale, [n, k / 32], scaleDtype, { exact: true, ...(label ? { label: `${label}.q_scale` } : {}) }),
      shape: [n, k],
    };
  }

  /**
   * Overwrites a tensor's contents from the host. queue.writeBuffer runs before any command buffer
   * submitted after it, so if a batch is open (dispatches already recorded that may read this tensor)
   * it is submitted first: the recorded work sees the old contents, later work the new ones.
   */
  write(t: GpuTensor, data: Float32Array | Uint32Array | Int32Array, elementOffset = 0): void {
    this.flush();
    if (t.dtype === 'f16' && elementOffset % 2 !== 0) throw new Error('write: f16 tensors are written in whole words (even element offsets)');
    const wordOffset = t.dtype === 'f16' ? elementOffset / 2 : elementOffset;
    this.device.queue.writeBuffer(t.buffer, wordOffset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Gives a tensor's buffer back to the pool (after the pending batch is submitted). */
  release(...tensors: (Weight | undefined)[]): void {
    for (const t of tensors) {
      if (!t) continue;
      if (isQ4(t)) {
        this.release(t.qWeight, t.qScale);
        continue;
      }
      if (this.pendingRelease.has(t.buffer) || this.pool.isFree(t.buffer)) {
        throw new Error(`release: tensor ${shapeToString(t.shape)} was already released (a tensor and its reshape share one buffer)`);
      }
      if (this.encoder) this.pendingRelease.add(t.buffer);
      else this.pool.release(t.buffer);
    }
  }

  /** Reads back an f32 or f16 tensor as f32 values (flushes the batch). */
  async download(t: GpuTensor): Promise<Float32Array> {
    const words = await this.downloadWords(t);
    if (t.dtype === 'f16') return unpackF16(words, numel(t.shape));
    if (t.dtype === 'u32') return Float32Array.from(words);
    return new Float32Array(words.buffer, words.byteOffset, words.length);
  }

  /** Reads back a tensor's raw 32-bit words (u32 ids, packed f16, q4 words). */
  async downloadU32(t: GpuTensor): Promise<Uint32Array> {
    return this.downloadWords(t);
  }

  private async downloadWords(t: GpuTensor): Promise<Uint32Array> {
    const bytes = align4(byteSize(t.shape, t.dtype));
    if (bytes === 0) return new Uint32Array(0);
    const readback = this.pool.acquire(bytes, READBACK_USAGE);
    this.endPass();
    this.getEncoder().copyBufferToBuffer(t.buffer, 0, readback, 0, bytes);
    this.flush();
    try {
      await this.checkPipelines();
    } catch (error) {
      this.pool.release(readback);
      throw error;
    }
    await readback.mapAsync(MAP_MODE_READ, 0, bytes);
    const words = new Uint32Array(readback.getMappedRange(0, bytes).slice(0));
    readback.unmap();
    this.pool.release(readback);
    return words;
  }

  // ----- dispatch -----------------------------------------------------------------------------

  /**
   * Records one dispatch into the open batch. `buffers` are bound in order after the uniform params
   * (binding 0 is always the params struct when `params` is given).
   */
  dispatch(spec: KernelSpec, params: readonly ParamField[] | undefined, buffers: readonly GPUBuffer[], workgroups: readonly [number, number?, number?]): void {
    const { pipeline, layout, compiled } = getPipeline(this.device, spec);
    if (!this.checked.has(compiled)) {
      this.checked.add(compiled);
      this.pendingChecks.push(compiled.then((error) => (error ? `${spec.label ?? 'kernel'}: ${error.message}` : null)));
    }
    const entries: GPUBindGroupEntry[] = [];
    if (params) {
      const data = packParams(params);
      const uniform = this.pool.acquire(data.byteLength, UNIFORM_USAGE);
      this.device.queue.writeBuffer(uniform, 0, data);
      this.pendingRelease.add(uniform); // reusable only once this batch is submitted
      entries.push({ binding: 0, resource: { buffer: uniform, size: data.byteLength } });
    }
    buffers.forEach((buffer, i) => entries.push({ binding: entries.length, resource: { buffer } }));
    if (entries.length !== spec.bindings.length) {
      throw new Error(`${spec.label ?? 'kernel'}: ${entries.length} bindings given, layout has ${spec.bindings.length}`);
    }
    const bindGroup = this.device.createBindGroup({ layout, entries });
    const [x, y = 1, z = 1] = workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    if (x > MAX_WORKGROUPS_PER_DIM || y > MAX_WORKGROUPS_PER_DIM || z > MAX_WORKGROUPS_PER_DIM) {
      throw new Error(`${spec.label ?? 'kernel'}: dispatch (${x}, ${y}, ${z}) exceeds ${MAX_WORKGROUPS_PER_DIM} per dimension`);
    }
    const pass = this.getPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatchesInBatch++;
  }

  /** A 1-D workgroup count laid out over x and y (kernels re-linearise with wg_index). */
  grid1d(workgroups: number): [number, number] {
    return grid1d(workgroups, this.maxWorkgroupsPerDim);
  }

  /** Records a buffer copy (ends the compute pass; the next dispatch opens a new one). */
  copy(src: GpuTensor, dst: GpuTensor, bytes = Math.min(src.buffer.size, dst.buffer.size), srcOffset = 0, dstOffset = 0): void {
    this.endPass();
    this.getEncoder().copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, align4(bytes));
  }

  /** Submits everything recorded so far as one command buffer. No-op when nothing is recorded. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    this.device.queue.submit([this.encoder.finish()]);
    // The scope opened with this encoder catches invalid bind groups, usage conflicts (a buffer bound
    // writable twice), etc. for the whole batch; reported by the next download/sync.
    this.pendingChecks.push(this.device.popErrorScope().then((error) => (error ? `batch: ${error.message}` : null)));
    this.submits++;
    this.encoder = undefined;
    this.dispatchesInBatch = 0;
    for (const buffer of this.pendingRelease) this.pool.release(buffer);
    this.pendingRelease = new Set();
  }

  /** Runs `record` (which only records dispatches) and submits it all at once. */
  batch<T>(record: () => T): T {
    const result = record();
    this.flush();
    return result;
  }

  /** Waits for all submitted work (flushes first). */
  async sync(): Promise<void> {
    this.flush();
    await this.checkPipelines();
    await this.device.queue.onSubmittedWorkDone();
  }

  /**
   * Throws if any pipeline used so far failed to compile or validate, or a submitted batch was
   * invalid. A broken shader otherwise shows up only as garbage output; download() and sync() call
   * this before returning data.
   */
  async checkPipelines(): Promise<void> {
    const checks = this.pendingChecks;
    this.pendingChecks = [];
    const errors = (await Promise.all(checks)).filter((e): e is string => e !== null);
    if (errors.length > 0) throw new Error(`WebGPU pipeline error:\n${errors.join('\n')}`);
  }

  get recordedDispatches(): number {
    return this.dispatchesInBatch;
  }

  private getEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder();
    }
    return this.encoder;
  }

  private getPass(): GPUComputePassEncoder {
    return (this.pass ??= this.getEncoder().beginComputePass());
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = undefined;
  }
}

function align4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}
