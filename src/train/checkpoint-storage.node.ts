// Checkpoints in a directory (Node). A save writes a temporary file in the same directory, flushes it
// and renames it over the target: a crash or a full disk leaves the previous checkpoint intact.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckpointStorage } from './checkpoint';

const SAFE_NAME = /^[\w.-]+$/;

export class DirectoryCheckpointStorage implements CheckpointStorage {
  constructor(readonly dir: string) {}

  private path(name: string): string {
    if (!SAFE_NAME.test(name) || name.startsWith('.')) throw new Error(`checkpoint name "${name}" must be letters, digits, '.', '_' or '-'`);
    return join(this.dir, name);
  }

  async save(name: string, bytes: Uint8Array): Promise<void> {
    const target = this.path(name);
    await mkdir(this.dir, { recursive: true });
    const temp = join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const file = await open(temp, 'w');
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async load(name: string): Promise<Uint8Array> {
    const buf = await readFile(this.path(name));
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => !n.startsWith('.'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}
