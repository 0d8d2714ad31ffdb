// Opening a model folder on the GPU for a command, with an optional PEFT adapter: the adapter's files are
// read first (a bad folder fails before the GPU and the model are touched), and the engine and the
// device are freed however the command ends.
import { requestNodeGpuContext } from '../gpu/node-device';
import { Engine, type RequestOptions } from '../model/engine';
import { readPeftFiles } from '../model/peft';
import { DirectorySource } from '../model/source.node.js';

const ADAPTER = 'cli';

/** Runs `use` on the model at `modelDir`; `adapter` selects the PEFT adapter at `adapterDir` (or the base model). */
export async function withEngine<T>(modelDir: string, adapterDir: string | undefined, use: (engine: Engine, adapter: RequestOptions) => Promise<T>): Promise<T> {
  const peft = adapterDir === undefined ? undefined : await readPeftFiles(new DirectorySource(adapterDir));
  const gpu = await requestNodeGpuContext();
  try {
    const engine = await Engine.load(new DirectorySource(modelDir), gpu);
    try {
      if (peft) engine.addAdapter(ADAPTER, peft);
      return await use(engine, peft ? { adapter: ADAPTER } : {});
    } finally {
      engine.dispose();
    }
  } finally {
    gpu.device.destroy();
  }
}
