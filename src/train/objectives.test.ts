import { describe, expect, it } from 'vitest';
import { DEFAULT_PPO, gae, groupAdvantages, grpoObjective, ppoObjective, sftObjective, type Completion, type GrpoConfig, type PpoCompletion } from './objectives';
import { rng as random } from '../gpu/testing';

/** Central differences of `loss` with respect to every logp entry (float64 math inside the objectives). */
function numericGradient<T extends { logp: ArrayLike<number> }>(items: T[], loss: (items: T[]) => number, h = 1e-3): number[][] {
  return items.map((item, i) =>
    Array.from(item.logp, (_, t) => {
      const at = (delta: number) => {
        const copy = items.map((c, j) => (j === i ? { ...c, logp: Float64Array.from(c.logp, (v, k) => (k === t ? v + delta : v)) } : c));
        return loss(copy);
      };
      return (at(h) - at(-h)) / (2 * h);
    }),
  );
}

function completions(seed: number, count: number): Completion[] {
  const rand = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const n = 1 + (i % 4) * 2;
    const oldLogp = Float64Array.from({ length: n }, () => -3 * rand());
    // Ratios spread well beyond the clip range, so both branches are exercised.
    const logp = oldLogp.map((v) => v + (rand() - 0.5) * 0.9);
    const refLogp = oldLogp.map((v) => v + (rand() - 0.5) * 0.5);
    return { logp, oldLogp, refLogp, advantage: (rand() - 0.5) * 3 };
  });
}

describe('groupAdvantages', () => {
  it('centres each group and scales it by the group, the batch, or not at all', () => {
    const rewards = [1, 0, 0, 1, 1, 1, 1, 1];
    const none = groupAdvantages(rewards, 4, 'none');
    expect(none).toEqual([0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0]);
    const group = groupAdvantages(rewards, 4, 'group', 0);
    const std = Math.sqrt(1 / 3); // unbiased std of [1, 0, 0, 1]
    expect(group.slice(0, 4).map((a) => +a.toFixed(6))).toEqual([0.5, -0.5, -0.5, 0.5].map((a) => +(a / std).toFixed(6)));
    expect(group.slice(4)).toEqual([0, 0, 0, 0]); // identical rewards: no signal
    const batch = groupAdvantages(rewards, 4, 'batch', 0);
    expect(batch[0]).toBeCloseTo(0.5 / Math.sqrt(rewards.reduce((a, r) => a + (r - 0.75) ** 2, 0) / 7), 6);
  });

  it('refuses rewards that are not whole groups', () => {
    expect(() => groupAdvantages([1, 2, 3], 2, 'group')).toThrow(/do not split into groups of 2/);
  });
});

describe('grpoObjective', () => {
  for (const lossType of ['grpo', 'dapo', 'dr_grpo'] as const) {
    it(`${lossType}: the gradient matches finite differences, clipped tokens included`, () => {
      const config: GrpoConfig = { epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0.04, lossType, maxCompletionLength: 8 };
      const batch = completions(3, 6);
      const { gradients, metrics } = grpoObjective(batch, config);
      expect(metrics.clip_fraction).toBeGreaterThan(0);
      expect(metrics.clip_fraction).toBeLessThan(1);
      const numeric = numericGradient(batch, (items) => grpoObjective(items, config).loss, 1e-4);
      gradients.forEach((grad, i) => grad.forEach((g, t) => expect(g).toBeCloseTo(numeric[i]![t]!, 4)));
    });
  }

  it('at the sampling policy (ratio 1, ref = policy) is −mean advantage with zero KL', () => {
    const logp = new Float32Array([-1, -2]);
    const batch = [
      { logp, oldLogp: logp, refLogp: logp, advantage: 1 },
      { logp: new Float32Array([-0.5]), oldLogp: new Float32Array([-0.5]), refLogp: new Float32Array([-0.5]), advantage: -1 },
    ];
    const result = grpoObjective(batch, { epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0.04, lossType: 'grpo', maxCompletionLength: 4 });
    expect(result.loss).toBeCloseTo(0, 10);
    expect(result.metrics.kl).toBe(0);
    // Raising a positive-advantage token's log-prob lowers the loss: gradient −A / (len · count).
    expect(Array.from(result.gradients[0]!)).toEqual([-0.25, -0.25]);
    expect(Array.from(result.gradients[1]!)).toEqual([0.5]);
  });
});

describe('sftObjective', () => {
  it('is the mean negative log-likelihood, with gradient −1/N per token', () => {
    const result = sftObjective([{ logp: new Float32Array([-1, -3]) }, { logp: new Float32Array([-2]) }]);
    expect(result.loss).toBeCloseTo(2, 6);
    expect(result.gradients.map((g) => Array.from(g))).toEqual([[-1 / 3, -1 / 3], [-1 / 3]].map((g) => g.map(Math.fround)));
  });
});

describe('PPO', () => {
  it('GAE with γ = λ = 1 and no KL gives reward-to-go minus value', () => {
    const values = new Float32Array([0.2, 0.5, 0.1]);
    const zeros = new Float32Array(3);
    const { advantages, returns } = gae(1, values, zeros, zeros, { ...DEFAULT_PPO, gamma: 1, lambda: 1, klCoefficient: 0 });
    expect(Array.from(advantages).map((a) => +a.toFixed(6))).toEqual([0.8, 0.5, 0.9]);
    expect(Array.from(returns).map((r) => +r.toFixed(6))).toEqual([1, 1, 1]);
  });

  it('policy and value gradients match finite differences', () => {
    const rand = random(11);
    const batch: PpoCompletion[] = Array.from({ length: 4 }, (_, i) => {
      const n = 2 + i;
      const oldLogp = Float64Array.from({ length: n }, () => -2 * rand());
      const oldValues = Float64Array.from({ length: n }, () => rand());
      return {
        logp: oldLogp.map((v) => v + (rand() - 0.5) * 0.8),
        oldLogp,
        values: oldValues.map((v) => v + (rand() - 0.5) * 0.8),
        oldValues,
        advantages: Float64Array.from({ length: n }, () => (rand() - 0.5) * 2),
        returns: Float64Array.from({ length: n }, () => rand()),
      };
    });
    const result = ppoObjective(batch, DEFAULT_PPO);
    const numericPolicy = numericGradient(batch, (items) => ppoObjective(items, DEFAULT_PPO).loss, 1e-4);
    result.gradients.forEach((grad, i) => grad.forEach((g, t) => expect(g).toBeCloseTo(numericPolicy[i]![t]!, 4)));
    const asValues = batch.map((c) => ({ ...c, logp: c.values }));
    const numericValue = numericGradient(asValues, (items) => ppoObjective(items.map((c, i) => ({ ...batch[i]!, values: c.logp })), DEFAULT_PPO).loss, 1e-4);
    result.valueGradients.forEach((grad, i) => grad.forEach((g, t) => expect(g).toBeCloseTo(numericValue[i]![t]!, 4)));
  });
});
