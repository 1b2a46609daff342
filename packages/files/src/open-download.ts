import {
  type GetResult,
  type GetStreamResult,
  isStoreError,
  type ObjectInfo,
  type ObjectStore,
  TransientError,
} from '@bucketdb/store';
import { EtagCheck } from './etag-check.js';
import { FilesError } from './errors.js';
import { type PartOptions, planParts } from './part-plan.js';
import { type RetryOptions, withRetries } from './retry.js';

export interface ReadOptions extends PartOptions {
  signal?: AbortSignal;
  retry?: RetryOptions;
  /** Start here instead of at byte 0 (to resume). */
  offset?: number;
  /** Fail with SourceChanged unless the object still has this ETag. */
  ifMatch?: string;
}

export interface OpenedDownload {
  /** The whole object's size, ETag and metadata. */
  info: ObjectInfo;
  offset: number;
  /** The object's bytes from `offset` to its end, in order. */
  chunks: AsyncGenerator<Uint8Array, void, undefined>;
}

/**
 * Reads an object with ranged GETs in parallel and hands the parts over in order. The first GET
 * (part one) also tells the size and ETag, so a small object costs one request; every later part
 * is read with If-Match on that ETag, so an object replaced mid-read fails instead of mixing two
 * versions. At most `concurrency` parts are in memory, the one the consumer holds included.
 */
export async function openDownload(
  store: ObjectStore,
  key: string,
  options: ReadOptions = {},
): Promise<OpenedDownload> {
  const { partSize, concurrency } = planParts(Number.MAX_SAFE_INTEGER, options);
  const start = options.offset ?? 0;
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const read = async (offset: number, length: number | undefined, ifMatch: string | undefined) => {
    try {
      return await withRetries(
        async () => {
          const result = await store.getStream(key, {
            signal,
            ...(length === undefined ? {} : { range: { offset, length } }),
            ...(ifMatch === undefined ? {} : { ifMatch }),
          });
          const expected = length === undefined ? result.size : Math.min(length, result.size - offset);
          const { body: _stream, bytes: _bytes, ...rest } = result;
          return { ...rest, body: await readExactly(result, expected, key) } as GetResult;
        },
        options.retry,
        signal,
      );
    } catch (error) {
      if (isStoreError(error, 'PreconditionFailed')) {
        throw new FilesError('SourceChanged', `${JSON.stringify(key)} changed while it was being read`, {
          path: key,
          cause: error,
        });
      }
      throw error;
    }
  };
  let first: GetResult;
  try {
    first = await read(start, partSize, options.ifMatch);
  } catch (error) {
    // An empty object has no byte 0 to range over (S3 answers 416): read it whole.
    if (!isStoreError(error, 'InvalidRange')) throw error;
    first = await read(0, undefined, options.ifMatch);
    first = { ...first, body: first.body.subarray(Math.min(start, first.body.length)) };
  }
  const { body: firstBody, range: _range, ...info } = first;
  const { size, etag } = first;
  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      let launched = start + firstBody.length;
      if (firstBody.length > 0) yield firstBody;
      const window: Promise<GetResult>[] = [];
      const fill = () => {
        while (window.length < concurrency && launched < size) {
          const length = Math.min(partSize, size - launched);
          const part = read(launched, length, etag);
          part.catch(() => {});
          window.push(part);
          launched += length;
        }
      };
      fill();
      for (let next = window.shift(); next; next = window.shift()) {
        yield (await next).body;
        // Launch the next part only once the consumer is done with this one: concurrency parts in memory.
        fill();
      }
    } finally {
      controller.abort();
    }
  }
  return { info, offset: start, chunks: chunks() };
}

/**
 * Collects a body of known length into one buffer: one copy, no list of chunks to concatenate,
 * so a part costs its size in memory and not twice that.
 */
async function readExactly(result: GetStreamResult, expected: number, key: string): Promise<Uint8Array> {
  if (result.bytes) {
    if (result.bytes.length !== expected) throw shortRead(key, result.bytes.length, expected);
    return result.bytes;
  }
  const out = Buffer.allocUnsafe(expected);
  let filled = 0;
  for await (const chunk of result.body) {
    if (filled + chunk.length > expected) throw shortRead(key, filled + chunk.length, expected);
    out.set(chunk, filled);
    filled += chunk.length;
  }
  if (filled !== expected) throw shortRead(key, filled, expected);
  return out;
}

function shortRead(key: string, got: number, expected: number): TransientError {
  return new TransientError(`read ${got} bytes of ${JSON.stringify(key)} where ${expected} were expected`);
}

/**
 * The chunks of a whole-object download, checked against the object's ETag: after the last byte
 * a mismatch throws `Corrupt`, so a consumer that commits only at the end (a put, a rename)
 * never commits damaged bytes.
 */
export async function* verifiedChunks(
  download: OpenedDownload,
  key: string,
): AsyncGenerator<Uint8Array, void, undefined> {
  const check = new EtagCheck(download.info.etag, download.info.size, download.info.metadata);
  if (download.offset !== 0) throw new FilesError('InvalidArgument', 'only a download from byte 0 can be verified');
  for await (const chunk of download.chunks) {
    check.update(chunk);
    yield chunk;
  }
  if (check.checkable && !check.matches()) {
    throw new FilesError(
      'Corrupt',
      `the bytes read from ${JSON.stringify(key)} do not match its ETag ${check.expected}`,
      {
        path: key,
      },
    );
  }
}
