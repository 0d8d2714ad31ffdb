// Test harness page: exposes the real memory bank and GPU modules to Playwright, which drives them with
// page.evaluate. Nothing here is mocked: real IndexedDB, Web Locks, BroadcastChannel and WebGPU.
import { z } from 'zod';
import * as memory from '../../src/memory';
import { requestGpuContext } from '../../src/gpu/device';
import { axpyOnGpu, axpyReference } from '../../src/gpu/smoke';
import { IndexedDbCheckpointStorage } from '../../src/train/checkpoint-storage.idb';

const harness = {
  memory,
  z,
  gpu: { requestGpuContext, axpyOnGpu, axpyReference },
  train: { IndexedDbCheckpointStorage },
  /** The store opened by a test, kept between page.evaluate calls. */
  store: undefined as memory.MemoryStore | undefined,
  /** Every change this page was told of, in order (its own and other tabs'). */
  changes: [] as memory.BankChange[],
  async open(name: string): Promise<void> {
    harness.store?.close();
    harness.store = await memory.MemoryStore.open({ name });
    harness.store.subscribe((change) => harness.changes.push(change));
  },
  /** A bank as the property tests compare it: memory id → text and speaker, and each change's undo flag. */
  async snapshotBank(bankId: string) {
    const memories = (await harness.s.list(bankId)).map((m) => [m.id, m.speaker === undefined ? { text: m.text } : { text: m.text, speaker: m.speaker }] as [string, { text: string; speaker?: string }]);
    const changes = (await harness.s.history(bankId)).reverse().filter((h) => h.event === 'ADD' || h.event === 'UPDATE' || h.event === 'DELETE');
    return { memories, flags: changes.map((h) => [h.seq, h.undoneBy ?? null] as [number, number | null]) };
  },
  get s(): memory.MemoryStore {
    if (!harness.store) throw new Error('call harness.open(name) first');
    return harness.store;
  },
};

export type Harness = typeof harness;
declare global {
  interface Window {
    harness: Harness;
  }
}
window.harness = harness;
document.getElementById('status')!.textContent = 'ready';
