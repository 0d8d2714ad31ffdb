// The WebLLM worker: WebLLM's own handler, so model loading, the GPU and generation stay off the UI thread.
// The client (src/llm/webllm.ts) speaks to it through WebWorkerMLCEngine.
//
// One addition: when the GPU device is lost outside an unload (out of memory, a driver reset), WebLLM
// 0.2.79 logs it, drops the model and answers every later request with "ModelNotLoadedError". The worker
// watches the devices WebLLM creates and prefixes the errors that follow a loss with "DeviceLostError",
// so the client can say what happened and what to do.
import { WebWorkerMLCEngineHandler } from '@mlc-ai/web-llm';

/** Devices WebLLM holds now; a device leaves the set when WebLLM is asked to unload or reload. */
const live = new Set<GPUDevice>();
let lostReason: string | null = null;

const requestDevice = GPUAdapter.prototype.requestDevice;
GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor): Promise<GPUDevice> {
  const device = await requestDevice.call(this, descriptor);
  live.add(device);
  void device.lost.then((info) => {
    if (live.delete(device)) lostReason = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
  });
  return device;
};

const handler = new WebWorkerMLCEngineHandler();
const post = handler.postMessage.bind(handler);
handler.postMessage = (message: { kind: string; content?: unknown }) => {
  if (message.kind === 'throw' && lostReason !== null) {
    message.content = `DeviceLostError: the WebGPU device was lost (${lostReason}). ${String(message.content)}`;
  }
  post(message);
};

self.onmessage = (event: MessageEvent<{ kind?: string }>) => {
  if (event.data?.kind === 'reload' || event.data?.kind === 'unload') {
    live.clear();
    lostReason = null;
  }
  handler.onmessage(event);
};
