// The run's live charts: reward (± its spread in the group), KL to the base model, loss, throughput and,
// when the run validates, the held-out score at each validated step.
import { useMemo } from 'react';
import type { StepMetrics } from '../../train/trainer';
import { MetricChart } from './MetricChart';

const fixed = (digits: number) => (v: number) => v.toFixed(digits);
const compact = (v: number) => (Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(1)}k` : Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(2));
const small = (v: number) => (v === 0 ? '0' : Math.abs(v) < 0.001 ? v.toExponential(1) : String(Number(v.toPrecision(2))));

/** `startScore`: the validation score before the first step, drawn at step 0 (null: none). */
export function TrainingCharts({ history, startScore = null }: { history: readonly StepMetrics[]; startScore?: number | null }) {
  const series = useMemo(
    () => ({
      steps: history.map((m) => m.step),
      reward: history.map((m) => m.rewardMean),
      rewardStd: history.map((m) => m.rewardStd),
      kl: history.map((m) => m.kl),
      loss: history.map((m) => m.loss),
      speed: history.map((m) => m.tokensPerSecond),
    }),
    [history],
  );
  const validation = useMemo(() => {
    const scored = history.filter((m) => m.validation !== undefined);
    const start = startScore === null ? [] : [{ step: 0, score: startScore }];
    return [...start, ...scored.map((m) => ({ step: m.step, score: m.validation! }))];
  }, [history, startScore]);
  const sft = history.length > 0 && history.every((m) => m.rewardMean === null);
  return (
    <div className="chart-grid">
      {!sft && <MetricChart title="Reward (mean ± std)" steps={series.steps} values={series.reward} spread={series.rewardStd} format={fixed(2)} range={[0, 1]} />}
      <MetricChart title="KL to the base model" steps={series.steps} values={series.kl} format={small} />
      <MetricChart title="Loss" steps={series.steps} values={series.loss} format={small} />
      <MetricChart title="Tokens per second" steps={series.steps} values={series.speed} format={compact} />
      {validation.length > 0 && <MetricChart title="Validation score" steps={validation.map((v) => v.step)} values={validation.map((v) => v.score)} format={fixed(2)} range={[0, 1]} />}
    </div>
  );
}
