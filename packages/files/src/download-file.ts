import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import type { ObjectInfo, ObjectStore } from '@bucketdb/store';
import { EtagCheck } from './etag-check.js';
import { FilesError, isFilesError } from './errors.js';
import { type OpenedDownload, openDownload, type ReadOptions } from './open-download.js';
import { DEFAULT_PART_SIZE } from './part-plan.js';
import type { UploadProgress } from './part-upload.js';
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
  /** Whether the bytes were checked against the object's ETag (false when it is not an MD5 form). */
  verified: boolean;
  /** Bytes already on disk from an interrupted run and reused. */
  resumedBytes: number;
}

interface DownloadState {
  v: 1;
  url: string;
  key: string;
  etag: string;
  size: number;
  metadata: Record<string, string>;
  /** Bytes of the partial file that are on disk (synced) in order. */
  done: number;
}

/**
 * Downloads an object to a file with ranged GETs in parallel, writing in order to
 * `<path>.bucketdb-download` and recording every synced part in `<path>.bucketdb-download.json`.
 * At the end the bytes are checked against the ETag and the file renamed into place, so `path`
 * holds a complete verified copy or is untouched. A run after an interruption keeps the synced
 * prefix (re-hashing it), asks only for the rest with If-Match, and starts over if the object
 * changed or the result does not verify.
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
    ? await readState<DownloadState>(statePath, (s) => s.v === 1 && s.url === store.url && s.key === key)
    : undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return await downloadOnce(store, key, path, partial, statePath, state, options);
    } catch (error) {
      // A resumed run whose object changed, or whose old prefix does not verify: once more from scratch.
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
  state: DownloadState | undefined,
  options: DownloadFileOptions,
): Promise<DownloadResult> {
  let handle: FileHandle | undefined;
  let done = 0;
  if (state) {
    try {
      handle = await open(partial, 'r+');
      done = Math.min(state.done, (await handle.stat()).size);
      await handle.truncate(done);
    } catch {
      await handle?.close();
      handle = undefined;
      state = undefined;
    }
  }
  handle ??= await open(partial, 'w');
  if (!state) done = 0;
  try {
    let download: OpenedDownload;
    if (state && done === state.size) {
      const info: ObjectInfo = await store.head(key, options.signal ? { signal: options.signal } : {});
      if (info.etag !== state.etag) throw new FilesError('SourceChanged', `${JSON.stringify(key)} changed`);
      download = { info, offset: done, chunks: (async function* () {})() };
    } else {
      download = await openDownload(store, key, {
        ...options,
        offset: done,
        ...(state ? { ifMatch: state.etag } : {}),
      });
    }
    const { info } = download;
    const check = new EtagCheck(info.etag, info.size, info.metadata);
    const resumedBytes = done;
    const chunk = options.partSize ?? DEFAULT_PART_SIZE;
    for (let offset = 0; offset < done; offset += chunk) {
      check.update(await readAt(handle, offset, Math.min(chunk, done - offset)));
    }
    const saved: DownloadState = {
      v: 1,
      url: store.url,
      key,
      etag: info.etag,
      size: info.size,
      metadata: info.metadata,
      done,
    };
    if (options.resume !== false) await writeState(statePath, saved);
    let lastSaved = done;
    for await (const bytes of download.chunks) {
      await writeAll(handle, bytes, done);
      done += bytes.length;
      check.update(bytes);
      options.onProgress?.({ bytes: done, total: info.size });
      if (options.resume !== false && done - lastSaved >= chunk) {
        // Data first, then the state that vouches for it: a crash leaves the state behind the data.
        await handle.datasync();
        await writeState(statePath, { ...saved, done });
        lastSaved = done;
      }
    }
    if (done !== info.size) {
      throw new FilesError('Corrupt', `${JSON.stringify(key)} ended after ${done} of ${info.size} bytes`);
    }
    const verified = check.checkable;
    if (verified && !check.matches()) {
      throw new FilesError('Corrupt', `the bytes read from ${JSON.stringify(key)} do not match its ETag ${info.etag}`, {
        path: key,
      });
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(partial, path);
    await removeState(statePath);
    return { key, path, size: info.size, etag: info.etag, verified, resumedBytes };
  } finally {
    await handle?.close();
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}
