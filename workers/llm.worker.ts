// The WebLLM worker: WebLLM's own handler, so model loading, the GPU and generation stay off the UI thread.
// The client (src/llm/webllm.ts) speaks to it through WebWorkerMLCEngine.
import { WebWorkerMLCEngineHandler } from '@mlc-ai/web-llm';

const handler = new WebWorkerMLCEngineHandler();
self.onmessage = (event: MessageEvent) => {
  handler.onmessage(event);
};
