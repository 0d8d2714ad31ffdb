// Finite-difference gradient checks for the float64 references (tests only, plain TypeScript).
// Each backward reference is checked against its own float64 forward: for a scalar loss
// L(x) = Σ w ∘ f(x) with random w, central differences (L(x + h e_i) - L(x - h e_i)) / 2h must match
// the analytic dL/dx_i. In float64 with h = 1e-5 and O(1) values the truncation error (h²·f'''/6)
// and the rounding error (2^-53·|L|/h) are both ~1e-11, far below the 1e-5 the tests demand.

/** dL/dx by central differences; `loss` must not keep or mutate x (it is perturbed in place and restored). */
export function finiteDifferenceGrad(loss: (x: Float64Array) => number, x: Float64Array, h = 1e-5): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i]!;
    x[i] = saved + h;
    const plus = loss(x);
    x[i] = saved - h;
    const minus = loss(x);
    x[i] = saved;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

/**
 * Central differences at a few entries of `x` only (a whole model's loss is too slow to differentiate
 * at every weight): the largest |got_i - fd_i| and the largest |fd_i| over `indices`. `loss` reads x,
 * which is perturbed in place and restored.
 */
export function sampledGradCheck(loss: () => number, x: Float64Array, got: ArrayLike<number>, indices: readonly number[], h = 1e-5): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (const i of indices) {
    const saved = x[i]!;
    x[i] = saved + h;
    const plus = loss();
    x[i] = saved - h;
    const minus = loss();
    x[i] = saved;
    const fd = (plus - minus) / (2 * h);
    diff = Math.max(diff, Math.abs(got[i]! - fd));
    scale = Math.max(scale, Math.abs(fd));
  }
  return { diff, scale };
}

/** max|got - want| / max|want| (max-norm relative error; 0 when both are zero). */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  if (Number.isNaN(diff)) return Infinity;
  return diff === 0 ? 0 : diff / scale;
}

/** Σ w_i · y_i in float64: the scalar loss whose gradient with respect to y is w. */
export function dot64(w: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += w[i]! * y[i]!;
  return s;
}

/** Float64 copy of an array (the FD checks perturb float64 inputs). */
export function f64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

/** Logs an observed error against its bound when BACKWARD_REPORT is set (for tuning tolerances). */
export function report(what: string, error: number, bound: number): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.BACKWARD_REPORT) console.log(`[backward] ${what}: ${error.toExponential(2)} (bound ${bound.toExponential(2)}, ${((100 * error) / bound).toFixed(1)}%)`);
  return error;
}
