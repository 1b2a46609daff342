import { randomBytes } from 'node:crypto';
import { type FileHandle, link, mkdir, open, readdir, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BaseStore } from '../base-store.js';
import {
  AmbiguousWriteError,
  ClosedError,
  CorruptError,
  InvalidArgumentError,
  NotFoundError,
  PreconditionFailedError,
} from '../errors.js';
import { etagsEqual, LOCAL_MAX_KEY_BYTES, validateKey } from '../keys.js';
import type {
  DeleteOptions,
  GetOptions,
  GetStreamResult,
  ListedObject,
  ListPage,
  ListPageOptions,
  NotModified,
  ObjectInfo,
  PutBody,
  PutOptions,
  PutResult,
} from '../object-store.js';
import { resolveRange } from '../range.js';
import { DirCache } from './dir-cache.js';
import { streamFile, syncDir } from './file-io.js';
import { listTreePage } from './file-listing.js';
import { errnoCode, translateFsError } from './fs-errors.js';
import { KeyLocks } from './key-lock.js';
import { type ObjectFileInfo, objectInfo, readObjectHeader, writeObjectFile } from './object-file.js';
import { isOwnerDead, OWNER } from './process-owner.js';
import { keyPath } from './segment-names.js';

export interface FileStoreOptions {
  /** fsync files and directories before a write returns (default true). */
  sync?: boolean;
}

/**
 * Objects in a local directory: crash-safe (temp file, fsync, rename), safe for many processes on
 * one machine (create-only by link(2), other writes under a crash-proof per-key lock), any valid
 * S3 key. Layout and protocols: docs/design/file-store.md.
 */
export class FileStore extends BaseStore {
  readonly url: string;
  readonly maxKeyBytes = LOCAL_MAX_KEY_BYTES;
  readonly root: string;
  readonly #objects: string;
  readonly #tmp: string;
  readonly #locks: KeyLocks;
  readonly #cache = new DirCache();
  readonly #sync: boolean;
  #closed = false;

  private constructor(root: string, options: FileStoreOptions) {
    super();
    this.root = root;
    this.url = pathToFileURL(root).href;
    this.#objects = `${root}/objects`;
    this.#tmp = `${root}/tmp`;
    this.#locks = new KeyLocks(`${root}/locks`);
    this.#sync = options.sync ?? true;
  }

  /** Opens (creating if missing) the store in `dir` and removes what crashed writers left. */
  static async open(dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const store = new FileStore(resolve(dir), options);
    for (const sub of ['objects', 'tmp', 'locks']) await mkdir(`${store.root}/${sub}`, { recursive: true });
    for (const name of await readdir(store.#tmp)) {
      if (isOwnerDead(name)) await unlink(`${store.#tmp}/${name}`).catch(() => {});
    }
    await store.#locks.breakStale();
    return store;
  }

  getStream(key: string, options: GetOptions & { ifNoneMatch: string }): Promise<GetStreamResult | NotModified>;
  getStream(key: string, options?: GetOptions): Promise<GetStreamResult>;
  async getStream(key: string, options: GetOptions = {}): Promise<GetStreamResult | NotModified> {
    // The open file stays the version we checked even if the key is replaced meanwhile.
    const { fh, file } = await this.#openObject(key);
    try {
      const { header, dataOffset } = file;
      if (options.ifMatch !== undefined && !etagsEqual(options.ifMatch, header.etag)) {
        throw new PreconditionFailedError(key, 'If-Match does not match the current ETag');
      }
      if (options.ifNoneMatch !== undefined && etagsEqual(options.ifNoneMatch, header.etag)) {
        await fh.close();
        return { notModified: true, key, etag: header.etag };
      }
      const info = objectInfo(header);
      if (!options.range) return { ...info, body: streamFile(fh, dataOffset, dataOffset + header.size) };
      const range = resolveRange(key, header.size, options.range);
      return { ...info, range, body: streamFile(fh, dataOffset + range.start, dataOffset + range.end) };
    } catch (error) {
      await fh.close();
      throw translateFsError(error, key);
    }
  }

  async head(key: string): Promise<ObjectInfo> {
    const { fh, file } = await this.#openObject(key);
    await fh.close();
    return objectInfo(file.header);
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    this.#checkOpen();
    validateKey(key, this.maxKeyBytes);
    const { ifMatch, ifNoneMatch } = options;
    if (ifNoneMatch !== undefined && ifNoneMatch !== '*') {
      throw new InvalidArgumentError(`If-None-Match on a write must be '*', got ${JSON.stringify(ifNoneMatch)}`);
    }
    const temp = `${this.#tmp}/${OWNER}.${randomBytes(8).toString('hex')}`;
    let moved = false;
    try {
      const header = await this.#writeTemp(temp, key, body, options);
      const target = this.#path(key);
      if (ifNoneMatch === '*' && ifMatch === undefined) {
        // link(2) fails with EEXIST when the key exists: an atomic create-only, no lock needed.
        await this.#place(key, (path) => link(temp, path));
      } else {
        await this.#locks.withLock(key, async () => {
          if (ifMatch !== undefined || ifNoneMatch !== undefined) {
            const current = await this.#currentEtag(target);
            if (ifNoneMatch === '*' && current !== undefined) {
              throw new PreconditionFailedError(key, 'the key exists (If-None-Match: *)');
            }
            if (ifMatch !== undefined) this.#checkIfMatch(key, ifMatch, current);
          }
          await this.#place(key, async (path) => {
            await rename(temp, path);
            moved = true;
          });
        });
      }
      await this.#syncCommitted(key, dirname(target));
      return { etag: header.etag };
    } catch (error) {
      throw translateFsError(error, key);
    } finally {
      if (!moved) await unlink(temp).catch(() => {});
    }
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<void> {
    this.#checkOpen();
    validateKey(key, this.maxKeyBytes);
    const target = this.#path(key);
    let removed = true;
    try {
      await this.#locks.withLock(key, async () => {
        if (options.ifMatch !== undefined) this.#checkIfMatch(key, options.ifMatch, await this.#currentEtag(target));
        await unlink(target).catch((error) => {
          if (errnoCode(error) !== 'ENOENT') throw error;
          removed = false;
        });
      });
    } catch (error) {
      throw translateFsError(error, key);
    }
    if (!removed) return;
    await this.#syncCommitted(key, dirname(target));
    await this.#pruneEmptyDirs(dirname(target));
  }

  async listPage(options: ListPageOptions = {}): Promise<ListPage> {
    this.#checkOpen();
    return listTreePage(this.#cache, this.#objects, options, (key) => this.#describe(key));
  }

  override async close(): Promise<void> {
    this.#closed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError();
  }

  #path(key: string): string {
    return `${this.#objects}/${keyPath(key).file}`;
  }

  async #openObject(key: string): Promise<{ fh: FileHandle; file: ObjectFileInfo }> {
    this.#checkOpen();
    validateKey(key, this.maxKeyBytes);
    const path = this.#path(key);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (error) {
      throw translateFsError(error, key);
    }
    try {
      const file = await readObjectHeader(fh, path);
      if (file.header.key !== key) throw new CorruptError(`${path} holds key ${JSON.stringify(file.header.key)}`);
      return { fh, file };
    } catch (error) {
      await fh.close();
      throw translateFsError(error, key);
    }
  }

  async #currentEtag(path: string): Promise<string | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return (await readObjectHeader(fh, path)).header.etag;
    } finally {
      await fh.close();
    }
  }

  #checkIfMatch(key: string, ifMatch: string, current: string | undefined): void {
    if (current === undefined) throw new NotFoundError(key);
    if (!etagsEqual(ifMatch, current))
      throw new PreconditionFailedError(key, 'If-Match does not match the current ETag');
  }

  async #writeTemp(temp: string, key: string, body: PutBody, options: PutOptions) {
    const fh = await open(temp, 'wx');
    try {
      return await writeObjectFile(fh, body, {
        key,
        contentType: options.contentType,
        metadata: { ...(options.metadata ?? {}) },
        contentLength: options.contentLength,
        signal: options.signal,
        sync: this.#sync,
      });
    } finally {
      await fh.close();
    }
  }

  /** Runs `op` on the key's path, creating its directories if missing (or removed meanwhile). */
  async #place(key: string, op: (path: string) => Promise<void>): Promise<void> {
    const path = this.#path(key);
    for (let attempt = 0; ; attempt++) {
      try {
        return await op(path);
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT' || attempt >= 20) throw error;
      }
      const created = await mkdir(dirname(path), { recursive: true });
      if (created !== undefined && this.#sync) {
        // Make each new directory's entry durable in its parent.
        for (let dir = dirname(path); dir.length >= created.length; dir = dirname(dir)) await syncDir(dirname(dir));
      }
    }
  }

  /** Makes a rename or unlink durable. It has happened, so a failure here leaves it ambiguous. */
  async #syncCommitted(key: string, dir: string): Promise<void> {
    if (!this.#sync) return;
    try {
      await syncDir(dir);
    } catch (cause) {
      // Gone: a later delete emptied and removed the directory, so there is nothing left to sync.
      if (errnoCode(cause) === 'ENOENT') return;
      throw new AmbiguousWriteError(key, { cause });
    }
  }

  /** Removes directories left empty by a delete; rmdir(2) refuses any that are not empty. */
  async #pruneEmptyDirs(dir: string): Promise<void> {
    for (; dir.length > this.#objects.length; dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
    }
  }

  async #describe(key: string): Promise<ListedObject | undefined> {
    const { dir } = keyPath(key);
    const dirPath = dir === '' ? this.#objects : `${this.#objects}/${dir.slice(0, -1)}`;
    const summary = await this.#cache.summary(dirPath, key.slice(key.lastIndexOf('/') + 1), async () => {
      try {
        const { fh, file } = await this.#openObject(key);
        await fh.close();
        const { size, etag, lastModified } = file.header;
        return { size, etag, lastModified };
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    });
    if (!summary) return undefined;
    const { size, etag, lastModified } = summary;
    return { kind: 'object', key, size, etag, lastModified: new Date(lastModified) };
  }
}
