import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '@bucketdb/store';

export interface CachedFile {
  path: string;
  /** Bytes fetched from the store for this call (0 on a cache hit). */
  fetched: number;
}

/**
 * Local copies of immutable objects (data files, commits, checkpoints), so DuckDB can read them
 * from disk. An entry is named by key and a tag (size, ETag) so a recreated object is a new entry.
 */
export class FileCache {
  readonly #dir: string;
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  get dir(): string {
    return this.#dir;
  }

  async get(store: ObjectStore, key: string, tag: string, size?: number): Promise<CachedFile> {
    const ext = /\.(parquet|json|csv)$/.exec(key)?.[0] ?? '';
    const path = join(this.#dir, createHash('sha256').update(`${key}\n${tag}`).digest('hex').slice(0, 40) + ext);
    const existing = await stat(path).catch(() => undefined);
    if (existing && (size === undefined || existing.size === size)) return { path, fetched: 0 };
    let pending = this.#inflight.get(path);
    let fetched = 0;
    if (pending === undefined) {
      pending = this.#fetch(store, key, path).finally(() => this.#inflight.delete(path));
      this.#inflight.set(path, pending);
      fetched = (await stat(await pending)).size;
    } else {
      await pending;
    }
    return { path, fetched };
  }

  async #fetch(store: ObjectStore, key: string, path: string): Promise<string> {
    await mkdir(this.#dir, { recursive: true });
    const tmp = `${path}.${randomUUID()}.tmp`;
    try {
      const got = await store.getStream(key);
      await pipeline(Readable.from(got.body), createWriteStream(tmp));
      await rename(tmp, path);
    } finally {
      await rm(tmp, { force: true });
    }
    return path;
  }
}
