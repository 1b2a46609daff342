import { Readable } from 'node:stream';
import type { BucketLocationConstraint, PutObjectCommandInput } from '@aws-sdk/client-s3';
import { BaseStore } from '../../base-store.js';
import { ClosedError, InvalidArgumentError, isStoreError } from '../../errors.js';
import { MAX_KEY_BYTES, quoteEtag, validateKey } from '../../keys.js';
import type {
  DeleteManyResult,
  DeleteOptions,
  GetOptions,
  GetStreamResult,
  ListPage,
  ListPageOptions,
  NotModified,
  ObjectInfo,
  PutBody,
  PutOptions,
  PutResult,
  RequestOptions,
} from '../../object-store.js';
import { resolveRange } from '../../range.js';
import type { LendOption } from './get-transport.js';
import { lentChunksOf } from './lent-chunks.js';
import { DEFAULT_RETRY_POLICY, type RequestKind, type RetryPolicy, withRetries } from './retry.js';
import { type Connection, connect, describeUrl, type S3StoreOptions } from './s3-client.js';

export type { S3StoreOptions } from './s3-client.js';

import { httpStatusOf, toStoreError } from './s3-errors.js';
import {
  decodeListedKey,
  listEntries,
  mapBodyErrors,
  objectInfo,
  parseContentRange,
  rangeHeader,
} from './s3-responses.js';
import { s3Multipart } from './s3-multipart.js';
import { uploadStream } from './s3-upload.js';
import type { MultipartUploads } from '../../multipart.js';

const encoder = new TextEncoder();

/**
 * The store on S3 or any S3-compatible service. Retries are ours, not the SDK's, because a
 * conditional write whose first attempt may have landed must come out as AmbiguousWriteError,
 * never as the PreconditionFailed its retry would see. The SDK is loaded on first use.
 */
export class S3Store extends BaseStore {
  readonly url: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly maxKeyBytes: number;
  readonly #options: S3StoreOptions;
  readonly #retry: RetryPolicy;
  readonly #multipartThreshold: number;
  #connection: Promise<Connection> | undefined;
  #closed = false;

  constructor(options: S3StoreOptions) {
    super();
    if (typeof options.bucket !== 'string' || options.bucket === '') {
      throw new InvalidArgumentError('S3Store needs a bucket name');
    }
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.maxKeyBytes = MAX_KEY_BYTES - Buffer.byteLength(this.prefix);
    this.#options = options;
    this.#retry = {
      ...DEFAULT_RETRY_POLICY,
      maxAttempts: Math.max(1, options.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts),
      baseDelayMs: options.retryBaseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
      maxDelayMs: options.retryMaxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
      random: options.random ?? Math.random,
    };
    this.#multipartThreshold = options.multipartThreshold ?? 100 << 20;
    this.url = describeUrl(options);
  }

  /** Creates the bucket; one that we already own is fine. */
  async createBucket(options: RequestOptions = {}): Promise<void> {
    const region = this.#options.region;
    try {
      await this.#send('write', '', options.signal, ({ client, sdk }) =>
        client.send(
          new sdk.CreateBucketCommand({
            Bucket: this.bucket,
            ...(region && region !== 'us-east-1'
              ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }
              : {}),
          }),
          { abortSignal: options.signal },
        ),
      );
    } catch (error) {
      if (isStoreError(error) && (error.cause as Error | undefined)?.name === 'BucketAlreadyOwnedByYou') return;
      throw error;
    }
  }

  getStream(key: string, options: GetOptions & { ifNoneMatch: string }): Promise<GetStreamResult | NotModified>;
  getStream(key: string, options?: GetOptions): Promise<GetStreamResult>;
  async getStream(key: string, options: GetOptions = {}): Promise<GetStreamResult | NotModified> {
    const Key = this.#fullKey(key);
    // Checks the range's shape here; whether it fits the object is S3's 416.
    if (options.range) resolveRange(key, Number.MAX_SAFE_INTEGER, options.range);
    const input = {
      Bucket: this.bucket,
      Key,
      Range: rangeHeader(options.range),
      IfMatch: options.ifMatch === undefined ? undefined : quoteEtag(options.ifMatch),
      IfNoneMatch: options.ifNoneMatch === undefined ? undefined : quoteEtag(options.ifNoneMatch),
    };
    const out = await this.#send('read', key, options.signal, async ({ client, sdk }) => {
      try {
        const handlerOptions: { abortSignal?: AbortSignal } & LendOption = { abortSignal: options.signal };
        if (options.lendChunks) handlerOptions.lendChunks = true;
        return await client.send(new sdk.GetObjectCommand(input), handlerOptions);
      } catch (error) {
        if (httpStatusOf(error) === 304) return undefined;
        throw error;
      }
    });
    if (out === undefined) return { notModified: true, key, etag: quoteEtag(options.ifNoneMatch ?? '') };
    const contentRange = parseContentRange(out.ContentRange);
    const info = objectInfo(key, out, contentRange?.size ?? out.ContentLength ?? 0);
    const chunks =
      (options.lendChunks && lentChunksOf(out.Body)) || ((out.Body ?? emptyBody()) as AsyncIterable<Uint8Array>);
    const body = mapBodyErrors(chunks, key);
    if (options.range && contentRange)
      return { ...info, range: { start: contentRange.start, end: contentRange.end }, body };
    return { ...info, body };
  }

  async head(key: string, options: RequestOptions = {}): Promise<ObjectInfo> {
    const Key = this.#fullKey(key);
    const out = await this.#send('read', key, options.signal, ({ client, sdk }) =>
      client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key }), { abortSignal: options.signal }),
    );
    return objectInfo(key, out, out.ContentLength ?? 0);
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    const params: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: this.#fullKey(key),
      ContentType: options.contentType,
      Metadata: options.metadata,
      IfMatch: options.ifMatch === undefined ? undefined : quoteEtag(options.ifMatch),
      IfNoneMatch: options.ifNoneMatch,
    };
    if (options.ifNoneMatch !== undefined && options.ifNoneMatch !== '*') {
      throw new InvalidArgumentError(`ifNoneMatch on a put must be '*', got ${JSON.stringify(options.ifNoneMatch)}`);
    }
    const kind: RequestKind =
      options.ifMatch !== undefined || options.ifNoneMatch !== undefined ? 'conditional-write' : 'write';
    const { signal } = options;
    let out: { ETag?: string; VersionId?: string };
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const bytes = typeof body === 'string' ? encoder.encode(body) : body;
      out = await this.#send(kind, key, signal, ({ client, sdk }) =>
        client.send(new sdk.PutObjectCommand({ ...params, Body: bytes, ContentLength: bytes.length }), {
          abortSignal: signal,
        }),
      );
    } else if (options.contentLength !== undefined && options.contentLength <= this.#multipartThreshold) {
      // Known length: one streaming PUT, no part buffered in memory, an MD5 ETag, one request. The
      // body can be sent only once, so a failure is final (and ambiguous if it may have landed).
      const Body = Readable.from(body);
      const once = { ...this.#retry, maxAttempts: 1 };
      out = await this.#send(
        kind,
        key,
        signal,
        ({ client, sdk }) =>
          client.send(new sdk.PutObjectCommand({ ...params, Body, ContentLength: options.contentLength }), {
            abortSignal: signal,
          }),
        once,
      );
    } else {
      const { client, sdk } = await this.#connect();
      if (options.contentLength !== undefined) params.ContentLength = options.contentLength;
      out = await uploadStream({
        client,
        sdk,
        params,
        body,
        partSize: Math.max(5 << 20, this.#options.partSize ?? 8 << 20),
        queueSize: this.#options.queueSize ?? 4,
        sendCommit: (send) => withRetries(this.#retry, kind, key, signal, send),
        sendOther: (send) => withRetries(this.#retry, 'read', key, signal, send),
      });
    }
    return out.VersionId === undefined ? { etag: out.ETag ?? '' } : { etag: out.ETag ?? '', versionId: out.VersionId };
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<void> {
    const Key = this.#fullKey(key);
    const IfMatch = options.ifMatch === undefined ? undefined : quoteEtag(options.ifMatch);
    await this.#send(IfMatch ? 'conditional-write' : 'write', key, options.signal, ({ client, sdk }) =>
      client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key, IfMatch }), { abortSignal: options.signal }),
    );
  }

  /** DeleteObjects in batches of 1000 (S3's limit); a failed batch reports its error for each of its keys. */
  override async deleteMany(keys: string[], options: RequestOptions = {}): Promise<DeleteManyResult> {
    const result: DeleteManyResult = { deleted: [], errors: [] };
    const valid: string[] = [];
    for (const key of keys) {
      try {
        this.#fullKey(key);
        valid.push(key);
      } catch (error) {
        result.errors.push({ key, error: error as Error });
      }
    }
    for (let i = 0; i < valid.length; i += 1000) {
      const batch = valid.slice(i, i + 1000);
      try {
        const out = await this.#send('write', batch[0] as string, options.signal, ({ client, sdk }) =>
          client.send(
            new sdk.DeleteObjectsCommand({
              Bucket: this.bucket,
              Delete: { Objects: batch.map((key) => ({ Key: this.prefix + key })), Quiet: true },
            }),
            { abortSignal: options.signal },
          ),
        );
        const failed = new Map<string, Error>();
        for (const e of out.Errors ?? []) {
          const key = this.#strip(e.Key ?? '');
          failed.set(key, toStoreError({ name: e.Code, message: e.Message }, key));
        }
        for (const key of batch) {
          const error = failed.get(key);
          if (error) result.errors.push({ key, error });
          else result.deleted.push(key);
        }
      } catch (error) {
        if (options.signal?.aborted) throw error;
        for (const key of batch) result.errors.push({ key, error: error as Error });
      }
    }
    return result;
  }

  async listPage(options: ListPageOptions = {}): Promise<ListPage> {
    const out = await this.#send('read', options.prefix ?? '', options.signal, ({ client, sdk }) =>
      client.send(
        new sdk.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + (options.prefix ?? ''),
          StartAfter: options.startAfter === undefined ? undefined : this.prefix + options.startAfter,
          Delimiter: options.delimiter || undefined,
          MaxKeys: Math.max(1, Math.min(options.pageSize ?? 1000, 1000)),
          ContinuationToken: options.continuationToken,
          EncodingType: 'url',
        }),
        { abortSignal: options.signal },
      ),
    );
    const encoded = out.EncodingType === 'url';
    const strip = (full: string) => this.#strip(decodeListedKey(full, encoded));
    const entries = listEntries(out.Contents, out.CommonPrefixes, strip);
    return out.IsTruncated && out.NextContinuationToken
      ? { entries, continuationToken: out.NextContinuationToken }
      : { entries };
  }

  /** Multipart uploads with the SDK, for transfers that send parts in parallel (see multipart.ts). */
  multipart(): MultipartUploads {
    return s3Multipart(
      this.bucket,
      (key) => this.#fullKey(key),
      (kind, key, signal, run) => this.#send(kind, key, signal, run),
    );
  }

  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const connection = this.#connection;
    if (connection && !this.#options.client) (await connection).client.destroy();
  }

  #fullKey(key: string): string {
    validateKey(key, this.maxKeyBytes);
    return this.prefix + key;
  }

  #strip(fullKey: string): string {
    return fullKey.startsWith(this.prefix) ? fullKey.slice(this.prefix.length) : fullKey;
  }

  async #send<T>(
    kind: RequestKind,
    key: string,
    signal: AbortSignal | undefined,
    run: (connection: Connection) => Promise<T>,
    policy = this.#retry,
  ): Promise<T> {
    const connection = await this.#connect();
    return withRetries(policy, kind, key, signal, () => run(connection));
  }

  #connect(): Promise<Connection> {
    if (this.#closed) return Promise.reject(new ClosedError('S3 store'));
    this.#connection ??= connect(this.#options);
    return this.#connection;
  }
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}
