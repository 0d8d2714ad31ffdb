import { describe, expect, it } from 'vitest';
import { toLoadProgress } from './webllm-progress';

describe('toLoadProgress', () => {
  it('maps WebLLM 0.2.79 reports onto one rising bar', () => {
    const reports = [
      { progress: 0, timeElapsed: 0, text: 'Start to fetch params' },
      { progress: 0.5, timeElapsed: 3, text: 'Fetching param cache[10/20]: 450MB fetched. 50% completed, 3 secs elapsed. It can take a while when we first visit this page to populate the cache. Later refreshes will become faster.' },
      { progress: 1, timeElapsed: 6, text: 'Fetching param cache[20/20]: 900MB fetched. 100% completed, 6 secs elapsed.' },
      { progress: 0.5, timeElapsed: 7, text: 'Loading model from cache[10/20]: 450MB loaded. 50% completed, 7 secs elapsed.' },
      { progress: 0.5, timeElapsed: 8, text: 'Loading GPU shader modules[40/80]: 50% completed, 8 secs elapsed.' },
      { progress: 1, timeElapsed: 9.5, text: 'Finish loading on WebGPU - nvidia' },
    ];
    const mapped = reports.map(toLoadProgress);
    expect(mapped.map((p) => p.phase)).toEqual(['starting', 'download', 'download', 'cache', 'shaders', 'ready']);
    expect(mapped.map((p) => p.fraction)).toEqual([0, 0.4, 0.8, 0.875, 0.975, 1]);
    expect(mapped.map((p) => p.megabytes)).toEqual([undefined, 450, 900, 450, undefined, undefined]);
    expect(mapped[5]).toMatchObject({ elapsedS: 9.5, text: 'Finish loading on WebGPU - nvidia' });
  });

  it('clamps nonsense', () => {
    expect(toLoadProgress({ progress: Number.NaN, timeElapsed: Number.NaN, text: 'Fetching param cache[1/2]' })).toMatchObject({ fraction: 0, elapsedS: 0 });
    expect(toLoadProgress({ progress: 7, timeElapsed: 1, text: 'Fetching param cache[1/2]' }).fraction).toBe(0.8);
  });
});
