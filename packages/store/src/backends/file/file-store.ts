import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BaseStore } from '../../base-store.js';
import {
  AmbiguousWriteError,
  ClosedError,
  CorruptError,
  InvalidArgumentError,
  NotFoundError,
  PreconditionFailedError,
} from '../../errors.js';
import { etagsEqual, LOCAL_MAX_KEY_BYTES, validateKey } from '../../keys.js';
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
} from '../../object-store.js';
import type { ComposeOptions, ComposeSource, Composition, CompositionCapable } from '../../compose.js';
import type { MultipartCapable, MultipartUploads } from '../../multipart.js';
import { resolveRange } from '../../range.js';
import { DirCache } from './dir-cache.js';
import { DirSyncs } from './dir-syncs.js';
import { blockingEntryCalls, type EntryCalls, threadPoolEntryCalls } from './fast-fs.js';
import { bytesOnce, streamFile, syncDir } from './file-io.js';
import { listTreePage } from './file-listing.js';
import { errnoCode, translateFsError } from './fs-errors.js';
import { KeyLocks } from './key-lock.js';
import {
  type ObjectFileInfo,
  type ObjectHeader,
  objectInfo,
  type Piece,
  openObjectFile,
  readObjectFileHeader,
  writeComposedObjectFile,
  writeObjectFile,
} from './object-file.js';
import { fileMultipart, type LinkPieces, removeStaleUploads } from './file-multipart.js';
import { isOwnerDead, OWNER } from './process-owner.js';
import { keyPath } from './segment-names.js';

export interface FileStoreOptions {
  /**
   * fsync files and directories before a write returns (default true). Without it a write still
   * survives the process being killed (it is in the page cache), not an OS crash or power loss.
   */
  sync?: boolean;
  /** Multipart uploads untouched for this long are removed when the store is opened (default 7 days). */
  staleUploadMs?: number;
}

/** A GET reads this much at once: header and, for small objects, all of the content. */
const GET_FIRST_READ = 16 * 1024;
/**
 * Temp file names are OWNER (the process) plus this counter, shared by every FileStore of the
 * process: two instances on one directory with counters of their own would pick the same name, and
 * one's cleanup would delete the other's temp file between its write and its link.
 */
let tempSeq = 0;

/**
 * Objects in a local directory: crash-safe (temp file, fsync, rename), safe for many processes on
 * one machine (create-only by link(2), other writes under a crash-proof per-key lock), any valid
 * S3 key. Layout and protocols: docs/design/file-store.md.
 */
export class FileStore extends BaseStore implements MultipartCapable, CompositionCapable {
  readonly url: string;
  readonly maxKeyBytes = LOCAL_MAX_KEY_BYTES;
  readonly root: string;
  readonly #objects: string;
  readonly #tmp: string;
  /** The data of composed objects: `blobs/<id>/<i>` links to the sources' files, `blobs/<id>/key` names the object. */
  readonly #blobs: string;
  readonly #locks: KeyLocks;
  readonly #cache = new DirCache();
  readonly #dirSyncs = new DirSyncs();
  readonly #sync: boolean;
  readonly #entries: EntryCalls;
  readonly #multipart: MultipartUploads;
  #closed = false;

  private constructor(root: string, options: FileStoreOptions) {
    super();
    this.root = root;
    this.url = pathToFileURL(root).href;
    this.#objects = `${root}/objects`;
    this.#tmp = `${root}/tmp`;
    this.#blobs = `${root}/blobs`;
    this.#sync = options.sync ?? true;
    this.#entries = this.#sync ? threadPoolEntryCalls : blockingEntryCalls;
    this.#locks = new KeyLocks(`${root}/locks`, { calls: this.#entries });
    this.#multipart = fileMultipart(`${root}/uploads`, this.#sync, (key, options, link) =>
      this.#composeLinked(key, options, link),
    );
  }

  /** Opens (creating if missing) the store in `dir` and removes what crashed writers left. */
  static async open(dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const store = new FileStore(resolve(dir), options);
    for (const sub of ['objects', 'tmp', 'locks', 'blobs']) await mkdir(`${store.root}/${sub}`, { recursive: true });
    await removeStaleUploads(`${store.root}/uploads`, options.staleUploadMs ?? 7 * 86_400_000, Date.now());
    for (const name of await readdir(store.#tmp)) {
      if (isOwnerDead(name)) await unlink(`${store.#tmp}/${name}`).catch(() => {});
    }
    await store.#locks.breakStale();
    await store.#removeOrphanBlobs();
    return store;
  }

  /**
   * Removes the blob directories no object refers to that a dead process made: a composition
   * that crashed before its commit, or an object replaced or deleted by a process that crashed
   * before removing its blobs. A live process's directory may be a composition in progress.
   */
  async #removeOrphanBlobs(): Promise<void> {
    for (const id of await readdir(this.#blobs)) {
      if (!isOwnerDead(id)) continue;
      // Written durably before anything is linked in, so a directory an object refers to has it.
      const key = await readFile(`${this.#blobs}/${id}/key`, 'utf8').catch(() => undefined);
      const current = key === undefined ? undefined : this.#blobsOf(key);
      if (current === id || current === null) continue; // referred to, or cannot tell: kept
      await rm(`${this.#blobs}/${id}`, { recursive: true, force: true });
    }
  }

  /** The blob directory of the key's object; undefined when it has none; null when unreadable. */
  #blobsOf(key: string): string | undefined | null {
    try {
      validateKey(key, this.maxKeyBytes);
      return this.#currentHeader(this.#path(key))?.blobs;
    } catch {
      return null;
    }
  }

  getStream(key: string, options: GetOptions & { ifNoneMatch: string }): Promise<GetStreamResult | NotModified>;
  getStream(key: string, options?: GetOptions): Promise<GetStreamResult>;
  async getStream(key: string, options: GetOptions = {}): Promise<GetStreamResult | NotModified> {
    let missing: string | undefined;
    for (;;) {
      const result = this.#openStream(key, options);
      if (!('missingBlobs' in result)) return result;
      // A composed object replaced (and its blobs removed) between two opens: read the key again.
      // The same blobs missing twice were not removed by a replacement.
      if (result.missingBlobs === missing) throw new CorruptError(`the blobs of ${JSON.stringify(key)} are missing`);
      missing = result.missingBlobs;
    }
  }

  #openStream(key: string, options: GetOptions): GetStreamResult | NotModified | { missingBlobs: string } {
    // The open file stays the version we checked even if the key is replaced meanwhile.
    const { fd, file } = this.#openObject(key, GET_FIRST_READ);
    let streaming = false;
    try {
      const { header, dataOffset, prefetched } = file;
      if (options.ifMatch !== undefined && !etagsEqual(options.ifMatch, header.etag)) {
        throw new PreconditionFailedError(key, 'If-Match does not match the current ETag');
      }
      if (options.ifNoneMatch !== undefined && etagsEqual(options.ifNoneMatch, header.etag)) {
        return { notModified: true, key, etag: header.etag };
      }
      const info = objectInfo(header);
      const range = options.range ? resolveRange(key, header.size, options.range) : undefined;
      const start = range?.start ?? 0;
      const end = range?.end ?? header.size;
      if (end <= (prefetched?.length ?? 0) || end === start) {
        // The first read brought all the bytes asked for: no more reads.
        const bytes = prefetched?.subarray(start, end) ?? new Uint8Array(0);
        const body = bytesOnce(bytes);
        return range ? { ...info, range, body, bytes } : { ...info, body, bytes };
      }
      if (header.blobs !== undefined) {
        const body = this.#openPieces(header, start, end);
        if (body === undefined) return { missingBlobs: header.blobs };
        return range ? { ...info, range, body } : { ...info, body };
      }
      const body = streamFile(fd, dataOffset + start, dataOffset + end);
      streaming = true;
      return range ? { ...info, range, body } : { ...info, body };
    } catch (error) {
      throw translateFsError(error, key);
    } finally {
      if (!streaming) closeSync(fd);
    }
  }

  async head(key: string): Promise<ObjectInfo> {
    const { fd, file } = this.#openObject(key);
    closeSync(fd);
    return objectInfo(file.header);
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    this.#checkOpen();
    validateKey(key, this.maxKeyBytes);
    checkWriteIfNoneMatch(options);
    const temp = `${this.#tmp}/${OWNER}.${++tempSeq}`;
    try {
      const header = await writeObjectFile(temp, body, {
        key,
        contentType: options.contentType,
        metadata: { ...(options.metadata ?? {}) },
        contentLength: options.contentLength,
        signal: options.signal,
        sync: this.#sync,
      });
      await this.#commit(key, temp, options);
      return { etag: header.etag };
    } catch (error) {
      await this.#entries.unlink(temp).catch(() => {});
      throw translateFsError(error, key);
    }
  }

  /**
   * Opens the files of a composed object's pieces that hold [start, end): all of them before
   * the first byte is read, so the read stays on this version when the key is replaced and the
   * replaced version's blobs removed meanwhile. Undefined when one is already gone.
   */
  #openPieces(header: ObjectHeader, start: number, end: number): AsyncIterable<Uint8Array> | undefined {
    const opened: { fd: number; from: number; to: number }[] = [];
    let at = 0;
    try {
      for (const [i, piece] of (header.pieces ?? []).entries()) {
        const from = Math.max(start, at) - at;
        const to = Math.min(end, at + piece.size) - at;
        at += piece.size;
        if (from >= to) continue;
        const fd = openSync(`${this.#blobs}/${header.blobs}/${i}`, 'r');
        opened.push({ fd, from: piece.offset + from, to: piece.offset + to });
      }
    } catch (error) {
      for (const { fd } of opened) closeSync(fd);
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    return piecesBody(opened);
  }

  /** Composition: a completed multipart upload's parts become the object's data, nothing copied. */
  composition(): Composition {
    return { compose: (key, sources, options) => this.#compose(key, sources, options) };
  }

  /**
   * Links each source's file (or a composed source's pieces) into a new blob directory, then
   * commits an object file that lists them, as a put commits its file. Each link is checked to
   * be the file whose ETag was checked (a source replaced meanwhile fails PreconditionFailed).
   */
  async #compose(key: string, sources: readonly ComposeSource[], options: ComposeOptions): Promise<PutResult> {
    if (sources.length === 0) throw new InvalidArgumentError('a composed object needs at least one source', { key });
    return this.#composeLinked(key, options, async (dir, pieces) => {
      for (const source of sources) await this.#linkSource(source, dir, pieces);
    });
  }

  /**
   * Makes a composed object of the files `link` links into its new blob directory (as `<i>`,
   * adding each to `pieces`), committed like a put with the ETag `options.etag`.
   */
  async #composeLinked(key: string, options: ComposeOptions, link: LinkPieces): Promise<PutResult> {
    this.#checkOpen();
    validateKey(key, this.maxKeyBytes);
    checkWriteIfNoneMatch(options);
    const id = `${OWNER}.${++tempSeq}`;
    const dir = `${this.#blobs}/${id}`;
    try {
      await mkdir(dir);
      await writeFile(`${dir}/key`, key, { flush: this.#sync });
      const pieces: Piece[] = [];
      await link(dir, pieces);
      if (this.#sync) await Promise.all([syncDir(dir), syncDir(this.#blobs)]);
      const header: ObjectHeader = {
        key,
        size: pieces.reduce((n, p) => n + p.size, 0),
        etag: options.etag,
        lastModified: Date.now(),
        metadata: { ...(options.metadata ?? {}) },
        blobs: id,
        pieces,
      };
      if (options.contentType !== undefined) header.contentType = options.contentType;
      const temp = `${this.#tmp}/${OWNER}.${++tempSeq}`;
      await writeComposedObjectFile(temp, header, this.#sync);
      await this.#commit(key, temp, options);
      return { etag: header.etag };
    } catch (error) {
      // Unless it was committed (the failure came after: an ambiguous sync), the blobs go.
      if (this.#blobsOf(key) !== id) await rm(dir, { recursive: true, force: true });
      throw translateFsError(error, key);
    }
  }

  async #linkSource(source: ComposeSource, dir: string, pieces: Piece[]): Promise<void> {
    const changed = () => new PreconditionFailedError(source.key, 'the source changed while it was composed');
    const { fd, file } = this.#openObject(source.key);
    try {
      const { header } = file;
      if (!etagsEqual(source.etag, header.etag)) {
        throw new PreconditionFailedError(source.key, 'the source does not have the ETag given');
      }
      if (header.blobs === undefined) {
        const to = `${dir}/${pieces.length}`;
        await this.#entries.link(this.#path(source.key), to);
        if (statSync(to).ino !== fstatSync(fd).ino) throw changed();
        pieces.push({ offset: file.dataOffset, size: header.size });
        return;
      }
      for (const [i, piece] of (header.pieces ?? []).entries()) {
        await this.#entries.link(`${this.#blobs}/${header.blobs}/${i}`, `${dir}/${pieces.length}`).catch((error) => {
          // The source was replaced and its blobs removed since its header was read.
          throw errnoCode(error) === 'ENOENT' ? changed() : error;
        });
        pieces.push(piece);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Removes a replaced or deleted composed object's blobs (a crash before leaves them to the next open). */
  async #removeBlobs(id: string | undefined): Promise<void> {
    if (id !== undefined) await rm(`${this.#blobs}/${id}`, { recursive: true, force: true });
  }

  /** Multipart uploads (parts as files under `uploads/`), so an interrupted large upload resumes. */
  multipart(): MultipartUploads {
    return this.#multipart;
  }

  /** Commits the file `temp` as the key, by link or under the lock by rename; `temp` is gone after. */
  async #commit(key: string, temp: string, options: PutOptions): Promise<void> {
    const { ifMatch, ifNoneMatch } = options;
    const dir = dirname(this.#path(key));
    if (ifMatch === undefined && (await this.#link(key, temp, ifNoneMatch === '*'))) {
      // The object now has two names; the temp one goes while the new entry is made durable.
      await Promise.all([this.#entries.unlink(temp), this.#syncCommitted(key, dir)]);
      return;
    }
    const { release, replaced } = await this.#replace(key, temp, options);
    // Releasing the lock and making the rename durable need not wait for each other.
    await Promise.all([release(), this.#syncCommitted(key, dir)]);
    await this.#removeBlobs(replaced);
  }

  /**
   * Commits `temp` as the key by link(2), which fails with EEXIST when the key exists: an atomic
   * create-only with no lock. An unconditional put of a new key commits this way too: no lock
   * holder relies on the key being absent before it renames (a swap found the key present, and
   * only a delete, which holds the lock, makes it absent), so a link can never land between a
   * holder's check and its rename. Resolves false when the key exists (and `createOnly` is not set).
   */
  async #link(key: string, temp: string, createOnly: boolean): Promise<boolean> {
    try {
      await this.#place(key, (path) => this.#entries.link(temp, path));
      return true;
    } catch (error) {
      if (createOnly || errnoCode(error) !== 'EEXIST') throw error;
      return false;
    }
  }

  /**
   * Checks the write's conditions and renames `temp` over the key, under the key's lock; returns
   * the lock's release and the blob directory of the object replaced, if it was composed.
   */
  async #replace(
    key: string,
    temp: string,
    options: PutOptions,
  ): Promise<{ release: () => Promise<void>; replaced: string | undefined }> {
    const { ifMatch, ifNoneMatch } = options;
    const release = await this.#locks.acquire(key);
    try {
      const current = this.#headerOfReplaced(this.#path(key), ifMatch !== undefined || ifNoneMatch !== undefined);
      if (ifNoneMatch === '*' && current !== undefined) {
        throw new PreconditionFailedError(key, 'the key exists (If-None-Match: *)');
      }
      if (ifMatch !== undefined) this.#checkIfMatch(key, ifMatch, current?.etag);
      await this.#place(key, (path) => this.#entries.rename(temp, path));
      return { release, replaced: current?.blobs };
    } catch (error) {
      await release();
      throw error;
    }
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<void> {
    this.#checkOpen();
    validateKey(key, this.maxKeyBytes);
    const target = this.#path(key);
    let removed = true;
    let release: (() => Promise<void>) | undefined;
    let current: ObjectHeader | undefined;
    try {
      release = await this.#locks.acquire(key);
      current = this.#headerOfReplaced(target, options.ifMatch !== undefined);
      if (options.ifMatch !== undefined) this.#checkIfMatch(key, options.ifMatch, current?.etag);
      await this.#entries.unlink(target).catch((error) => {
        if (errnoCode(error) !== 'ENOENT') throw error;
        removed = false;
      });
    } catch (error) {
      await release?.();
      throw translateFsError(error, key);
    }
    if (!removed) return release();
    await Promise.all([release(), this.#syncCommitted(key, dirname(target))]);
    await this.#removeBlobs(current?.blobs);
    await this.#pruneEmptyDirs(dirname(target));
  }

  async listPage(options: ListPageOptions = {}): Promise<ListPage> {
    this.#checkOpen();
    return listTreePage(this.#cache, this.#objects, options, (key) => this.#describe(key));
  }

  /**
   * Claims `name` in this directory until the returned release runs or the process dies: one
   * server per data directory, say. Fails at once with ConflictInFlight while another live process
   * (or another claim in this one) holds it; the claim of a process that died is broken. Built on
   * the same crash-proof locks as writes, in their own directory.
   */
  async claim(name: string): Promise<() => Promise<void>> {
    this.#checkOpen();
    const dir = `${this.root}/claims`;
    await mkdir(dir, { recursive: true });
    return new KeyLocks(dir, { timeoutMs: 0 }).acquire(name);
  }

  override async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError();
  }

  #path(key: string): string {
    return `${this.#objects}/${keyPath(key).file}`;
  }

  /** Opens the key's file and reads its header (blocking: see readObjectHeader). */
  #openObject(key: string, firstRead?: number): { fd: number; file: ObjectFileInfo } {
    this.#checkOpen();
    validateKey(key, this.maxKeyBytes);
    const path = this.#path(key);
    let opened: { fd: number; file: ObjectFileInfo };
    try {
      opened = openObjectFile(path, firstRead);
    } catch (error) {
      throw translateFsError(error, key);
    }
    if (opened.file.header.key !== key) {
      closeSync(opened.fd);
      throw new CorruptError(`${path} holds key ${JSON.stringify(opened.file.header.key)}`);
    }
    return opened;
  }

  /**
   * The header of the object a write or delete is about to replace, for its conditions and its
   * blobs. A damaged file can still be replaced or deleted unconditionally (it has no blobs then).
   */
  #headerOfReplaced(path: string, conditional: boolean): ObjectHeader | undefined {
    try {
      return this.#currentHeader(path);
    } catch (error) {
      if (conditional || !(error instanceof CorruptError)) throw error;
      return undefined;
    }
  }

  #currentHeader(path: string): ObjectHeader | undefined {
    try {
      return readObjectFileHeader(path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  #checkIfMatch(key: string, ifMatch: string, current: string | undefined): void {
    if (current === undefined) throw new NotFoundError(key);
    if (!etagsEqual(ifMatch, current))
      throw new PreconditionFailedError(key, 'If-Match does not match the current ETag');
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
      await this.#dirSyncs.sync(dir);
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
        const { fd, file } = this.#openObject(key);
        closeSync(fd);
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

function checkWriteIfNoneMatch({ ifNoneMatch }: PutOptions): void {
  if (ifNoneMatch !== undefined && ifNoneMatch !== '*') {
    throw new InvalidArgumentError(`If-None-Match on a write must be '*', got ${JSON.stringify(ifNoneMatch)}`);
  }
}

/** The opened pieces one after another; a piece's file closes once read, the rest if the reader stops. */
async function* piecesBody(opened: { fd: number; from: number; to: number }[]): AsyncGenerator<Uint8Array> {
  let next = 0;
  try {
    for (; next < opened.length; next++) {
      const piece = opened[next] as { fd: number; from: number; to: number };
      yield* streamFile(piece.fd, piece.from, piece.to);
    }
  } finally {
    for (const piece of opened.slice(next + 1)) closeSync(piece.fd);
  }
}
