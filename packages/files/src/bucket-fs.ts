import { Readable, Writable } from 'node:stream';
import { isStoreError, type ObjectStore } from '@bucketdb/store';
import { FilesError } from './errors.js';
import { openDownload, verifiedChunks } from './open-download.js';
import type { PartOptions } from './part-plan.js';
import type { RetryOptions } from './retry.js';
import { uploadStream } from './upload-stream.js';

export interface BucketFsOptions extends PartOptions {
  retry?: RetryOptions;
}

export interface BucketStats {
  size: number;
  mtime: Date;
  /** The object's ETag (absent for a directory). */
  etag?: string;
  isFile(): boolean;
  isDirectory(): boolean;
}

export interface WriteFileOptions {
  /** `'wx'`: fail with PreconditionFailed if the file exists (create-only, as O_EXCL). */
  flag?: 'w' | 'wx';
  contentType?: string;
  signal?: AbortSignal;
}

export interface ReadStreamOptions {
  /** First byte, inclusive (default 0). */
  start?: number;
  /** Last byte, inclusive, as in `fs.createReadStream` (default: the end). */
  end?: number;
  signal?: AbortSignal;
}

/**
 * The calls of `node:fs/promises` that applications moving off EFS use, on a bucket. A path is a
 * key (a leading `/` is dropped); directories are key prefixes ending in `/`. What differs from
 * POSIX: a write replaces the whole object and becomes visible at once when it completes (readers
 * never see half a file, there is no append and no partial overwrite); no rename (and so no atomic
 * rename): copy then delete; no locks, links, permissions or mtime you can set; an empty directory
 * does not exist; `readdir` of a large directory is one LIST request per 1,000 entries.
 */
export class BucketFs {
  readonly store: ObjectStore;
  readonly #options: BucketFsOptions;

  constructor(store: ObjectStore, options: BucketFsOptions = {}) {
    this.store = store;
    this.#options = options;
  }

  /** The whole file, checked against its ETag; a string when an encoding is given. */
  readFile(path: string, options: { encoding: BufferEncoding; signal?: AbortSignal }): Promise<string>;
  readFile(path: string, options?: { signal?: AbortSignal }): Promise<Buffer>;
  async readFile(
    path: string,
    options: { encoding?: BufferEncoding; signal?: AbortSignal } = {},
  ): Promise<Buffer | string> {
    const key = toKey(path);
    const download = await this.#open(key, 0, options.signal);
    const out = Buffer.allocUnsafe(download.info.size);
    let filled = 0;
    for await (const chunk of verifiedChunks(download, key)) {
      out.set(chunk, filled);
      filled += chunk.length;
    }
    return options.encoding ? out.toString(options.encoding) : out;
  }

  /** Replaces the whole file (or creates it only if absent, with `flag: 'wx'`). */
  async writeFile(path: string, data: string | Uint8Array, options: WriteFileOptions = {}): Promise<void> {
    const key = toKey(path);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (options.flag === 'wx') {
      await this.store.put(key, bytes, {
        ifNoneMatch: '*',
        ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return;
    }
    await uploadStream(this.store, key, once(bytes), {
      ...this.#transfer(options.signal),
      size: bytes.length,
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    });
  }

  /**
   * Reads a byte range (`end` inclusive) in parallel ranged parts, each chunk passed on as it
   * arrives, reading ahead at most concurrency parts and no further than the consumer allows.
   * Checked against the ETag when the whole file is read; a range cannot be (the ETag covers the
   * whole object). Destroying the stream aborts the requests in flight.
   */
  createReadStream(path: string, options: ReadStreamOptions = {}): Readable {
    const key = toKey(path);
    const start = options.start ?? 0;
    if (!Number.isSafeInteger(start) || start < 0 || (options.end !== undefined && !(options.end >= start))) {
      throw new FilesError('InvalidArgument', `invalid range start ${options.start} end ${options.end}`);
    }
    const length = options.end === undefined ? undefined : options.end - start + 1;
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const open = () => this.#open(key, start, signal, length);
    async function* bytes(): AsyncGenerator<Uint8Array> {
      const download = await open();
      const whole = start === 0 && (length === undefined || length >= download.info.size);
      yield* whole ? verifiedChunks(download, key) : download.chunks;
    }
    const chunks = bytes();
    return new Readable({
      read() {
        chunks.next().then(
          (next) => this.push(next.done ? null : next.value),
          (error: unknown) => this.destroy(error as Error),
        );
      },
      // Abort first: a generator waiting on a request cannot return before that request ends.
      destroy(error, callback) {
        controller.abort();
        chunks.return(undefined).then(
          () => callback(error),
          () => callback(error),
        );
      },
    });
  }

  /** A stream whose bytes become the file when it finishes (nothing is visible before). */
  createWriteStream(path: string, options: { contentType?: string; signal?: AbortSignal } = {}): Writable {
    const key = toKey(path);
    const queue = new ChunkQueue();
    const upload = uploadStream(this.store, key, queue, {
      ...this.#transfer(options.signal),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    });
    upload.catch((error: unknown) => queue.fail(error));
    return new Writable({
      write(chunk: Buffer, _encoding, callback) {
        queue.push(chunk).then(() => callback(), callback);
      },
      final(callback) {
        queue.end();
        upload.then(() => callback(), callback);
      },
      destroy(error, callback) {
        queue.fail(error ?? new Error('write stream destroyed before it finished'));
        upload.then(
          () => callback(error),
          () => callback(error),
        );
      },
    });
  }

  async stat(path: string, options: { signal?: AbortSignal } = {}): Promise<BucketStats> {
    const key = toKey(path);
    try {
      const info = await this.store.head(key, options.signal ? { signal: options.signal } : {});
      return {
        size: info.size,
        mtime: info.lastModified,
        etag: info.etag,
        isFile: () => true,
        isDirectory: () => false,
      };
    } catch (error) {
      if (!isStoreError(error, 'NotFound')) throw error;
    }
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const page = await this.store.listPage({
      prefix,
      pageSize: 1,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (page.entries.length === 0 && key !== '') throw notFound(path);
    return { size: 0, mtime: new Date(0), isFile: () => false, isDirectory: () => true };
  }

  /** Names in a directory: files, and subdirectories (prefixes), sorted. */
  async readdir(path: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
    const key = toKey(path);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const names: string[] = [];
    for await (const entry of this.store.list({
      prefix,
      delimiter: '/',
      ...(options.signal ? { signal: options.signal } : {}),
    })) {
      const name = (entry.kind === 'prefix' ? entry.prefix : entry.key).slice(prefix.length).replace(/\/$/, '');
      if (name !== '') names.push(name);
    }
    if (names.length === 0 && key !== '') {
      // As fs does: a file is not a directory, and a missing directory is an error.
      await this.stat(path, options);
      throw new FilesError('NotFound', `${path} is not a directory`, { path });
    }
    return names;
  }

  /** Deletes a file; a directory only with `recursive` (every key under it). `force`: no error if missing. */
  async rm(path: string, options: { recursive?: boolean; force?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const stats = await this.stat(path, options).catch((error: unknown) => {
      if (options.force && error instanceof FilesError && error.code === 'NotFound') return undefined;
      throw error;
    });
    if (!stats) return;
    const key = toKey(path);
    if (stats.isFile()) {
      await this.store.delete(key, options.signal ? { signal: options.signal } : {});
      return;
    }
    if (!options.recursive) throw new FilesError('IsADirectory', `${path} is a directory: pass recursive`, { path });
    const keys: string[] = [];
    for await (const entry of this.store.list({ prefix: key === '' || key.endsWith('/') ? key : `${key}/` })) {
      if (entry.kind === 'object') keys.push(entry.key);
    }
    const result = await this.store.deleteMany(keys, options.signal ? { signal: options.signal } : {});
    if (result.errors[0]) throw result.errors[0].error;
  }

  #open(key: string, offset: number, signal: AbortSignal | undefined, length?: number) {
    return openDownload(this.store, key, {
      ...this.#transfer(signal),
      offset,
      ...(length === undefined ? {} : { length }),
    }).catch((error: unknown) => {
      if (isStoreError(error, 'NotFound')) throw notFound(key);
      if (isStoreError(error, 'InvalidRange')) throw new FilesError('InvalidArgument', `${key}: start is past the end`);
      throw error;
    });
  }

  #transfer(signal: AbortSignal | undefined) {
    return {
      ...(this.#options.partSize === undefined ? {} : { partSize: this.#options.partSize }),
      ...(this.#options.concurrency === undefined ? {} : { concurrency: this.#options.concurrency }),
      ...(this.#options.retry ? { retry: this.#options.retry } : {}),
      ...(signal ? { signal } : {}),
    };
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function toKey(path: string): string {
  return path.replace(/^\/+/, '');
}

function notFound(path: string): FilesError {
  return new FilesError('NotFound', `no such file ${JSON.stringify(path)}`, { path });
}

/** Chunks handed from a Writable to an upload reading them as an async iterable, one at a time. */
class ChunkQueue implements AsyncIterable<Uint8Array> {
  #chunks: Uint8Array[] = [];
  #ended = false;
  #error: unknown;
  #wake: (() => void) | undefined;
  #drained: (() => void) | undefined;

  push(chunk: Uint8Array): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    this.#chunks.push(chunk);
    this.#wake?.();
    // Backpressure: the writer waits until the upload took the chunk.
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  fail(error: unknown): void {
    this.#error ??= error;
    this.#wake?.();
    this.#drained?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error;
      const chunk = this.#chunks.shift();
      if (chunk) {
        const drained = this.#drained;
        this.#drained = undefined;
        drained?.();
        yield chunk;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}
