// The tiled matrix-product loop shared by linear.ts (its prefill kernel) and backward/lora.ts
// (matmulStrided): C[M, N] = Σ_k A(m, k) · B(n, k), a 64x64 output tile per workgroup of 16x16
// threads, 4x4 outputs per thread, K walked in slices of 16 staged through workgroup memory. Tiles are
// stored k-major so the inner loop reads 4 + 4 consecutive floats. Dispatch [ceil(N / 64), ceil(M / 64)].

export const TILE = 64;
const TK = 16;

/**
 * WGSL for the tile constants, workgroup arrays and `main`. The kernel must declare `params.M`,
 * `params.N`, `params.K` and, addressing its operands and writing its output as it likes:
 *   fn load_a(m: u32, k: u32) -> f32      A(m, k), called only in range
 *   fn load_b(n: u32, k: u32) -> f32      B(n, k), called only in range
 *   fn store(m: u32, n: u32, acc: f32)    the finished sum for output (m, n), called only in range
 */
export function tiledMatmulWgsl(): string {
  return /* wgsl */ `
const TILE = ${TILE}u;
const TK = ${TK}u;
var<workgroup> a_tile: array<f32, ${TILE * TK}>; // [TK][TILE] k-major
var<workgroup> b_tile: array<f32, ${TILE * TK}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let M = params.M; let N = params.N; let K = params.K;
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let tid = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < K; k0 += TK) {
    // Stage A(row0.., k0..) and B(col0.., k0..): 1024 values each, 4 per thread, zero outside.
    for (var i = 0u; i < 4u; i++) {
      let e = tid + i * 256u;
      let r = e / TK;
      let kk = e % TK;
      let k = k0 + kk;
      var av = 0.0;
      if (row0 + r < M && k < K) { av = load_a(row0 + r, k); }
      a_tile[kk * TILE + r] = av;
      var bv = 0.0;
      if (col0 + r < N && k < K) { bv = load_b(col0 + r, k); }
      b_tile[kk * TILE + r] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var a4: array<f32, 4>;
      var b4: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        a4[i] = a_tile[kk * TILE + lid.y * 4u + i];
        b4[i] = b_tile[kk * TILE + lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(a4[i], b4[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = row0 + lid.y * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let n = col0 + lid.x * 4u + j;
      if (m < M && n < N) { store(m, n, acc[i][j]); }
    }
  }
}`;
}
