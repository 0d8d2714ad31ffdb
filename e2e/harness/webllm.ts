// Test harness page for the WebLLM client: the real client starting the real workers/llm.worker.ts.
// Nothing is mocked; without network a model load fails, and the test checks how.
import { WebLlmChatModel } from '../../src/llm/webllm';
import { WebLlmError } from '../../src/llm/webllm-errors';
import type { LoadProgress } from '../../src/llm/webllm-progress';

const webllmHarness = {
  /** Loads a model; resolves with what happened instead of throwing, so the test sees the error's fields. */
  async load(modelId: string): Promise<{ ok: boolean; kind?: string; message?: string; detail?: string; progress: LoadProgress[]; ms: number }> {
    const progress: LoadProgress[] = [];
    const start = performance.now();
    try {
      const model = await WebLlmChatModel.load({ modelId, onProgress: (p) => progress.push(p) });
      await model.unload();
      return { ok: true, progress, ms: performance.now() - start };
    } catch (error) {
      const ms = performance.now() - start;
      if (error instanceof WebLlmError) return { ok: false, kind: error.kind, message: error.message, detail: error.detail, progress, ms };
      return { ok: false, kind: 'not-a-WebLlmError', message: String(error), progress, ms };
    }
  },
};

declare global {
  interface Window {
    webllmHarness: typeof webllmHarness;
  }
}
window.webllmHarness = webllmHarness;
document.getElementById('status')!.textContent = 'ready';
