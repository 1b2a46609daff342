import { createHash } from 'node:crypto';
import { multipartOf, type ObjectStore, type UploadedPart } from '@bucketdb/store';
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
  sendPart,
  type UploadResult,
  type WriteOptions,
} from './part-upload.js';

export interface UploadStreamOptions extends PartOptions, WriteOptions {
  /** The stream's length when known (for progress, and for a one-put upload on local stores). */
  size?: number;
}

/**
 * Uploads a stream read once, in order (standard input, another object, a write stream): parts
 * are cut as bytes arrive and sent in parallel, at most `concurrency` in flight. A stream that
 * fits in one part goes in one put. Not resumable: a stream cannot be read again. A stream that
 * throws (a source failing its checksum) aborts the upload before anything is committed. Without
 * `size` the part size is not raised for huge streams: 10,000 parts of `partSize` at most.
 */
export async function uploadStream(
  store: ObjectStore,
  key: string,
  source: AsyncIterable<Uint8Array>,
  options: UploadStreamOptions = {},
): Promise<UploadResult> {
  const uploads = multipartOf(store);
  const plan = planParts(options.size ?? 0, options, uploads !== undefined);
  // Buffers of parts sent are reused for later parts: fresh ones would each cost page faults and
  // leave garbage for the collector, growing RSS well past what is live.
  const free: Buffer[] = [];
  const parts = cutParts(source, plan.partSize, () => free.pop() ?? Buffer.allocUnsafe(plan.partSize));
  const first = await parts.next();
  const firstBytes = first.done ? new Uint8Array(0) : first.value;
  const second = first.done ? first : await parts.next();
  if (second.done) return putWhole(store, key, firstBytes.length, bytesBody(firstBytes), options);
  if (!uploads) {
    // One streamed put: the store takes the stream as it comes (FileStore writes it to disk).
    const hash = createHash('md5');
    let sent = 0;
    async function* all(): AsyncGenerator<Uint8Array> {
      for (const bytes of [firstBytes, second.value as Uint8Array]) {
        hash.update(bytes);
        sent += bytes.length;
        yield bytes;
      }
      for await (const bytes of parts) {
        hash.update(bytes);
        sent += bytes.length;
        options.onProgress?.({ bytes: sent, total: options.size ?? sent });
        yield bytes;
      }
    }
    let digest: Buffer | undefined;
    const result = await putWhole(
      store,
      key,
      options.size,
      () => ({ body: all(), digest: () => (digest ??= hash.digest()) }),
      {
        ...options,
        retry: { ...options.retry, attempts: 1 },
      },
    );
    return { ...result, size: sent };
  }
  const checksum = chooseChecksum(uploads, options);
  const uploadId = await createUpload(uploads, key, plan.partSize, checksum, options);
  const abort = linkedAbort(options.signal, plan.concurrency);
  const digests: PartDigest[] = [];
  const sentParts: UploadedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let sent = 0;
  let size = 0;
  const launch = (bytes: Uint8Array, index: number) => {
    const digest = digestOf(bytes, checksum);
    digests[index] = digest;
    size += bytes.length;
    const task = sendPart(uploads, key, uploadId, index + 1, bytes, digest, checksum, {
      ...options,
      signal: abort.linked,
    }).then(
      (part) => {
        sentParts[index] = part;
        if (bytes.byteLength === plan.partSize && Buffer.isBuffer(bytes)) free.push(bytes);
        sent += bytes.length;
        options.onProgress?.({ bytes: sent, total: options.size ?? size });
      },
      (error: unknown) => {
        failure ??= error;
        abort.abort(error);
      },
    );
    const tracked = task.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  try {
    launch(firstBytes, 0);
    launch(second.value as Uint8Array, 1);
    let index = 2;
    for await (const bytes of parts) {
      while (inFlight.size >= plan.concurrency && failure === undefined) await Promise.race(inFlight);
      if (failure !== undefined) break;
      launch(bytes, index++);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    const result = await finishUpload(store, uploads, key, uploadId, sentParts, digests, checksum, options);
    return { key, size, etag: result.etag, parts: digests.length, verified: result.verified, resumedParts: 0 };
  } catch (error) {
    abort.abort(error);
    await Promise.allSettled(inFlight);
    await uploads.abort(key, uploadId).catch(() => {});
    throw error;
  }
}

/** Re-chunks a stream into parts of exactly `partSize` bytes (the last may be shorter). */
async function* cutParts(
  source: AsyncIterable<Uint8Array>,
  partSize: number,
  nextBuffer: () => Buffer,
): AsyncGenerator<Uint8Array> {
  let buffer = nextBuffer();
  let filled = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, partSize - filled);
      buffer.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === partSize) {
        yield buffer;
        buffer = nextBuffer();
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}
