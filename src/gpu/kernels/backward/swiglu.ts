// SwiGLU backward: h = silu(g) · u with silu(g) = g · σ(g), σ(g) = 1 / (1 + e^-g). Given dh:
//   du = dh · silu(g)
//   dg = dh · u · σ(g) · (1 + g · (1 - σ(g)))          (d silu/dg = σ + g σ (1 - σ))
// Gate and up are read with row strides / offsets like the forward (siluMul / siluMulFused), and dg
// and du are written the same way, so the fused [T, 2I] gate_up layout gets a fused [T, 2I] gradient
// that linearTransposed multiplies by the gate_up weight in one call. dg and du are one binding when
// they share a buffer (a buffer cannot be bound writable twice), two otherwise. dh is contiguous.
// One thread per element. For g << 0, e^-g overflows to inf, σ = 0 and both gradients are (-)0.
// Reference: float64.

import type { BindingKind, GpuRuntime } from '../../runtime';
import { numel, shapeToString, type GpuTensor } from '../../tensor';
import { expectF32, WG_INDEX } from '../../wgsl';
import { resolveRows, type RowLayout } from './layout';

const WG = 256;

function source(shared: boolean): string {
  const outputs = shared
    ? `@group(0) @binding(4) var<storage, read_write> dgu: array<f32>;
fn write_dg(i: u32, x: f32) { dgu[i] = x; }
fn write_du(i: u32, x: f32) { dgu[i] = x; }`
    : `@group(0) @binding(4) var<storage, read_write> dg: array<f32>;
@group(0) @binding(5) var<storage, read_write> du: array<f32>;
fn write_dg(i: u32, x: f32) { dg[i] = x; }
fn write_du(i: u32, x: f32) { du[i] = x; }`;
  return /* wgsl */ `
struct Params {
  rows: u32, width: u32, g_stride: u32, g_offset: u32, u_stride: u32, u_offset: u32,
  dg_stride: u32, dg_offset: u32, du_stride: u32, du_offset: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read> dh: array<f32>;
${outputs}
${WG_INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = wg_index(wid, nwg) * ${WG}u + lid;
  if (e >= params.rows * params.width) { return; }
  let t = e / params.width;
  let i = e % params.width;
  let g = gate[t * params.g_stride + params.g_offset + i];
  let u = up[t * params.u_stride + params.u_offset + i];
  let d = dh[e];
  let sig = 1.0 / (1.0 + exp(-g));
  write_du(t * params.du_stride + params.du_offset + i, d * g * sig);
  write_dg(t * params.dg_stride + params.dg_offset + i, d * u * sig * (1.0 + g * (1.0 - sig)));
}`;
}

interface Strided {
  t: GpuTensor;
  stride: number;
  offset: number;
}

function dispatch(rt: GpuRuntime, g: Strided, u: Strided, dh: GpuTensor, dg: Strided, du: Strided, rows: number, width: number): void {
  for (const out of [dg.t, du.t]) if ([g.t, u.t, dh].some((t) => t.buffer === out.buffer)) throw new Error('siluMulBackward: an output aliases an input');
  const shared = dg.t.buffer === du.t.buffer;
  const bindings: BindingKind[] = ['uniform', 'read', 'read', 'read', 'write'];
  const buffers = [g.t.buffer, u.t.buffer, dh.buffer, dg.t.buffer];
  if (!shared) {
    bindings.push('write');
    buffers.push(du.t.buffer);
  }
  rt.dispatch(
    { code: source(shared), bindings, label: `siluMulBackward${shared ? '.shared' : ''}` },
    [{ u32: rows }, { u32: width }, ...[g, u, dg, du].flatMap((s) => [{ u32: s.stride }, { u32: s.offset }])],
    buffers,
    rt.grid1d(Math.ceil((rows * width) / WG)),
  );
}

function rowsOf(dh: GpuTensor, width: number, what: string): number {
  expectF32(dh, `${what}: dh`);
  if (width === 0) return 0;
  if (numel(dh.shape) % width !== 0) throw new Error(`${what}: dh ${shapeToString(dh.shape)} is not a whole number of rows of ${width}`);
  return numel(dh.shape) / width;
}

/** Backward of siluMulFused: gateUp [..., 2I] (gate first), dh [..., I] -> d(gateUp) [..., 2I] (new tensor unless `out`). */
export function siluMulFusedBackward(rt: GpuRuntime, gateUp: GpuTensor, dh: GpuTensor, out?: GpuTensor): GpuTensor {
  expectF32(gateUp, 'siluMulFusedBackward: gateUp');
  const twoI = gateUp.shape[gateUp.shape.length - 1] ?? 0;
  if (twoI % 2 !== 0) throw new Error(`siluMulFusedBackward: last dimension ${twoI} is not even`);
  const width = twoI / 2;
  const rows = rowsOf(dh, width, 'siluMulFusedBackward');
  if (numel(gateUp.shape) !== rows * twoI) throw new Error('siluMulFusedBackward: gateUp and dh have different row counts');
  const d = out ?? rt.empty(gateUp.shape);
  if (numel(d.shape) !== rows * twoI) throw new Error('siluMulFusedBackward: out has the wrong size');
  dispatch(
    rt,
    { t: gateUp, stride: twoI, offset: 0 },
    { t: gateUp, stride: twoI, offset: width },
    dh,
    { t: d, stride: twoI, offset: 0 },
    { t: d, stride: twoI, offset: width },
    rows,
    width,
  );
  return d;
}

export interface SiluMulBackwardOptions {
  gateLayout?: RowLayout;
  upLayout?: RowLayout;
  /** Outputs (overwritten) and their layouts; new contiguous [rows, I] tensors when omitted. */
  dGate?: GpuTensor;
  dUp?: GpuTensor;
  dGateLayout?: RowLayout;
  dUpLayout?: RowLayout;
}

/** Backward of siluMul for separate (or strided) gate and up [rows, I]; dh [rows, I] contiguous. */
export function siluMulBackward(rt: GpuRuntime, gate: GpuTensor, up: GpuTensor, dh: GpuTensor, options: SiluMulBackwardOptions = {}): { dGate: GpuTensor; dUp: GpuTensor } {
  expectF32(gate, 'siluMulBackward: gate');
  expectF32(up, 'siluMulBackward: up');
  const width = dh.shape[dh.shape.length - 1] ?? 0;
  const rows = rowsOf(dh, width, 'siluMulBackward');
  const dGate = options.dGate ?? rt.empty([rows, width]);
  const dUp = options.dUp ?? rt.empty([rows, width]);
  const view = (t: GpuTensor, layout: RowLayout | undefined, what: string): Strided => {
    const [stride, offset] = resolveRows(t, layout, rows, width, `siluMulBackward: ${what}`);
    return { t, stride, offset };
  };
  dispatch(rt, view(gate, options.gateLayout, 'gate'), view(up, options.upLayout, 'up'), dh, view(dGate, options.dGateLayout, 'dGate'), view(dUp, options.dUpLayout, 'dUp'), rows, width);
  return { dGate, dUp };
}

// ---------------------------------------------------------------------------------------------
// References (float64, contiguous gate / up / dh of equal length).

export function siluMulForward64(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  return Float64Array.from(gate, (g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
}

export function siluMulBackwardReference(gate: ArrayLike<number>, up: ArrayLike<number>, dh: ArrayLike<number>): { dGate: Float64Array; dUp: Float64Array } {
  const dGate = new Float64Array(gate.length);
  const dUp = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i]!;
    const sig = 1 / (1 + Math.exp(-g));
    dUp[i] = dh[i]! * g * sig;
    dGate[i] = dh[i]! * up[i]! * sig * (1 + g * (1 - sig));
  }
  return { dGate, dUp };
}
