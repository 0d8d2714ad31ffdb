// A model folder on disk (Node only).

import { access, readFile, readdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { MissingFileError, type ModelSource } from './source';

export class DirectorySource implements ModelSource {
  readonly name: string;
  private readonly root: string;
  constructor(dir: string) {
    this.root = resolve(dir);
    this.name = this.root;
  }
  private path(p: string): string {
    const full = resolve(this.root, p);
    if (full !== this.root && !full.startsWith(this.root + sep)) throw new Error(`${p}: path leaves the model folder ${this.root}`);
    return full;
  }
  async read(p: string): Promise<Uint8Array> {
    try {
      const buf = await readFile(this.path(p));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(this.name, p);
      throw e;
    }
  }
  async exists(p: string): Promise<boolean> {
    try {
      await access(this.path(p));
      return true;
    } catch {
      return false;
    }
  }
  async list(): Promise<string[]> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'));
  }
}
