import { createHash } from 'node:crypto';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type CrcAlgorithm, mapConcurrent, multipartOf, type ObjectStore, type UploadedPart } from '@bucketdb/store';
import { FilesError } from './errors.js';
import { type PartOptions, planParts } from './part-plan.js';
import {
  bytesBody,
  chooseChecksum,
  createUpload,
  digestOf,
  finishUpload,
  linkedAbort,
  type PartDigest,
  putWhole,
  samePart,
  sendPart,
  type UploadResult,
  type WriteOptions,
} from './part-upload.js';
import { withRetries } from './retry.js';
import { readState, removeState, writeState } from './transfer-state.js';

export interface UploadFileOptions extends PartOptions, WriteOptions {
  /** Keep the upload's state so that a run after an interruption continues it (default true). */
  resume?: boolean;
  /** Where the state lives (default `.<name>.bucketdb-upload.json` beside the file). */
  statePath?: string;
}

interface UploadState {
  v: 1;
  url: string;
  key: string;
  uploadId: string;
  size: number;
  mtimeMs: number;
  partSize: number;
  /** The upload's CRC; absent for an MD5 upload. */
  checksum?: CrcAlgorithm;
}

/**
 * Uploads a local file. On a store with multipart uploads, parts are read at their offsets and
 * sent in parallel (memory: concurrency × part size); the upload id is kept beside the file, so
 * a later run lists the parts already stored, re-reads and re-hashes each to check it is the
 * same, and sends only the rest. Elsewhere the file goes in one streamed put (a put is atomic,
 * so an interrupted one left nothing and starts over). The file must not change meanwhile.
 */
export async function uploadFile(
  store: ObjectStore,
  path: string,
  key: string,
  options: UploadFileOptions = {},
): Promise<UploadResult> {
  const handle = await open(path, 'r');
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new FilesError('IsADirectory', `${path} is a directory`, { path });
    const uploads = multipartOf(store);
    const plan = planParts(info.size, options, uploads !== undefined);
    if (!uploads || plan.parts === 1) {
      const body =
        info.size <= plan.partSize
          ? bytesBody(await readAt(handle, 0, info.size))
          : () => streamFile(handle, info.size, options);
      const result = await putWhole(store, key, info.size, body, options);
      await checkUnchanged(path, info.size, info.mtimeMs);
      return result;
    }
    const statePath = options.statePath ?? join(dirname(path), `.${basename(path)}.bucketdb-upload.json`);
    const resume = options.resume !== false;
    const checksum = chooseChecksum(uploads, options);
    const matches = (s: UploadState) =>
      s.v === 1 &&
      s.checksum === checksum &&
      s.url === store.url &&
      s.key === key &&
      s.size === info.size &&
      s.mtimeMs === info.mtimeMs &&
      s.partSize === plan.partSize;
    let state = resume ? await readState<UploadState>(statePath, matches) : undefined;
    const stored = new Map<number, UploadedPart>();
    if (state) {
      const { uploadId } = state;
      try {
        for (const p of await withRetries(() => uploads.listParts(key, uploadId), options.retry, options.signal)) {
          stored.set(p.partNumber, p);
        }
      } catch {
        state = undefined; // the upload was completed or aborted meanwhile: start a new one
      }
    }
    if (!state) {
      const uploadId = await createUpload(uploads, key, plan.partSize, checksum, options);
      state = { v: 1, url: store.url, key, uploadId, size: info.size, mtimeMs: info.mtimeMs, partSize: plan.partSize };
      if (checksum) state.checksum = checksum;
      if (resume) await writeState(statePath, state);
    }
    const { uploadId } = state;
    const abort = linkedAbort(options.signal, plan.concurrency);
    const digests: PartDigest[] = [];
    const free: Buffer[] = [];
    const parts: UploadedPart[] = [];
    let sent = 0;
    let resumedParts = 0;
    try {
      const indices = Array.from({ length: plan.parts }, (_, i) => i);
      await mapConcurrent(indices, plan.concurrency, async (i) => {
        if (abort.linked.aborted) return;
        try {
          const offset = i * plan.partSize;
          // Part buffers are reused: a fresh 8 MiB buffer per part costs page faults and collections.
          const buffer = free.pop() ?? Buffer.allocUnsafe(plan.partSize);
          const bytes = await readAt(handle, offset, Math.min(plan.partSize, info.size - offset), buffer);
          const digest = digestOf(bytes, checksum);
          digests[i] = digest;
          const prior = stored.get(i + 1);
          if (prior && samePart(prior, digest)) {
            parts[i] = { ...prior, size: bytes.length };
            resumedParts++;
          } else {
            parts[i] = await sendPart(uploads, key, uploadId, i + 1, bytes, digest, checksum, {
              ...options,
              signal: abort.linked,
            });
          }
          free.push(buffer);
          sent += bytes.length;
          options.onProgress?.({ bytes: sent, total: info.size });
        } catch (error) {
          abort.abort(error);
          throw error;
        }
      });
      await checkUnchanged(path, info.size, info.mtimeMs);
      const result = await finishUpload(store, uploads, key, uploadId, parts, digests, checksum, options);
      const verified = result.verified;
      await removeState(statePath);
      return { key, size: info.size, etag: result.etag, parts: plan.parts, verified, resumedParts };
    } catch (error) {
      // A resumable upload stays open for the next run; otherwise nothing may be left behind.
      if (!resume || error instanceof FilesError) {
        await uploads.abort(key, uploadId).catch(() => {});
        await removeState(statePath);
      }
      throw error;
    }
  } finally {
    await handle.close();
  }
}

/** Reads exactly `length` bytes at `offset` (a short read means the file shrank). */
export async function readAt(
  handle: FileHandle,
  offset: number,
  length: number,
  into: Buffer = Buffer.allocUnsafe(length),
): Promise<Buffer> {
  const buffer = into.subarray(0, length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) throw new FilesError('SourceChanged', `the file shrank while it was being read`);
    done += bytesRead;
  }
  return buffer;
}

function streamFile(handle: FileHandle, size: number, options: WriteOptions) {
  const hash = createHash('md5');
  let digest: Buffer | undefined;
  async function* body(): AsyncGenerator<Uint8Array> {
    const chunk = 1 << 20;
    for (let offset = 0; offset < size; offset += chunk) {
      const bytes = await readAt(handle, offset, Math.min(chunk, size - offset));
      hash.update(bytes);
      options.onProgress?.({ bytes: offset + bytes.length, total: size });
      yield bytes;
    }
  }
  return { body: body(), digest: () => (digest ??= hash.digest()) };
}

async function checkUnchanged(path: string, size: number, mtimeMs: number): Promise<void> {
  const now = await stat(path);
  if (now.size !== size || now.mtimeMs !== mtimeMs) {
    throw new FilesError('SourceChanged', `${path} changed while it was being uploaded`, { path });
  }
}
