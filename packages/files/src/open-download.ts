import {
  type GetStreamResult,
  InvalidRangeError,
  isStoreError,
  type ObjectInfo,
  type ObjectStore,
  TransientError,
} from '@bucketdb/store';
import { EtagCheck } from './etag-check.js';
import { FilesError } from './errors.js';
import { type PartOptions, planParts } from './part-plan.js';
import { linkedAbort } from './part-upload.js';
import { type RetryOptions, withRetries } from './retry.js';

export interface ReadOptions extends PartOptions {
  signal?: AbortSignal;
  retry?: RetryOptions;
  /** Start here instead of at byte 0 (to resume, or to read a range). */
  offset?: number;
  /** Read at most this many bytes from `offset` (default: to the end). */
  length?: number;
  /** Fail with SourceChanged unless the object still has this ETag. */
  ifMatch?: string;
}

export interface OpenedDownload {
  /** The whole object's size, ETag and metadata. */
  info: ObjectInfo;
  offset: number;
  /** The object's bytes from `offset` to its end (or `offset + length`), in order. */
  chunks: AsyncGenerator<Uint8Array, void, undefined>;
}

/**
 * Reads an object with ranged GETs in parallel and hands the bytes over in order, each chunk as
 * it arrives: the part at the head streams straight through, the parts behind it read ahead and
 * hold what they received until their turn. The first GET (part one) also tells the size and ETag,
 * so a small object costs one request; every later part is read with If-Match on that ETag, so an
 * object replaced mid-read fails instead of mixing two versions. At most `concurrency` parts are
 * in flight, so memory stays within concurrency × part size. Ending the iteration early (return,
 * throw, the caller's signal) aborts every request in flight.
 */
export async function openDownload(
  store: ObjectStore,
  key: string,
  options: ReadOptions = {},
): Promise<OpenedDownload> {
  const { partSize, concurrency } = planParts(Number.MAX_SAFE_INTEGER, options);
  const start = options.offset ?? 0;
  const wanted = options.length ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(wanted) || wanted < 0) {
    throw new FilesError('InvalidArgument', `invalid range: offset ${options.offset}, length ${options.length}`);
  }
  const controller = linkedAbort(options.signal, concurrency);
  const signal = controller.linked;
  const get = async (offset: number, length: number, ifMatch: string | undefined) => {
    try {
      return await store.getStream(key, {
        signal,
        range: { offset, length },
        ...(ifMatch === undefined ? {} : { ifMatch }),
      });
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
  let first: GetStreamResult | undefined;
  if (wanted > 0) {
    try {
      first = await withRetries(() => get(start, Math.min(partSize, wanted), options.ifMatch), options.retry, signal);
    } catch (error) {
      // No byte at `start` (S3 answers 416): an empty object, or a start past the end.
      if (!isStoreError(error, 'InvalidRange')) throw error;
    }
  }
  let info: ObjectInfo;
  if (first) {
    const { body: _body, bytes: _bytes, range: _range, ...rest } = first;
    info = rest;
  } else {
    info = await withRetries(() => store.head(key, { signal }), options.retry, signal);
    if (options.ifMatch !== undefined && info.etag !== options.ifMatch) {
      throw new FilesError('SourceChanged', `${JSON.stringify(key)} changed while it was being read`, { path: key });
    }
    if (wanted > 0 && start >= info.size && info.size > 0) {
      throw new InvalidRangeError(key, `offset ${start} is past the end of a ${info.size}-byte object`);
    }
  }
  const end = Math.min(info.size, start + wanted);
  const rest = async (offset: number, length: number) => (await get(offset, length, info.etag)).body;
  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    const window: Part[] = [];
    let launched = start;
    const launch = (body?: AsyncIterable<Uint8Array>) => {
      const part = new Part(key, launched, Math.min(end, launched + partSize));
      part.run(body, rest, options.retry, signal);
      window.push(part);
      launched = part.end;
    };
    try {
      if (first && end > start) launch(first.body);
      first = undefined;
      for (;;) {
        // Launched only once the part ahead is fully handed over: at most concurrency parts held.
        while (window.length < concurrency && launched < end) launch();
        const head = window.shift();
        if (!head) return;
        yield* head.chunks();
      }
    } finally {
      controller.abort();
    }
  }
  return { info, offset: start, chunks: chunks() };
}

/**
 * One ranged part, bytes [start, end) of the object: read by its own GETs (a retry asks only for
 * the bytes not yet received), each chunk held only until the consumer takes it.
 */
class Part {
  readonly #held: Uint8Array[] = [];
  #received: number;
  #done = false;
  #error: unknown;
  #wake: (() => void) | undefined;

  constructor(
    readonly key: string,
    readonly start: number,
    readonly end: number,
  ) {
    this.#received = start;
  }

  /** Reads the part, from `body` when its first GET was already made; never rejects. */
  run(
    body: AsyncIterable<Uint8Array> | undefined,
    get: (offset: number, length: number) => Promise<AsyncIterable<Uint8Array>>,
    retry: RetryOptions | undefined,
    signal: AbortSignal,
  ): void {
    let given = body;
    withRetries(
      async () => {
        const source = given ?? (await get(this.#received, this.end - this.#received));
        given = undefined;
        for await (const chunk of source) {
          if (this.#received + chunk.length > this.end) {
            throw shortRead(this.key, this.#received + chunk.length - this.start, this.end - this.start);
          }
          if (chunk.length === 0) continue;
          this.#held.push(chunk);
          this.#received += chunk.length;
          this.#wake?.();
        }
        if (this.#received !== this.end) {
          throw shortRead(this.key, this.#received - this.start, this.end - this.start);
        }
      },
      retry,
      signal,
    ).then(
      () => {
        this.#done = true;
        this.#wake?.();
      },
      (error: unknown) => {
        this.#error = error;
        this.#wake?.();
      },
    );
  }

  /** The part's bytes in order, as they arrive. */
  async *chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      const chunk = this.#held.shift();
      if (chunk) {
        yield chunk;
        continue;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#done) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
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
