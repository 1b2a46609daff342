import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import {
  Crc,
  type CrcAlgorithm,
  type CrcValue,
  fullObjectChecksum,
  isStoreError,
  mapConcurrent,
  multipartOf,
  Mutex,
  type ObjectInfo,
  type ObjectStore,
  TransientError,
} from '@bucketdb/store';
import { EtagCheck } from './etag-check.js';
import { FilesError, isFilesError } from './errors.js';
import type { ReadOptions } from './open-download.js';
import { downloadPartSize, planParts } from './part-plan.js';
import { linkedAbort, type UploadProgress } from './part-upload.js';
import { withRetries } from './retry.js';
import { readState, removeState, writeState } from './transfer-state.js';
import { readAt } from './upload-file.js';

export interface DownloadFileOptions extends Omit<ReadOptions, 'offset' | 'ifMatch'> {
  /** Keep the partial file and its state so that a later run continues (default true). */
  resume?: boolean;
  onProgress?: (progress: UploadProgress) => void;
}

export interface DownloadResult {
  key: string;
  path: string;
  size: number;
  etag: string;
  /**
   * Whether every byte was checked: against the object's full-object CRC where the store keeps
   * one, else against its ETag (false when the ETag is not an MD5 form).
   */
  verified: boolean;
  /** How the bytes were checked: `crc32c`, `crc32`, `etag`, or `none`. */
  checkedBy: CrcAlgorithm | 'etag' | 'none';
  /** Bytes already on disk from an interrupted run and reused. */
  resumedBytes: number;
}

interface DownloadState {
  v: 3;
  url: string;
  key: string;
  etag: string;
  size: number;
  /** Bytes of part 0, read before the size was known. */
  firstSize: number;
  /** Bytes of every later part. */
  partSize: number;
  metadata: Record<string, string>;
  checksum?: CrcValue;
  /** Parts on disk (synced), by index: their CRC in the checksum's algorithm, or '' without one. */
  done: Record<string, string>;
}

/** Each part copies its chunks into a buffer of this size and writes it in one call. */
const WRITE_BATCH = 1 << 20;

/**
 * Downloads an object to a file: ranged GETs in parallel, each streamed straight to its place in
 * `<path>.bucketdb-download` with positional writes (no part buffered whole, so memory is about
 * concurrency × a socket's buffers), every part recorded in `<path>.bucketdb-download.json` once
 * synced. Every byte is checked before the file is renamed into place, so `path` holds a complete
 * verified copy or is untouched: where the store keeps a full-object CRC (S3 flexible checksums),
 * each part's CRC is computed as it streams and the parts' CRCs are combined; otherwise the file
 * is read back in order and checked against the ETag (MD5). A run after an interruption keeps the
 * parts on disk, asks only for the rest with If-Match, and starts over if the object changed or
 * the result does not verify.
 */
export async function downloadFile(
  store: ObjectStore,
  key: string,
  path: string,
  options: DownloadFileOptions = {},
): Promise<DownloadResult> {
  const partial = `${path}.bucketdb-download`;
  const statePath = `${partial}.json`;
  const resume = options.resume !== false;
  let state = resume
    ? await readState<DownloadState>(statePath, (s) => s.v === 3 && s.url === store.url && s.key === key)
    : undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return await downloadOnce(store, key, path, partial, statePath, state, options);
    } catch (error) {
      // A resumed run whose object changed, or whose old parts do not verify: once more from scratch.
      if (state && attempt === 0 && (isFilesError(error, 'SourceChanged') || isFilesError(error, 'Corrupt'))) {
        state = undefined;
        continue;
      }
      if (!resume || isFilesError(error, 'Corrupt')) {
        await rm(partial, { force: true });
        await removeState(statePath);
      }
      throw error;
    }
  }
}

async function downloadOnce(
  store: ObjectStore,
  key: string,
  path: string,
  partial: string,
  statePath: string,
  prior: DownloadState | undefined,
  options: DownloadFileOptions,
): Promise<DownloadResult> {
  const resume = options.resume !== false;
  const { partSize: firstSize, concurrency } = planParts(Number.MAX_SAFE_INTEGER, options);
  const signal = options.signal;
  // Aborted when this run ends, so that no request outlives it (the first GET's body included).
  const abort = linkedAbort(signal, concurrency);
  let handle: FileHandle | undefined;
  let state: DownloadState | undefined;
  if (prior) {
    const info = await withRetries(() => store.head(key, signal ? { signal } : {}), options.retry, signal);
    if (info.etag !== prior.etag || info.size !== prior.size) {
      throw new FilesError('SourceChanged', `${JSON.stringify(key)} changed`);
    }
    handle = await open(partial, 'r+').catch(() => undefined);
    if (handle) state = prior;
  }
  let firstBody: AsyncIterable<Uint8Array> | undefined;
  try {
    if (!state) {
      const first = await readFirst(store, key, firstSize, { ...options, signal: abort.linked });
      const { info } = first;
      firstBody = first.body;
      let checksum: CrcValue | undefined;
      const uploads = multipartOf(store);
      if (info.size > firstSize && uploads && uploads.checksums.length > 0) {
        const found = await withRetries(
          () => uploads.checksumOf(key, signal ? { signal } : {}),
          options.retry,
          signal,
        ).catch((error: unknown) => {
          if (isStoreError(error, 'NotFound')) throw changed(key, error);
          throw error;
        });
        if (found && found.etag !== info.etag) throw changed(key);
        if (found) checksum = { algorithm: found.algorithm, value: found.value };
      }
      state = {
        v: 3,
        url: store.url,
        key,
        etag: info.etag,
        size: info.size,
        firstSize,
        partSize:
          options.partSize === undefined ? downloadPartSize(info.size - firstSize, firstSize, concurrency) : firstSize,
        metadata: info.metadata,
        ...(checksum ? { checksum } : {}),
        done: {},
      };
      await handle?.close();
      handle = await open(partial, 'w+');
    }
    const current = state;
    const fileHandle = handle as FileHandle;
    const { parts, offsetOf, lengthOf } = layout(current);
    let resumedBytes = 0;
    for (const i of Object.keys(current.done)) resumedBytes += lengthOf(Number(i));
    let received = resumedBytes;
    const progress = (bytes: number) => {
      received += bytes;
      options.onProgress?.({ bytes: received, total: current.size });
    };
    // Records are written one at a time, each with everything done so far.
    let saving: Promise<void> = resume ? writeState(statePath, current) : Promise.resolve();
    // Without resume no part waits for its sync, but one sync at a time as parts land spreads the
    // disk's work over the transfer instead of leaving it all to the last fsync (0.35 s at 1 GiB
    // here). A failed sync is kept and thrown: the kernel reports a lost write only once.
    let flushing: Promise<void> | undefined;
    let flushError: unknown;
    const flushSoon = () => {
      flushing ??= fileHandle.datasync().then(
        () => {
          flushing = undefined;
        },
        (error: unknown) => {
          flushError ??= error;
          flushing = undefined;
        },
      );
    };
    // One write at a time: concurrent writes to one file queue on its inode lock in the kernel,
    // and spin there (16% of a 1 GiB download's CPU in perf).
    const fileLock = new Mutex();
    const writeAt = (bytes: Uint8Array, position: number) => fileLock.run(() => writeAll(fileHandle, bytes, position));
    const record = async (index: number, crc: string) => {
      if (!resume) {
        current.done[index] = crc;
        flushSoon();
        return;
      }
      // Data first, then the state that vouches for it: a crash leaves the state behind the data.
      await fileHandle.datasync();
      current.done[index] = crc;
      saving = saving.then(() => writeState(statePath, current));
      await saving;
    };
    const todo = Array.from({ length: parts }, (_, i) => i).filter((i) => current.done[i] === undefined);
    try {
      await mapConcurrent(todo, concurrency, async (i) => {
        if (abort.linked.aborted) return;
        try {
          // Part 0 streams from the GET that told the size; every other part has its own.
          const body = i === 0 ? firstBody : undefined;
          firstBody = undefined;
          const crc = await fetchPart(store, key, current, offsetOf(i), lengthOf(i), writeAt, {
            ...options,
            signal: abort.linked,
            progress,
            ...(body ? { body } : {}),
          });
          await record(i, crc);
        } catch (error) {
          abort.abort(error);
          throw error;
        }
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
    // A part that failed for good, or the caller's abort, stopped the others before they ran.
    if (signal?.aborted) throw signal.reason;
    abort.linked.throwIfAborted();
    await saving;
    await flushing;
    if (flushError !== undefined) throw flushError;
    const checkedBy = await verify(current, fileHandle, key, parts, lengthOf);
    await fileHandle.sync();
    await fileHandle.close();
    handle = undefined;
    await rename(partial, path);
    await removeState(statePath);
    return {
      key,
      path,
      size: current.size,
      etag: current.etag,
      verified: checkedBy !== 'none',
      checkedBy,
      resumedBytes,
    };
  } finally {
    abort.abort();
    await handle?.close();
  }
}

/** Where each part lies: part 0 as first read, the others of `partSize`. */
function layout(state: DownloadState) {
  const parts = state.size <= state.firstSize ? 1 : 1 + Math.ceil((state.size - state.firstSize) / state.partSize);
  const offsetOf = (i: number) => (i === 0 ? 0 : state.firstSize + (i - 1) * state.partSize);
  const lengthOf = (i: number) => Math.min(i === 0 ? state.firstSize : state.partSize, state.size - offsetOf(i));
  return { parts, offsetOf, lengthOf };
}

/** The first part's GET: it tells the size, ETag and metadata; its body is part 0, read later. */
async function readFirst(
  store: ObjectStore,
  key: string,
  partSize: number,
  options: DownloadFileOptions,
): Promise<{ info: ObjectInfo; body: AsyncIterable<Uint8Array> }> {
  const signal = options.signal;
  const read = (ranged: boolean) =>
    withRetries(
      async () => {
        const {
          body,
          bytes: _bytes,
          range: _range,
          ...info
        } = await store.getStream(key, {
          ...(signal ? { signal } : {}),
          lendChunks: true,
          ...(ranged ? { range: { offset: 0, length: partSize } } : {}),
        });
        return { info, body };
      },
      options.retry,
      signal,
    );
  try {
    return await read(true);
  } catch (error) {
    // An empty object has no byte 0 to range over (S3 answers 416): read it whole.
    if (!isStoreError(error, 'InvalidRange')) throw error;
    return read(false);
  }
}

/**
 * One part: a ranged GET with If-Match (or the first GET's `body`), streamed to its offset in
 * batches, its CRC computed on the way. Retried whole on a retryable failure (a part's bytes are
 * rewritten in place, so a failed attempt leaves nothing wrong behind).
 */
async function fetchPart(
  store: ObjectStore,
  key: string,
  state: DownloadState,
  offset: number,
  length: number,
  writeAt: (bytes: Uint8Array, position: number) => Promise<void>,
  options: DownloadFileOptions & {
    signal: AbortSignal;
    progress: (bytes: number) => void;
    body?: AsyncIterable<Uint8Array>;
  },
): Promise<string> {
  const algorithm = state.checksum?.algorithm;
  let given = options.body;
  return withRetries(
    async () => {
      const crc = algorithm ? new Crc(algorithm) : undefined;
      let body = given;
      given = undefined;
      try {
        body ??= (
          await store.getStream(key, {
            signal: options.signal,
            range: { offset, length },
            ifMatch: state.etag,
            lendChunks: true,
          })
        ).body;
      } catch (error) {
        if (isStoreError(error, 'PreconditionFailed') || isStoreError(error, 'NotFound')) throw changed(key, error);
        throw error;
      }
      // The store lends its chunks (no allocation per socket read): each is copied into this
      // part's write buffer before the next is asked for.
      const batch = Buffer.allocUnsafe(Math.min(WRITE_BATCH, length));
      let position = offset;
      let filled = 0;
      const flush = async () => {
        await writeAt(batch.subarray(0, filled), position);
        position += filled;
        options.progress(filled);
        filled = 0;
      };
      for await (const chunk of body) {
        if (position + filled + chunk.length > offset + length) {
          throw shortRead(key, position + filled + chunk.length - offset, length);
        }
        crc?.update(chunk);
        for (let at = 0; at < chunk.length;) {
          const take = Math.min(chunk.length - at, batch.length - filled);
          batch.set(chunk.subarray(at, at + take), filled);
          filled += take;
          at += take;
          if (filled === batch.length) await flush();
        }
      }
      if (filled > 0) await flush();
      if (position !== offset + length) throw shortRead(key, position - offset, length);
      return crc ? crc.base64() : '';
    },
    options.retry,
    options.signal,
  );
}

/** Checks the whole file: the parts' CRCs combined, else the ETag over the file read back in order. */
async function verify(
  state: DownloadState,
  handle: FileHandle,
  key: string,
  parts: number,
  lengthOf: (i: number) => number,
): Promise<CrcAlgorithm | 'etag' | 'none'> {
  if (state.checksum) {
    const pieces = Array.from({ length: parts }, (_, i) => ({ checksum: state.done[i] ?? '', size: lengthOf(i) }));
    const combined = fullObjectChecksum(state.checksum.algorithm, pieces);
    if (combined !== state.checksum.value) {
      throw new FilesError(
        'Corrupt',
        `the bytes read from ${JSON.stringify(key)} do not match its ${state.checksum.algorithm} checksum`,
        { path: key },
      );
    }
    return state.checksum.algorithm;
  }
  const check = new EtagCheck(state.etag, state.size, state.metadata);
  if (!check.checkable) return 'none';
  const buffer = Buffer.allocUnsafe(Math.min(WRITE_BATCH, state.size));
  for (let offset = 0; offset < state.size; offset += buffer.length) {
    check.update(await readAt(handle, offset, Math.min(buffer.length, state.size - offset), buffer));
  }
  if (!check.matches()) {
    throw new FilesError('Corrupt', `the bytes read from ${JSON.stringify(key)} do not match its ETag ${state.etag}`, {
      path: key,
    });
  }
  return 'etag';
}

/** Writes all of `bytes` at `position` (a write may take fewer bytes than it was given). */
async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

function changed(key: string, cause?: unknown): FilesError {
  return new FilesError('SourceChanged', `${JSON.stringify(key)} changed while it was being read`, {
    path: key,
    ...(cause === undefined ? {} : { cause }),
  });
}

function shortRead(key: string, got: number, expected: number): TransientError {
  return new TransientError(`read ${got} bytes of ${JSON.stringify(key)} where ${expected} were expected`);
}
