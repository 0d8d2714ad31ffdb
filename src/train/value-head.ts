// PPO's critic: a linear value head v = w·h + b on the model's final normed hidden state, read detached
// (the critic's loss never reaches the policy), kept on the host (float64) with its own AdamW at the
// critic lr. params = [w (C), b].
import type { OptimizerConfig } from './optimizer';
import { HostAdamW } from './optimizer';

/** The value head's parameters and AdamW moments (checkpoints). */
export interface ValueHeadState {
  params: number[];
  m: number[];
  v: number[];
  step: number;
}

export class ValueHead {
  private readonly adam: HostAdamW;

  constructor(
    readonly hiddenSize: number,
    optimizer: OptimizerConfig,
  ) {
    this.adam = new HostAdamW(new Float64Array(hiddenSize + 1), optimizer);
  }

  /** An empty gradient accumulator [dw (C), db]. */
  zeroGrad(): Float64Array {
    return new Float64Array(this.hiddenSize + 1);
  }

  /** v_t = w·hidden_t + b for each row of hidden [count, C]. */
  values(hidden: Float32Array, count: number): Float64Array {
    const p = this.adam.params;
    const C = this.hiddenSize;
    const out = new Float64Array(count);
    for (let t = 0; t < count; t++) {
      let s = p[C]!;
      for (let j = 0; j < C; j++) s += p[j]! * hidden[t * C + j]!;
      out[t] = s;
    }
    return out;
  }

  /**
   * Backward of v = w·h + b for `count` rows into the head only: adds dL/dw = Σ dv·h and dL/db = Σ dv
   * into `grad`. The hidden state is an input (detached): nothing flows back into the model.
   */
  backward(dValue: ArrayLike<number>, hidden: Float32Array, count: number, grad: Float64Array): void {
    const C = this.hiddenSize;
    for (let t = 0; t < count; t++) {
      const dv = dValue[t]!;
      if (dv === 0) continue;
      for (let j = 0; j < C; j++) grad[j]! += dv * hidden[t * C + j]!;
      grad[C]! += dv;
    }
  }

  /** One AdamW update; returns the gradient norm (a non-finite one skips the update). */
  update(grad: Float64Array, lr: number): number {
    return this.adam.update(grad, lr);
  }

  state(): ValueHeadState {
    const h = this.adam;
    return { params: [...h.params], m: [...h.m], v: [...h.v], step: h.step };
  }

  load(state: ValueHeadState): void {
    this.adam.params.set(state.params);
    this.adam.m.set(state.m);
    this.adam.v.set(state.v);
    this.adam.step = state.step;
  }
}
