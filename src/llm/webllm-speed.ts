// WebLLM's own prefill and decode speed on a model, for the engine benchmark: token ids go straight in
// through forwardTokensAndSample (the call WebLLM keeps for this), so the token counts are exact and no
// chat template or sampling setting is involved. The first forward compiles most of WebLLM's shaders, so
// a short warm-up runs first.
import type { AppConfig } from '@mlc-ai/web-llm';
import { startWorkerEngine } from './webllm';

export interface WebLlmSpeed {
  load_s: number;
  warmup_s: number;
  prefill_tokens: number;
  prefill_tokens_per_s: number;
  decode_tokens: number;
  decode_tokens_per_s: number;
}

export async function measureWebLlmSpeed(appConfig: AppConfig, modelId: string, prompt: readonly number[], decode: number): Promise<WebLlmSpeed> {
  if (prompt.length < 2) throw new Error('the prompt needs at least two tokens');
  let t = performance.now();
  const { engine, dispose } = await startWorkerEngine([modelId], { appConfig, initProgressCallback: () => undefined });
  const seconds = (): number => {
    const now = performance.now();
    const s = (now - t) / 1000;
    t = now;
    return s;
  };
  try {
    const loadS = seconds();
    let token = await engine.forwardTokensAndSample(prompt.slice(0, 2), true, modelId);
    await engine.forwardTokensAndSample([token], false, modelId);
    const warmupS = seconds();
    token = await engine.forwardTokensAndSample([...prompt], true, modelId);
    const prefillS = seconds();
    for (let i = 0; i < decode; i++) token = await engine.forwardTokensAndSample([token], false, modelId);
    const decodeS = seconds();
    await engine.unload();
    const round = (v: number): number => +v.toFixed(3);
    return {
      load_s: round(loadS),
      warmup_s: round(warmupS),
      prefill_tokens: prompt.length,
      prefill_tokens_per_s: round(prompt.length / prefillS),
      decode_tokens: decode,
      decode_tokens_per_s: round(decode / decodeS),
    };
  } finally {
    dispose();
  }
}
