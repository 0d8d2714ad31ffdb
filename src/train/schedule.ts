// Learning-rate schedule: linear warm-up, then constant, linear or cosine decay to `minRatio` of the peak.

export interface ScheduleConfig {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  decay: 'constant' | 'linear' | 'cosine';
  /** Final learning rate as a fraction of the peak (cosine and linear). */
  minRatio: number;
}

export function learningRate(step: number, config: ScheduleConfig): number {
  if (config.warmupSteps > 0 && step < config.warmupSteps) return (config.lr * (step + 1)) / config.warmupSteps;
  if (config.decay === 'constant') return config.lr;
  const span = Math.max(1, config.totalSteps - config.warmupSteps);
  const progress = Math.min(1, (step - config.warmupSteps) / span);
  const shape = config.decay === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return config.lr * (config.minRatio + (1 - config.minRatio) * shape);
}
