// Strided row views shared by the backward kernels: row r of a logical [rows, width] matrix starts at
// element offset + r·rowStride of its buffer, so a kernel can read or write a column slice of a fused
// buffer (q/k/v inside qkv, gate/up inside gate_up) without a copy, as the forward kernels do.

import { numel, type GpuTensor } from '../../tensor';

export interface RowLayout {
  /** Elements between consecutive rows (default: the width, i.e. contiguous). */
  rowStride?: number;
  /** Element offset of row 0 (default 0). */
  offset?: number;
}

/** Resolves defaults and checks the view stays inside the tensor; returns [rowStride, offset]. */
export function resolveRows(t: GpuTensor, layout: RowLayout | undefined, rows: number, width: number, what: string): [number, number] {
  const rowStride = layout?.rowStride ?? width;
  const offset = layout?.offset ?? 0;
  if (rowStride < width) throw new Error(`${what}: row stride ${rowStride} is smaller than the row width ${width}`);
  if (rows > 0 && width > 0 && offset + (rows - 1) * rowStride + width > numel(t.shape)) {
    throw new Error(`${what}: ${rows} rows of ${width} (stride ${rowStride}, offset ${offset}) reach past the end of a ${numel(t.shape)}-element tensor`);
  }
  return [rowStride, offset];
}
