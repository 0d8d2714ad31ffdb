// WebLLM's load progress as one bar. WebLLM reports three phases, each running its `progress` from 0 to 1
// again ("Fetching param cache[i/n]", "Loading model from cache[i/n]", "Loading GPU shader modules[i/n]"),
// and "Finish loading on ..." at the end; this maps them onto one rising fraction the UI can show.

export type LoadPhase = 'starting' | 'download' | 'cache' | 'shaders' | 'ready';

export interface LoadProgress {
  phase: LoadPhase;
  /** Overall, 0..1. */
  fraction: number;
  /** Within the current phase, 0..1. */
  phaseFraction: number;
  /** Megabytes fetched or loaded so far, when WebLLM says. */
  megabytes?: number;
  elapsedS: number;
  /** WebLLM's own words. */
  text: string;
}

/** Where each phase sits on the overall bar: downloading dominates a first load. */
const SPAN: Record<LoadPhase, [number, number]> = {
  starting: [0, 0],
  download: [0, 0.8],
  cache: [0.8, 0.95],
  shaders: [0.95, 1],
  ready: [1, 1],
};

function phaseOf(text: string): LoadPhase {
  if (/^Fetching param cache/i.test(text)) return 'download';
  if (/^Loading model from cache/i.test(text)) return 'cache';
  if (/^Loading GPU shader modules/i.test(text)) return 'shaders';
  if (/^Finish loading/i.test(text)) return 'ready';
  return 'starting';
}

export function toLoadProgress(report: { progress: number; text: string; timeElapsed: number }): LoadProgress {
  const phase = phaseOf(report.text);
  const phaseFraction = Number.isFinite(report.progress) ? Math.min(1, Math.max(0, report.progress)) : 0;
  const [from, to] = SPAN[phase];
  const progress: LoadProgress = {
    phase,
    fraction: phase === 'ready' ? 1 : from + (to - from) * phaseFraction,
    phaseFraction: phase === 'ready' ? 1 : phaseFraction,
    elapsedS: Number.isFinite(report.timeElapsed) ? report.timeElapsed : 0,
    text: report.text,
  };
  const megabytes = /(\d+)MB (?:fetched|loaded)/.exec(report.text);
  if (megabytes) progress.megabytes = Number(megabytes[1]);
  return progress;
}
